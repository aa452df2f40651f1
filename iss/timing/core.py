"""CV32E40P instruction timing (user manual, "Pipeline Details"; platform.md s. 4).

What follows from the code alone is computed here, once per program, into
per-halfword tables the native block hook sums:

- base cycles of each instruction (from the decode table's cost class: ALU and
  mul 1, mulh 5, div/rem 3 before the operand-dependent part, jumps 2, cv.elw 4,
  the counter and status CSRs 4, others 1);
- the load-use stall (+1 when the next instruction reads a loaded register) and
  the jalr stall (+1 when jalr reads the result of the instruction before it):
  both follow from two consecutive instructions, which always run back to back
  (a load or an ALU instruction never jumps);
- flags the block hook reads at run time to add what depends on the path taken:
  a taken branch (+2; +1 more to a non-word-aligned 32-bit target) and a jump to
  a non-word-aligned 32-bit target (+1).

Operand-dependent costs (division: 3 + the divisor's leading zeros, 35 for
zero) and memory costs (misaligned, L2, TCDM banks) are charged at run time.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..isa.table import ROWS

# flags per halfword (struct iss_hart.flags)
END_BRANCH = 1   # a conditional branch (standard) ends at this halfword
END_JUMP = 2     # a jump (jal, jalr, c.j, c.jal, c.jr, c.jalr) ends here
START_32 = 4     # a 32-bit instruction starts here

# what the instruction decoded at a halfword is (struct iss_hart.info; any halfword)
I_32, I_LINEAR, I_ACC1, I_ACC2, I_SC, I_BRANCH, I_JUMP, I_BAD = 1, 2, 4, 8, 16, 32, 64, 128

# instruction classes per halfword (CodeTiming.kind), for the performance counters
K_LOAD, K_STORE, K_JUMP, K_BRANCH, K_RVC = 1, 2, 4, 8, 16

# CSRs whose access costs 4 cycles (the manual's list); others cost 1.
SLOW_CSRS = {0x300, 0x341, 0x305, 0x342, 0xB00, 0xB02, 0xB80, 0xB82, 0x320, 0x7B0, 0x7B1, 0x7B2, 0x7B3}
SLOW_CSRS |= set(range(0xB03, 0xB20)) | set(range(0xB83, 0xBA0)) | set(range(0x323, 0x340))

_LOADS = {"load", "amo"}
_READS_RS2 = {"R", "B", "S", "AMO", "SPR", "SRR", "LRR", "BM2", "RRI5", "CA", "CR", "CS", "CSS"}
_READS_RS1 = {"R", "R1", "RI5", "RRI5", "BM2", "I", "ISH", "L", "LPI", "LPR", "LRR", "S", "SPI", "SPR", "SRR",
              "B", "BI", "JR", "AMO", "LR", "CSR", "HR", "HS", "SI6", "UI6",
              "CA", "CB", "CBI", "CBSH", "CI", "CISH", "CL", "CR", "CR1", "CS", "C16SP", "CIW", "CLWSP", "CSS"}
# Instructions that also read rD as a source (accumulators, inserts)
_READS_RD = {"cv.mac", "cv.msu", "cv.insert", "cv.insertr"} | {r.name for r in ROWS if r.cost == "dot" and
                                                                 r.name.startswith("cv.sdot")}
_READS_RD |= {r.name for r in ROWS if r.name.startswith(("cv.mac", "cv.insert.", "cv.shuffle2", "cv.pack",
                                                          "cv.cplxmul")) or r.name.endswith("nr")}


@dataclass
class CodeTiming:
    cost: np.ndarray        # uint32 per halfword: base cycles incl. static stalls (0 where no instruction starts)
    load_use: np.ndarray    # uint8 per halfword: the load-use stall included in cost
    jump: np.ndarray        # uint8 per halfword: jump cycles beyond the first (jal/jalr: 1) + jalr stall
    flags: np.ndarray       # uint8 per halfword (+1): END_BRANCH / END_JUMP / START_32
    div_sites: list         # (pc, rs2) of div/divu/rem/remu instructions
    kind: np.ndarray        # uint8 per halfword: K_LOAD | K_STORE | K_JUMP | K_BRANCH | K_RVC


def _row_info():
    n = len(ROWS) + 1
    cls = [""] * n
    fmt = [""] * n
    name = [""] * n
    for r in ROWS:
        cls[r.op], fmt[r.op], name[r.op] = r.cost, r.fmt, r.name
    return cls, fmt, name


_CLS, _FMT, _NAME = _row_info()


def _op_info() -> np.ndarray:
    """I_* bits per op: how many memory callbacks Unicorn makes for the instructions
    it executes (the CORE-V ones are run by the executor, which reports its accesses
    itself), and which end a block with a branch or a jump."""
    info = np.zeros(len(ROWS) + 1, np.uint8)
    for r in ROWS:
        v = 0
        if not r.ext.startswith("xcv"):
            if r.fmt in ("L", "CL", "CLWSP", "S", "CS", "CSS", "LR"):
                v |= I_ACC1
            elif r.fmt == "AMO":
                v |= I_ACC2 | (I_SC if r.name == "sc.w" else 0)
            if r.cost == "branch":
                v |= I_BRANCH
        if r.cost == "jump":
            v |= I_JUMP
        info[r.op] = v
    return info


OP_INFO = _op_info()


def halfword_tables(table: np.ndarray, starts: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(info, cost_at) for every halfword: the I_* bits of the instruction decoded
    there and its static cycles. At instruction starts of the linear decode the
    cost is the analysed one (`cost`: CodeTiming.cost, static stalls included); off it (reached only by a
    jump into the middle of a 32-bit instruction) the base cost of the
    instruction, 1 for an invalid encoding (it stops the hart anyway)."""
    n = len(starts)
    info = np.zeros(n + 1, np.uint8)
    op = table["op"][:n]
    info[:n] = (OP_INFO[op] | np.where(table["len"][:n] == 4, I_32, 0) | np.where(starts, I_LINEAR, 0)
                | np.where(op == 0, I_BAD, 0))
    cost = np.where(starts, cost[:n], np.where(op != 0, table["cycles"][:n], 1))
    return info, np.minimum(cost, 255).astype(np.uint8)


