"""Per-core profile: cycles, instructions, IPC, stalls and sleep by kind, and the
functions and source lines the cycles went to.

Input: the per-hart counters of the cycle model, `cluster.profile_data()` (a list
with one dict per hart: `cycles`, `instructions`, `stalls` {kind: cycles}, `sleep`
{kind: cycles}, `exec_count` and `cycles_at` (per halfword of the code image, at
the addresses `pcs`: times the instruction starting there ran, cycles spent in it,
stalls included)). `profile_data_from_trace` derives the same shape (without stall
kinds) from an instruction trace.

JSON (`--profile-json FILE`), schema "iss-profile/1":

    {"schema": "iss-profile/1", "elf": str, "clock_mhz": float, "cycles": int (cluster),
     "exit_code": int | null,
     "stall_kinds": [str], "sleep_kinds": [str],
     "cores": [{"hart": int, "name": "core N" | "fc", "cycles": int, "instructions": int, "ipc": float,
                "active_cycles": int (cycles - asleep), "asleep_cycles": int,
                "stalls": {kind: int} | null (null: not measured), "sleep": {kind: int},
                "functions": [FUNC], "lines": [LINE]}],
     "functions": [FUNC]  (all cores),  "lines": [LINE]  (all cores)}
    FUNC = {"name": str, "address": int, "cycles": int, "instructions": int, "share": float,
            "cores": [int]}
    LINE = {"file": str, "line": int, "function": str, "cycles": int, "instructions": int,
            "share": float, "cores": [int]}

Lists are sorted by cycles, largest first, and hold every function/line that
ran; `share` is the fraction of the cycles of the list's scope (one core, or
all cores) spent awake in code. Code outside any symbol counts as `??`; code
without line information as file `??`, line 0.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..sleep import SLEEP_KINDS, SLEEP_LABELS
from ..timing.perf import STALL_KINDS, STALLS
from .native import FunctionMap

SCHEMA = "iss-profile/1"


def _aggregate(program, pcs, exec_count, cycles_at, funcs, fids, line_cache):
    """({fid: [cycles, insns]}, {(file, line, func): [cycles, insns]}) of one hart."""
    exec_count = np.asarray(exec_count, dtype=np.uint64)
    cycles_at = np.asarray(cycles_at, dtype=np.uint64)
    n = min(len(exec_count), len(cycles_at), len(fids))
    ran = np.nonzero((exec_count[:n] > 0) | (cycles_at[:n] > 0))[0]
    per_func: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    per_line: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for i, c, e in zip(ran.tolist(), cycles_at[ran].tolist(), exec_count[ran].tolist()):
        fid = int(fids[i])
        per_func[fid][0] += c
        per_func[fid][1] += e
        line = line_cache.get(i)
        if line is None:
            pc = int(pcs[i])
            loc = program.line_at(pc)
            name = funcs[fid - 1].name if fid else "??"
            line = (loc[0], loc[1], name) if loc else ("??", 0, name)
            line_cache[i] = line
        per_line[line][0] += c
        per_line[line][1] += e
    return per_func, per_line


def _rows_func(per_func, funcs, total, cores):
    rows = []
    for fid, (c, e) in per_func.items():
        rows.append({"name": funcs[fid - 1].name if fid else "??", "address": funcs[fid - 1].addr if fid else 0,
                     "cycles": int(c), "instructions": int(e), "share": c / total if total else 0.0,
                     "cores": sorted(cores[fid])})
    rows.sort(key=lambda r: (-r["cycles"], -r["instructions"], r["name"]))
    return rows


def _rows_line(per_line, total, cores):
    rows = []
    for key, (c, e) in per_line.items():
        rows.append({"file": key[0], "line": key[1], "function": key[2], "cycles": int(c), "instructions": int(e),
                     "share": c / total if total else 0.0, "cores": sorted(cores[key])})
    rows.sort(key=lambda r: (-r["cycles"], -r["instructions"], r["file"], r["line"]))
    return rows


def build_profile(program, data: list[dict], *, clock_mhz: float, cycles: int | None = None,
                  exit_code: int | None = None, elf: str | None = None) -> dict:
    """The profile (the JSON document above) from per-hart profile data."""
    if not data:
        raise ValueError("no profile data (no harts)")
    pcs = data[0]["pcs"]
    n = max(len(d["exec_count"]) for d in data)
    fmap = FunctionMap(program, pcs[:n])
    funcs, fids = fmap.funcs, fmap.ids
    line_cache: dict[int, tuple] = {}
    all_func: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    all_line: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    func_cores: dict[int, set] = defaultdict(set)
    line_cores: dict[tuple, set] = defaultdict(set)
    cores = []
    total_code = 0
    for hart, d in enumerate(data):
        per_func, per_line = _aggregate(program, pcs, d["exec_count"], d["cycles_at"], funcs, fids, line_cache)
        code_cycles = sum(c for c, _ in per_func.values())
        total_code += code_cycles
        hart_id = int(d.get("hart", hart))
        for k, (c, e) in per_func.items():
            all_func[k][0] += c
            all_func[k][1] += e
            func_cores[k].add(hart_id)
        for k, (c, e) in per_line.items():
            all_line[k][0] += c
            all_line[k][1] += e
            line_cores[k].add(hart_id)
        sleep = {k: int(d.get("sleep", {}).get(k, 0)) for k in SLEEP_KINDS}
        stalls = d.get("stalls")
        asleep = sum(sleep.values())
        cyc, insns = int(d["cycles"]), int(d["instructions"])
        active = max(cyc - asleep, 0)
        cores.append({
            "hart": hart_id, "name": d.get("name", f"core {hart_id}"), "cycles": cyc, "instructions": insns,
            "ipc": insns / active if active else 0.0,
            "active_cycles": active, "asleep_cycles": asleep,
            "stalls": None if stalls is None else {k: int(stalls.get(k, 0)) for k in STALL_KINDS},
            "sleep": sleep,
            "functions": _rows_func(per_func, funcs, code_cycles, defaultdict(lambda h=hart_id: {h})),
            "lines": _rows_line(per_line, code_cycles, defaultdict(lambda h=hart_id: {h})),
        })
    return {
        "schema": SCHEMA, "elf": elf or str(getattr(program, "path", "")), "clock_mhz": float(clock_mhz),
        "cycles": int(cycles if cycles is not None else max(c["cycles"] for c in cores)),
        "exit_code": exit_code, "stall_kinds": list(STALL_KINDS), "sleep_kinds": list(SLEEP_KINDS),
        "cores": cores,
        "functions": _rows_func(all_func, funcs, total_code, func_cores),
        "lines": _rows_line(all_line, total_code, line_cores),
    }


def profile_data_from_trace(code, records: np.ndarray, harts, sleep_spans: dict[int, list]) -> list[dict]:
    """Per-hart profile data derived from instruction-trace records (all of a run,
    no window): exec_count per halfword, cycles_at = cycles from an instruction's
    start to the next one's on the same hart, less the time asleep in between.
    `harts`: (id, final cycles, instructions) per hart; `sleep_spans`: hart id ->
    [(start, end, what)]. Stall kinds are not known from a trace (None)."""
    out = []
    n = code.halfwords
    for hid, final, insns in harts:
        r = records[records["hart"] == hid] if len(records) else records
        exec_count = np.zeros(n, np.uint32)
        cycles_at = np.zeros(n, np.uint64)
        sleep = dict.fromkeys(SLEEP_KINDS, 0)
        spans = sleep_spans.get(hid, [])
        for s, e, _, kind in spans:
            sleep[kind] += e - s
        if len(r):
            idx = code.indices(r["pc"])
            ok = (idx >= 0) & (idx < n)
            cyc = r["cycle"].astype(np.int64)
            nxt = np.empty_like(cyc)
            nxt[:-1] = cyc[1:]
            nxt[-1] = max(int(final), int(cyc[-1]))
            dur = np.maximum(nxt - cyc, 0)
            if spans:
                starts = np.array([s for s, *_ in spans], dtype=np.int64)
                lens = np.array([e - s for s, e, *_ in spans], dtype=np.int64)
                at = np.searchsorted(cyc, starts, side="right") - 1
                good = at >= 0
                np.subtract.at(dur, at[good], lens[good])
                dur = np.maximum(dur, 0)
            retry = (r["flags"] & (8 | 16)) != 0          # slept and retried / never retired
            np.add.at(exec_count, idx[ok & ~retry], 1)
            np.add.at(cycles_at, idx[ok], dur[ok].astype(np.uint64))
        out.append({"hart": hid, "cycles": int(final), "instructions": int(insns), "stalls": None,
                    "sleep": sleep, "exec_count": exec_count, "cycles_at": cycles_at, "pcs": code.pcs})
    return out


# -- output -----------------------------------------------------------------------------
def _k(v: int) -> str:
    """Counts with thousands separators, the same way in every column."""
    return f"{v:,}"


def format_profile(profile: dict, top: int = 10) -> str:
    """The profile as a plain-text report (per-core table, top functions, top lines)."""
    clock = profile["clock_mhz"]
    cyc = profile["cycles"]
    lines = [f"profile: {len(profile['cores'])} cores, {cyc} cycles ({cyc / clock:.3f} us at {clock:g} MHz)"]
    stall_hdr = [s.label for s in STALLS]
    sleep_hdr = [SLEEP_LABELS[k] for k in SLEEP_KINDS]
    hdr = (f"{'core':>4} {'cycles':>10} {'instr':>10} {'IPC':>5} {'active':>10} | stalls: "
           + " ".join(f"{h:>8}" for h in stall_hdr) + " | asleep: " + " ".join(f"{h:>8}" for h in sleep_hdr))
    lines.append(hdr)
    for c in profile["cores"]:
        st = c["stalls"]
        stall_cols = " ".join(f"{(_k(st[k]) if st is not None else '-'):>8}" for k in STALL_KINDS)
        sleep_cols = " ".join(f"{_k(c['sleep'][k]):>8}" for k in SLEEP_KINDS)
        lines.append(f"{c.get('name', str(c['hart'])).replace('core ', ''):>4} {_k(c['cycles']):>10} {_k(c['instructions']):>10} {c['ipc']:>5.2f} "
                     f"{_k(c['active_cycles']):>10} |         {stall_cols} |         {sleep_cols}")
    lines.append("")
    lines.append(f"top functions by cycles (all cores, {len(profile['functions'])} ran):")
    lines.append(f"  {'cycles':>10} {'%':>6} {'instr':>10}  {'function':<28} cores")
    for f in profile["functions"][:top]:
        lines.append(f"  {_k(f['cycles']):>10} {100 * f['share']:>5.1f}% {_k(f['instructions']):>10}  "
                     f"{f['name']:<28} {_cores(f['cores'])}")
    lines.append("")
    lines.append(f"top source lines by cycles (all cores, {len(profile['lines'])} ran):")
    lines.append(f"  {'cycles':>10} {'%':>6} {'instr':>10}  {'line':<28} {'function':<24} cores")
    for ln in profile["lines"][:top]:
        where = f"{ln['file']}:{ln['line']}"
        lines.append(f"  {_k(ln['cycles']):>10} {100 * ln['share']:>5.1f}% {_k(ln['instructions']):>10}  "
                     f"{where:<28} {ln['function']:<24} {_cores(ln['cores'])}")
    return "\n".join(lines) + "\n"


def _cores(cs: list[int]) -> str:
    """[0,1,2,3,5] -> '0-3,5'."""
    out, i = [], 0
    while i < len(cs):
        j = i
        while j + 1 < len(cs) and cs[j + 1] == cs[j] + 1:
            j += 1
        out.append(str(cs[i]) if i == j else f"{cs[i]}-{cs[j]}")
        i = j + 1
    return ",".join(out)


def write_json(profile: dict, path: str | Path) -> None:
    with open(path, "w") as f:
        json.dump(profile, f, indent=1)
        f.write("\n")
