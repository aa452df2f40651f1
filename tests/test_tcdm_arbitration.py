"""TCDM bank arbitration (iss/timing/tcdm.py, iss/native/tcdm.c): round-robin per
bank and cycle among cores and ports, worked out by hand on small request
patterns, and cycle counts that do not depend on `scheduler.quantum`."""
from __future__ import annotations

import ctypes

import numpy as np
import pytest

from iss import Cluster, Config, native
from iss.study import bottleneck as bn
from iss.timing.tcdm import TcdmArbiter

from test_study import SMALL
from test_timing import micro, run  # noqa: F401  (the fixture)

QUANTA = (10, 100, 1000, Config().scheduler.quantum)


# ----------------------------------------------------------------------------
# the arbiter alone: hart states driven by hand
# ----------------------------------------------------------------------------
class Harts:
    """`n` bare hart states attached to an arbiter of `banks` banks."""

    def __init__(self, n, banks=16):
        self.arb = TcdmArbiter(banks, n, 1024)
        self.st = [native.HartState() for _ in range(n)]
        for i, s in enumerate(self.st):
            self.arb.attach(i, s)
        self._req = native.lib().iss_tcdm_request
        self._req.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_uint32]
        self._req.restype = None

    def ask(self, hart, cycle, bank):
        """Hart `hart` issues an access to `bank` at `cycle` of its clock (waits
        found so far included, as the native memory hook computes it)."""
        self._req(self.arb.ptr, ctypes.addressof(self.st[hart]), cycle, bank, 0xFFFFFFFF)

    def waits(self):
        return [int(s.stall_tcdm) for s in self.st]


def test_round_robin_between_two_harts_on_one_bank():
    # Both ask bank 3 in cycles 0..3 of their own (wait-free) clocks. Cycle 0: hart 0
    # wins (pointer 0), hart 1 waits, the pointer moves to 1. Cycle 1: hart 0's second
    # access and hart 1's first: hart 1 wins. Cycle 2: hart 0 (pointer 2 -> first at
    # or after it, wrapping: 0). And so on: they alternate, each waits 1 per access
    # after its first, and both finish their 4 accesses within 8 cycles.
    h = Harts(2)
    for t in range(4):
        h.ask(0, t, 3)
        h.ask(1, t, 3)
    h.arb.resolve()
    # hart 0: granted 0, 2, 4, 6 -> waits 0+1+1+1; hart 1: granted 1, 3, 5, 7 -> 1+1+1+1
    assert h.waits() == [3, 4]
    assert [int(s.cycles) for s in h.st] == [3, 4]
    assert [int(s.tcdm_pending) for s in h.st] == [0, 0]


def test_different_banks_never_wait_and_the_pointer_is_per_bank():
    h = Harts(3)
    for t in range(5):
        for i in range(3):
            h.ask(i, t, i)               # each its own bank
    h.arb.resolve()
    assert h.waits() == [0, 0, 0]
    # Bank 5 with harts 1 and 2 first (pointer 0 -> hart 1), then bank 6 with harts
    # 0 and 2 (its own pointer at 0 -> hart 0, not hart 2 as bank 5's would give).
    h = Harts(3)
    h.ask(1, 10, 5)
    h.ask(2, 10, 5)
    h.arb.resolve()
    h.ask(0, 21, 6)
    h.ask(2, 21, 6)                      # both in cycle 21 (hart 2's clock includes its wait)
    h.arb.resolve()
    assert h.waits() == [0, 0, 2]


def test_eight_harts_on_one_bank_share_it_fairly():
    # 8 harts, 8 accesses each to bank 0, each issued as soon as the last completed:
    # one bank serves 64 accesses in 64 cycles; round robin gives every hart one
    # access per round of 8, so each finishes in its last round: hart i's last
    # access is granted at 56 + i, i.e. after 56 + i - 7 waits.
    h = Harts(8)
    for k in range(8):
        for i in range(8):
            h.ask(i, k, 0)
    h.arb.resolve()
    assert h.waits() == [49 + i for i in range(8)]


