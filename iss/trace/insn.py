"""The instruction trace as text, and filtering a written trace (`iss trace`).

Format (one instruction per line, in cycle order, then hart order; `#` lines are
comments; columns separated by spaces, the first five never contain spaces):

    #      cycle hart pc       symbol+offset              raw      disassembly                 effect
          2105    2 1c000908 dot+0x8                     0045650b cv.lw a6,(a0),4             a6=0x0100fffe load 0x10000200/4

- cycle: the hart's clock when the instruction started; hart: core id (the
  fabric controller, when the program has one, is the hart after the cores: a
  header line names it);
- pc (hex); symbol+offset (`??` outside any symbol); raw: the instruction word
  (4 hex digits for a compressed instruction);
- disassembly (CORE-V mnemonics included);
- effect: `reg=value` of the register written (after the instruction), then
  `load ADDR/SIZE` or `store ADDR/SIZE` for a memory access; `(slept, retried)`
  marks a peripheral access that put the hart to sleep and was executed again
  on wake, or that waited for the other cores to reach its cycle first
  (iss/timing/tcdm.py; the next line of that hart is the retry); `(run ended before it retired)`
  marks each hart's last instruction when the run ended on it (asleep on its
  access, the store that ended the simulation, a fault).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Iterable

import numpy as np

from ..isa import ABI, disasm
from .native import F_MEM, F_RETRY, F_STORE, F_UNRETIRED, F_VALUE, read_insn

HEADER = ("# iss instruction trace v1: cycle hart pc symbol+offset raw disassembly effect\n"
          "#      cycle hart pc       symbol+offset               raw      disassembly                   effect\n")


class PcText:
    """The fixed part of a line per PC (computed once per distinct PC)."""

    def __init__(self, program, code):
        self.program, self.code = program, code
        self._cache: dict[int, str] = {}

    def __call__(self, pc: int) -> str:
        t = self._cache.get(pc)
        if t is None:
            w = self.code.word(pc)
            if w & 3 != 3:
                w &= 0xFFFF
                raw = f"{w:04x}"
            else:
                raw = f"{w:08x}"
            sym, off = self.program.function_at(pc)
            where = f"{sym.name}+0x{off:x}" if sym else "??"
            t = f"{pc:08x} {where:<27} {raw:<8} {disasm(w, pc):<29}"
            self._cache[pc] = t
        return t


def merge(parts: list[np.ndarray]) -> np.ndarray:
    """Records of all harts in (cycle, hart) order; each hart's stays in execution order."""
    if not parts:
        return np.zeros(0)
    allr = np.concatenate(parts)
    order = np.lexsort((allr["hart"], allr["cycle"]))
    return allr[order]


def format_records(recs: np.ndarray, text: PcText, out: IO[str]) -> None:
    cyc, pcs, vals, addrs = recs["cycle"].tolist(), recs["pc"].tolist(), recs["value"].tolist(), \
        recs["addr"].tolist()
    harts, regs, flags, sizes = recs["hart"].tolist(), recs["reg"].tolist(), recs["flags"].tolist(), \
        recs["size"].tolist()
    write = out.write
    for i in range(len(cyc)):
        f = flags[i]
        eff = ""
        if f & F_VALUE:
            eff = f"{ABI[regs[i]]}=0x{vals[i]:08x}"
        if f & F_MEM:
            eff += f"{' ' if eff else ''}{'store' if f & F_STORE else 'load'} 0x{addrs[i]:08x}/{sizes[i]}"
        if f & F_RETRY:
            eff += " (slept, retried)"
        if f & F_UNRETIRED:
            eff += " (run ended before it retired)"
        write(f"{cyc[i]:>12} {harts[i]:>4} {text(pcs[i])} {eff}".rstrip() + "\n")


def write_text(paths: Iterable[Path], program, code, out_path: Path | None, chunk: int = 1 << 20,
               fc_hart: int | None = None) -> int:
    """Merge the per-hart binary files into the text trace; returns the line count.
    `fc_hart`: the hart number of the fabric controller, named in the header."""
    parts = [read_insn(p) for p in paths if Path(p).exists()]
    recs = merge([p for p in parts if len(p)]) if any(len(p) for p in parts) else None
    text = PcText(program, code)
    out = open(out_path, "w") if out_path is not None else sys.stdout
    try:
        out.write(HEADER)
        if fc_hart is not None:
            out.write(f"# hart {fc_hart} is the fabric controller (fc: main runs there; harts 0-{fc_hart - 1} "
                      f"are the cluster cores)\n")
        n = 0
        if recs is not None:
            try:
                for s in range(0, len(recs), chunk):
                    format_records(recs[s:s + chunk], text, out)
            except KeyboardInterrupt:
                out.write(f"# interrupted while writing: the trace stops here ({len(recs)} instructions in all)\n")
                raise
            n = len(recs)
        return n
    finally:
        if out is not sys.stdout:
            out.close()
        else:
            out.flush()


# -- filtering a written trace ---------------------------------------------------------
def parse_window(text: str | None) -> tuple[int, int | None]:
    """`START:END` (cycles, END excluded; either may be empty) -> (start, end or None)."""
    if not text:
        return 0, None
    if ":" not in text:
        raise ValueError(f"window '{text}' is not START:END")
    a, b = text.split(":", 1)
    try:
        start = int(a, 0) if a.strip() else 0
        end = int(b, 0) if b.strip() else None
    except ValueError:
        raise ValueError(f"window '{text}': START and END must be cycle numbers") from None
    if start < 0 or (end is not None and end <= start):
        raise ValueError(f"window '{text}': need 0 <= START < END")
    return start, end


def parse_cores(text: str | None) -> set[int] | None:
    """`0,3,5-7` -> {0, 3, 5, 6, 7}; None/empty -> None (all)."""
    if not text:
        return None
    out: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                a, b = part.split("-", 1)
                out.update(range(int(a), int(b) + 1))
            else:
                out.add(int(part))
        except ValueError:
            raise ValueError(f"cores '{text}': expected numbers like 0,3,5-7") from None
    return out


def filter_lines(lines: Iterable[str], cores: set[int] | None = None, functions: set[str] | None = None,
                 window: tuple[int, int | None] = (0, None)) -> Iterable[str]:
    """The lines of a text trace that match every filter (comments are kept).
    `functions`: names of the symbol column (the part before `+`)."""
    start, end = window
    for line in lines:
        if line.startswith("#") or not line.strip():
            yield line
            continue
        f = line.split(None, 4)
        if len(f) < 4:
            raise ValueError(f"not an iss instruction trace line: {line.strip()[:80]}")
        cycle, hart, sym = int(f[0]), int(f[1]), f[3]
        if cores is not None and hart not in cores:
            continue
        if cycle < start or (end is not None and cycle >= end):
            continue
        if functions is not None and sym.split("+", 1)[0] not in functions:
            continue
        yield line


def filter_file(path: Path, out: IO[str], cores=None, functions=None, window=(0, None)) -> int:
    """Print the matching lines of the trace at `path`; returns how many instructions."""
    n = 0
    with open(path) as f:
        first = f.readline()
        if not first.startswith("# iss instruction trace"):
            raise ValueError(f"{path}: not an iss instruction trace (first line: {first.strip()[:60]!r})")
        out.write(first)
        for line in filter_lines(f, cores, functions, window):
            out.write(line)
            if not line.startswith("#"):
                n += 1
    return n


__all__ = ["HEADER", "PcText", "merge", "write_text", "parse_window", "parse_cores", "filter_lines",
           "filter_file"]
