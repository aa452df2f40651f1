"""The fabric controller as a hart of its own: an SDK-style program whose main
runs on the FC (tests/firmware_src/sdk_fc.c) opens the cluster, offloads a
synchronous and an asynchronous task, and is checked against numpy; the
timing of the offload (latency > 0, the FC asleep while the cluster works,
FC/cluster overlap), the FC's ids, its track in the views, `iss info`, and
that programs which do not use the cluster API still run main on cluster core
0 with no FC."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from iss import Cluster, cli
from iss.config import Config
from iss.errors import ConfigError
from iss.trace import Session, ViewOptions
from iss.toolchain import compile as build

SRC = Path(__file__).parent / "firmware_src"
ROWS, COLS = 16, 24


@pytest.fixture(scope="module")
def elf(tmp_path_factory):
    return build([SRC / "sdk_fc.c"], tmp_path_factory.mktemp("fc") / "sdk_fc.elf", opt="-O2")


def _inputs(c):
    rng = np.random.default_rng(3)
    m = rng.uniform(-2, 2, (ROWS, COLS)).astype(np.float32)
    v = rng.uniform(-2, 2, COLS).astype(np.float32)
    w = rng.integers(0, 1000, 256, dtype=np.uint32)
    c.write_symbol("mat", m)
    c.write_symbol("vec", v)
    c.write_symbol("fc_work", w)
    return m, v, w


def _u32(c, name):
    return [int(x) for x in c.read_symbol(name, np.uint32)]


@pytest.fixture(scope="module")
def run(elf, tmp_path_factory):
    d = tmp_path_factory.mktemp("fcviews")
    c = Cluster(elf)
    m, v, w = _inputs(c)
    spans = []
    c.sleep_listeners.append(lambda hart, start, end, what, kind: spans.append((hart, start, end, what)))
    res = Session(c, ViewOptions(profile=True, profile_json=d / "p.json", perfetto=d / "pf.json")).run()
    assert res.exit_code == 0, res.stdout
    return c, res, (m, v, w), spans, d


def test_results_against_numpy(run):
    c, res, (m, v, w), _, _ = run
    # float sums in C order, one rounding per operation, as the firmware does
    ref = np.zeros(ROWS, np.float32)
    for r in range(ROWS):
        acc = np.float32(0)
        for k in range(COLS):
            acc = np.float32(acc + np.float32(m[r, k] * v[k]))
        ref[r] = acc
    np.testing.assert_array_equal(c.read_symbol("out", np.float32), ref)
    np.testing.assert_array_equal(c.read_symbol("scaled", np.int32), (ref * np.float32(8)).astype(np.int32))
    assert _u32(c, "fc_sum")[0] == int((w.astype(np.uint64) * np.arange(1, 257, dtype=np.uint64)).sum() % 2 ** 32)
    t_entry, t_end = _u32(c, "t_entry")[0], _u32(c, "t_end")[0]
    mac = np.float32(ROWS * COLS) / np.float32(t_end - t_entry)
    assert res.stdout == [f"rows on 4 cores: {t_end - t_entry} cycles, {float(mac):.3f} MAC/cycle, "
                          f"out[0] = {float(ref[0]):f}"]


def test_fc_is_its_own_hart_with_pulp_ids(run):
    c, res, _, _, _ = run
    assert c.fc is not None and c.fc is c.harts[-1] and len(c.harts) == c.config.cluster.cores + 1
    assert c.program.build["main_on"] == "fc"
    # PULP: the FC is core 0 of cluster 31 (mhartid 31 << 5)
    assert _u32(c, "fc_hartid")[0] == 31 << 5
    assert _u32(c, "fc_ids") == [31, 0, 1]
    hid, cid = _u32(c, "cl_hartid"), _u32(c, "cl_cluster_id")
    assert hid[:4] == [0, 1, 2, 3] and cid[:4] == [0, 0, 0, 0]
    assert res.exit_code == 0 and c.exit_hart == c.fc.id      # main's return ends the run, on the FC


def test_stack_sizes_and_core_count_honoured(run):
    c, _, _, _, _ = run
    seen = _u32(c, "stack_seen")
    stacks = c.program.symbol("__stacks_start").addr, c.program.symbol("__stacks_end").addr
    heap = c.program.symbol("__l1_heap_start").addr
    for core in range(4):
        assert not stacks[0] <= seen[core] < stacks[1] and seen[core] >= heap, core
    assert seen[4:] == [0, 0, 0, 0]               # nb_cores = 4: the others never ran it
    assert seen[2] - seen[1] == 3072 and seen[3] - seen[2] == 3072


def test_offload_latency_and_fc_asleep(run):
    c, _, _, spans, _ = run
    t_send, t_entry, t_end, t_back = (_u32(c, n)[0] for n in ("t_send", "t_entry", "t_end", "t_back"))
    assert t_send < t_entry < t_end < t_back
    # offload latency: the FC's mailbox write and event, core 0 waking, fetching the task
    assert t_entry - t_send > 10
    assert t_back - t_end > 0
    fc = c.fc.id
    fc_sleep = [(s, e) for h, s, e, _ in spans if h == fc]
    # the FC is clock-gated from just after sending until just before the task ends
    asleep = sum(min(e, t_end) - max(s, t_entry) for s, e in fc_sleep if e > t_entry and s < t_end)
    assert asleep == t_end - t_entry
    assert c.fc.sleep_cycles >= t_end - t_entry
    # the cluster cores were off (not fetching) until the FC opened the cluster
    assert c.harts[0].sleep_by_kind.get("off", 0) > 0


def test_fc_and_cluster_overlap_on_async_task(run):
    c, _, _, spans, _ = run
    a_send, a_entry, a_end, a_back, a_fc_done = (_u32(c, n)[0] for n in
                                                 ("a_send", "a_entry", "a_end", "a_back", "a_fc_done"))
    assert a_send < a_entry < a_end <= a_back
    # the FC computed while the cluster ran the task: both busy at once
    assert a_entry < a_fc_done
    fc_sleep = [(s, e) for h, s, e, _ in spans if h == c.fc.id]
    assert not any(s < a_fc_done and e > a_entry for s, e in fc_sleep if s >= a_send)


def test_fc_track_in_profile_and_perfetto(run):
    c, _, _, _, d = run
    prof = json.loads((d / "p.json").read_text())
    names = [core["name"] for core in prof["cores"]]
    assert names[-1] == "fc" and names[:-1] == [f"core {i}" for i in range(8)]
    fc = prof["cores"][-1]
    assert any(f["name"] == "main" for f in fc["functions"])
    assert fc["sleep"]["event"] > 0
    ev = json.loads((d / "pf.json").read_text())["traceEvents"]
    tracks = {e["args"]["name"]: e["tid"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"
              and e["pid"] == 1}
    assert "fc" in tracks and "fc sleep" in tracks
    fc_spans = [e["name"] for e in ev if e["ph"] == "X" and e["pid"] == 1 and e["tid"] == tracks["fc"]]
    assert "main" in fc_spans
    core0 = [e["name"] for e in ev if e["ph"] == "X" and e["pid"] == 1 and e["tid"] == tracks["core 0"]]
    assert "sync_entry" in core0 and "main" not in core0


def test_fc_in_the_instruction_trace(elf, tmp_path):
    c = Cluster(elf)
    _inputs(c)
    out = tmp_path / "t.txt"
    assert Session(c, ViewOptions(trace=out)).run().exit_code == 0
    lines = out.read_text().splitlines()
    fc = c.fc.id
    assert f"# hart {fc} is the fabric controller (fc: main runs there; harts 0-{fc - 1} are the cluster cores)" \
        in lines[:3]
    rows = [ln.split() for ln in lines if not ln.startswith("#")]
    fc_funcs = {r[3].split("+")[0] for r in rows if r[1] == str(fc)}
    assert "main" in fc_funcs and "__iss_fc_start" in fc_funcs and "sync_entry" not in fc_funcs
    assert "sync_entry" in {r[3].split("+")[0] for r in rows if r[1] == "0"}


def test_cli_profile_and_info_name_the_fc(elf, capsys):
    assert cli.main(["info", str(elf)]) == 0
    out = capsys.readouterr().out
    assert "main runs on the fabric controller" in out
    assert cli.main(["run", str(elf), "--profile"]) == 0
    err = capsys.readouterr().err
    table = err.split("top functions")[0].splitlines()
    assert any(line.split()[0] == "fc" for line in table[2:] if line.strip())


def test_fc_l2_latency_is_the_fc_config_value(elf):
    # the FC's L2 accesses cost memory.fc_l2_latency, not the cluster's l2_latency
    cycles = {}
    for lat in (1, 9):
        cfg = Config.load(memory={"fc_l2_latency": lat})
        c = Cluster(elf, cfg)
        _inputs(c)
        c.run()
        cycles[lat] = (c.fc.native.cycles, c.fc.native.l2_accesses, c.fc.native.stall_l2,
                       c.harts[0].native.stall_l2)
    (cyc1, n1, st1, core1), (cyc9, n9, st9, core9) = cycles[1], cycles[9]
    assert n1 == n9 > 0 and st1 == n1 * 1 and st9 == n9 * 9
    assert core1 == core9                       # the cluster's L2 latency is its own


def test_cluster_id_31_is_the_fcs(elf):
    with pytest.raises(ConfigError, match="31 is the fabric controller's"):
        Cluster(elf, Config.load(cluster={"cluster_id": 31}))


def test_programs_without_the_cluster_api_keep_main_on_core_0(tmp_path, capsys):
    elf = build([SRC / "spine_hello.c"], tmp_path / "hello.elf", opt="-O2")
    c = Cluster(elf)
    assert c.program.build["main_on"] == "cluster" and c.fc is None
    assert len(c.harts) == c.config.cluster.cores
    r = c.run()
    assert r.exit_code == 0 and c.exit_hart == 0
    assert cli.main(["info", str(elf)]) == 0
    assert "main runs on cluster core 0" in capsys.readouterr().out
