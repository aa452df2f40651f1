"""Random instruction words executed (tests/fuzz_exec.py, seeded): no traceback,
no hang past the cycle limit, invalid encodings stop with an illegal
instruction, views on and off give identical timing, chains on and off identical
results and timing. A few cases by default;
many more under `make test-slow`."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def elf(iss_build):
    src = HERE / "firmware_src"
    return iss_build([src / "fuzz_exec.c", src / "fuzz_exec.S"], name="fuzz_exec")


def fuzz(elf, seed, count, tmp_path):
    # a child process: a hang fails on the timeout instead of blocking the suite
    p = subprocess.run([sys.executable, str(HERE / "fuzz_exec.py"), str(elf), str(seed), str(count), str(tmp_path)],
                       capture_output=True, text=True, timeout=60 + 20 * count)
    assert p.returncode == 0, p.stderr[-3000:]
    cases = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(cases) == count
    bad = [c for c in cases if c["problems"]]
    assert not bad, "\n".join(f"seed {c['seed']} case {c['case']} code {c['code']}: {c['problems']}" for c in bad)
    return cases


def test_random_words_execute_cleanly(elf, tmp_path):
    fuzz(elf, 1, 3, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(2, 12))
def test_random_words_execute_cleanly_many(elf, seed, tmp_path):
    fuzz(elf, seed, 40, tmp_path)
