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


# ----------------------------------------------------------------------------
# random request patterns against a reference written from the rules
# ----------------------------------------------------------------------------
def _reference_waits(n_harts, banks, requests, port_words):
    """The arbitration rules (tcdm.h), cycle by cycle, written for this test:
    `requests[i]`: hart i's (cycle, bank) in issue order, cycles as its clock
    would give them without waits; `port_words`: (cycle, bank) of one port
    (requester n_harts). Returns (each hart's waits, the port's waits)."""
    port = n_harts
    rr = [0] * banks
    waits = [0] * n_harts
    last = [-1] * n_harts
    head = [0] * n_harts
    words = sorted(port_words)
    port_wait = 0

    def issue(i):                        # the cycle hart i's oldest access is issued, or None
        if head[i] == len(requests[i]):
            return None
        return max(requests[i][head[i]][0] + waits[i], last[i])

    while True:
        times = [c for c in map(issue, range(n_harts)) if c is not None] + [w[0] for w in words]
        if not times:
            return waits, port_wait
        t = min(times)
        asking = {}                      # bank -> requesters
        now = [w for w in words if w[0] == t]
        words = [w for w in words if w[0] != t]
        for i in range(n_harts):
            if issue(i) == t:
                asking.setdefault(requests[i][head[i]][1], []).append(i)
        for _, bank in now:
            if port in asking.get(bank, []):
                words.append((t + 1, bank))      # the port's second word for one bank: next cycle
                port_wait += 1
            else:
                asking.setdefault(bank, []).append(port)
        served = set(asking)             # banks asked in this cycle
        granted = []
        for bank, who in asking.items():
            win = min(who, key=lambda r: (r - rr[bank]) % 64)
            rr[bank] = (win + 1) % 64
            for r in who:
                if r == port and r != win:
                    words.append((t + 1, bank))
                    port_wait += 1
                elif r != port:
                    if r == win:
                        granted.append(r)
                    else:
                        waits[r] += 1
        # a hart served in this cycle may issue its next access in it too: it
        # gets a bank nobody asked for in this cycle, else waits
        while granted:
            again = []
            for i in sorted(granted):
                head[i] += 1
                last[i] = t
                if issue(i) == t:
                    again.append(i)
            granted = []
            for i in again:
                bank = requests[i][head[i]][1]
                if bank in served:
                    waits[i] += 1
                else:
                    served.add(bank)
                    granted.append(i)


@pytest.mark.parametrize("seed", range(40))
def test_random_patterns_match_the_rules(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 9))
    banks = int(rng.choice([2, 4, 16]))
    requests = []
    for _ in range(n):
        t, reqs = int(rng.integers(0, 6)), []
        for _ in range(int(rng.integers(0, 40))):
            reqs.append((t, int(rng.integers(0, banks))))
            t += int(rng.choice([0, 1, 1, 2, 3, 9]))     # 0: two accesses of one instruction
        requests.append(reqs)
    with_port = seed % 2 == 1
    port_words = []
    h = Harts(n, banks)
    if with_port:
        dma = h.arb.add_port("DMA")
        start, words = int(rng.integers(0, 20)), rng.integers(0, 64, int(rng.integers(1, 60)))
        words = words[np.r_[True, words[1:] != words[:-1]]]       # one request per word moved
        per_cycle = int(rng.choice([1, 2]))
        h.arb.reserve_stream(dma, (4 * words[:, None] + np.arange(4)).ravel(), start, 4 * per_cycle)  # its bytes
        port_words = [(start + k // per_cycle, int(w) % banks) for k, w in enumerate(words)]
    # Queued as harts queue them: each access once its hart's waits so far are
    # known (the clock it is issued at includes them), resolved in steps.
    pos = [0] * n
    bound = 0
    while any(pos[i] < len(requests[i]) for i in range(n)):
        bound += int(rng.integers(1, 12))
        for i in range(n):
            while pos[i] < len(requests[i]) and requests[i][pos[i]][0] < bound:
                h.ask(i, requests[i][pos[i]][0] + int(h.st[i].stall_tcdm), requests[i][pos[i]][1])
                pos[i] += 1
        h.arb.resolve(bound)
    h.arb.resolve()
    want, want_port = _reference_waits(n, banks, requests, port_words)
    assert h.waits() == want
    if with_port:
        assert h.arb.port_wait(dma) == want_port
    assert h.arb.counters()["late"] == 0 and h.arb.counters()["overflow"] == 0
