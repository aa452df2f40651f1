"""Bad inputs of every kind end in one clear line and a
non-zero exit, never a traceback, an out-of-memory kill or a silent default."""
from __future__ import annotations

import builtins
import io
import os
import struct
import tracemalloc

import pytest

from iss import Cluster
from iss.cli import main
from iss.config import Config
from iss.errors import ConfigError
from test_errors import error_line as _error_line, run_cli


def error_line(err: str) -> str:
    line = _error_line(err)
    assert line.startswith("iss: error: "), err
    return line


# -- configuration files and values ------------------------------------------------------
@pytest.mark.parametrize("text, words", [
    ("[cluster]\nclock_mhz = nan\n", "cluster.clock_mhz must be a finite number, got nan"),
    ("[cluster]\nclock_mhz = inf\n", "cluster.clock_mhz must be a finite number, got inf"),
    ("[cluster]\nclock_mhz = -inf\n", "cluster.clock_mhz must be a finite number"),
    ("[cluster]\nclock_mhz = 1e9\n", "cluster.clock_mhz must be at most 100000"),
    ("[ima]\neval_ns = nan\n", "ima.eval_ns must be a finite number"),
    ("[energy]\ncore_alu_pj = -1.0\n", "energy.core_alu_pj must be >= 0"),
    ("[memory]\ntcdm_banks = 1073741824\n", "memory.tcdm_banks must be at most 1024"),
    ("[memory]\nl2_latency = -5\n", "memory.l2_latency must be >= 0, got -5"),
    ("[memory]\nperiph_latency = -1\n", "memory.periph_latency must be >= 0"),
    ("[event_unit]\nbarrier_latency = -2\n", "event_unit.barrier_latency must be >= 0"),
    ("[memory]\nl2_latency = 4294967297\n", "memory.l2_latency must be 0-1000000 cycles"),
    ("[dma]\nqueue_depth = 4294967296\n", "dma.queue_depth must be at most 4294967295"),
    ("[dma]\nlatency = 100000000\n", "dma.latency must be 0-1000000 cycles"),
    ("[cluster]\ncluster_id = 999\n", "cluster.cluster_id must be 0-31"),
    ("[cluster]\ncluster_id = -1\n", "cluster.cluster_id must be 0-31"),
    ("[scheduler]\nmax_cycles = -3\n", "scheduler.max_cycles must be >= 0"),
    ("[scheduler]\nquantum = 8000000\n[timing]\ntcdm_window = 33554432\n", "timing.tcdm_window must be"),
    ("[memory]\ntcdm_banks = 1024\n[timing]\ntcdm_window = 16777216\n", "MiB of bank reservations"),
])
def test_bad_config_values(fw, tmp_path, capsys, text, words):
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    code, _, err = run_cli(capsys, "run", fw("spine_hello"), "--config", cfg)
    line = error_line(err)
    assert code == 2 and f"{cfg}: " in line and words in line


def test_bad_config_values_from_python():
    with pytest.raises(ConfigError, match="cluster.clock_mhz must be a finite number"):
        Config.load(cluster={"clock_mhz": float("nan")})
    with pytest.raises(ConfigError, match="ima.sigma_read must be a finite number"):
        Config.load(ima={"sigma_read": float("inf")})


def test_config_cluster_id_at_the_limit_runs(fw, tmp_path, capsys):
    """31 is the last cluster id whose stdout slot exists: its output arrives."""
    cfg = tmp_path / "c.toml"
    cfg.write_text("[cluster]\ncluster_id = 31\ncores = 2\n")
    code, out, err = run_cli(capsys, "run", fw("spine_hello", cores=2), "--config", cfg)
    assert code == 0 and len(out.splitlines()) == 2, err


