"""PULP code written the ways PULP users write it, built with iss cc and run
on the cluster, every result checked against numpy: a PULP-NN-style kernel set
using only pmsis.h, an SDK-style application (pmsis_kickoff, cluster task, DMA
copy structures, pi_l1_malloc, float MAC/cycle), a generated-network-style
program (layers forked on the team, direct mchan programming, libc and libm,
L2 malloc/free out of order), and a legacy rt_* program."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from iss import Cluster
from iss.config import Config
from iss.toolchain import compile as build

SRC = Path(__file__).parent / "firmware_src"


def make(tmp_path_factory, name, cores=8, **options):
    out = tmp_path_factory.mktemp(name) / f"{name}.elf"
    return build([SRC / f"{name}.c"], out, opt="-O3", cores=cores, **options)


def test_pulp_nn_style_kernels(tmp_path_factory):
    c = Cluster(make(tmp_path_factory, "sdk_pulpnn"))
    rng = np.random.default_rng(11)
    pix, cin, cout = 37, 20, 12
    x = rng.integers(0, 256, (pix, cin), dtype=np.uint8)
    w = rng.integers(-128, 128, (cout, cin), dtype=np.int8)
    bias = rng.integers(-128, 128, cout, dtype=np.int8)
    pa, pb = rng.integers(0, 256, 64, dtype=np.uint8), rng.integers(0, 256, 64, dtype=np.uint8)
    nib = rng.integers(0, 16, 48, dtype=np.uint8)
    for name, v in (("pw_in", x), ("pw_w", w), ("pw_bias", bias), ("pool_a", pa), ("pool_b", pb), ("nib_in", nib)):
        c.write_symbol(name, v)
    r = c.run()
    assert r.exit_code == 0 and r.stdout == ["pulp-nn style kernels done on 8 cores (core 0 of cluster 0)"]
    acc = bias.astype(np.int64) + x.astype(np.int64) @ w.astype(np.int64).T
    ref = np.clip((11 * acc) >> 7, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(c.read_symbol("pw_out", np.uint8).reshape(pix, cout), ref)
    np.testing.assert_array_equal(c.read_symbol("pool_out", np.uint8), np.maximum(pa, pb))
    np.testing.assert_array_equal(c.read_symbol("nib_packed", np.uint8), nib[0::2] | (nib[1::2] << 4))
    np.testing.assert_array_equal(c.read_symbol("nib_back", np.uint8), nib)


def test_sdk_style_application(tmp_path_factory):
    elf = make(tmp_path_factory, "sdk_app")
    c = Cluster(elf)
    rng = np.random.default_rng(5)
    a = rng.integers(-128, 128, (24, 32), dtype=np.int8)
    bt = rng.integers(-128, 128, (16, 32), dtype=np.int8)
    c.write_symbol("mat_a", a)
    c.write_symbol("mat_b", bt)
    r = c.run()
    assert r.exit_code == 0
    ref = a.astype(np.int32) @ bt.astype(np.int32).T
    # the synchronous task wrote A.B; the asynchronous one (2 cores) doubled it
    np.testing.assert_array_equal(c.read_symbol("mat_c", np.int32).reshape(24, 16), 2 * ref)
    cycles = int(c.read_symbol("matmul_cycles", np.uint32)[0])
    assert cycles > 0
    mac = np.float32(24 * 32 * 16) / np.float32(cycles)
    assert r.stdout == [f"matmul 24x32x16 on 4 cores: {cycles} cycles, {float(mac):.2f} MAC/cycle"]
    # stack sizes honoured: the master ran on a 4 KiB stack and the 3 workers on
    # 3 KiB stacks taken from L1, not on the start-up stacks
    seen = c.read_symbol("stack_seen", np.uint32)
    stacks = c.program.symbol("__stacks_start").addr, c.program.symbol("__stacks_end").addr
    heap = c.program.symbol("__l1_heap_start").addr
    for core in range(4):
        assert not stacks[0] <= seen[core] < stacks[1], core
        assert seen[core] >= heap, core
    assert list(seen[4:]) == [0, 0, 0, 0]          # nb_cores = 4: the others never ran it
    # the same frame of the same function on consecutive workers: slave_stack_size apart
    assert int(seen[2]) - int(seen[1]) == 3072 and int(seen[3]) - int(seen[2]) == 3072


def test_generated_network_style(tmp_path_factory):
    c = Cluster(make(tmp_path_factory, "sdk_network"))
    rng = np.random.default_rng(9)
    x = rng.integers(-128, 128, 64, dtype=np.int8)
    w1 = rng.integers(-128, 128, (32, 64), dtype=np.int8)
    b1 = rng.integers(-3000, 3000, 32, dtype=np.int32)
    w2 = rng.integers(-128, 128, (10, 40), dtype=np.int8)
    b2 = rng.integers(-3000, 3000, 10, dtype=np.int32)
    for name, v in (("net_input", x), ("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2)):
        c.write_symbol(name, v)
    r = c.run()
    assert r.exit_code == 0
    acc1 = b1.astype(np.int64) + w1.astype(np.int64) @ x.astype(np.int64)
    hidden = np.maximum(np.clip((acc1 * 13) >> 8, -128, 127), 0).astype(np.uint8)
    np.testing.assert_array_equal(c.read_symbol("hidden_out", np.uint8), hidden)
    logits = b2.astype(np.int64) + w2[:, :32].astype(np.int64) @ hidden.astype(np.int64)
    np.testing.assert_array_equal(c.read_symbol("logits_out", np.int32), logits)
    lf = logits.astype(np.float32)
    e = np.exp(((lf - lf.max()) / np.float32(64)).astype(np.float64)).astype(np.float32)
    probs = e / e.sum(dtype=np.float32)
    got = c.read_symbol("probs_out", np.float32)
    np.testing.assert_allclose(got, probs, rtol=3e-6)
    best = int(np.argmax(got))
    assert r.stdout == [f"class {best} p={float(got[best]):f}", "heap whole again: 1"]


def test_legacy_rt_program(tmp_path_factory):
    for cores in (8, 3):
        c = Cluster(make(tmp_path_factory, "sdk_legacy", cores=cores), Config.load(None, cluster={"cores": cores}))
        v = np.random.default_rng(cores).integers(-30000, 30000, 200, dtype=np.int16)
        c.write_symbol("vec", v)
        r = c.run()
        assert r.exit_code == 0
        assert int(c.read_symbol("total", np.int32)[0]) == int(v.astype(np.int64).sum())
        np.testing.assert_array_equal(c.read_symbol("scaled", np.int32), v.astype(np.int32) * 3)
        partial = c.read_symbol("partial", np.int32)
        for core in range(cores):
            assert partial[core] == v[core::cores].astype(np.int64).sum()
        head, waited = r.stdout[0].rsplit(" waited ", 1)
        assert head == f"total {int(v.astype(np.int64).sum())} on {cores} cores, cluster 0,"
        assert int(waited.split()[0]) >= 3
