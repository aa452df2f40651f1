"""Views of a run: instruction trace, profile, Perfetto, VCD,
plot, `iss trace` filtering, and the trace of a run that ends in an error."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from iss import Cluster, cli, unicorn_adapter
from iss.errors import MemoryFault
from iss.trace import Session, ViewOptions, build_profile
from iss.trace.profile import profile_data_from_trace
from iss.trace.native import INSN_DTYPE

SRC = Path(__file__).parent / "firmware_src" / "views_hot.c"
HOT_LINE = next(i for i, line in enumerate(SRC.read_text().splitlines(), 1) if "/* HOT */" in line)
ROUNDS, N = 12, 256


def trace_rows(path):
    rows = []
    for line in Path(path).read_text().splitlines():
        if line.startswith("#"):
            continue
        f = line.split(None, 5)
        rows.append({"cycle": int(f[0]), "hart": int(f[1]), "pc": int(f[2], 16), "sym": f[3], "raw": f[4],
                     "rest": f[5], "line": line})
    return rows


@pytest.fixture(scope="module")
def hot(fw):
    return fw("views_hot")


@pytest.fixture(scope="module")
def full_run(hot, tmp_path_factory):
    d = tmp_path_factory.mktemp("views")
    c = Cluster(hot)
    opts = ViewOptions(trace=d / "t.txt", profile=True, profile_json=d / "p.json", perfetto=d / "pf.json",
                       vcd=d / "run.vcd", plot=d / "run.png")
    s = Session(c, opts)
    res = s.run()
    assert res.exit_code == 0
    return c, s, res, d


def test_trace_has_marker_with_values_and_disassembly(full_run):
    c, s, res, d = full_run
    rows = trace_rows(d / "t.txt")
    assert s.trace_lines == len(rows)
    # every instruction retired, plus the attempts that slept and were retried on wake
    retried = [r for r in rows if r["rest"].endswith("(slept, retried)")]
    last = [r for r in rows if r["rest"].endswith("(run ended before it retired)")]
    assert len(rows) - len(retried) - len(last) == res.instructions
    # peripheral accesses (cluster 0x102..., SoC 0x1a1...) that slept or waited for the others
    assert retried and all(re.search(r" (load|store) 0x1(02|a1)", r["rest"]) for r in retried)
    # cores 1-7 end asleep on the dispatch FIFO read; core 0 on its store to EOC
    assert sorted(r["hart"] for r in last) == list(range(8))
    by_hart = {r["hart"]: r for r in last}
    assert all(by_hart[h]["rest"].startswith("lw ") for h in range(1, 8))
    assert "store 0x10200000/4" in by_hart[0]["rest"]
    # marker(5) then marker(100) on core 0: x*3+7 lands in a0 before the return.
    mk = [r for r in rows if r["sym"].startswith("marker+")]
    a0 = [int(m.group(1), 16) for r in mk for m in [re.search(r"\ba0=0x([0-9a-f]{8})", r["rest"])] if m]
    assert 22 in a0 and 307 in a0
    assert all(r["hart"] == 0 for r in mk)
    assert mk[-1]["rest"].split()[0] in ("c.jr", "ret", "jalr")


def test_trace_corev_loads_and_simd(full_run):
    c, s, res, d = full_run
    rows = [r for r in trace_rows(d / "t.txt") if r["hart"] == 3 and r["sym"].startswith("dot+")]
    lw = [r for r in rows if r["rest"].startswith("cv.lw ")]
    dots = [r for r in rows if r["rest"].startswith("cv.sdotsp.b ")]
    assert len(lw) == 2 * ROUNDS * N // 4 and len(dots) == ROUNDS * N // 4
    va = c.program.symbol("va").addr + 3 * N
    vb = c.program.symbol("vb").addr + 3 * N
    first_a, first_b = lw[0], lw[1]
    assert f"load 0x{va:08x}/4" in first_a["rest"] and f"load 0x{vb:08x}/4" in first_b["rest"]
    # va[3][0..3] = 0-3..3-3 = -3,-2,-1,0; vb[3][0..3] = 3,2,1,0
    assert re.search(r"=0x00fffefd\b", first_a["rest"]) and re.search(r"=0x00010203\b", first_b["rest"])
    # the first dot product: (-3*3) + (-2*2) + (-1*1) + 0 = -14
    assert re.search(r"=0xfffffff2\b", dots[0]["rest"])
    assert lw[2]["rest"].endswith(f"load 0x{va + 4:08x}/4")
    # cycles grow on a core; a raw word is the instruction's encoding
    cyc = [r["cycle"] for r in rows]
    assert cyc == sorted(cyc)
    assert lw[0]["raw"] == f"{c.code.word(lw[0]['pc']):08x}"


def test_profile_hot_function_and_line(full_run):
    c, s, res, d = full_run
    p = s.profile
    assert p["functions"][0]["name"] == "dot" and p["functions"][0]["share"] > 0.5
    assert p["functions"][0]["cores"] == list(range(8))
    top = p["lines"][0]
    assert (top["file"], top["line"], top["function"]) == ("views_hot.c", HOT_LINE, "dot")
    for core in p["cores"]:
        h = res.harts[core["hart"]]
        assert core["cycles"] == h.cycles and core["instructions"] == h.instructions
        assert core["functions"][0]["name"] == "dot"
        # every instruction executed is attributed to a function
        assert sum(f["instructions"] for f in core["functions"]) == h.instructions
    # dot runs 4 instructions per 4 bytes on every core (2 loads, cv.sdotsp.b, the
    # counter: iss cc makes the loop a hardware loop), ROUNDS times (plus entry/exit)
    dot = p["functions"][0]
    assert ROUNDS * 8 * (N // 4) * 4 <= dot["instructions"] < ROUNDS * 8 * ((N // 4) * 4 + 16)
    assert json.loads((d / "p.json").read_text())["functions"][0]["name"] == "dot"
    assert json.loads((d / "p.json").read_text())["schema"] == "iss-profile/1"


def test_profile_counts_agree_with_the_trace(full_run):
    """The cycle model's per-instruction execution counts equal those counted from the trace."""
    c, s, res, d = full_run
    if not hasattr(c, "profile_data"):
        pytest.skip("cycle model counters not present")
    rows = trace_rows(d / "t.txt")
    recs = np.zeros(len(rows), INSN_DTYPE)
    recs["cycle"] = [r["cycle"] for r in rows]
    recs["pc"] = [r["pc"] for r in rows]
    recs["hart"] = [r["hart"] for r in rows]
    recs["flags"] = [8 if r["rest"].endswith("(slept, retried)") else
                     16 if r["rest"].endswith("(run ended before it retired)") else 0 for r in rows]
    from_trace = profile_data_from_trace(c.code, recs, [(h.hart, h.cycles, h.instructions) for h in res.harts], {})
    model = c.profile_data()
    for a, b in zip(from_trace, model):
        assert np.array_equal(a["exec_count"], b["exec_count"].astype(np.uint32))
    pt = build_profile(c.program, from_trace, clock_mhz=500)
    assert pt["functions"][0]["name"] == "dot"


