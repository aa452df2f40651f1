"""Loading firmware: symbols, segments and code placement (iss/elf.py, the code image)."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from iss.elf import Program


def _readelf_symbols(path) -> dict:
    """name -> (addr, size, kind) as binutils' readelf lists them, with the rules
    Program documents: functions, objects and untyped labels that are defined,
    named, and neither mapping symbols ($x, $d) nor local labels (.L*); a typed
    definition wins over an untyped one of the same name."""
    text = subprocess.run(["readelf", "-sW", str(path)], capture_output=True, text=True, check=True).stdout
    out: dict = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) < 8 or not f[0].endswith(":") or not f[0][:-1].isdigit():
            continue
        value, size, typ, ndx, name = f[1], f[2], f[3], f[6], f[7]
        if typ not in ("FUNC", "OBJECT", "NOTYPE") or ndx == "UND" or name.startswith(("$", ".L")):
            continue
        kind = {"FUNC": "func", "OBJECT": "object"}.get(typ, "notype")
        prev = out.get(name)
        if prev is None or (prev[2] == "notype" and kind != "notype"):
            out[name] = (int(value, 16), int(size, 0), kind)
    return out


@pytest.mark.skipif(shutil.which("readelf") is None, reason="needs binutils' readelf")
@pytest.mark.parametrize("name", ["spine_hello", "pulp_nn_like"])
def test_symbols_as_readelf_lists_them(fw, name):
    path = fw(name)
    prog = Program(path)
    want = _readelf_symbols(path)
    assert len(want) > 20
    assert {n: (s.addr, s.size, s.kind) for n, s in prog.symbols.items()} == want


def _symtab(path):
    """(the file's bytes, the file offset of .symtab's entries, of its string
    table, the string table's size, the file offset of that size in its section
    header), read with pyelftools."""
    from elftools.elf.elffile import ELFFile
    data = bytearray(path.read_bytes())
    with open(path, "rb") as f:
        elf = ELFFile(f)
        tab = elf.get_section_by_name(".symtab")
        strtab = elf.get_section(tab["sh_link"])
        sh_size_at = elf.header["e_shoff"] + tab["sh_link"] * elf.header["e_shentsize"] + 20
        return data, tab["sh_offset"], strtab["sh_offset"], strtab["sh_size"], sh_size_at


@pytest.mark.parametrize("where", ["past the end", "no NUL after it"])
def test_a_symbol_name_outside_the_string_table_is_a_clear_error(fw, tmp_path, where):
    # Also for an entry of a kind that is skipped, a local label (.L*): every
    # defined symbol's name must lie in the table.
    import struct

    from iss.errors import ElfError
    data, symtab, strtab, size, sh_size_at = _symtab(fw("spine_hello"))
    label = 1
    while True:      # the first defined local label
        name, info, shndx = struct.unpack_from("<I8xB1xH", data, symtab + 16 * label)
        if (info & 0xF) <= 2 and shndx != 0 and data[strtab + name:strtab + name + 2] == b".L":
            break
        label += 1
    if where == "past the end":
        off = size + 7
    else:
        # The table's last name, its size cut so that the NUL ending it is outside.
        off = data.rindex(b"\0", strtab, strtab + size - 1) + 1 - strtab
        struct.pack_into("<I", data, sh_size_at, size - 1)
    struct.pack_into("<I", data, symtab + 16 * label, off)
    bad = tmp_path / "bad.elf"
    bad.write_bytes(bytes(data))
    with pytest.raises(ElfError, match=f"corrupt ELF \\(symbol name at {off} beyond the string table"):
        Program(bad)


# -- code in the TCDM ------------------------------------------------------------------
# Hand-computed from tests/firmware_src/l1_code.[cS]: each core's 1^2 + ... + n^2 for
# n = 10 + core, n(n+1)(2n+1)/6; and the cycles of the timed loops by the CV32E40P
# table as in test_timing.py (csrr mcycle 4 + mv 1 before the loop; a taken branch
# 3; a load 1 and 1 more when the next instruction uses it; a hardware loop only
# its body after cv.setup's 1).
N = 100
PROLOGUE = 4 + 1
SUMS = [385, 506, 650, 819, 1015, 1240, 1496, 1785]
L1_CYCLES = [PROLOGUE + N * 2 + (N - 1) * 2,              # addi; bnez
             PROLOGUE + N * 4 + (N - 1) * 2 + N,          # lw; add (uses it); addi; bnez
             PROLOGUE + 1 + N * 3]                        # cv.setup; 3-instruction body


@pytest.fixture(scope="module")
def l1_elf(iss_build):
    from conftest import FIRMWARE_SRC
    return iss_build([FIRMWARE_SRC / "l1_code.c", FIRMWARE_SRC / "l1_code.S"], name="l1_code")


def _run(elf, **config):
    import numpy as np

    from iss import Cluster, Config
    cluster = Cluster(elf, Config.load(**config))
    res = cluster.run()
    assert res.exit_code == 0
    sums = np.frombuffer(cluster.memory.read(cluster.program.symbol("sums").addr, 32), np.int32)
    cycles = np.frombuffer(cluster.memory.read(cluster.program.symbol("cycles").addr, 96), np.uint32)
    return cluster, res, sums.tolist(), cycles.reshape(8, 3).tolist()


def test_l1_text_is_placed_in_the_tcdm_and_only_it_is_executable(l1_elf):
    prog = Program(l1_elf)
    tcdm = [s for s in prog.segments if 0x10000000 <= s.vaddr < 0x10200000]
    code = [s for s in tcdm if s.executable]
    assert len(code) == 1 and code[0].vaddr <= prog.symbol("l1_sum_squares").addr < code[0].vaddr + code[0].memsz
    data = prog.symbol("tcdm_word").addr       # PI_L1 data beside it stays data
    assert not any(s.executable and s.vaddr <= data < s.vaddr + s.memsz for s in prog.segments)


def test_code_in_the_tcdm_runs_on_every_core(l1_elf):
    """An L1 function called from every core, calling back into L2 (the program used
    to hang in the loader: the code image spanned the 192 MiB between the memories)."""
    cluster, _, sums, cycles = _run(l1_elf)
    assert sums == SUMS
    assert cycles == [L1_CYCLES] * 8
    # one region per executable segment: nothing decoded between them
    assert [base for base, _, _ in cluster.code.regions] == [0x10000000, 0x1C000000]
    assert cluster.code.halfwords < 64 * 1024


def test_code_in_the_tcdm_in_the_profile(l1_elf):
    from iss.trace.profile import build_profile
    cluster, res, _, _ = _run(l1_elf)
    prof = build_profile(cluster.program, cluster.profile_data(), clock_mhz=cluster.config.cluster.clock_mhz)
    funcs = {f["name"]: f for f in prof["functions"]}
    # 8 cores: what the function measured (from its first csrr on), and after the
    # second csrr: csrr 4, sub 1, ret 2
    assert funcs["l1_branch_taken"]["cycles"] == 8 * (L1_CYCLES[0] + 4 + 1 + 2)
    assert funcs["l1_branch_taken"]["instructions"] == 8 * (2 + 2 * N + 3)
    # called 10 + core times by each core, from the TCDM
    calls = sum(10 + core for core in range(8))
    assert funcs["l1_sum_squares"]["cycles"] > 0
    assert funcs["l2_square"]["instructions"] > 0 and funcs["l2_square"]["instructions"] % calls == 0


# -- the tables code runs from ----------------------------------------------------------
def _random_code(seed: int, n: int):
    """Halfwords mixing every encoding of the decode table (its match bits with
    random operand bits) and random noise; the last one may start a cut-off
    32-bit instruction."""
    import numpy as np

    from iss.isa.table import ROWS
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        if rng.random() < 0.7:
            r = ROWS[rng.integers(len(ROWS))]
            w = (int(rng.integers(0, 1 << 32)) & ~r.mask) | r.match
            out += [w & 0xFFFF, w >> 16] if r.length == 4 else [w & 0xFFFF]
        else:
            out.append(int(rng.integers(0, 1 << 16)))
    out = out[:n]
    out[-1] |= 3
    return np.array(out, dtype=np.uint16)


@pytest.mark.parametrize("seed", range(3))
def test_predecode_is_decode_at_every_halfword(seed):
    """The vectorised predecode against decode(), one word at a time."""
    from iss.isa import decode, predecode
    half = _random_code(seed, 6000)
    tab = predecode(half.tobytes(), 0x1C000000)
    for i in range(len(half)):
        word = int(half[i]) | (int(half[i + 1]) << 16 if i + 1 < len(half) else 0)
        insn = decode(word) if (word & 3 != 3 or i + 1 < len(half)) else None
        e = tab[i]
        assert int(e["len"]) == (4 if half[i] & 3 == 3 else 2)
        if insn is None:
            assert int(e["op"]) == 0, i
        else:
            assert (int(e["op"]), int(e["rd"]), int(e["rs1"]), int(e["rs2"]), int(e["rs3"]), int(e["cycles"]),
                    int(e["imm"]), int(e["imm2"])) == (insn.op, insn.rd, insn.rs1, insn.rs2, insn.rs3,
                                                       insn.cycles, insn.imm, insn.imm2), (i, insn)


@pytest.mark.parametrize("seed", range(3))
def test_linear_starts_walk_the_code(seed):
    """Instruction starts from the first halfword on: a 32-bit encoding (low bits
    11) takes two halfwords, any other one."""
    from iss.isa import linear_starts
    half = _random_code(seed, 6000)
    want, i = set(), 0
    while i < len(half):
        want.add(i)
        i += 2 if half[i] & 3 == 3 else 1
    assert set(linear_starts(half).nonzero()[0].tolist()) == want
