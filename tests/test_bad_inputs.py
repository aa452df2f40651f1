"""Issue 11 items 8-11: bad inputs of every kind end in one clear line and a
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
    ("[ima]\neval_ns = nan\n", "ima.eval_ns must be a finite number"),
    ("[energy]\ncore_alu_pj = -1.0\n", "energy.core_alu_pj must be >= 0"),
    ("[memory]\ntcdm_banks = 1073741824\n", "memory.tcdm_banks must be a power of two up to 1024"),
    ("[memory]\nl2_latency = -5\n", "memory.l2_latency must be >= 0, got -5"),
    ("[memory]\nperiph_latency = -1\n", "memory.periph_latency must be >= 0"),
    ("[event_unit]\nbarrier_latency = -2\n", "event_unit.barrier_latency must be >= 0"),
    ("[memory]\nl2_latency = 4294967297\n", "memory.l2_latency must be at most"),
    ("[dma]\nlatency = 100000000\n", "dma.latency must be 0-1000000 cycles"),
    ("[cluster]\ncluster_id = 999\n", "cluster.cluster_id must be 0-31"),
    ("[cluster]\ncluster_id = -1\n", "cluster.cluster_id must be >= 0"),
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
    code, out, err = run_cli(capsys, "run", fw("spine_hello"), "--config", cfg)
    assert code == 0 and len(out.splitlines()) == 2, err


def test_config_file_not_utf8(fw, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_bytes(b"[cluster]\ncores = 2\n# caf\xe9 latin-1\n")
    code, _, err = run_cli(capsys, "run", fw("spine_hello"), "--config", cfg)
    assert code == 2 and "not UTF-8 text (byte 0xe9" in error_line(err)


def test_config_file_is_a_directory(fw, tmp_path, capsys):
    code, _, err = run_cli(capsys, "run", fw("spine_hello"), "--config", tmp_path)
    assert code == 2 and f"config file {tmp_path} is a directory" in error_line(err)


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
    assert code == 2 and f"config file {cfg}: Permission denied" in error_line(err)


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
