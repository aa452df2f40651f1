"""CV32E40P instruction timing (user manual, "Pipeline Details").

What follows from the code alone is computed here, once per program, into
per-halfword tables the native block hook sums:

- base cycles of each instruction (from the decode table's cost class: ALU and
  mul 1, mulh 5, div/rem 3 before the operand-dependent part, jumps 2, cv.elw 4,
  the counter and status CSRs 4, others 1);
- the load-use stall (+1 when the next instruction reads a loaded register, or
  writes it from EX before the load writes it in WB) and the jalr stall (+1
  when jalr reads a register the instruction before it writes): both follow
  from two consecutive instructions, which always run back to back (a load or
  an ALU instruction never jumps). Which registers an instruction reads and
  writes comes from the decode table's operand roles (iss/isa/table.py);
- flags the block hook reads at run time to add what depends on the path taken:
  a taken branch (+2; +1 more to a non-word-aligned 32-bit target) and a jump to
  a non-word-aligned 32-bit target (+1), and the length of the branch or jump
  (the penalty is the stall of the instruction that caused it).

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
END_LEN4 = 8     # the branch or jump that ends here is 32-bit (whom a penalty is charged to)

# what the instruction decoded at a halfword is (struct iss_hart.info; any halfword)
I_32, I_LINEAR, I_ACC1, I_ACC2, I_SC, I_BRANCH, I_JUMP, I_BAD = 1, 2, 4, 8, 16, 32, 64, 128

# instruction classes per halfword (CodeTiming.kind), for the performance counters
K_LOAD, K_STORE, K_JUMP, K_BRANCH, K_RVC = 1, 2, 4, 8, 16

# CSRs whose access costs 4 cycles (the manual's list); others cost 1.
SLOW_CSRS = {0x300, 0x341, 0x305, 0x342, 0xB00, 0xB02, 0xB80, 0xB82, 0x320, 0x7B0, 0x7B1, 0x7B2, 0x7B3}
SLOW_CSRS |= set(range(0xB03, 0xB20)) | set(range(0xB83, 0xBA0)) | set(range(0x323, 0x340))

# Register operand fields of a predecoded instruction (iss/isa/decode.py), in the
# order of the per-op role tables below.
_FIELDS = ("rd", "rs1", "rs2", "rs3")


@dataclass
class CodeTiming:
    cost: np.ndarray        # uint32 per halfword: base cycles incl. static stalls (0 where no instruction starts)
    load_use: np.ndarray    # uint8 per halfword: the load-use stall included in cost
    jump: np.ndarray        # uint8 per halfword: jump cycles beyond the first (jal/jalr: 1) + jalr stall
    flags: np.ndarray       # uint8 per halfword (+1): END_BRANCH / END_JUMP / START_32
    div_sites: list         # (pc, rs2) of div/divu/rem/remu instructions
    kind: np.ndarray        # uint8 per halfword: K_LOAD | K_STORE | K_JUMP | K_BRANCH | K_RVC

    @staticmethod
    def concatenate(parts: list, n: int) -> "CodeTiming":
        """The tables of code regions laid end to end, each followed by the slot
        for its end (as iss.hart.CodeImage lays them out): `n` halfwords in all."""
        def cat(name):
            return np.concatenate([np.append(getattr(p, name), 0).astype(getattr(p, name).dtype)
                                   for p in parts])[:n]
        return CodeTiming(cat("cost"), cat("load_use"), cat("jump"), np.concatenate([p.flags for p in parts]),
                          [d for p in parts for d in p.div_sites], cat("kind"))


# Cost class per op id ("" for op 0, no instruction)
_CLS = [""] * (len(ROWS) + 1)
for _r in ROWS:
    _CLS[_r.op] = _r.cost


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


def _op_tables():
    """Per op id (numpy lookups for analyse), the register dependencies derived
    from the decode table's operand roles (iss/isa/table.py: Row.operands)."""
    n = len(ROWS) + 1
    kind = np.zeros(n, np.uint8)
    reads = np.zeros((len(_FIELDS), n), bool)      # reads the register in that field
    writes = np.zeros((len(_FIELDS), n), bool)     # writes the register in that field
    ex_writes = np.zeros((len(_FIELDS), n), bool)  # ... from EX (ALU port): all but a load's rd
    writes_ra = np.zeros(n, bool)         # writes x1 from EX (c.jal, c.jalr)
    load_dest = np.zeros(n, bool)         # writes rd from memory, in WB
    csr = np.zeros(n, bool)
    div = np.zeros(n, bool)
    branch = np.zeros(n, bool)            # ends with END_BRANCH
    jump = np.zeros(n, bool)
    jalr = np.zeros(n, bool)              # a jump through a register (reads rs1)
    for r in ROWS:
        op, cl, f, nm, o = r.op, r.cost, r.fmt, r.name, r.operands
        kind[op] = ((K_LOAD if cl in ("load", "elw") or (cl == "amo" and nm != "sc.w") else 0)
                    | (K_STORE if cl == "store" or (cl == "amo" and nm != "lr.w") else 0)
                    | (K_JUMP if cl == "jump" else 0) | (K_BRANCH if cl == "branch" else 0))
        # cv.elw's 4 cycles (the manual's table) are its whole cost: no load-use on top.
        load_dest[op] = o.mem in ("load", "amo") and cl != "elw"
        for i, field in enumerate(_FIELDS):
            reads[i, op] = field in o.reads
            writes[i, op] = field in o.writes
            ex_writes[i, op] = field in o.writes and not (field == "rd" and o.mem in ("load", "amo"))
        writes_ra[op] = "ra" in o.writes
        csr[op] = f in ("CSR", "CSRI")
        div[op] = cl == "div"
        branch[op] = cl == "branch" and f in ("B", "CB")
        jump[op] = cl == "jump"
        jalr[op] = f in ("JR", "CR1")
    return kind, reads, writes, ex_writes, writes_ra, load_dest, csr, div, branch, jump, jalr


