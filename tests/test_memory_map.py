"""The peripheral address map (iss/memory.py): which window an address falls in.
Checked byte by byte around every window edge against a plain list of the
ranges placed, in an attach order that is not the address order."""
import random
from dataclasses import dataclass

import pytest

from iss.config import Config
from iss.memory import ACCEL_BASE, DEMUX_BASE, Memory


@dataclass
class Dummy:
    name: str
    size: int


def _placed(seed: int):
    """(memory, [(base, size, periph)]): 40 windows of assorted sizes with gaps
    between some, attached in a shuffled order."""
    rng = random.Random(seed)
    ranges, base = [], ACCEL_BASE
    for k in range(40):
        size = rng.choice([0x4, 0x40, 0x100, 0x400])
        ranges.append((base, size, Dummy(f"p{k}", size)))
        base += size + rng.choice([0, 0, 0x10, 0x1000])
    mem = Memory(Config.load())
    for b, _, p in rng.sample(ranges, len(ranges)):
        mem.attach(b, p)
    return mem, ranges


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_address_near_an_edge_finds_its_own_window(seed):
    mem, ranges = _placed(seed)
    probes = {ACCEL_BASE - 1}
    for b, s, _ in ranges:
        probes |= {b - 1, b, b + 1, b + s - 1, b + s, b + s + 1}
    for addr in sorted(probes):
        want = [(p, addr - b) for b, s, p in ranges if b <= addr < b + s]
        got = mem.locate(addr)
        if want:
            assert got is not None and (got[0].periph, got[1]) == want[0], hex(addr)
        else:
            assert got is None, hex(addr)


def test_a_window_overlapping_another_is_refused():
    mem, ranges = _placed(4)
    b, s, p = ranges[10]
    with pytest.raises(ValueError, match="overlaps p10"):
        mem.attach(b + s - 1, Dummy("late", 8))


def test_core_private_windows_are_found_by_offset():
    mem = Memory(Config.load())
    eu, dma = Dummy("eu", 0x400), Dummy("dma", 0x400)
    mem.attach_private(0x000, eu)
    mem.attach_private(0x400, dma)
    assert mem.locate(DEMUX_BASE + 0x3FC)[0].periph is eu
    assert mem.locate(DEMUX_BASE + 0x404)[1] == 4
    assert mem.locate(DEMUX_BASE + 0x800) is None
