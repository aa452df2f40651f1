"""Fuzzed inputs: random mutations of a valid ELF and random configuration values,
seeded, run through `iss run`. Each must run, or end in one `iss: error:` line
with a non-zero exit: never a traceback, a Python exception out of the CLI, or a
hang. A few cases by default; many more with `-m slow` (`make test-slow`).
Set ISS_FUZZ_SEED to explore other seeds; a failure names the seed to replay."""
from __future__ import annotations

import dataclasses
import math
import os
import random
import signal
import struct
from contextlib import contextmanager

import pytest

from iss.cli import main
from iss.config import SECTIONS, Config

BASE_SEED = int(os.environ.get("ISS_FUZZ_SEED", "0"))
FAST, SLOW = 4, 150
MAX_CYCLES = 50_000
HANG_SECONDS = 120        # far above a case's time under load: only a real hang trips it

INTERESTING_WORDS = [0, 1, 2, 3, 4, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000,
                     0xFFFFFFFF, 0xFFFFFFFE, 0x1C000000, 0x10000000, 0x1000]


def mutate_elf(rng: random.Random, data: bytes) -> bytes:
    """1-3 mutations aimed at the headers (ELF, program and section headers)
    and the rest of the file: a word set to an interesting or nearby value, or a
    flipped bit; sometimes the file is cut short."""
    d = bytearray(data)
    phoff, shoff = struct.unpack_from("<II", d, 28)
    phnum, shnum = struct.unpack_from("<H", d, 44)[0], struct.unpack_from("<H", d, 48)[0]
    for _ in range(rng.randint(1, 3)):
        k = rng.random()
        if k < 0.2:
            off = rng.randrange(0, 52)
        elif k < 0.5:
            off = phoff + rng.randrange(0, 32 * phnum)
        elif k < 0.8:
            off = shoff + rng.randrange(0, 40 * shnum)
        else:
            off = rng.randrange(0, len(d))
        if rng.random() < 0.5:
            off &= ~3
            if off + 4 <= len(d):
                old = struct.unpack_from("<I", d, off)[0]
                v = rng.choice(INTERESTING_WORDS) if rng.random() < 0.7 else (old + rng.randint(-64, 64)) & 0xFFFFFFFF
                struct.pack_into("<I", d, off, v)
        else:
            d[off] ^= 1 << rng.randrange(8)
    if rng.random() < 0.1:
        d = d[:rng.randrange(len(d))]
    return bytes(d)


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return f'"{v}"'
    return str(v)


def random_config(rng: random.Random) -> str:
    """1-3 fields of the configuration set to random, often absurd, values."""
    fields = [(s, f.name) for s in SECTIONS for f in dataclasses.fields(getattr(Config(), s))]
    lines = {}
    for _ in range(rng.randint(1, 3)):
        sname, key = rng.choice(fields)
        current = getattr(getattr(Config(), sname), key)
        choices = [0, 1, -1, 2, 3, 7, 1 << 20, 1 << 30, 1 << 31, 1 << 40, -(1 << 40), float("nan"), float("inf"),
                   float("-inf"), -0.5, 1e300, True, "x"]
        if isinstance(current, (int, float)) and not isinstance(current, bool):
            choices += [current * 2, current // 2 if isinstance(current, int) else current / 2, -current]
        lines.setdefault(sname, {})[key] = rng.choice(choices)
    return "".join(f"[{s}]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in kv.items()) for s, kv in lines.items())


@contextmanager
def no_hang(what: str):
    def expired(signum, frame):
        raise AssertionError(f"{what}: no answer after {HANG_SECONDS} s")
    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(HANG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def check_run(capsys, what: str, *args) -> int:
    """`iss run ...` ends normally or with one error line; returns its exit code."""
    with no_hang(what):
        code = main(["run", *map(str, args), "--max-cycles", str(MAX_CYCLES)])
    _, err = capsys.readouterr()
    assert "Traceback" not in err and "Exception ignored" not in err, f"{what}:\n{err}"
    if code != 0:
        errors = [ln for ln in err.splitlines() if ln.startswith("iss: error: ")]
        others = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith(("iss: error: ", "[iss] "))]
        assert len(errors) == 1 and not others, f"{what}: rc {code}, stderr:\n{err}"
    return code


def fuzz_elf(fw, tmp_path, capsys, cases: int) -> None:
    src = fw("spine_hello").read_bytes()
    outcomes = {"ran": 0, "refused": 0}
    for i in range(cases):
        seed = BASE_SEED + i
        p = tmp_path / f"mutant{seed}.elf"
        p.write_bytes(mutate_elf(random.Random(seed), src))
        code = check_run(capsys, f"ELF mutation seed {seed} (ISS_FUZZ_SEED={seed})", p)
        outcomes["ran" if code == 0 else "refused"] += 1
        p.unlink()
    assert sum(outcomes.values()) == cases


def fuzz_config(fw, tmp_path, capsys, cases: int) -> None:
    elf = fw("spine_hello")
    for i in range(cases):
        seed = BASE_SEED + i
        cfg = tmp_path / f"c{seed}.toml"
        text = random_config(random.Random(seed))
        cfg.write_text(text)
        check_run(capsys, f"config seed {seed} (ISS_FUZZ_SEED={seed}):\n{text}", elf, "--config", cfg)


def test_fuzz_elf_mutations(fw, tmp_path, capsys):
    fuzz_elf(fw, tmp_path, capsys, FAST)


def test_fuzz_config_values(fw, tmp_path, capsys):
    fuzz_config(fw, tmp_path, capsys, FAST)


@pytest.mark.slow
def test_fuzz_elf_mutations_long(fw, tmp_path, capsys):
    fuzz_elf(fw, tmp_path, capsys, SLOW)


@pytest.mark.slow
def test_fuzz_config_values_long(fw, tmp_path, capsys):
    fuzz_config(fw, tmp_path, capsys, SLOW)


def test_mutations_are_reproducible_and_varied(fw):
    """Same seed, same mutant; different seeds, different mutants (a fuzzer that
    always produced the original file would test nothing)."""
    src = fw("spine_hello").read_bytes()
    assert mutate_elf(random.Random(5), src) == mutate_elf(random.Random(5), src)
    mutants = {mutate_elf(random.Random(s), src) for s in range(20)}
    assert len(mutants) == 20 and src not in mutants
    assert random_config(random.Random(3)) == random_config(random.Random(3))
