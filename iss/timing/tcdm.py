"""TCDM bank arbitration shared by the harts and the DMA and accelerator ports,
as the cluster's logarithmic interconnect does it.

Banks are word-interleaved: bank = (address / 4) % banks. In each cycle a bank
serves one request; when several requesters (cores, then the ports: DMA, IMAs,
DWA) ask for the same bank in the same cycle, it serves them round-robin (a
per-bank pointer moves past each winner), and the others ask again in the next
cycle. So cores contending for a bank slow down together, as on the hardware.

Harts are simulated one slice at a time, so when a core issues an access the
other requesters of that cycle may not have run yet. The native side
(iss/native/tcdm.c) queues each hart's accesses at the cycle it issues them and
arbitrates them later, cycle by cycle, up to a cycle no requester can still
reach: the slowest running hart's clock or the next pending event (the
scheduler asks before each slice), or the exact cycle of a hart that needs its
own time (an MMIO access, a counter read, wfi: the hart stops and retries when
its earlier accesses cannot be arbitrated yet). A wait is added to the hart's
clock then, and so to everything it did after the access.

What is exact: the per-core cycle and stall counts follow from the requests
and their cycles alone, never from the order or length of the slices, so they
are the same at every `scheduler.quantum` (tests/test_tcdm_arbitration.py sweeps
it). Ports: their words take part in the round robin and a word that loses
moves to the next cycle (counted in `port_wait`), but a port's transfer or job
ends when its model says (its end is not pushed back by the waits).
"""
from __future__ import annotations

import ctypes
import weakref

import numpy as np

from .. import native

UINT64_MAX = (1 << 64) - 1


def _lib():
    lib = native.lib()
    if not getattr(lib, "_tcdm_typed", False):
        lib.iss_tcdm_new.argtypes = [ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32]
        lib.iss_tcdm_new.restype = ctypes.c_void_p
        lib.iss_tcdm_free.argtypes = [ctypes.c_void_p]
        lib.iss_tcdm_free.restype = None
        lib.iss_tcdm_attach.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p]
        lib.iss_tcdm_attach.restype = None
        lib.iss_tcdm_port_words.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p,
                                            ctypes.c_uint32]
        lib.iss_tcdm_port_words.restype = None
        lib.iss_tcdm_resolve.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
        lib.iss_tcdm_resolve.restype = None
        lib.iss_tcdm_counters.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.iss_tcdm_counters.restype = None
        lib.iss_tcdm_port_wait.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
        lib.iss_tcdm_port_wait.restype = ctypes.c_uint64
        lib.iss_tcdm_log_waits.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
        lib.iss_tcdm_log_waits.restype = None
        lib.iss_tcdm_wait_log.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.POINTER(ctypes.c_void_p),
                                          ctypes.POINTER(ctypes.c_void_p)]
        lib.iss_tcdm_wait_log.restype = ctypes.c_size_t
        lib._tcdm_typed = True
    return lib


