"""The counter tables agree with what counts: the stall kinds of
iss.timing.perf.STALLS with the native counters and Cluster.profile_data, the
performance events with pmsis.h's PI_PERF_* numbering, the sleep kinds with the
profile's columns."""
from __future__ import annotations

import re
from pathlib import Path

from iss import Cluster, native
from iss.sleep import SLEEP_KINDS, SleepKind
from iss.timing import perf
from iss.trace import profile

ROOT = Path(__file__).resolve().parents[1]
NATIVE_STALLS = {"branch", "tcdm", "l2", "misaligned"}      # counted by the native block/memory hooks


def test_native_stall_counters_are_the_tables():
    fields = {name for name, *_ in native.HartState._fields_ if name.startswith("stall_")} - {"stall_at"}  # per-halfword table
    assert fields == {f"stall_{k}" for k in NATIVE_STALLS}
    assert NATIVE_STALLS <= set(perf.STALL_KINDS)
    for s in perf.STALLS:
        assert ("native" in s.counted) == (s.kind in NATIVE_STALLS), s


def test_profile_data_and_profile_follow_the_tables(tmp_path):
    from iss import toolchain
    src = tmp_path / "p.c"
    src.write_text("int main(void) { volatile int x = 0; for (int i = 0; i < 10; i++) x += i; return 0; }\n")
    elf = toolchain.compile([src], tmp_path / "p.elf", opt="-O1", cores=2, cache_dir=tmp_path / "zc")
    c = Cluster(elf)
    c.run()
    data = c.profile_data()
    assert all(list(d["stalls"]) == list(perf.STALL_KINDS) for d in data)
    assert all(set(d["sleep"]) <= set(SLEEP_KINDS) for d in data)
    doc = profile.build_profile(c.program, data, clock_mhz=c.config.cluster.clock_mhz)
    assert doc["stall_kinds"] == list(perf.STALL_KINDS) and doc["sleep_kinds"] == [k.value for k in SleepKind]
    header = profile.format_profile(doc).splitlines()[1]
    stalls = header.split("| stalls:")[1].split("|")[0].split()
    asleep = header.split("| asleep:")[1].split()
    assert stalls == [s.label for s in perf.STALLS] and len(asleep) == len(SLEEP_KINDS)


def test_perf_events_are_pmsis_numbering():
    text = (ROOT / "firmware" / "runtime" / "include" / "pmsis.h").read_text()
    enum = {m.group(1): int(m.group(2)) for m in re.finditer(r"PI_PERF_(\w+)\s*=\s*(\d+)", text)}
    assert enum.pop("NB_EVENTS") == len(perf.EVENTS)
    assert enum == {name: i for i, name in enumerate(perf.EVENTS)}


def test_sleep_spans_and_counters_say_the_same_kinds(fw):
    """The cores wait for DMA, IMA and DWA events through the event unit: the
    hart's sleep counters (native profile) and the sleep spans the views record
    (trace profile, timelines) give every clock-gated cycle the same kind, and
    the waits for accelerator and DMA events are theirs, not plain events."""
    from iss.trace.session import SleepLog
    c = Cluster(fw("accel_drivers"))
    log = SleepLog(c)
    res = c.run()
    assert res.exit_code == 0
    for h in c.harts:       # (the workers' last wait never ends: in neither)
        by_kind = {}
        for start, end, _, kind in log.spans[h.id]:
            by_kind[kind] = by_kind.get(kind, 0) + end - start
        native_kinds = {k: v for k, v in h.sleep_by_kind.items() if v}
        assert by_kind == native_kinds, h.id
    core0 = c.harts[0].sleep_by_kind
    assert core0.get(SleepKind.DMA, 0) > 0 and core0.get(SleepKind.ACCELERATOR, 0) > 0