def test_perfetto_tracks_and_spans(full_run):
    c, s, res, d = full_run
    doc = json.loads((d / "pf.json").read_text())
    ev = doc["traceEvents"]
    names = {e["args"]["name"]: e["tid"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"
             and e["pid"] == 1}
    assert all(f"core {i}" in names for i in range(8))
    for i in range(8):
        spans = [e for e in ev if e["ph"] == "X" and e["pid"] == 1 and e["tid"] == names[f"core {i}"]]
        assert any(e["name"] == "dot" for e in spans)
        dot_us = sum(e["dur"] for e in spans if e["name"] == "dot")
        assert dot_us > 0.5 * res.harts[i].cycles / 500 * 0.5
        for e in spans:
            assert e["dur"] >= 0 and e["ts"] >= 0
    # cores 1-7 end asleep at the closing barrier / dispatch while core 0 prints
    sleep = [e for e in ev if e["ph"] == "X" and e.get("cat") == "sleep"]
    assert sleep and all(e["name"].startswith("asleep: ") for e in sleep)
    assert max(e["ts"] + e["dur"] for e in ev if e["ph"] == "X") <= res.cycles / 500 + 1e-6


def test_vcd_read_back(full_run):
    from vcd.reader import TokenKind, tokenize
    c, s, res, d = full_run
    with open(d / "run.vcd", "rb") as f:
        toks = list(tokenize(f))
    vars_ = {(t.var.reference, t.var.id_code) for t in toks if t.kind is TokenKind.VAR}
    refs = [r for r, _ in vars_]
    assert refs.count("pc") == 8 and refs.count("asleep") == 8 and refs.count("function") == 8
    strings = {t.data.value if hasattr(t.data, "value") else t.data for t in toks
               if t.kind is TokenKind.CHANGE_STRING}
    assert "dot" in {str(x) for x in strings}
    ts = [t.data for t in toks if t.kind is TokenKind.CHANGE_TIME]
    assert ts == sorted(ts) and ts[-1] == round(res.cycles * 2)   # 2 ns per cycle at 500 MHz


def test_plot_written(full_run):
    c, s, res, d = full_run
    data = (d / "run.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_cli_trace_filters(hot, tmp_path, capsys):
    out = tmp_path / "t.txt"
    rc = cli.main(["run", str(hot), "--trace", f"insn:{out}", "--trace-cores", "1,3",
                   "--trace-window", "1000:8000"])
    assert rc == 0
    rows = trace_rows(out)
    assert rows and {r["hart"] for r in rows} == {1, 3}
    assert all(1000 <= r["cycle"] < 8000 for r in rows)
    capsys.readouterr()
    assert cli.main(["trace", str(out), "--core", "3", "--function", "dot", "--window", "2000:"]) == 0
    printed = capsys.readouterr().out.splitlines()
    body = [line for line in printed if not line.startswith("#")]
    assert body and all(line.split()[1] == "3" and line.split()[3].startswith("dot+") and
                        int(line.split()[0]) >= 2000 for line in body)
    expect = [r["line"] for r in rows if r["hart"] == 3 and r["sym"].startswith("dot+") and r["cycle"] >= 2000]
    assert body == expect


def test_cli_profile_printed(hot, capsys):
    assert cli.main(["run", str(hot), "--profile"]) == 0
    err = capsys.readouterr().err
    assert "top functions by cycles" in err
    fn_lines = err.split("top functions by cycles")[1].splitlines()[2]
    assert fn_lines.split()[2:4] != [] and "dot" in fn_lines
    assert f"views_hot.c:{HOT_LINE}" in err.split("top source lines")[1].splitlines()[2]


def test_error_run_leaves_trace_on_disk(fw, tmp_path, capsys):
    elf = fw("views_crash")
    out = tmp_path / "crash.txt"
    c = Cluster(elf)
    with pytest.raises(MemoryFault):
        Session(c, ViewOptions(trace=out, trace_cores={0}, perfetto=tmp_path / "pf.json")).run()
    rows = trace_rows(out)
    bc = [r for r in rows if r["sym"].startswith("before_crash+")]
    assert bc and any("a0=0x00001235" in r["rest"] for r in bc)
    assert "0x30000000" in rows[-1]["line"] or rows[-1]["sym"].startswith("main+")
    assert json.loads((tmp_path / "pf.json").read_text())["traceEvents"]
    assert not list(tmp_path.glob(".iss-trace-*"))      # the binary parts were removed
    # through the CLI the error is reported and the trace is there too
    out2 = tmp_path / "crash2.txt"
    assert cli.main(["run", str(elf), "--trace", f"insn:{out2}"]) != 0
    assert "unmapped" in capsys.readouterr().err and trace_rows(out2)


def test_no_hooks_when_views_are_off(hot):
    c = Cluster(hot)
    hooks = [unicorn_adapter.python_hooks(h.uc) for h in c.harts]
    s = Session(c, ViewOptions())
    s.run()
    assert not s.tracers and hooks == [unicorn_adapter.python_hooks(h.uc) for h in c.harts]


def test_cli_stats_separate_loading_from_running(hot, capsys):
    """--stats: the time spent building the cluster (ELF, code tables, engines)
    is printed apart from the run's, and the MIPS figure is the run's alone."""
    assert cli.main(["run", str(hot), "--stats"]) == 0
    err = capsys.readouterr().err
    m = re.search(r"(\d+) instructions; loading ([\d.]+) s, running ([\d.]+) s \(([\d.]+) MIPS\)", err)
    assert m, err
    insns, load, run, mips = int(m[1]), float(m[2]), float(m[3]), float(m[4])
    assert load > 0 and run > 0
    # The figures are printed rounded (run to 1 ms, MIPS to 0.1): the MIPS must
    # lie within what the rounded running time allows, which a MIPS computed
    # over loading and running together would not.
    lo = insns / (run + 0.0005) / 1e6 - 0.05
    hi = insns / max(run - 0.0005, 1e-9) / 1e6 + 0.05
    assert lo <= mips <= hi, (insns, run, mips)
    r = Cluster(hot).run()
    assert r.load_seconds > 0 and r.wall_seconds > 0