def test_config_file_not_utf8(fw, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_bytes(b"[cluster]\ncores = 2\n# caf\xe9 latin-1\n")
    code, _, err = run_cli(capsys, "run", fw("spine_hello"), "--config", cfg)
    assert code == 2 and "not UTF-8 text (byte 0xe9" in error_line(err)


def test_config_file_is_a_directory(fw, tmp_path, capsys):
    code, _, err = run_cli(capsys, "run", fw("spine_hello"), "--config", tmp_path)
    assert code == 2 and f"config file {tmp_path}: is a directory" in error_line(err)


def deny_open(monkeypatch, path):
    """Opening `path` fails as it does for a file without read permission (the
    tests may run as root, who reads any file)."""
    real = io.open

    def fake(file, *a, **k):
        if isinstance(file, (str, os.PathLike)) and os.path.abspath(file) == os.path.abspath(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real(file, *a, **k)
    monkeypatch.setattr(io, "open", fake)
    monkeypatch.setattr(builtins, "open", fake)


def test_config_file_unreadable(fw, tmp_path, capsys, monkeypatch):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[cluster]\ncores = 2\n")
    elf = fw("spine_hello")
    deny_open(monkeypatch, cfg)
    code, _, err = run_cli(capsys, "run", elf, "--config", cfg)
    assert code == 2 and f"config file {cfg}: cannot read (Permission denied)" in error_line(err)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files without read permission")
def test_config_file_unreadable_for_real(fw, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[cluster]\ncores = 2\n")
    cfg.chmod(0)
    code, _, err = run_cli(capsys, "run", fw("spine_hello"), "--config", cfg)
    assert code == 2 and "Permission denied" in error_line(err)


def test_negative_max_cycles(fw, capsys):
    code, _, err = run_cli(capsys, "run", fw("spine_hello"), "--max-cycles", -5)
    assert code == 2 and error_line(err) == "iss: error: --max-cycles must be >= 0 (0: no limit), got -5"
    with pytest.raises(ConfigError, match="max_cycles must be >= 0"):
        Cluster(fw("spine_hello")).run(max_cycles=-1)


# -- ELF files ------------------------------------------------------------------------------
def test_elf_unreadable(fw, capsys, monkeypatch):
    elf = fw("spine_hello")
    deny_open(monkeypatch, elf)
    code, _, err = run_cli(capsys, "run", elf)
    assert code == 2 and error_line(err) == f"iss: error: {elf}: cannot read (Permission denied)"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files without read permission")
def test_elf_unreadable_for_real(fw, tmp_path, capsys):
    p = tmp_path / "app.elf"
    p.write_bytes(fw("spine_hello").read_bytes())
    p.chmod(0)
    code, _, err = run_cli(capsys, "info", p)
    assert code == 2 and "Permission denied" in error_line(err)


def peak_python_bytes(fn):
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_huge_non_elf_is_refused_without_reading_it(tmp_path, capsys):
    """A 256 MiB file that is not an ELF (sparse: costs no disk) is refused
    after its first bytes, not read whole into memory first."""
    p = tmp_path / "big.bin"
    with open(p, "wb") as f:
        f.write(b"not an ELF")
        f.truncate(256 << 20)
    peak = peak_python_bytes(lambda: run_cli(capsys, "info", p))
    assert peak < 4 << 20
    code, _, err = run_cli(capsys, "info", p)
    assert code == 2 and error_line(err) == f"iss: error: {p}: not an ELF file"


def test_large_elf_is_read_in_parts(fw, tmp_path, capsys):
    """An ELF with 256 MiB of trailing bytes nothing refers to loads reading
    only its headers, segments and symbols."""
    p = tmp_path / "padded.elf"
    p.write_bytes(fw("spine_hello").read_bytes())
    with open(p, "r+b") as f:
        f.truncate(256 << 20)
    peak = peak_python_bytes(lambda: run_cli(capsys, "info", p))
    assert peak < 32 << 20
    code, out, _ = run_cli(capsys, "info", p)
    assert code == 0 and "main" in out


def elf_layout(data: bytes):
    """(e_phoff, e_phnum, e_shoff, e_shnum, e_shstrndx) of an ELF32 file."""
    phoff, shoff = struct.unpack_from("<II", data, 28)
    phnum, _, shnum, shstrndx = struct.unpack_from("<HHHH", data, 44)
    return phoff, phnum, shoff, shnum, shstrndx


def section_header_offset(data: bytes, name: str) -> int:
    phoff, phnum, shoff, shnum, shstrndx = elf_layout(data)
    strtab = struct.unpack_from("<I", data, shoff + 40 * shstrndx + 16)[0]
    for i in range(shnum):
        off = shoff + 40 * i
        n = struct.unpack_from("<I", data, off)[0]
        if data[strtab + n:data.index(b"\0", strtab + n)].decode() == name:
            return off
    raise AssertionError(name)


def test_symtab_of_the_wrong_type(fw, tmp_path, capsys):
    data = bytearray(fw("spine_hello").read_bytes())
    struct.pack_into("<I", data, section_header_offset(data, ".symtab") + 4, 3)   # sh_type = SHT_STRTAB
    p = tmp_path / "m.elf"
    p.write_bytes(data)
    code, _, err = run_cli(capsys, "run", p)
    assert code == 2 and "corrupt ELF (.symtab is a section of type SHT_STRTAB, not a symbol table)" in \
        error_line(err)


def first_load_header(data: bytes) -> int:
    phoff, phnum = elf_layout(data)[:2]
    return next(phoff + 32 * i for i in range(phnum) if struct.unpack_from("<I", data, phoff + 32 * i)[0] == 1)


def test_segment_with_more_file_bytes_than_memory(fw, tmp_path, capsys):
    data = bytearray(fw("spine_hello").read_bytes())
    ph = first_load_header(data)
    filesz = struct.unpack_from("<I", data, ph + 16)[0]
    struct.pack_into("<I", data, ph + 20, filesz - 100)                        # p_memsz < p_filesz
    p = tmp_path / "m.elf"
    p.write_bytes(data)
    code, _, err = run_cli(capsys, "run", p)
    assert code == 2 and f"has {filesz} bytes in the file but {filesz - 100} in memory" in error_line(err)


def test_segment_larger_than_any_memory_is_refused_before_reading(fw, tmp_path, capsys):
    data = bytearray(fw("spine_hello").read_bytes())
    ph = first_load_header(data)
    struct.pack_into("<II", data, ph + 16, 0x7FFF0000, 0x7FFF0000)             # p_filesz, p_memsz: 2 GiB
    p = tmp_path / "m.elf"
    p.write_bytes(data)
    code, _, err = run_cli(capsys, "run", p)
    assert code == 2 and "is 2147418112 bytes, larger than any memory of the cluster" in error_line(err)


# -- output files of views --------------------------------------------------------------------
@pytest.fixture
def app(fw, tmp_path):
    p = tmp_path / "app.elf"
    p.write_bytes(fw("spine_hello").read_bytes())
    return p


def test_trace_onto_the_firmware_is_refused(app, capsys, monkeypatch):
    before = app.read_bytes()
    code, _, err = run_cli(capsys, "run", app, "--trace", f"insn:{app}")
    assert code == 2 and error_line(err) == f"iss: error: --trace {app} is the firmware: refusing to overwrite it"
    monkeypatch.chdir(app.parent)                  # the same file by a relative name
    code, _, err = run_cli(capsys, "run", "app.elf", "--vcd", "./app.elf")
    assert code == 2 and "--vcd app.elf is the firmware" in error_line(err)
    assert app.read_bytes() == before


def test_default_trace_name_equal_to_the_firmware_is_refused(app, tmp_path, capsys, monkeypatch):
    """`--trace insn` writes ELF-STEM.trace: for firmware ./x.trace, itself."""
    elf = tmp_path / "x.trace"
    elf.write_bytes(app.read_bytes())
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "run", "x.trace", "--trace", "insn")
    assert code == 2 and "is the firmware: refusing to overwrite it" in error_line(err)
    assert elf.read_bytes() == app.read_bytes()


def test_view_onto_the_config_file_is_refused(app, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[cluster]\ncores = 2\n")
    code, _, err = run_cli(capsys, "run", app, "--config", cfg, "--profile-json", cfg)
    assert code == 2 and f"--profile-json {cfg} is the configuration file" in error_line(err)
    assert cfg.read_text() == "[cluster]\ncores = 2\n"


def test_two_views_onto_one_file_are_refused(app, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "run", app, "--perfetto", out, "--vcd", out)
    assert code == 2 and error_line(err) == f"iss: error: --perfetto and --vcd both write {out}: give each its own file"
    assert not out.exists()


def test_view_in_a_missing_directory(app, tmp_path, capsys):
    out = tmp_path / "nodir" / "p.json"
    code, _, err = run_cli(capsys, "run", app, "--perfetto", out)
    assert code == 2 and error_line(err) == f"iss: error: --perfetto {out}: directory {out.parent} does not exist"
    code, _, err = run_cli(capsys, "run", app, "--trace", f"insn:{out}")
    assert code == 2 and "does not exist" in error_line(err)


def test_view_that_is_a_directory(app, tmp_path, capsys):
    for flag in ("--vcd", "--profile-json", "--plot"):
        code, _, err = run_cli(capsys, "run", app, flag, tmp_path)
        assert code == 2 and error_line(err) == f"iss: error: {flag} {tmp_path}: is a directory"


def test_view_under_a_file(app, capsys):
    code, _, err = run_cli(capsys, "run", app, "--profile-json", app / "p.json")
    assert code == 2 and error_line(err) == f"iss: error: --profile-json {app / 'p.json'}: {app} is not a directory"


def test_bench_outputs_are_checked_before_the_study(tmp_path, capsys, monkeypatch):
    from iss.study import bottleneck as bn
    monkeypatch.setattr(bn, "run_shape", lambda *a, **k: pytest.fail("the study ran"))
    code, _, err = run_cli(capsys, "bench", "bottleneck", "--json", tmp_path / "no" / "r.json")
    assert code == 2 and "--json" in error_line(err) and "does not exist" in err
    code, _, err = run_cli(capsys, "bench", "bottleneck", "--plot", tmp_path)
    assert code == 2 and error_line(err) == f"iss: error: --plot {tmp_path}: is a directory"


def test_iss_trace_on_a_binary_file_names_it(app, tmp_path, capsys):
    code, _, err = run_cli(capsys, "trace", app)
    assert code == 2 and error_line(err) == f"iss: error: {app}: not an iss instruction trace (binary data, not text)"
    code, _, err = run_cli(capsys, "trace", tmp_path)
    assert code == 2 and error_line(err) == f"iss: error: {tmp_path}: is a directory"


# -- exit codes ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def exit_with(iss_build, tmp_path_factory):
    src = tmp_path_factory.mktemp("exit") / "exit_with.c"
    src.write_text("#include <pmsis.h>\nvolatile int code = 256;\n"
                   "int main(void) { if (pi_core_id() == 0) return code; return 0; }\n")
    elf = iss_build([src], name="exit_with")

    def make(code: int, tmp: pathlib.Path) -> pathlib.Path:
        from iss.elf import Program
        prog = Program(elf)
        sym = prog.symbol("code")
        seg = next(s for s in prog.segments if s.vaddr <= sym.addr < s.vaddr + len(s.data))
        data = bytearray(elf.read_bytes())
        off = data.index(seg.data) + sym.addr - seg.vaddr
        data[off:off + 4] = (code & 0xFFFFFFFF).to_bytes(4, "little")
        out = tmp / f"exit{code}.elf"
        out.write_bytes(data)
        return out
    return make


@pytest.mark.parametrize("firmware_code, rc", [(0, 0), (255, 255), (256, 1), (512, 1), (-1, 1)])
def test_exit_code_outside_a_process_status(exit_with, tmp_path, capsys, firmware_code, rc):
    code, _, err = run_cli(capsys, "run", exit_with(firmware_code, tmp_path))
    assert code == rc, err
    if firmware_code > 255 or firmware_code < 0:
        assert f"exit code {firmware_code} is outside 0-255: iss exits with 1" in err


# -- iss bench bottleneck --shape ---------------------------------------------------------------------
def test_oversized_shape_is_refused_before_the_golden_model(capsys, monkeypatch):
    """1000x1000x320 t6 once built a 14 GiB golden model before finding out it
    cannot fit the TCDM; the check now comes first."""
    from iss.nn import mobilenetv2 as mnv2
    from iss.study import bottleneck as bn
    for name in ("make_bottleneck", "random_input", "bottleneck_forward"):
        monkeypatch.setattr(mnv2, name, lambda *a, **k: pytest.fail("the golden model was built"))
    monkeypatch.setattr(bn, "build", lambda *a, **k: pytest.fail("firmware was built"))
    code, _, err = run_cli(capsys, "bench", "bottleneck", "--shape", "1000,1000,320,6,320,1")
    line = error_line(err)
    assert code == 2 and "1000x1000x320 t6 -> 1000x1000x320 s1: its activations alone take 4687500 KiB" in line
    assert "512 KiB TCDM" in line


@pytest.mark.parametrize("shape, name", [("0,28,32,6,32,1", "H"), ("28,28,32,0,32,1", "T"),
                                         ("28,28,32,6,32,0", "STRIDE"), ("28,-2,32,6,32,1", "W")])
def test_degenerate_shape(capsys, shape, name):
    code, _, err = run_cli(capsys, "bench", "bottleneck", "--shape", shape)
    assert code == 2 and f"shape {shape}: {name} must be >= 1" in error_line(err)


def test_activation_bytes_by_hand():
    """28x28x32 t6 -> 32: input 25088 + expand 150528 + dw 150528 + project and
    output 2 x 25088 bytes; stride 2 halves the spatial size after the expand."""
    from iss.nn.mobilenetv2 import BottleneckShape
    from iss.study.bottleneck import activation_bytes
    assert activation_bytes(BottleneckShape(28, 28, 32, 6, 32, 1)) == 25088 + 150528 + 150528 + 2 * 25088
    assert activation_bytes(BottleneckShape(8, 8, 16, 1, 8, 2)) == 8 * 8 * 16 + 4 * 4 * (16 + 16)


# -- Ctrl-C during a traced run ----------------------------------------------------------------------
def interrupt_after(cluster, slices: int):
    """Raise KeyboardInterrupt (what SIGINT does) between two slices of the run."""
    seen = []

    def progress(now):
        seen.append(now)
        if len(seen) == slices:
            raise KeyboardInterrupt
    cluster.scheduler.progress = progress


def trace_lines(path):
    return [ln for ln in path.read_text().splitlines() if not ln.startswith("#")]


def interrupted_traced_run(fw, tmp_path):
    """spine_reduce traced into tmp_path/t.txt, interrupted after 3 slices:
    (cluster, session, trace path, what the session said)."""
    from iss.trace import Session, ViewOptions
    said = []
    c = Cluster(fw("spine_reduce"))
    interrupt_after(c, 3)
    trace = tmp_path / "t.txt"
    s = Session(c, ViewOptions(trace=trace, log=said.append))
    with pytest.raises(KeyboardInterrupt):
        s.run()
    return c, s, trace, said


def test_interrupted_run_says_it_writes_the_trace_and_writes_it(fw, tmp_path):
    c, s, trace, said = interrupted_traced_run(fw, tmp_path)
    n = sum(h.instret for h in c.harts)
    assert len(said) == 1 and said[0].startswith(f"[iss] interrupted: writing the instruction trace {trace} (")
    assert "Ctrl-C again stops it and keeps what is written" in said[0]
    lines = trace_lines(trace)
    assert n > 1000 and n <= len(lines) <= n + 16     # + retried and unretired attempts
    assert not list(tmp_path.glob(".iss-trace-*"))


def test_second_interrupt_keeps_the_partial_trace_and_the_records(fw, tmp_path, monkeypatch):
    from iss.trace import insn as insn_text
    from iss.trace.native import read_insn
    real = insn_text.format_records

    def format_then_interrupt(recs, text, out):
        real(recs[:100], text, out)
        raise KeyboardInterrupt
    monkeypatch.setattr(insn_text, "format_records", format_then_interrupt)
    c, s, trace, said = interrupted_traced_run(fw, tmp_path)
    text = trace.read_text().splitlines()
    assert len(trace_lines(trace)) == 100
    assert text[-1].startswith("# interrupted while writing: the trace stops here (")
    kept = tmp_path / "t.txt.records"
    assert s.kept_records == kept and kept.is_dir()
    records = sum(len(read_insn(p)) for p in kept.glob("insn*.bin"))
    assert records >= sum(h.instret for h in c.harts) > 1000
    assert said[-1].startswith(f"[iss] interrupted again: {trace} is incomplete; the binary records of the whole "
                               f"run are kept in {kept}/")
    assert not list(tmp_path.glob(".iss-trace-*"))


def test_cli_interrupted_run(fw, tmp_path, capsys, monkeypatch):
    """The CLI says what it writes, then `iss: interrupted`, rc 130."""
    from iss import scheduler
    real_run = scheduler.Scheduler.run

    def run_then_interrupt(self, max_cycles):
        interrupt_after(self.cluster, 2)
        return real_run(self, max_cycles)
    monkeypatch.setattr(scheduler.Scheduler, "run", run_then_interrupt)
    trace = tmp_path / "t.txt"
    code, _, err = run_cli(capsys, "run", fw("spine_reduce"), "--trace", f"insn:{trace}")
    lines = err.strip().splitlines()
    assert code == 130 and lines[-1] == "iss: interrupted" and "Traceback" not in err
    assert lines[-2].startswith(f"[iss] interrupted: writing the instruction trace {trace} (")
    assert trace_lines(trace)


def test_records_of_killed_runs_are_removed(fw, tmp_path):
    """A run killed outright leaves `.iss-trace-HOST-PID-*` beside its trace; the
    next run there removes it when that process is gone, not a live run's."""
    import socket
    import subprocess
    import sys
    from iss.trace import Session, ViewOptions
    host = socket.gethostname()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / f".iss-trace-{host}-{dead}-abc123"
    live = tmp_path / f".iss-trace-{host}-{os.getppid()}-abc123"
    other_host = tmp_path / f".iss-trace-elsewhere.example-{dead}-abc123"
    for d in (stale, live, other_host):
        d.mkdir()
        (d / "insn0.bin").write_bytes(b"\0" * 4096)
    Session(Cluster(fw("spine_hello")), ViewOptions(trace=tmp_path / "t.txt")).run()
    assert not stale.exists() and live.exists() and other_host.exists()
    assert (tmp_path / "t.txt").exists()


# -- faults at run time: one line naming hart, pc, symbol and line -----------------------------------
@pytest.fixture(scope="module")
def bad_inputs(fw, tmp_path_factory):
    """bad_inputs.elf with `mode` and `where` patched into its .data image."""
    from iss.elf import Program
    src = fw("bad_inputs")
    prog = Program(src)
    data = src.read_bytes()
    offsets = {}
    for name in ("mode", "where"):
        sym = prog.symbol(name)
        seg = next(s for s in prog.segments if s.vaddr <= sym.addr < s.vaddr + len(s.data))
        offsets[name] = data.index(seg.data) + sym.addr - seg.vaddr
    out_dir = tmp_path_factory.mktemp("bad_inputs")

    def make(mode: int, where: int = 1) -> pathlib.Path:
        d = bytearray(data)
        for name, v in (("mode", mode), ("where", where)):
            d[offsets[name]:offsets[name] + 4] = v.to_bytes(4, "little")
        p = out_dir / f"bad{mode}-{where:x}.elf"
        p.write_bytes(d)
        return p
    return make


@pytest.mark.parametrize("mode, function, message", [
    (1, "do_ebreak", "breakpoint (ebreak)"),
    (2, "do_c_ebreak", "breakpoint (ebreak)"),
    (3, "do_ecall", "ecall"),
])
def test_ebreak_and_ecall_without_a_handler(bad_inputs, capsys, mode, function, message):
    code, _, err = run_cli(capsys, "run", bad_inputs(mode))
    line = error_line(err)
    assert code == 3 and "emulator error" not in line and "UC_ERR" not in line
    assert line.startswith("iss: error: hart 0 pc 0x1c") and f" {function}+0x0 (bad_inputs.c:" in line
    tail = line.split("): ", 1)[1]
    assert message in tail and "trap handler" in tail


@pytest.mark.parametrize("target, what", [(0x10200000, "cluster controller"), (0x1A100000, "unmapped")])
def test_jump_into_peripherals(bad_inputs, capsys, target, what):
    code, _, err = run_cli(capsys, "run", bad_inputs(4, target))
    line = error_line(err)
    assert code == 3 and "UC_ERR" not in line
    assert line == f"iss: error: hart 0 pc 0x{target:08x} ??: jump to 0x{target:08x} ({what}), where there is no code"


def test_far_address_is_not_named_after_a_distant_symbol(bad_inputs, capsys):
    """0x1c3ffff0 is near the end of L2, megabytes past the last symbol (a
    size-0 linker symbol such as __global_pointer$ used to claim it)."""
    from iss.elf import Program
    elf = bad_inputs(4, 0x1C3FFFF0)
    assert Program(elf).symbolize(0x1C3FFFF0) == "??"
    assert Program(elf).symbolize(0x10200000) == "??"
    code, _, err = run_cli(capsys, "run", elf)
    assert error_line(err) == "iss: error: hart 0 pc 0x1c3ffff0 ??: illegal instruction 0x00000000"


def test_size_zero_label_still_names_its_code(fw):
    """crt0's labels have no size: the code after them keeps their name."""
    from iss.elf import Program
    prog = Program(fw("bad_inputs"))
    start = prog.symbol("_start")
    assert prog.symbolize(start.addr + 4).startswith("_start+0x4")


def test_mmio_read_error_is_one_line(bad_inputs, capsys):
    """A load from a hole in a peripheral window: no "Exception ignored ...
    TypeError" from the read callback before the error (Python prints that on
    the process's stderr, which pytest's own hook would hide: a real process)."""
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "iss", "run", str(bad_inputs(5, 0x1A100000))], capture_output=True,
                       text=True)
    code, line = r.returncode, error_line(r.stderr)
    assert code == 3 and "do_load+0x" in line and "bad_inputs.c:" in line
    assert line.endswith("load from unmapped address 0x1a100000 (4 bytes, no peripheral there)")


@pytest.mark.parametrize("mode, address, kind, memory, end", [
    (5, 0x1C3FFFFE, "load from", "L2", 0x1C400000),
    (6, 0x1C3FFFFE, "store to", "L2", 0x1C400000),
    (5, 0x1007FFFD, "load from", "TCDM", 0x10080000),
    (6, 0x1007FFFF, "store to", "TCDM", 0x10080000),
])
def test_misaligned_access_across_the_end_of_memory(bad_inputs, capsys, mode, address, kind, memory, end):
    code, _, err = run_cli(capsys, "run", bad_inputs(mode, address))
    line = error_line(err)
    function = "do_load" if mode == 5 else "do_store"
    assert code == 3 and f" {function}+0x" in line and "bad_inputs.c:" in line
    assert line.endswith(f"{kind} 0x{address:08x} (4 bytes) crosses the end of {memory} at 0x{end:08x}")
