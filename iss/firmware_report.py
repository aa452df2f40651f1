"""What a failed firmware call tells its user: the failure note added to the
simulator's exception, the dump file, the disassembly around a PC, the harts'
state, the element-wise mismatch message and the per-call profile window.

Everything here reads a `Firmware` (iss/firmware.py) and its cluster through
their public attributes; nothing here runs the simulation.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .firmware import CallResult, Firmware

DISASM_BEFORE = 12        # instructions shown before a crashing PC
STDOUT_TAIL = 10          # stdout lines shown in a failure note
RECENT_IN_NOTE = 24       # last executed instructions in a failure note
RECENT_IN_DUMP = 200      # ... and in the dump file, per hart

_WHERE = re.compile(r"hart (\d+) pc 0x([0-9a-fA-F]+)")


def parse_where(where: str):
    """(hart, pc) of an error's `where` ("hart 3 pc 0x1c000123 ..."), or (None, 0)."""
    m = _WHERE.search(where)
    return (int(m.group(1)), int(m.group(2), 16)) if m else (None, 0)


def failure_note(fw: "Firmware", e: Exception, what: str) -> str:
    """The note a failed call's exception carries: the failing hart's last
    instructions and code, every hart's state, the last stdout lines, the dump."""
    lines = [f"while running {call_text(fw)}" if fw.last_call else f"during the {what}"]
    hart, pc = parse_where(getattr(e, "where", "") or "")
    if hart is not None:
        h = fw.cluster.harts[hart]
        lines.append(f"hart {hart} pc 0x{pc:08x} {fw.program.symbolize(pc)}; the last instructions it executed:")
        lines.append(h.format_recent(RECENT_IN_NOTE))
        lines.append("the code around it:")
        lines += disassemble(fw, pc)
        lines.append(called_from(fw, h.reg(1)))
    lines.append("harts:")
    lines += ["  " + ln for ln in hart_lines(fw, registers=False)]
    tail = fw.cluster.stdout_lines[-STDOUT_TAIL:]
    if tail:
        lines.append(f"last stdout lines ({len(fw.cluster.stdout_lines)} in all):")
        lines += ["  | " + ln for ln in tail]
    try:
        path = fw.dump(f"{type(e).__name__}: {e}")
        lines.append(f"dump: {path}")
    except OSError as oe:  # pragma: no cover - a read-only artifacts dir
        lines.append(f"(no dump written: {oe})")
    return "\n".join(lines)


def called_from(fw: "Firmware", ra: int) -> str:
    """The call site of a return address: the jal/jalr before `ra` (a call
    that never returns may end its function, so `ra` itself can be the first
    instruction of the next one)."""
    mem = fw.memory
    word = int.from_bytes(mem.read(ra - 4, 4), "little") if mem.region(ra - 4, 4) else 0
    site = ra - 4 if word & 0x7F in (0x6F, 0x67) else ra - 2
    return f"  called from 0x{site:08x} {fw.program.symbolize(site)} (ra=0x{ra:08x})"


def call_text(fw: "Firmware") -> str:
    """The last call as C: `name(args) on N core(s)`, `main()` or the start-up."""
    if fw.last_call is None:
        return "the start-up code"
    name, words, cores = fw.last_call
    if name == "main":
        return "main()"
    return f"{name}({', '.join(w.text for w in words)}) on {cores} core(s)"


def disassemble(fw: "Firmware", pc: int, before: int = DISASM_BEFORE, after: int = 2) -> list[str]:
    """The instructions before `pc` (decoded from the start of its function)
    and a few after, with source lines; `pc` is marked with `=>`."""
    from .isa import disasm

    sym, _ = fw.program.function_at(pc)
    start = sym.addr if sym is not None and pc - sym.addr < 4096 else max(pc - 4 * before, 0)
    mem = fw.memory
    insns: list[tuple[int, int, int]] = []
    addr = start
    while addr <= pc + 4 * after and len(insns) < 4096:
        if mem.region(addr, 2) is None:
            break
        half = int.from_bytes(mem.read(addr, 2), "little")
        if half & 3 == 3:
            if mem.region(addr, 4) is None:
                break
            insns.append((addr, int.from_bytes(mem.read(addr, 4), "little"), 4))
            addr += 4
        else:
            insns.append((addr, half, 2))
            addr += 2
    at = next((i for i, (a, _, _) in enumerate(insns) if a == pc), None)
    if at is None:
        return [f"  (no code at 0x{pc:08x})"] if not insns else \
            [f"  (0x{pc:08x} is not on an instruction boundary from {sym.name if sym else 'here'})"]
    shown = insns[max(0, at - before): at + after + 1]
    out, last_line = [], None
    for a, word, n in shown:
        line = fw.program.line_at(a)
        if line != last_line and line is not None:
            out.append(f"      {line[0]}:{line[1]}")
            last_line = line
        mark = "=>" if a == pc else "  "
        enc = f"{word:08x}" if n == 4 else f"    {word:04x}"
        out.append(f"  {mark} {a:08x}: {enc}  {disasm(word, a)}")
    return out


def hart_lines(fw: "Firmware", registers: bool) -> list[str]:
    """One line per hart (state, pc, symbol, what it waits for, counters), and
    its registers under it if asked."""
    from .isa import ABI

    out = []
    for h in fw.cluster.harts:
        wait = f" waiting for {h.waiting_for}" if getattr(h, "waiting_for", "") else ""
        out.append(f"hart {h.id}: {h.state.value:8} pc 0x{h.pc:08x} {fw.program.symbolize(h.pc)}{wait}; "
                   f"cycles {h.cycles} instructions {h.instret} sleep {h.sleep_cycles}")
        if registers:
            regs = [f"{ABI[r]:>4}={h.reg(r):08x}" for r in range(32)]
            out += ["    " + " ".join(regs[i:i + 8]) for i in range(0, 32, 8)]
    return out