(_OP_KIND, _OP_READS, _OP_WRITES, _OP_EX_WRITES, _OP_WRITES_RA, _OP_LOAD_DEST, _OP_CSR, _OP_DIV, _OP_BRANCH,
 _OP_JUMP, _OP_JALR) = _op_tables()
_SLOW_CSR = np.zeros(4096, bool)
_SLOW_CSR[sorted(SLOW_CSRS)] = True


def analyse(table: np.ndarray, starts: np.ndarray, base: int, raw: bytes) -> CodeTiming:
    """Per-halfword timing tables for the code `raw` at `base`, whose predecode
    table is `table` and whose instruction starts (linear decode) are `starts`.
    Vectorised over the instruction starts (each instruction and the one after it)."""
    n = len(starts)
    cost = np.zeros(n, np.uint32)
    load_use = np.zeros(n, np.uint8)
    jump = np.zeros(n, np.uint8)
    flags = np.zeros(n + 1, np.uint8)
    kind = np.zeros(n, np.uint8)
    idx = np.nonzero(starts)[0]
    e = table[idx]
    op = e["op"].astype(np.intp)
    length = e["len"]
    valid = op != 0
    end = idx + length // 2
    rd, rs1, rs2 = e["rd"], e["rs1"], e["rs2"]
    flags[idx[length == 4]] |= START_32
    kind[idx] = _OP_KIND[op] | np.where(valid & (length == 2), K_RVC, 0)
    c = e["cycles"].astype(np.uint32)
    csr_at = _OP_CSR[op]
    if csr_at.any():
        hw = np.frombuffer(raw, "<u2")
        csr = hw[np.minimum(idx[csr_at] + 1, len(hw) - 1)] >> 4
        c[csr_at] = np.where(_SLOW_CSR[csr], 4, 1)
    div_at = np.nonzero(_OP_DIV[op])[0]
    div_sites = [(base + 2 * int(i), int(r)) for i, r in zip(idx[div_at], rs2[div_at])]
    inside = end <= n
    flags[end[_OP_BRANCH[op] & inside]] |= END_BRANCH
    jumps = _OP_JUMP[op] & inside
    flags[end[jumps]] |= END_JUMP
    flags[end[(_OP_BRANCH[op] | jumps) & inside & (length == 4)]] |= END_LEN4
    jump[idx[jumps]] = 1                 # jumps take 2 cycles: one beyond issue
    # Each instruction's register fields (rd, rs1, rs2, rs3) and those of the next one.
    m = len(idx)
    regs = np.stack([e[f] for f in _FIELDS])
    nop = np.zeros(m, np.intp)
    nop[:-1] = op[1:]
    nxt = np.zeros_like(regs)
    nxt[:, :-1] = regs[:, 1:]
    # jalr reads the result of the instruction just before (any register it writes).
    prev_writes = np.zeros(m, bool)
    prev_writes[1:] = ((_OP_WRITES[:, op[:-1]] & (regs[:, :-1] == rs1[1:]) & (rs1[1:] != 0)).any(axis=0)
                       | (_OP_WRITES_RA[op[:-1]] & (rs1[1:] == 1)))
    jalr_stall = jumps & _OP_JALR[op] & prev_writes
    c += jalr_stall
    jump[idx] += jalr_stall.astype(np.uint8)
    # Load-use: a load whose destination the next instruction reads (any register
    # operand, a store's data and offset registers included), or writes from EX
    # before the load's write in WB (the RTL's controller stalls that too).
    ld = np.where(_OP_LOAD_DEST[op], rd, 0)
    uses = ((_OP_READS[:, nop] | _OP_EX_WRITES[:, nop]) & (nxt == ld)).any(axis=0) | (_OP_WRITES_RA[nop] & (ld == 1))
    stall = (ld != 0) & (nop != 0) & uses
    c += stall
    load_use[idx] = stall
    cost[idx] = np.where(valid, c, 1)    # not an instruction (data in text): charged 1 if ever run
    return CodeTiming(cost, load_use, jump, flags, div_sites, kind)
