"""Hardware loops for compiled C: a pass over the compiler's assembly.

clang 22 has no `xcvhwlp`, so compiled C loops end in a taken branch (3 cycles
on a CV32E40P). PULP GCC turns counted loops into zero-overhead hardware loops;
this pass does the same on the assembly clang emits (`-S`), before it is
assembled:

- a loop is a backward conditional branch to a label of the same function;
- a loop becomes hardware loop 0 when its body is one basic block (no branch,
  jump or call, no label another instruction targets), it is entered only by
  falling into its first instruction, and its exit test is `bne r, s` /
  `cv.bneimm r, imm` / `bnez r` where r changes by a constant power-of-two step
  each iteration (`addi r, r, c` or post-increment addressing) and s does not
  change in the loop: the trip count is then known at entry;
- a loop whose body is straight-line code around one such inner loop (the inner
  count provably >= 1 on every entry) becomes hardware loop 1 around it.

What the CV32E40P user manual ("CORE-V Hardware Loop feature", constraints)
requires, and how the pass meets it:
- setup instruction, start and end word aligned: `.balign 4` before the setup,
  the body assembled with `.option norvc` (every instruction 32-bit), so the end
  is aligned too; `.option norelax` keeps the label arithmetic exact;
- body >= 3 instructions: shorter bodies are padded with `nop`;
- no branch, jump, call, fence, mret/dret/wfi, hardware-loop instruction or
  hardware-loop CSR access in a body: such loops are skipped;
- entered only at the top: the loop's label may be targeted by its own latch only;
- the end of loop 1 >= the end of loop 0 + 8: checked, padded with `nop`;
- a count of 0 would run the body once: the count is computed so that it is the
  loop's exact trip count. For a step of 2^j (j >= 1) the count is
  ((d - 2^j) >> j) + 1, the trip count of the original loop for every distance
  d, including the wrap-around of d = 0. For a step of 1 the count is d, which
  is 0 only when the original loop would run 2^32 times: unless a guard before
  the loop proves d != 0, a run-time check (one not-taken branch) sends d = 0 to
  an out-of-line copy of the original loop (hardware loop 1 is not formed then).

The register the exit test counted is left with the value the loop left in it
(`mv`/`li` after the loop) unless it is dead there.

The encodings are not repeated here: the rewritten assembly uses the
`cv.setup`/`cv.count`/`cv.starti`/`cv.endi` assembler macros of
firmware/runtime/include/corev.h (the one place that has them), preprocessed
once and prepended when the compiled file does not define them already.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from ..isa.decode import ABI
from ..isa.table import ROWS

# ------------------------------------------------------------------ registers

REGNUM = {name: i for i, name in enumerate(ABI)}
REGNUM.update({f"x{i}": i for i in range(32)}, fp=8)
_REG_RE = re.compile(r"\b(" + "|".join(sorted(REGNUM, key=len, reverse=True)) + r")\b")
# live at a return: results, stack/global/thread pointers, return address, callee-saved
_LIVE_AT_RET = {REGNUM[r] for r in ("a0", "a1", "sp", "gp", "tp", "ra", "s0", "s1")} | set(range(18, 28))
_ARGS = set(range(10, 18))
_CALLER_SAVED = {1, 5, 6, 7, 28, 29, 30, 31} | _ARGS


def regs_in(text: str) -> list[int]:
    return [REGNUM[m] for m in _REG_RE.findall(text)]


def reg(text: str) -> Optional[int]:
    return REGNUM.get(text.strip())


# ------------------------------------------------------------------ instructions

_CLASS = {}
for _r in ROWS:
    _CLASS.setdefault(_r.name, _r.cost if _r.ext != "xcvhwlp" else "hwlp")
_CLASS.update({"cv.elw": "elw", "fence.i": "fence"})
_PSEUDO = {"mv": "alu", "li": "alu", "la": "alu", "lla": "alu", "not": "alu", "neg": "alu", "seqz": "alu",
           "snez": "alu", "sltz": "alu", "sgtz": "alu", "nop": "alu", "zext.b": "alu", "sgt": "alu",
           "sgtu": "alu",
           "csrr": "csr", "csrw": "csr", "csrs": "csr", "csrc": "csr", "csrwi": "csr", "csrsi": "csr",
           "csrci": "csr", "rdcycle": "csr", "rdinstret": "csr", "rdtime": "csr",
           "beqz": "branch", "bnez": "branch", "blez": "branch", "bgez": "branch", "bltz": "branch",
           "bgtz": "branch", "bgt": "branch", "ble": "branch", "bgtu": "branch", "bleu": "branch",
           "j": "jump", "jr": "jump", "ret": "ret", "call": "call", "tail": "jump", "mret": "system",
           "dret": "system", "wfi": "system", "sret": "system", "unimp": "system"}
for _k, _v in _PSEUDO.items():
    _CLASS.setdefault(_k, _v)
_CLASS.update(ret="ret", call="call", jal="call", jalr="call")
_NO_DEST = {"store", "branch", "fence", "system", "hwlp", "jump", "ret"}
_CSR_WRITES = {"csrw", "csrs", "csrc", "csrwi", "csrsi", "csrci", "csrrw", "csrrs", "csrrc",
               "csrrwi", "csrrsi", "csrrci"}
_MEM = re.compile(r"^\s*(?P<off>[^()]*)\((?P<base>[^()]+)\)\s*$")


@dataclass
class Insn:
    mnem: str
    ops: list
    cls: str                       # cost class of the decode table, or call/ret/jump/branch/unknown
    defs: set = field(default_factory=set)
    uses: set = field(default_factory=set)
    incs: dict = field(default_factory=dict)   # register -> constant post-increment (None: by register)

    @property
    def control(self) -> bool:
        return self.cls in ("branch", "jump", "call", "ret")


def split_operands(text: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def _imm(text: str) -> Optional[int]:
    try:
        return int(text.strip(), 0)
    except ValueError:
        return None


def decode(mnem: str, ops: list) -> Insn:
    """Registers written and read by one instruction. Writes are exact for every
    instruction this knows; reads are a superset (extra reads only make the pass
    more careful); an instruction it does not know is class "unknown"."""
    cls = _CLASS.get(mnem, "unknown")
    if mnem == "jal":
        cls = "call" if len(ops) == 1 or reg(ops[0]) not in (0, None) else "jump"
    if mnem == "jalr":
        cls = "ret" if ops in (["ra"], ["zero, ra"], ["zero", "ra", "0"], ["zero", "0(ra)"]) else "call"
    ins = Insn(mnem, ops, cls)
    if cls == "unknown":
        return ins
    mems = [(i, _MEM.match(o)) for i, o in enumerate(ops)]
    mem_i = next((i for i, m in mems if m), None)
    # reads: every register operand, except the destination of a standard
    # instruction (CORE-V ones may accumulate into it: counted as read)
    first = 1 if cls not in _NO_DEST and cls not in ("store", "csr") and not mnem.startswith("cv.") \
        and mem_i != 0 else 0
    for o in ops[first:]:
        ins.uses.update(regs_in(o))
    if cls in ("load", "store", "amo", "elw") and mem_i is not None:
        base = reg(mems[mem_i][1].group("base"))
        off = mems[mem_i][1].group("off").strip()
        if off == "" and mem_i + 1 < len(ops) and mnem.startswith("cv."):
            # cv.lX rd, (rs1), inc / cv.sX rs2, (rs1), inc: post-increment
            inc = ops[mem_i + 1]
            ins.defs.add(base)
            ins.incs[base] = _imm(inc)
    if cls == "call":
        ins.defs |= _CALLER_SAVED
        ins.uses |= _ARGS | {2}
    elif cls == "ret":
        ins.uses |= _LIVE_AT_RET
    elif mnem in ("csrw", "csrs", "csrc", "csrwi", "csrsi", "csrci"):
        pass
    elif cls not in _NO_DEST and ops and cls != "store":
        d = reg(ops[0])
        if d is None:
            ins.cls = "unknown"
            return ins
        ins.defs.add(d)
    ins.defs.discard(0)
    return ins


# ------------------------------------------------------------------ parsing

_LABEL = re.compile(r"^\s*([A-Za-z_.$][\w.$]*|\d+):(.*)$")
_LOC = re.compile(r"^\s*\.loc\s+(\d+)\s+(\d+)")
_FILE = re.compile(r'^\s*\.file\s+(\d+)\s+"([^"]*)"(?:\s+"([^"]*)")?')
_SECTION = re.compile(r"^\s*\.(section|text|data|bss|rodata)\b\s*([^,\s]*)")
_IDENT = re.compile(r"[A-Za-z_.$][\w.$]*")


@dataclass
class Line:
    text: str
    kind: str                  # label, insn, directive, comment, blank
    name: str = ""             # label name / mnemonic / directive
    ops: list = field(default_factory=list)
    insn: Optional[Insn] = None
    loc: tuple = ("?", 0)
    section: str = ""
    asm: bool = False          # inside #APP ... #NO_APP (inline assembly)


def _strip_comment(text: str) -> str:
    out, quote = [], False
    for ch in text:
        if ch == '"':
            quote = not quote
        if ch == "#" and not quote:
            break
        out.append(ch)
    return "".join(out).rstrip()


def parse(text: str) -> list[Line]:
    lines, files, loc, section, asm = [], {}, ("?", 0), "", False
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped in ("#APP", "#NO_APP"):
            asm = stripped == "#APP"
            lines.append(Line(raw, "comment", asm=asm, loc=loc, section=section))
            continue
        body = _strip_comment(raw)
        m = _LABEL.match(body)
        if m:
            # "label+": a label with an instruction on the same line (the pass leaves those alone)
            lines.append(Line(raw, "label+" if m.group(2).strip() else "label", m.group(1), loc=loc,
                              section=section, asm=asm))
            continue
        s = body.strip()
        if not s:
            lines.append(Line(raw, "comment" if stripped else "blank", loc=loc, section=section, asm=asm))
            continue
        if s.startswith("."):
            fm = _FILE.match(s)
            if fm:
                files[fm.group(1)] = fm.group(3) or fm.group(2)
            lm = _LOC.match(s)
            if lm and int(lm.group(2)):       # line 0: code with no source line of its own
                loc = (files.get(lm.group(1), "?"), int(lm.group(2)))
            sm = _SECTION.match(s)
            if sm:
                section = sm.group(2) if sm.group(1) == "section" else "." + sm.group(1)
            name = s.split(None, 1)[0]
            lines.append(Line(raw, "directive", name, ops=[s[len(name):].strip()], loc=loc, section=section,
                              asm=asm))
            continue
        parts = s.split(None, 1)
        mnem = parts[0].lower()
        ops = split_operands(parts[1]) if len(parts) > 1 else []
        lines.append(Line(raw, "insn", mnem, ops, decode(mnem, ops), loc=loc, section=section, asm=asm))
    return lines


# ------------------------------------------------------------------ analysis

@dataclass
class Decision:
    """One loop the pass looked at (what --explain-hwloops prints)."""
    file: str
    line: int
    function: str
    level: Optional[int]       # 0 / 1 when transformed
    reason: str                # what was done, or why not

    def __str__(self) -> str:
        what = f"hardware loop {self.level}" if self.level is not None else "skipped"
        return f"{self.file}:{self.line}: {self.function}: {what}: {self.reason}"


@dataclass
class _Loop:
    head: int                  # index of the header label line
    latch: int                 # index of the backward branch
    label: str
    count_reg: int = -1
    pre: list = field(default_factory=list)    # instructions computing the count (before the setup)
    post: list = field(default_factory=list)   # instructions after the loop (restore a register)
    drop: set = field(default_factory=set)     # line indices removed from the body
    body_len: int = 0
    count_text: str = ""
    level: int = 0
    zero_check: bool = False   # a count of 0 (unproven) goes to a copy of the original loop
    restore: str = ""          # undoes the count computation (the original loop's exit value)
    inner_end: int = -1        # level 1: the end label of the last inner loop
    inner_lines: set = field(default_factory=set)   # level 1: lines of the inner loops' bodies
    pad_after_inner: int = 0


_RAW_WORDS = (".word", ".4byte", ".long", ".insn", ".half", ".2byte", ".short")
END_PREFIX = ".Lhwlp_end"      # end labels of the loops the pass makes (".Lhwlp_end<level>_<n>")


class _Skip(Exception):
    pass


def _lin(const=0, **terms):
    return (const & 0xFFFFFFFF, tuple(sorted((k, v & 0xFFFFFFFF) for k, v in terms.items() if v & 0xFFFFFFFF)))


def _add(a, b, scale=1):
    terms = dict(a[1])
    for k, v in b[1]:
        terms[k] = (terms.get(k, 0) + scale * v) & 0xFFFFFFFF
    return ((a[0] + scale * b[0]) & 0xFFFFFFFF, tuple(sorted((k, v) for k, v in terms.items() if v)))


def _mul(a, c):
    return ((a[0] * c) & 0xFFFFFFFF, tuple(sorted((k, (v * c) & 0xFFFFFFFF) for k, v in a[1] if (v * c) & 0xFFFFFFFF)))


class Function:
    def __init__(self, name: str, lines: list[Line], start: int, end: int, targets: dict):
        self.name, self.lines, self.start, self.end = name, lines, start, end
        self.targets = targets          # label -> list of line indices that reference it
        self.label_at = {lines[i].name: i for i in range(start, end) if lines[i].kind.startswith("label")}

    # -- helpers
    def insns(self, a: int, b: int):
        for i in range(a, b):
            if self.lines[i].kind == "insn":
                yield i, self.lines[i].insn

    def referenced(self, label: str, besides=()) -> list[int]:
        return [i for i in self.targets.get(label, ()) if i not in besides]

    def prev_insn(self, i: int) -> Optional[int]:
        """The instruction before line i in this function, stepping over labels that are
        not jump targets, directives and comments (None if a targeted label or the
        function start comes first)."""
        j = i - 1
        while j >= self.start:
            ln = self.lines[j]
            if ln.kind == "insn":
                return j
            if ln.kind.startswith("label") and self.targets.get(ln.name):
                return None
            if ln.kind == "directive" and ln.name in (".p2align", ".balign", ".align"):
                pass
            j -= 1
        return None

    # -- liveness: is register r read on some path from line i before being written?
    def live_from(self, r: int, i: int, seen=None, depth=0) -> bool:
        seen = set() if seen is None else seen
        if depth > 64:
            return True
        while i < self.end:
            if i in seen:
                return False
            seen.add(i)
            ln = self.lines[i]
            if ln.kind == "label+" or (ln.kind == "directive" and ln.asm):
                return True
            if ln.kind != "insn":
                i += 1
                continue
            ins = ln.insn
            if ins.cls == "unknown" or r in ins.uses:
                return True
            if ins.cls == "ret":
                return r in _LIVE_AT_RET
            if ins.cls == "call":
                if r in ins.defs:
                    return False
                i += 1
                continue
            if ins.cls in ("branch", "jump"):
                tgt = ins.ops[-1] if ins.ops else ""
                if tgt not in self.label_at:
                    return True
                if self.live_from(r, self.label_at[tgt], seen, depth + 1):
                    return True
                if ins.cls == "jump":
                    return False
                i += 1
                continue
            if r in ins.defs:
                return False
            i += 1
        return True

    # -- symbolic values along the straight path into a loop header
    def entry_facts(self, head: int):
        """Walk back from the header to the start of the straight path that falls into
        it; evaluate that path with linear expressions over the register values at its
        start. Returns (values at the header, expressions proven non-zero)."""
        j = head - 1
        while j >= self.start:
            ln = self.lines[j]
            if ln.kind.startswith("label") and self.targets.get(ln.name):
                break
            if ln.kind == "insn" and ln.insn.cls in ("jump", "ret", "call"):
                break
            j -= 1
        val = {r: _lin(**{f"r{r}": 1}) for r in range(1, 32)}
        val[0] = _lin(0)
        nonzero = []
        for i, ins in self.insns(j + 1, head):
            if ins.cls == "branch":
                self._guard(ins.mnem, ins.ops, [reg(o) for o in ins.ops], val, nonzero)
            else:
                self._eval(ins, val, f"e{i}")
        return val, nonzero

    @staticmethod
    def _guard(m, ops, R, val, nonzero):
        """Facts that hold when a conditional branch falls through."""
        def v(k):
            return val[R[k]] if R[k] is not None else None
        if m in ("beqz", "blez", "bgez") and R[0] is not None:
            nonzero.append(v(0))                       # fell through: x != 0 (x > 0 / x < 0)
        elif m == "cv.beqimm" and R[0] is not None and _imm(ops[1]) is not None:
            nonzero.append(_add(v(0), _lin(_imm(ops[1])), -1))
        elif m in ("beq", "bge", "bgeu", "ble", "bleu") and None not in R[:2]:
            nonzero.append(_add(v(0), v(1), -1))       # fell through: x != y

    # -- one loop
    def analyse(self, head: int, latch: int, level: int = 0) -> _Loop:
        """A loop [head, latch] as hardware loop `level`; level 1 is a loop whose body
        holds hardware loops 0 made by the first round of the pass."""
        lines = self.lines
        label = lines[head].name
        lp = _Loop(head, latch, label, level=level)
        inner, inner_defs, in_inner = [], set(), False
        others = self.referenced(label, besides=(latch,))
        if others:
            raise _Skip(f"its first instruction is also reached from line {lines[others[0]].loc[1]} "
                        "(a hardware loop must be entered through its setup)")
        for i in range(head + 1, latch):
            ln = lines[i]
            if ln.kind.startswith("label"):
                if level and ln.name.startswith(END_PREFIX):
                    in_inner = False
                    lp.inner_end = i
                elif self.targets.get(ln.name) or ln.name[0].isdigit():
                    raise _Skip("the body is more than one basic block (early exit, continue or if)")
            elif ln.kind == "directive":
                # .option push/pop/arch (corev.h intrinsics wrap some instructions in them)
                # keep the body's norvc; alignment inside a body of 32-bit instructions
                # only adds nops (level 1: the inner loop's own setup)
                arg = ln.ops[0].split(",")[0].strip() if ln.ops else ""
                if ln.name == ".option" and arg in ("push", "pop", "arch", "norvc", "norelax"):
                    continue
                if level and ln.name in (".balign", ".p2align"):
                    continue
                if ln.name not in (".loc", ".file") and not ln.name.startswith(".cfi"):
                    raise _Skip(f"assembler directive {ln.name} in the body")
            elif ln.kind == "insn":
                ins = ln.insn
                if in_inner:
                    inner_defs |= ins.defs
                    lp.inner_lines.add(i)
                if level and ins.cls == "hwlp" and ins.mnem == "cv.setup" and ins.ops[0] == "0" \
                        and ins.ops[-1].startswith(END_PREFIX):
                    inner.append(i)
                    in_inner = True
                    continue
                if ins.cls == "call":
                    raise _Skip("a call in the body")
                if ins.control:
                    raise _Skip("the body is more than one basic block (early exit, continue or if)")
                if ins.cls == "unknown":
                    raise _Skip(f"instruction '{ins.mnem}' in the body is not understood by the pass")
                if ins.cls == "hwlp":
                    raise _Skip("the body already uses hardware loops")
                if ins.cls in ("fence", "system", "elw", "amo") or ins.mnem.startswith("c."):
                    raise _Skip(f"'{ins.mnem}' may not be in a hardware-loop body")
                if ins.cls == "csr" and (ins.mnem in _CSR_WRITES or "lp" in " ".join(ins.ops)):
                    raise _Skip(f"'{ins.mnem}' (a CSR write) in the body")
        if level and not inner:
            return self.analyse(head, latch, 0)      # an innermost loop: round 1's reasons
        prev = self.prev_insn(head)
        if prev is None or lines[prev].insn.cls in ("jump", "ret"):
            raise _Skip("the loop is entered by a jump, not by falling into it")
        self._count(lp, inner_defs)
        if level:
            # CV32E40P: end of loop 1 >= end of loop 0 + 8 (2 instructions after the inner end)
            after = sum(1 for i, _ in self.insns(lp.inner_end, latch) if i not in lp.drop)
            lp.pad_after_inner = max(0, 2 - after)
        return lp

    def _count(self, lp: _Loop, inner_defs=frozenset()):
        lines = self.lines
        br = lines[lp.latch].insn
        m, ops = br.mnem, br.ops
        if m == "bne" and len(ops) == 3:
            a, b = reg(ops[0]), reg(ops[1])
            imm = None
        elif m == "bnez" and len(ops) == 2:
            a, b, imm = reg(ops[0]), 0, 0
        elif m == "cv.bneimm" and len(ops) == 3:
            a, b, imm = reg(ops[0]), None, _imm(ops[1])
        elif m in _SIGNED_LATCH and len(ops) == _SIGNED_LATCH[m][0] + 1:
            return self._count_signed(lp, inner_defs)
        else:
            raise _Skip(f"exit test '{m}' is neither != nor a signed < / <= on a counter")
        if b == 0:
            imm = 0
            b = None
        body = list(self.insns(lp.head + 1, lp.latch))
        written = set().union(*(ins.defs for _, ins in body)) if body else set()
        if b is not None and a in written and b in written:
            raise _Skip("both registers of the exit test change in the loop")
        if b is not None and b in written:
            a, b = b, a
        r, s = a, b
        if r not in written:
            raise _Skip("the exit test does not change in the loop (not a counted loop)")
        if r in inner_defs or (s is not None and s in inner_defs):
            raise _Skip("the exit test's registers change inside the inner hardware loop")
        step, incs = 0, []
        for i, ins in body:
            if r not in ins.defs:
                continue
            if ins.mnem == "addi" and reg(ins.ops[0]) == r and reg(ins.ops[1]) == r and _imm(ins.ops[2]) is not None:
                step += _imm(ins.ops[2])
                incs.append(i)
            elif ins.incs.get(r) is not None and (ins.cls == "store" or reg(ins.ops[0]) != r):
                step += ins.incs[r]
            else:
                raise _Skip(f"{ABI[r]} (in the exit test) is not a constant-step counter")
        step = ((step + 0x80000000) & 0xFFFFFFFF) - 0x80000000
        mag = abs(step)
        if mag == 0 or mag & (mag - 1):
            raise _Skip(f"the counter's step ({step}) is not a power of two")
        j = mag.bit_length() - 1
        other_uses = [i for i, ins in body if r in ins.uses and i not in incs]
        droppable = not other_uses
        s_used = s is not None and any(s in ins.uses for _, ins in body)
        R, S = ABI[r], (ABI[s] if s is not None else None)
        # d = distance the counter travels to its exit value, in the step's direction
        if j == 0:
            val, nonzero = self.entry_facts(lp.head)
            d = (_add(val[s], val[r], -1) if step > 0 else _add(val[r], val[s], -1)) if s is not None else \
                (_add(_lin(imm), val[r], -1) if step > 0 else _add(val[r], _lin(imm), -1))
            proven = (d[1] == () and d[0] != 0) or any(f in (d, _mul(d, -1)) for f in nonzero)
            if not proven:
                if lp.level:
                    raise _Skip("the trip count may be 0 at entry (no guard proves it non-zero): "
                                "a hardware loop would run the body once")
                lp.zero_check = True
        if droppable:
            tgt = R
            if s is not None:
                lp.pre.append(f"sub\t{R}, {S}, {R}" if step > 0 else f"sub\t{R}, {R}, {S}")
            elif step > 0:
                lp.pre.append(f"neg\t{R}, {R}")
                if imm:
                    lp.pre.append(f"addi\t{R}, {R}, {imm}")
            elif imm:
                lp.pre.append(f"addi\t{R}, {R}, {-imm}")
            lp.drop = set(incs)
            fix_reg, fix = r, (f"mv\t{R}, {S}" if s is not None else f"li\t{R}, {imm}")
        elif s is not None and not s_used and s != 2:
            tgt = S
            lp.pre.append(f"sub\t{S}, {S}, {R}" if step > 0 else f"sub\t{S}, {R}, {S}")
            fix_reg, fix = s, f"mv\t{S}, {R}"
        else:
            raise _Skip("no register is free to hold the count (the counter is used in the body "
                        "and the exit test compares with a constant or a register the body reads)")
        if j:
            lp.pre += [f"addi\t{tgt}, {tgt}, {-mag}", f"srli\t{tgt}, {tgt}, {j}", f"addi\t{tgt}, {tgt}, 1"]
        lp.count_reg = REGNUM[tgt]
        lp.restore = fix
        if self.live_from(fix_reg, lp.latch + 1):
            lp.post.append(fix)
        lp.body_len = len(body) - len(lp.drop)
        end = S if s is not None else str(imm)
        what = (f"{end} - {R}" if step > 0 else f"{R} - {end}") if end != "0" else (f"-{R}" if step > 0 else R)
        lp.count_text = f"({what}) / {mag}" if j else what


    def _count_signed(self, lp: _Loop, inner_defs):
        """Latch `blt/bge/bgt/ble` (signed): continue while X < s or X <= s (X rising) or
        X > s / X >= s (X falling), where X = r + c at the latch, r a constant-step
        counter and s a register the loop does not change (or zero). As in C, the
        signed values are assumed not to overflow. With d = s - X1 (X1: X in the first
        iteration; negated for a falling X) the trip count is max(1, ceil(d / step) + 1)
        (+1 to d for <=). The count goes to a register that is dead at the loop entry."""
        br = self.lines[lp.latch].insn
        nregs, swap = _SIGNED_LATCH[br.mnem]
        regs = [reg(o) for o in br.ops[:nregs]] + [0] * (2 - nregs)
        if None in regs:
            raise _Skip(f"exit test '{br.mnem}' does not compare registers")
        p, q = (regs[1], regs[0]) if swap else (regs[0], regs[1])
        strict = br.mnem in ("blt", "bltz", "bgt", "bgtz")
        # continue while p < q (strict) or q <= p (not strict, bge p, q)
        lo, hi = (p, q) if strict else (q, p)          # continue while lo < hi / lo <= hi
        body = list(self.insns(lp.head + 1, lp.latch))
        written = set().union(*(ins.defs for _, ins in body)) if body else set()
        if lo in written and hi in written:
            raise _Skip("both registers of the exit test change in the loop")
        if lo not in written and hi not in written:
            raise _Skip("the exit test does not change in the loop (not a counted loop)")
        x, s, rising = (lo, hi, True) if lo in written else (hi, lo, False)
        if s in inner_defs or x in inner_defs:
            raise _Skip("the exit test's registers change inside the inner hardware loop")
        # X at the latch as a function of the registers at the top of the body
        val = {k: _lin(**{f"r{k}": 1}) for k in range(1, 32)}
        val[0] = _lin(0)
        for i, ins in body:
            self._eval(ins, val, f"b{i}")
            if i in lp.inner_lines:       # runs many times: its results are not linear in r
                for d in ins.defs:
                    val[d] = _lin(**{f"v{i}n{d}": 1})
        xv = val[x]
        if len(xv[1]) != 1 or xv[1][0][1] != 1 or not xv[1][0][0].startswith("r"):
            raise _Skip(f"{ABI[x]} (in the exit test) is not a counter plus a constant")
        r = int(xv[1][0][0][1:])
        c1 = ((xv[0] + 0x80000000) & 0xFFFFFFFF) - 0x80000000
        rv = val[r]
        if rv[1] != ((f"r{r}", 1),):
            raise _Skip(f"{ABI[r]} (the counter) does not change by a constant step")
        step = ((rv[0] + 0x80000000) & 0xFFFFFFFF) - 0x80000000
        mag = abs(step)
        if mag == 0 or mag & (mag - 1) or (step > 0) != rising:
            raise _Skip(f"the counter's step ({step}) is not a power of two towards the bound")
        j = mag.bit_length() - 1
        # c1 is the offset of X1 from r at entry (X1 = r0 + c1)
        t = self.scratch(lp.head, avoid={r, s, x})
        if t is None:
            raise _Skip("no register is free at the loop entry to hold the count")
        T, R, S = ABI[t], ABI[r], ABI[s]
        # T = d - 1, with d = s - X1 (rising) or X1 - s (falling), +1 for <=
        adj = (-c1 if rising else c1) + (0 if strict else 1) - 1
        lp.pre.append(f"sub\t{T}, {S}, {R}" if rising else f"sub\t{T}, {R}, {S}")
        if adj:
            lp.pre.append(f"addi\t{T}, {T}, {adj}")
        if j:
            lp.pre.append(f"srai\t{T}, {T}, {j}")
        lp.pre += [f"addi\t{T}, {T}, 1", f"cv.max\t{T}, {T}, zero", f"addi\t{T}, {T}, 1"]
        lp.count_reg = t
        lp.restore = ""
        lp.body_len = len(body)
        op = "<" if strict else "<="
        lp.count_text = (f"{T} = trip count of {ABI[x]} {op} {S}" if rising else
                         f"{T} = trip count of {S} {op} {ABI[x]}") + f" (step {step})"

    def _eval(self, ins, val, tag):
        """One instruction on linear register values (opaque where not linear)."""
        m, ops = ins.mnem, ins.ops
        R = [reg(o) for o in ops]
        new = None
        try:
            if m == "mv":
                new = val[R[1]]
            elif m == "li" and _imm(ops[1]) is not None:
                new = _lin(_imm(ops[1]))
            elif m == "addi" and _imm(ops[2]) is not None:
                new = _add(val[R[1]], _lin(_imm(ops[2])))
            elif m == "add":
                new = _add(val[R[1]], val[R[2]])
            elif m == "sub":
                new = _add(val[R[1]], val[R[2]], -1)
            elif m == "neg":
                new = _mul(val[R[1]], -1)
            elif m == "slli" and _imm(ops[2]) is not None:
                new = _mul(val[R[1]], 1 << _imm(ops[2]))
        except (IndexError, KeyError, TypeError):
            new = None
        for b, inc in ins.incs.items():
            val[b] = _add(val[b], _lin(inc)) if inc is not None else _lin(**{f"v{tag}b": 1})
        for d in ins.defs - set(ins.incs):
            val[d] = new if new is not None else _lin(**{f"v{tag}": 1})

    def scratch(self, head: int, avoid=()) -> Optional[int]:
        """A register whose value at the loop header is never read (the count only
        lives until the setup)."""
        for name in ("t0", "t1", "t2", "t3", "t4", "t5", "t6", "a7", "a6", "a5", "a4", "a3", "a2"):
            k = REGNUM[name]
            if k not in avoid and not self.live_from(k, head):
                return k
        return None


# latch mnemonic -> (register operands, operands swapped to read as "p < q" / "p >= q")
_SIGNED_LATCH = {"blt": (2, False), "bge": (2, False), "bgt": (2, True), "ble": (2, True),
                 "bltz": (1, False), "bgez": (1, False), "bgtz": (1, True), "blez": (1, True)}


# ------------------------------------------------------------------ the pass

def _targets(lines: list[Line]) -> dict:
    """label -> indices of the lines that reference it (instructions, and data outside
    debug sections, e.g. jump tables)."""
    names = {ln.name for ln in lines if ln.kind.startswith("label")}
    refs: dict = {}
    for i, ln in enumerate(lines):
        if ln.kind == "insn":
            if ln.insn.cls == "hwlp":      # a loop end is not a jump target
                continue
            toks = [t for o in ln.ops for t in _IDENT.findall(o)]
        elif ln.kind == "directive" and not ln.section.startswith(".debug") and ln.name not in (
                ".loc", ".file", ".size", ".type", ".globl", ".section", ".p2align") \
                and not ln.name.startswith(".cfi"):
            toks = _IDENT.findall(ln.ops[0] if ln.ops else "")
        else:
            continue
        for t in toks:
            if t in names:
                refs.setdefault(t, []).append(i)
    return refs


def _functions(lines: list[Line]):
    funcs = set()
    for ln in lines:
        if ln.kind == "directive" and ln.name == ".type" and "@function" in ln.ops[0]:
            funcs.add(ln.ops[0].split(",")[0].strip())
    start = name = None
    for i, ln in enumerate(lines):
        if ln.kind.startswith("label") and ln.name in funcs:
            start, name = i, ln.name
        elif ln.kind == "directive" and ln.name == ".size" and name and ln.ops[0].split(",")[0].strip() == name:
            yield name, start, i
            start = name = None


def rewrite(text: str, macros: str = "") -> tuple[str, list[Decision]]:
    """The assembly `text` with hardware loops, and what was decided per loop.
    Round 1 makes innermost loops hardware loops 0; round 2 makes loops whose
    body became straight-line code around them hardware loops 1.
    `macros`: assembler text defining the cv.setup/... macros (prepended if the
    text does not define them itself)."""
    text1, made0, rest = _round(text, 0)
    text2, made1 = text1, []
    if made0:
        text2, made1, rest = _round(text1, 1)
    decisions = sorted(made0 + made1 + rest, key=lambda d: (d.file, d.line, d.level is None))
    if (made0 or made1) and macros and not re.search(r"^\s*\.macro\s+cv\.setup\b", text, re.M):
        text2 = macros + "\n" + text2
    return text2, decisions


def _round(text: str, level: int):
    """One round of the pass: (text, loops made hardware loops `level`, loops skipped)."""
    lines = parse(text)
    targets = _targets(lines)
    made, skipped = [], []
    edits: dict = {}          # line index -> (before: list[str], replace: Optional[str], after: list[str])
    nloop = 0
    for name, start, end in _functions(lines):
        fn = Function(name, lines, start, end, targets)
        loops = []
        for i, ins in fn.insns(start, end):
            if ins.cls == "branch" and ins.ops and ins.ops[-1] in fn.label_at and fn.label_at[ins.ops[-1]] < i:
                loops.append((fn.label_at[ins.ops[-1]], i))
        if not loops:
            continue
        # hardware loops written by hand: corev.h's macros reach the compiler's
        # assembly already expanded into .word directives inside #APP blocks
        hand = any((ln.kind == "insn" and ln.insn.cls == "hwlp" and not ln.ops[-1].startswith(END_PREFIX))
                   or (ln.asm and ln.kind == "directive" and ln.name in _RAW_WORDS)
                   for ln in lines[start:end])
        isr = any(ins.mnem == "mret" for _, ins in fn.insns(start, end))
        for head, latch in loops:
            where = lines[latch].loc
            if lines[head].name.startswith(".Lhwlp_zloop"):
                continue                    # the out-of-line copy of a loop made in round 1
            try:
                if hand:
                    raise _Skip("the function has hardware loops (or raw instruction words) in inline assembly")
                if isr:
                    raise _Skip("an interrupt handler (mret): the hardware-loop registers are not saved")
                inner = [lp for lp in loops if head <= lp[0] and lp[1] < latch]
                if inner:
                    raise _Skip("not innermost, and its inner loops are not all hardware loops" if level else
                                "not innermost (an outer loop is only made a hardware loop around inner ones)")
                lp = fn.analyse(head, latch, level)
            except _Skip as e:
                skipped.append(Decision(where[0], where[1], name, None, str(e)))
                continue
            nloop += 1
            lvl = lp.level
            nloop_id = f"{level}{nloop}"        # unique across rounds
            end_label = f"{END_PREFIX}{lvl}_{nloop_id}"
            pad = max(0, 3 - lp.body_len - lp.pad_after_inner) + lp.pad_after_inner
            check = []
            if lp.zero_check:
                # d = 0: the original loop runs 2^32 times, a hardware loop would run once;
                # that case runs a copy of the original loop, out of line
                zero, zloop, resume = (f".Lhwlp_zero{lvl}_{nloop_id}", f".Lhwlp_zloop{lvl}_{nloop_id}",
                                       f".Lhwlp_resume{lvl}_{nloop_id}")
                check = [f"beqz\t{ABI[lp.count_reg]}, {zero}"]
                br = lines[latch].insn
                copy = [lines[i].text for i in range(head + 1, latch) if lines[i].kind == "insn"]
                tail_at = next((i for i in range(end - 1, start, -1) if lines[i].kind == "label"
                                and lines[i].name.startswith(".Lfunc_end")), end)
                before = edits.get(tail_at, ([], None, []))
                edits[tail_at] = (before[0] + [f"{zero}:", lp.restore, f"{zloop}:", *copy,
                                               f"{br.mnem}\t{', '.join([*br.ops[:-1], zloop])}",
                                               f"j\t{resume}"], None, [])
            setup = [*lp.pre, *check, ".balign\t4", ".option\tpush", ".option\tnorvc", ".option\tnorelax",
                     f"cv.setup\t{lvl}, {ABI[lp.count_reg]}, {end_label}"]
            edits[head] = (setup + edits.get(head, ([], None, []))[0], None, [])
            for d in lp.drop:
                edits[d] = ([], "", [])
            edits[latch] = (["nop"] * pad, "", [f"{end_label}:", ".option\tpop", *lp.post,
                                                 *([f"{resume}:"] if lp.zero_check else [])])
            body = f"{lp.body_len} instruction{'s' if lp.body_len != 1 else ''}" + (
                f" + {pad} nop" if pad else "")
            made.append(Decision(where[0], where[1], name, lvl, f"count {lp.count_text}, body {body}" + (
                "; a run-time check sends a count of 0 to the original loop" if lp.zero_check else "")))
    if not edits:
        return text, made, skipped
    out = []
    for i, ln in enumerate(lines):
        if i in edits:
            before, replace, after = edits[i]
            out += ["\t" + b if not b.endswith(":") else b for b in before]
            out.append(ln.text if replace is None else ("\t# hwloops: " + ln.text.strip() if replace == "" else replace))
            out += ["\t" + a if not a.endswith(":") else a for a in after]
        else:
            out.append(ln.text)
    return "\n".join(out), made, skipped


# ------------------------------------------------------------------ the build step

OPT_LEVELS = ("-O2", "-O3")     # on by default at these levels (PULP GCC: -O2 and above)


def enabled(opt: str, hwloops: Optional[bool]) -> bool:
    return opt in OPT_LEVELS if hwloops is None else hwloops


def lower(sources, workdir, compile_to_asm, macros, explain=None):
    """Compile each C source of `sources` to assembly (`compile_to_asm(src, out)`),
    rewrite its loops, and return the list of sources to assemble instead, plus
    every decision. Other sources pass through unchanged."""
    out, decisions = [], []
    for k, src in enumerate(sources):
        if src.suffix != ".c":
            out.append(src)
            continue
        asm = workdir / f"{k}_{src.stem}.s"
        compile_to_asm(src, asm)
        text, found = rewrite(asm.read_text(), macros)
        final = workdir / f"{k}_{src.stem}.hwloops.s"
        final.write_text(text)
        out.append(final)
        decisions += found
        if explain is not None:
            for d in found:
                print(f"[hwloops] {d}", file=explain)
    return out, decisions