class TcdmArbiter:
    def __init__(self, banks: int, harts: int, capacity: int):
        """`capacity`: accesses a hart may have queued (a power of two; harts'
        clocks stay within a quantum of each other, so 4 x quantum is ample)."""
        self.banks = banks
        self.harts = harts
        self.ports: list[str] = []
        lib = self._lib = _lib()
        ptr = lib.iss_tcdm_new(banks, harts, capacity)
        if not ptr:
            raise ValueError(f"TCDM arbiter: {harts} harts, {banks} banks and a queue of {capacity} are not supported")
        self.ptr = ptr
        weakref.finalize(self, lib.iss_tcdm_free, ptr)

    def attach(self, hart_id: int, state) -> None:
        """Hart `hart_id`'s native state queues its accesses here."""
        state.arb, state.banks, state.arb_id = self.ptr, self.banks, hart_id
        self._lib.iss_tcdm_attach(self.ptr, hart_id, ctypes.addressof(state))

    def add_port(self, name: str) -> int:
        """A DMA or accelerator port: its round-robin place follows the cores and
        the ports added before it (models add theirs when they are built)."""
        self.ports.append(name)
        return len(self.ports) - 1

    def reserve_stream(self, port: int, addresses, start: int, bytes_per_cycle: int) -> None:
        """Port `port` moves the TCDM bytes at `addresses` (in order) from cycle
        `start`, `bytes_per_cycle` a cycle: one request per word moved."""
        self.reserve_streams(port, [(np.asarray(addresses, dtype=np.int64)[None, :], [start])], bytes_per_cycle)

    def reserve_streams(self, port: int, parts, bytes_per_cycle: int) -> None:
        """Many streams of port `port` at once, as reserve_stream would one by one:
        `parts` is a list of (addresses, starts), each `addresses` a 2-D array with
        a stream per row starting at cycle starts[row]; all parts have as many rows,
        and the streams go in the order row 0 of each part, then row 1, ..."""
        words, cycles, keep = [], [], []
        step = max(1, bytes_per_cycle)
        for addresses, starts in parts:
            w = np.asarray(addresses, dtype=np.int64) >> 2
            k = np.ones(w.shape, dtype=bool)
            k[:, 1:] = w[:, 1:] != w[:, :-1]          # one access per word moved
            words.append(w)
            keep.append(k)
            cycles.append(np.asarray(starts, dtype=np.int64)[:, None] + np.arange(w.shape[1]) // step)
        keep = np.concatenate(keep, axis=1)
        w = np.ascontiguousarray(np.concatenate(words, axis=1)[keep].astype(np.uint32))
        if w.size == 0:
            return
        c = np.ascontiguousarray(np.concatenate(cycles, axis=1)[keep].astype(np.uint64))
        self._lib.iss_tcdm_port_words(self.ptr, port, w.ctypes.data, c.ctypes.data, w.size)

    def resolve(self, upto: int = UINT64_MAX) -> None:
        """Arbitrate every request before cycle `upto` (default: all queued)."""
        self._lib.iss_tcdm_resolve(self.ptr, min(int(upto), UINT64_MAX))

    def counters(self) -> dict:
        out = (ctypes.c_uint64 * 4)()
        self._lib.iss_tcdm_counters(self.ptr, out)
        return {"late": out[0], "overflow": out[1], "resolved": out[2], "port_words_queued": out[3]}

    def log_waits(self) -> None:
        """Keep every access that waited, so `exact_cycles` can convert the
        times views record during the run (a trace, timeline samples)."""
        self._lib.iss_tcdm_log_waits(self.ptr, 1)

    def exact_cycles(self, hart: int, early) -> np.ndarray:
        """The exact cycles of hart `hart`'s instants recorded as `early` (its
        clock then, minus the TCDM waits counted by then): each is pushed back by
        the waits of the accesses issued before it. Call after the run."""
        early = np.asarray(early, dtype=np.uint64)
        pt, pw = ctypes.c_void_p(), ctypes.c_void_p()
        n = self._lib.iss_tcdm_wait_log(self.ptr, hart, ctypes.byref(pt), ctypes.byref(pw))
        if not n:
            return early.copy()
        at = np.ctypeslib.as_array(ctypes.cast(pt, ctypes.POINTER(ctypes.c_uint64)), (n,))
        waits = np.cumsum(np.ctypeslib.as_array(ctypes.cast(pw, ctypes.POINTER(ctypes.c_uint32)), (n,)),
                          dtype=np.uint64)
        k = np.searchsorted(at, early, side="left")          # accesses issued strictly before
        return early + np.where(k > 0, waits[np.maximum(k, 1) - 1], 0).astype(np.uint64)

    def port_wait(self, port: int) -> int:
        """Cycles the words of port `port` waited for their banks in all."""
        return int(self._lib.iss_tcdm_port_wait(self.ptr, port))


class TcdmPort:
    """One DMA or accelerator port into the TCDM: what a model is given to stream
    its data through the bank arbitration (it never sees the arbiter itself)."""

    def __init__(self, arbiter: TcdmArbiter, name: str):
        self.arbiter, self.name = arbiter, name
        self.id = arbiter.add_port(name)

    def reserve_stream(self, addresses, start: int, bytes_per_cycle: int) -> None:
        """Move the TCDM bytes at `addresses` (in order) from cycle `start`,
        `bytes_per_cycle` a cycle (TcdmArbiter.reserve_stream)."""
        self.arbiter.reserve_stream(self.id, addresses, start, bytes_per_cycle)

    def reserve_streams(self, parts, bytes_per_cycle: int) -> None:
        """Many streams at once (TcdmArbiter.reserve_streams)."""
        self.arbiter.reserve_streams(self.id, parts, bytes_per_cycle)

    @property
    def wait(self) -> int:
        """Cycles this port's words waited for their banks in all."""
        return self.arbiter.port_wait(self.id)