def write_dump(fw: "Firmware", path: Path, reason: str, call: "CallResult | None" = None) -> Path:
    """The state of the cluster (and the last call) as text in `path`."""
    c = fw.cluster
    cfg = c.config
    lines = [f"iss dump: {reason}",
             f"firmware: {fw.path}",
             f"cluster: {cfg.cluster.cores} cores, TCDM {cfg.memory.tcdm_size} bytes / {cfg.memory.tcdm_banks} "
             f"banks, L2 {cfg.memory.l2_size} bytes, ima.count {cfg.ima.count}",
             f"call: {call_text(fw)}",
             f"exit code: {c.exit_code}", ""]
    if call is not None:
        lines += [f"cycles {call.cycles}, instructions {call.instructions}, value {call.value!r}",
                  call.profile(), ""]
    lines.append("== harts ==")
    lines += hart_lines(fw, registers=True)
    for h in c.harts:
        lines += ["", f"== hart {h.id}: the last instructions it executed (trace of the call's tail) =="]
        lines.append(h.format_recent(RECENT_IN_DUMP))
        lines += ["", f"== hart {h.id} around pc 0x{h.pc:08x} =="] + disassemble(fw, h.pc, before=8)
    lines += ["", f"== stdout ({len(c.stdout_lines)} lines) =="] + list(c.stdout_lines)
    path.write_text("\n".join(lines) + "\n")
    return path


def dump_directory() -> Path:
    """Where dumps go when no artifacts directory was given."""
    return Path(tempfile.mkdtemp(prefix="iss-dump-"))


def mismatch(actual, expected, *, atol=0, rtol=0, what: str = "") -> str | None:
    """None if `actual` equals `expected` element-wise (exact for integers,
    `atol`/`rtol` otherwise); else a message naming how many elements differ,
    the first mismatching index and values and up to 8 more."""
    a, e = np.asarray(actual), np.asarray(expected)
    label = f"{what}: " if what else ""
    if a.shape != e.shape:
        return f"{label}shape {a.shape} != expected {e.shape}"
    if a.dtype.kind in "biu" and e.dtype.kind in "biu":
        ok = a.astype(object) == e.astype(object) if max(a.dtype.itemsize, e.dtype.itemsize) > 8 \
            else a.astype(np.int64) == e.astype(np.int64)
        if a.dtype == np.uint64 or e.dtype == np.uint64:
            ok = a.astype(object) == e.astype(object)
    else:
        ok = np.isclose(a.astype(np.float64), e.astype(np.float64), atol=atol, rtol=rtol, equal_nan=True)
    ok = np.asarray(ok, dtype=bool)
    if ok.all():
        return None
    bad = np.argwhere(~ok) if a.ndim else np.zeros((1, 0), dtype=int)
    first = tuple(int(i) for i in bad[0])
    idx = lambda t: t[0] if len(t) == 1 else t  # noqa: E731
    msg = (f"{label}{len(bad)} of {a.size} elements differ; first at index {idx(first)}: "
           f"got {_py(a[first])!r}, expected {_py(e[first])!r}")
    more = [f"  [{idx(tuple(int(i) for i in b))}] got {_py(a[tuple(b)])!r}, expected {_py(e[tuple(b)])!r}"
            for b in bad[1:9]]
    if more:
        msg += "\n" + "\n".join(more) + ("\n  ..." if len(bad) > 9 else "")
    return msg


def _py(v):
    return v.item() if isinstance(v, np.generic) else v


def profile_window(before: list[dict], after: list[dict], cores: int, nap: list[int],
                   nap_kind: list[str]) -> list[dict]:
    """Per-hart profile data of the harts 0..cores-1 over one call: `after` minus
    `before`, without the part of a nap that began before the call."""
    out = []
    for i in range(cores):
        b, a = before[i], after[i]
        d = dict(a)
        for k, v in a.items():
            if isinstance(v, (int, np.integer)) and k != "hart":
                d[k] = int(v) - int(b.get(k, 0))
            elif isinstance(v, dict):
                d[k] = {kk: int(vv) - int(b[k].get(kk, 0)) for kk, vv in v.items()}
        d["exec_count"] = (a["exec_count"].astype(np.int64) - b["exec_count"]).astype(np.uint32)
        d["cycles_at"] = (a["cycles_at"].astype(np.int64) - b["cycles_at"].astype(np.int64)).astype(np.uint64)
        if nap[i]:
            kind = nap_kind[i]
            d["cycles"] -= nap[i]
            d["sleep_cycles"] = d.get("sleep_cycles", nap[i]) - nap[i]
            d["sleep"] = dict(d["sleep"])
            d["sleep"][kind] = d["sleep"].get(kind, nap[i]) - nap[i]
        out.append(d)
    return out


def profile_text(call: "CallResult", top: int) -> str:
    """A call's profile from the cycle model's counters over its window (said as such)."""
    from .trace.profile import build_profile, format_profile
    fw = call.firmware
    # The counters cover the whole call window (the runtime's entry and
    # return included), so its headline is the window's, said as such.
    doc = build_profile(fw.program, call.profile_data, clock_mhz=fw.cluster.config.cluster.clock_mhz)
    what = f"{call.function}'s {call.cycles}" if call.cores == 1 else \
        f"the {call.cycles} from before the fork to after the join"
    head = (f"profile of the call window: {call.window_cycles} cycles on core 0 = {what} + "
            f"{call.window_cycles - call.cycles} of the runtime entering and leaving the call")
    return (f"{head}\n" + format_profile(doc, top=top)).rstrip("\n")
