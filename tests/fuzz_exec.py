"""Execution fuzzing, run as a child process by tests/test_fuzz_exec.py (so that
a hang fails the test on its timeout instead of blocking it):

    python tests/fuzz_exec.py ELF SEED COUNT OUT_DIR

writes COUNT copies of ELF with random words in its `fuzz_region` (built from
tests/firmware_src/fuzz_exec.S), runs each with no view and with every view
(trace, profile, Perfetto, VCD), and prints one JSON line per case with what
the checks found (an empty `problems` list is a pass):
- a run ends normally or with one of the simulator's errors (SimulationError),
  never with any other exception (a traceback for the user);
- an illegal-instruction stop is at a word the decoder rejects (or a CSR
  instruction naming a CSR that does not exist), and every
  instruction the trace shows retired is one it accepts;
- the cycle limit stops every run (the parent's timeout catches a hang);
- views on and off give the same outcome, cycles, instructions and stalls;
- the CORE-V executor's chains on and off (chain_limit 0 on every hart, as the
  GDB server sets it) give the same outcome, counters, registers, scratch
  memory and per-instruction profile (execution counts, stall cycles)."""
from __future__ import annotations

import json
import random
import re
import sys
import traceback
from pathlib import Path

from elftools.elf.elffile import ELFFile

from iss import Cluster, Config
from iss.errors import IllegalInstruction, SimulationError
from iss.isa import ROWS, decode
from iss.trace import Session, ViewOptions

MAX_CYCLES = 20000


def region(elf: Path) -> tuple[int, int]:
    """(file offset, bytes) of fuzz_region."""
    with open(elf, "rb") as f:
        e = ELFFile(f)
        syms = {s.name: s["st_value"] for s in e.get_section_by_name(".symtab").iter_symbols()}
        lo, hi = syms["fuzz_region"], syms["fuzz_region_end"]
        for seg in e.iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_vaddr"] <= lo < seg["p_vaddr"] + seg["p_filesz"]:
                return seg["p_offset"] + lo - seg["p_vaddr"], hi - lo
    raise SystemExit("no fuzz_region in a loaded segment")