def test_requests_are_arbitrated_only_below_the_bound():
    h = Harts(2)
    h.ask(0, 5, 1)
    h.ask(1, 5, 1)
    h.arb.resolve(5)                     # cycle 5 may still get requests: untouched
    assert [int(s.tcdm_pending) for s in h.st] == [1, 1] and h.waits() == [0, 0]
    h.arb.resolve(6)                     # hart 1 lost cycle 5; it asks again in cycle 6
    assert [int(s.tcdm_pending) for s in h.st] == [0, 1] and h.waits() == [0, 1]
    h.arb.resolve(7)
    assert [int(s.tcdm_pending) for s in h.st] == [0, 0] and h.waits() == [0, 1]
    assert h.arb.counters()["late"] == 0
    h.ask(0, 3, 2)                       # a request for an arbitrated cycle is a bug: counted
    assert h.arb.counters()["late"] == 1


def test_ports_take_part_in_the_round_robin():
    # Hart 0 (requester 0) and the DMA port (requester 1) both want bank 2: the core
    # in cycles 0 and 1, the port with words 2 and 18 at one word a cycle from 0.
    h = Harts(1)
    dma = h.arb.add_port("DMA")
    h.arb.reserve_stream(dma, np.r_[8:12, 72:76], 0, 4)
    h.ask(0, 0, 2)
    h.ask(0, 1, 2)
    h.arb.resolve()
    # cycle 0: core and word 2 -> core (pointer 0 -> 1); word 2 moves to 1.
    # cycle 1: core, word 2, word 18 (the port asks once per bank and cycle: word 18
    #          moves to 2) -> port (pointer 1 -> 2); the core waits.
    # cycle 2: core, word 18 -> core (pointer 2 wraps to 0 -> 1); word 18 moves to 3.
    # cycle 3: word 18 alone.
    assert h.waits() == [1]
    assert h.arb.port_wait(dma) == 3
    assert h.arb.counters()["port_words_queued"] == 0


# ----------------------------------------------------------------------------
# whole programs: nothing depends on the quantum
# ----------------------------------------------------------------------------
def _per_core(cluster):
    return [(int(h.cycles), int(h.instret), int(h.native.stall_tcdm), int(h.sleep_cycles))
            for h in cluster.harts]


def test_contention_microbenchmark_is_the_same_at_every_quantum(micro):  # noqa: F811
    seen = {}
    for q in QUANTA:
        _, same, c = run(micro, same_bank=True, scheduler={"quantum": q})
        seen[q] = (list(map(int, same)), _per_core(c))
        assert c.tcdm_arbiter.counters()["late"] == 0
    first = seen[QUANTA[0]]
    for q in QUANTA[1:]:
        assert seen[q] == first, q
    # Round robin: the 8 cores on one bank slow down together.
    same = np.array(first[0])
    assert same.min() >= 0.97 * same.max(), same


def _bottleneck(variant, quantum, monkeypatch):
    spans = []
    orig = Cluster.run

    def run_recording(self, *a, **k):
        self.sleep_listeners.append(lambda h, s, e, w, k: spans.append((h, s, e, w)))
        out = orig(self, *a, **k)
        spans.append(("per core", _per_core(self)))
        return out

    monkeypatch.setattr(Cluster, "run", run_recording)
    res = bn.run_variant(variant, SMALL, energy=False, config={"scheduler": {"quantum": quantum}})
    # (the order the spans end in the simulation may differ; their cycles may not)
    return [(l.name, l.cycles) for l in res.layers], res.cycles, sorted(spans, key=repr)


@pytest.mark.parametrize("variant", ["cores", pytest.param("hetero", marks=pytest.mark.slow)])
def test_kernels_and_accelerator_jobs_are_the_same_at_every_quantum(variant, monkeypatch):
    """The bottleneck block on the kernels of firmware/kernels (cores) and on the
    IMA, DWA and DMA ports (hetero): every per-layer and per-core count, and every
    sleep span, is the same at each quantum."""
    base = _bottleneck(variant, QUANTA[0], monkeypatch)
    for q in QUANTA[1:]:
        assert _bottleneck(variant, q, monkeypatch) == base, q
    # Barrier exits: the cores a barrier releases all wake in one cycle (at most the
    # last to arrive, which may find the barrier done, did not sleep), whereas
    # first come, first served arbitration let them leave up to ~10^3 cycles apart.
    wakes = {}
    for h, s, e, w in (x for x in base[2] if len(x) == 4):
        if w.startswith("barrier"):
            wakes.setdefault(e, set()).add(h)
    assert wakes and all(len(cores) >= 7 for cores in wakes.values()), wakes