def _reads(op: int, e) -> set[int]:
    f, nm = _FMT[op], _NAME[op]
    regs = set()
    if f in _READS_RS1:
        regs.add(int(e["rs1"]))
    if f in _READS_RS2:
        regs.add(int(e["rs2"]))
    if nm in _READS_RD:
        regs.add(int(e["rd"]))
    if f in ("CR", "CA") or nm in ("c.addi", "c.slli", "c.srli", "c.srai", "c.andi"):
        regs.add(int(e["rd"]))      # compressed two-operand forms read rd
    regs.discard(0)
    return regs


def _writes_load(op: int, e) -> int:
    """The register a load writes (0 if the instruction is not a load)."""
    if _CLS[op] in _LOADS and _FMT[op] not in ("S", "SPI", "SPR", "SRR", "CS", "CSS"):
        return int(e["rd"])
    return 0


def _writes(op: int, e) -> int:
    f = _FMT[op]
    if f in ("S", "SPI", "SPR", "SRR", "CS", "CSS", "B", "BI", "CB", "N", "FENCE", "HI", "HR", "HS", "HSI", "CJ",
             "CN") and _NAME[op] not in ("c.jal",):
        return 0
    if _NAME[op] == "c.jal":
        return 1
    return int(e["rd"])


def analyse(table: np.ndarray, starts: np.ndarray, base: int, raw: bytes) -> CodeTiming:
    """Per-halfword timing tables for the code `raw` at `base`, whose predecode
    table is `table` and whose instruction starts (linear decode) are `starts`."""
    n = len(starts)
    cost = np.zeros(n, np.uint32)
    load_use = np.zeros(n, np.uint8)
    jump = np.zeros(n, np.uint8)
    flags = np.zeros(n + 1, np.uint8)
    kind = np.zeros(n, np.uint8)
    div_sites = []
    idx = np.nonzero(starts)[0]
    prev_written = 0
    for k, i in enumerate(idx):
        e = table[i]
        op = int(e["op"])
        length = int(e["len"])
        end = i + length // 2
        if length == 4:
            flags[i] |= START_32
        if not op:
            cost[i] = 1           # not an instruction (data in text): charged if ever run
            prev_written = 0
            continue
        c = int(e["cycles"])
        cl, f, nm = _CLS[op], _FMT[op], _NAME[op]
        kind[i] = ((K_LOAD if cl in ("load", "elw") or (cl == "amo" and nm != "sc.w") else 0)
                   | (K_STORE if cl == "store" or (cl == "amo" and nm != "lr.w") else 0)
                   | (K_JUMP if cl == "jump" else 0) | (K_BRANCH if cl == "branch" else 0)
                   | (K_RVC if length == 2 else 0))
        if f in ("CSR", "CSRI"):
            csr = int.from_bytes(raw[2 * i:2 * i + 4], "little") >> 20
            c = 4 if csr in SLOW_CSRS else 1
        if cl == "div":
            div_sites.append((base + 2 * int(i), int(e["rs2"])))
        if cl == "branch" and f in ("B", "CB") and end <= n:
            flags[end] |= END_BRANCH
        if cl == "jump" and end <= n:
            flags[end] |= END_JUMP
            jump[i] = 1           # jumps take 2 cycles: one beyond issue
            if f in ("JR", "CR1") and prev_written and prev_written == int(e["rs1"]):
                c += 1            # jalr reads the result of the instruction just before
                jump[i] += 1
        ld = _writes_load(op, e)
        if ld and k + 1 < len(idx):
            nxt = table[idx[k + 1]]
            nop = int(nxt["op"])
            if nop and ld in _reads(nop, nxt):
                c += 1
                load_use[i] = 1
        cost[i] = c
        prev_written = _writes(op, e)
    return CodeTiming(cost, load_use, jump, flags, div_sites, kind)