def random_code(rng: random.Random, n_bytes: int) -> bytes:
    """Halfwords: mostly encodings of the decode table's rows with random
    operands, some random 32-bit and 16-bit words (mostly invalid)."""
    out = bytearray()
    while len(out) < n_bytes:
        r = rng.random()
        if r < 0.9:
            row = rng.choice(ROWS)
            bits = 16 if row.length == 2 else 32
            w = (rng.getrandbits(bits) & ~row.mask | row.match) & ((1 << bits) - 1)
            out += w.to_bytes(bits // 8, "little")
        elif r < 0.96:
            out += (rng.getrandbits(32) | 3).to_bytes(4, "little")
        else:
            out += (rng.getrandbits(16) & ~3 | rng.randrange(3)).to_bytes(2, "little")
    return bytes(out[:n_bytes])


def run(elf: Path, views: Path | None, chains: bool = True):
    c = Cluster(elf, Config.load())
    if not chains:
        for h in c.harts:
            h.native.chain_limit = 0
    outcome = "exit"
    try:
        if views is None:
            res = c.run(max_cycles=MAX_CYCLES)
        else:
            opts = ViewOptions(trace=views / "t.txt", profile=True, perfetto=views / "p.json",
                               vcd=views / "v.vcd")
            res = Session(c, opts).run(max_cycles=MAX_CYCLES)
        outcome = f"exit {res.exit_code}"
    except SimulationError as e:
        outcome = f"{type(e).__name__}: {e}"
    harts = [(h.id, int(h.native.cycles), int(h.native.instret), int(h.native.stall_tcdm),
              int(h.native.stall_branch), int(h.native.stall_misaligned), int(h.native.div_cycles),
              int(h.native.stall_l2), int(h.native.branches_taken), int(h.native.tcdm_accesses),
              int(h.native.l2_accesses)) for h in c.harts]
    return c, outcome, harts


def state(c) -> tuple:
    """Registers, PC, the scratch buffer and the per-instruction profile of every hart."""
    sym = c.program.symbol("fuzz_scratch")
    prof = [(p["exec_count"].tobytes(), p["cycles_at"].tobytes()) for p in c.profile_data()]
    return ([[h.reg(i) for i in range(32)] + [h.pc] for h in c.harts], c.memory.read(sym.addr, sym.size),
            [h.stall_at.tobytes() for h in c.harts], prof)


def same_run(outcome, harts, outcome2, harts2) -> bool:
    """Whether two runs of one case ended alike. A run the cycle limit stopped is
    cut at the first point its hart checks the limit past it: a block start
    when Unicorn runs the code, any instruction inside a chain (views and
    chain_limit 0 run without chains), so a hart still running at the limit may
    stand an instruction or a block further in one run; every other hart must
    be the same."""
    if not (outcome.startswith("CycleLimit") and outcome2.startswith("CycleLimit")):
        return (outcome, harts) == (outcome2, harts2)
    return all(a == b if max(a[1], b[1]) < MAX_CYCLES else min(a[1], b[1]) >= MAX_CYCLES
               for a, b in zip(harts, harts2))


def check_case(elf: Path, out: Path) -> tuple[str, list[str]]:
    """(how the run without views ended, problems found)."""
    problems = []
    try:
        c, outcome, harts = run(elf, None)
    except Exception:  # noqa: BLE001 (what is being tested)
        return "traceback", ["traceback without views: " + traceback.format_exc(limit=3)]
    try:
        out.mkdir(parents=True, exist_ok=True)
        cv, outcome_v, harts_v = run(elf, out)
    except Exception:  # noqa: BLE001
        return outcome, ["traceback with views: " + traceback.format_exc(limit=3)]
    if outcome.startswith("IllegalInstruction"):
        # the trap went through machine mode (the runtime's default vector), so the
        # hart is in the handler now: the error names the trapping PC and word
        pc = int(re.search(r" pc (0x[0-9a-f]+)", outcome).group(1), 16)
        reported = int(re.search(r"illegal instruction (0x[0-9a-f]+)", outcome).group(1), 16)
        word = int.from_bytes(c.memory.read(pc, 2), "little")
        if word & 3 == 3:
            word |= int.from_bytes(c.memory.read(pc + 2, 2), "little") << 16
        if word != reported:
            problems.append(f"the error names 0x{reported:08x}, memory holds 0x{word:08x}: {outcome}")
        i = decode(word)
        # a CSR instruction naming a CSR the core lacks is illegal too (as on the CV32E40P)
        if i is not None and i.fmt not in ("CSR", "CSRI"):
            problems.append(f"illegal instruction reported for a valid word 0x{word:08x}: {outcome}")
    if not same_run(outcome, harts, outcome_v, harts_v):
        problems.append(f"views changed the run: {outcome} {harts} vs {outcome_v} {harts_v}")
    if sum(h.isa.executed for h in c.harts) < 2:
        return outcome, problems      # no two CORE-V instructions ran: nothing to chain
    try:
        c1, outcome_1, harts_1 = run(elf, None, chains=False)
    except Exception:  # noqa: BLE001
        return outcome, problems + ["traceback with chain_limit 0: " + traceback.format_exc(limit=3)]
    if not same_run(outcome, harts, outcome_1, harts_1):
        problems.append(f"chains changed the run: {outcome} {harts} vs chain_limit 0: {outcome_1} {harts_1}")
    elif outcome == outcome_1:
        names = ("registers", "scratch memory", "stall cycles by PC", "profile")
        problems += [f"chains changed the {n}" for n, a, b in zip(names, state(c), state(c1)) if a != b]
    if max(h[1] for h in harts) > MAX_CYCLES + 1000:
        problems.append(f"ran past the cycle limit: {harts}")
    trace = out / "t.txt"
    if trace.exists():
        for line in trace.read_text().splitlines():
            if line.startswith("#"):
                continue
            rest = line.split(None, 5)[5] if len(line.split(None, 5)) > 5 else ""
            if rest.startswith((".word", ".half")) and not rest.endswith("(run ended before it retired)"):
                problems.append(f"an invalid encoding ran: {line}")
                break
    return outcome, problems


def main(argv) -> int:
    elf, seed, count, out_dir = Path(argv[1]), int(argv[2]), int(argv[3]), Path(argv[4])
    off, size = region(elf)
    data = bytearray(elf.read_bytes())
    rng = random.Random(seed)
    for k in range(count):
        code = random_code(rng, size)
        data[off:off + size] = code
        case = out_dir / f"case{k}"
        case.mkdir(parents=True, exist_ok=True)
        path = case / "fuzz.elf"
        path.write_bytes(bytes(data))
        outcome, problems = check_case(path, case / "views")
        print(json.dumps({"seed": seed, "case": k, "outcome": outcome, "code": code.hex(), "problems": problems}),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
