"""Issue 11 items 8-11: bad inputs of every kind end in one clear line and a
non-zero exit, never a traceback, an out-of-memory kill or a silent default."""
from __future__ import annotations

import os
import pathlib

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
    real = pathlib.Path.open

    def fake(self, *a, **k):
        if os.path.abspath(self) == os.path.abspath(path):
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *a, **k)
    monkeypatch.setattr(pathlib.Path, "open", fake)
    real_os_open = os.open

    def fake_os_open(p, *a, **k):
        if os.path.abspath(p) == os.path.abspath(path):
            raise PermissionError(13, "Permission denied", str(p))
        return real_os_open(p, *a, **k)
    monkeypatch.setattr(os, "open", fake_os_open)


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
