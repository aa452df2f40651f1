"""Cluster DMA: 1-D/2-D contents against numpy, timing against the formula
start = max(push, engine free); done = start + sum ceil(line/bpc) + latency."""
import numpy as np
import pytest

from iss.errors import PeripheralError, SimulationError
from iss.periph import dma

from accel_cluster import make_cluster

D = dma.SHARED_BASE
PRIV = 0x1020_4000 + dma.PRIVATE_OFFSET
EXT2LOC = 1 << 17
INC = 1 << 18
TWD_EXT = 1 << 19
ELE = 1 << 20
BLE = 1 << 22
TWD_TCDM = 1 << 23


@pytest.fixture
def cl():
    return make_cluster(dma={"bytes_per_cycle": 8, "latency": 20})


def push(c, words, base=D, core=0):
    for w in words:
        c.bus_write(base, w, core=core)


def fill_l2(c, n, seed=0):
    data = np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8)
    c.memory.l2[:n] = data
    return data


def test_1d_l2_to_tcdm_contents_timing_event(cl):
    c = cl
    data = fill_l2(c, 1000)
    T, L2 = c.memory.tcdm_base, c.memory.l2_base
    tid = c.bus_read(D)
    assert tid == 0
    push(c, [1000 | EXT2LOC | INC | ELE, T + 16, L2])
    assert c.bus_read(D + 4) == (1 << 16) | 1          # allocated and in flight
    done = 0 + -(-1000 // 8) + 20                        # 125 + 20
    c.advance(done - 1)
    assert c.bus_read(D + 4) & 1 and not c.memory.tcdm[16:1016].any()   # copy happens at completion
    c.advance(1)
    assert c.bus_read(D + 4) == 1 << 16
    assert np.array_equal(c.memory.tcdm[16:1016], data)
    assert c.event_unit.buffer[0] & (1 << 8) and not c.event_unit.buffer[1] & (1 << 8)
    c.bus_write(D + 4, 1 << tid)
    assert c.bus_read(D + 4) == 0
    assert c.activity[-1][0] == "dma" and c.activity[-1][2:] == (0, done)


def test_1d_tcdm_to_l2_private_window_broadcast(cl):
    c = cl
    src = np.arange(77, dtype=np.uint8) * 3
    c.memory.tcdm[100:177] = src
    tid = c.bus_read(PRIV, core=3)
    push(c, [77 | INC | ELE | BLE, c.memory.tcdm_base + 100, c.memory.l2_base + 5000], base=PRIV, core=3)
    c.advance(-(-77 // 8) + 20)
    assert np.array_equal(c.memory.l2[5000:5077], src)
    assert all(c.event_unit.buffer[k] & (1 << 8) for k in range(8))
    assert c.bus_read(D + 4) == 1 << (16 + tid)


def test_2d_external_side(cl):
    c = cl
    data = fill_l2(c, 4096, seed=1)
    rows, line, stride = 9, 13, 40
    c.bus_read(D)
    push(c, [rows * line | EXT2LOC | INC | TWD_EXT | ELE, c.memory.tcdm_base, c.memory.l2_base + 7, line, stride])
    c.advance(rows * -(-line // 8) + 20)
    want = np.stack([data[7 + r * stride:7 + r * stride + line] for r in range(rows)]).reshape(-1)
    assert np.array_equal(c.memory.tcdm[:rows * line], want)
    assert c.bus_read(D + 4) & 0xFFFF == 0


def test_2d_both_sides_and_partial_last_line(cl):
    c = cl
    data = fill_l2(c, 4096, seed=2)
    size, eline, estride, tline, tstride = 50, 12, 100, 7, 16
    c.bus_read(D)
    push(c, [size | EXT2LOC | INC | TWD_EXT | TWD_TCDM | ELE, c.memory.tcdm_base + 64, c.memory.l2_base,
             eline, estride, tline, tstride])
    # bursts follow the shorter lines: 7 full lines of 7 bytes + 1 byte
    cycles = 7 * 1 + 1
    c.advance(cycles + 20 - 1)
    assert c.bus_read(D + 4) & 1
    c.advance(1)
    flat = np.array([data[(k // eline) * estride + k % eline] for k in range(size)], dtype=np.uint8)
    got = np.array([c.memory.tcdm[64 + (k // tline) * tstride + k % tline] for k in range(size)], dtype=np.uint8)
    assert np.array_equal(got, flat)


def test_outstanding_transfers_serialise_on_the_engine(cl):
    c = cl
    fill_l2(c, 3000, seed=3)
    T, L2 = c.memory.tcdm_base, c.memory.l2_base
    tids = []
    for k, n in enumerate((800, 80, 1600)):
        tids.append(c.bus_read(D))
        push(c, [n | EXT2LOC | INC | ELE, T + 4000 * k, L2 + 1000 * k])
    assert tids == [0, 1, 2]
    ends = [100 + 20, 100 + 10 + 20, 100 + 10 + 200 + 20]
    for k, end in enumerate(ends):
        c.advance(end - c.now - 1)
        assert c.bus_read(D + 4) & (1 << tids[k])
        c.advance(1)
        assert not c.bus_read(D + 4) & (1 << tids[k])
    for k, n in enumerate((800, 80, 1600)):
        assert np.array_equal(c.memory.tcdm[4000 * k:4000 * k + n], c.memory.l2[1000 * k:1000 * k + n])


def test_transfers_count_on_the_current_tid_and_barrier_frees_all(cl):
    c = cl
    fill_l2(c, 100)
    tid = c.bus_read(D)
    for k in range(3):     # three transfers on one TID (plp_dma_memcpy_2d_keepCounter style)
        push(c, [10 | EXT2LOC | INC, c.memory.tcdm_base + 10 * k, c.memory.l2_base + 10 * k])
    c.advance(3 * 2 + 20 - 1)                            # engine busy 2 cycles each, then latency
    assert c.bus_read(D + 4) & (1 << tid)               # the third is not done yet
    c.advance(1)
    assert c.bus_read(D + 4) == 1 << (16 + tid)
    assert c.bus_read(D) == tid + 1
    c.bus_write(D + 4, 0xFFFFFFFF)
    assert c.bus_read(D + 4) == 0
    assert c.event_unit.buffer[0] & (1 << 8) == 0        # ELE off: no event


def test_full_queue_and_no_free_tid_stall(cl):
    c = make_cluster(dma={"queue_depth": 2})
    c.bus_read(D)
    for _ in range(2):
        push(c, [8 | EXT2LOC | INC, c.memory.tcdm_base, c.memory.l2_base])
    with pytest.raises(SimulationError, match="would block"):
        c.bus_write(D, 8 | EXT2LOC | INC)
    for _ in range(15):
        c.bus_read(D)
    with pytest.raises(SimulationError, match="would block"):
        c.bus_read(D)


@pytest.mark.parametrize("words,match", [
    ([8 | EXT2LOC | INC, 0x1C00_0000, 0x1C00_0000], "TCDM range 0x1c000000-0x1c000007 .* outside TCDM"),
    ([8 | EXT2LOC | INC, 0x1000_0000, 0x3000_0000], "external range 0x30000000-0x30000007 .* outside TCDM or L2"),
    ([8 | EXT2LOC, 0, 0], "non-incremental"),
    ([16 | EXT2LOC | INC | TWD_EXT, 0x1000_0000, 0x1C00_0000, 0, 4], "2-D external line length is 0"),
])
def test_misprogramming_names_dma_and_register(cl, words, match):
    c = cl
    c.bus_read(D)
    with pytest.raises(PeripheralError, match="^DMA CMD: .*" + match):
        push(c, words)


def test_push_without_tid(cl):
    with pytest.raises(PeripheralError, match="DMA CMD: transfer pushed before a transfer id"):
        cl.bus_write(D, 8 | EXT2LOC | INC)
