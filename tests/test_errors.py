"""Every bad input ends in one clear line and a non-zero exit, no traceback."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from iss.cli import main


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "Exception ignored" not in err
    return lines[0]


def test_not_an_elf(tmp_path, capsys):
    p = tmp_path / "app.elf"
    p.write_text("this is not firmware\n")
    code, _, err = run_cli(capsys, "run", p)
    assert code != 0
    assert error_line(err) == f"iss: error: {p}: not an ELF file"


def test_truncated_elf(fw, tmp_path, capsys):
    data = fw("spine_hello").read_bytes()
    for cut in (40, 200, len(data) // 3):
        p = tmp_path / f"cut{cut}.elf"
        p.write_bytes(data[:cut])
        code, _, err = run_cli(capsys, "run", p)
        assert code != 0
        assert "truncated" in error_line(err)


def test_64bit_elf(tmp_path, capsys):
    host = shutil.which("true") or sys.executable
    code, _, err = run_cli(capsys, "run", host)
    assert code != 0
    assert "64-bit ELF" in error_line(err)


def test_non_riscv_elf(fw, tmp_path, capsys):
    data = bytearray(fw("spine_hello").read_bytes())
    data[18:20] = (40).to_bytes(2, "little")  # e_machine = EM_ARM
    p = tmp_path / "arm.elf"
    p.write_bytes(data)
    code, _, err = run_cli(capsys, "run", p)
    assert code != 0
    assert "not RISC-V" in error_line(err) and "ARM" in err


def test_missing_file(tmp_path, capsys):
    code, _, err = run_cli(capsys, "run", tmp_path / "nope.elf")
    assert code != 0 and "no such file" in error_line(err)


def faults_elf(fw, tmp_path, mode):
    """spine_faults.elf with `mode` patched into its .data image."""
    from iss.elf import Program
    src = fw("spine_faults")
    prog = Program(src)
    sym = prog.symbol("mode")
    data = bytearray(src.read_bytes())
    # Find the file offset of `mode` through its segment.
    from elftools.elf.elffile import ELFFile
    with open(src, "rb") as f:
        for seg in ELFFile(f).iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_vaddr"] <= sym.addr < seg["p_vaddr"] + seg["p_filesz"]:
                off = seg["p_offset"] + sym.addr - seg["p_vaddr"]
                data[off:off + 4] = mode.to_bytes(4, "little")
                break
        else:
            raise AssertionError("mode is not in a file-backed segment")
    p = tmp_path / f"faults{mode}.elf"
    p.write_bytes(data)
    return p


def test_illegal_instruction(fw, tmp_path, capsys):
    code, _, err = run_cli(capsys, "run", faults_elf(fw, tmp_path, 1))
    line = error_line(err)
    assert code != 0
    assert "hart 0 pc 0x1c" in line and "do_illegal+0x" in line and "spine_faults.c:" in line
    assert "illegal instruction 0x00000000" in line


@pytest.mark.parametrize("mode,fn,what,source", [
    (5, "do_ebreak", "breakpoint (ebreak) with no trap handler installed", "spine_faults.c:"),
    (6, "do_ecall", "unexpected ecall (no trap handler installed)", "spine_faults.c:"),
    # Taken right after the store of eu_sw_event_send (inlined): the line table
    # gives the next instruction to eu.h.
    (7, "do_unhandled_irq", "interrupt 3 with no handler registered", "eu.h:"),
])
def test_unhandled_trap_is_one_clear_line(fw, tmp_path, capsys, mode, fn, what, source):
    """The runtime's default trap vector reports a trap no handler takes: the
    error names the core, the trapping PC, its function and source line."""
    code, _, err = run_cli(capsys, "run", faults_elf(fw, tmp_path, mode))
    line = error_line(err)
    assert code != 0
    assert "hart 0 pc 0x1c" in line and f"{fn}+0x" in line and source in line
    assert what in line


def test_load_outside_memory(fw, tmp_path, capsys):
    code, _, err = run_cli(capsys, "run", faults_elf(fw, tmp_path, 2))
    line = error_line(err)
    assert code != 0
    assert "hart 0 pc 0x1c" in line and "do_bad_load+0x" in line and "spine_faults.c:" in line
    assert "load from unmapped address 0x30000000" in line


def test_store_outside_memory(fw, tmp_path, capsys):
    code, _, err = run_cli(capsys, "run", faults_elf(fw, tmp_path, 3))
    line = error_line(err)
    assert "do_bad_store+0x" in line and "store to unmapped address 0x0badf00c" in line


def test_cycle_limit(fw, tmp_path, capsys):
    code, _, err = run_cli(capsys, "run", faults_elf(fw, tmp_path, 4), "--max-cycles", 20000)
    line = error_line(err)
    assert code != 0
    assert "cycle limit reached (20000 cycles" in line and "do_spin+0x" in line


def test_deadlock_cli(fw, capsys):
    code, _, err = run_cli(capsys, "run", fw("spine_deadlock"))
    line = error_line(err)
    assert code != 0 and line.startswith("iss: error: deadlock")


def test_exit_code_and_output(fw, capsys):
    code, out, _ = run_cli(capsys, "run", fw("spine_mutex"))  # no lock: exits 1
    assert code == 1 and out.startswith("counter ")


def test_bad_config_file(fw, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[cluster]\ncorez = 4\n")
    code, _, err = run_cli(capsys, "run", fw("spine_hello"), "--config", cfg)
    assert code != 0 and "unknown field cluster.corez" in error_line(err)


def test_config_file_sets_cores(fw, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[cluster]\ncores = 2\n")
    code, out, _ = run_cli(capsys, "run", fw("spine_hello", cores=2), "--config", cfg)
    assert code == 0 and sorted(out.splitlines()) == ["hello from core 0 of 2", "hello from core 1 of 2"]


def test_compile_error_is_reported(tmp_path, capsys):
    src = tmp_path / "bad.c"
    src.write_text("int main(void) { return undefined_thing; }\n")
    code, _, err = run_cli(capsys, "cc", src, "-o", tmp_path / "bad.elf")
    assert code != 0
    assert "undefined_thing" in err and err.strip().splitlines()[-1].startswith("iss: error: compiling bad.c")


def test_cli_entry_point_runs():
    r = subprocess.run([sys.executable, "-m", "iss", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "iss cc app.c" in r.stdout


def test_the_last_instructions_executed_lead_to_the_fault(fw, tmp_path):
    """The record of the last blocks each hart ran gives the path to a crash:
    main's dispatch on `mode`, the call, and the faulting load last."""
    from iss import Cluster
    from iss.errors import MemoryFault
    cluster = Cluster(faults_elf(fw, tmp_path, 2))
    with pytest.raises(MemoryFault):
        cluster.run()
    hart = cluster.harts[0]
    recent = hart.recent_instructions(12)
    symbols = [cluster.program.symbolize(pc).split("+")[0] for pc, _ in recent]
    assert recent[-1][0] == hart.pc and symbols[-1] == "do_bad_load"
    assert "main" in symbols and symbols.index("main") < symbols.index("do_bad_load")
    text = hart.format_recent(12).splitlines()
    assert len(text) == len(recent) and "lw" in text[-1] and "do_bad_load+0x" in text[-1]


def test_output_cut_short_by_the_reader_is_not_an_error(fw, tmp_path):
    """`iss trace big.trace | head -2` ends quietly, without a traceback (the
    trace is megabytes: far more than the pipe holds, so the pipe does break)."""
    trace = tmp_path / "reduce.trace"
    assert main(["run", str(fw("spine_reduce")), "--trace", f"insn:{trace}"]) == 0
    assert trace.stat().st_size > 1 << 20
    r = subprocess.run(f"{sys.executable} -m iss trace {trace} | head -2", shell=True, capture_output=True, text=True)
    assert len(r.stdout.splitlines()) == 2
    assert "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr
