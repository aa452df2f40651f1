"""TCDM bank arbitration shared by every hart (and, later, the DMA and
accelerator ports).

Banks are word-interleaved: bank = (address / 4) % banks. Each bank serves one
access per cycle; an access to a bank already taken in that cycle waits for the
first free cycle (counted as TCDM contention). The native helper keeps one bit per
bank and cycle over a circular window starting at the oldest cycle any running
hart can still access (`retired`); the scheduler advances it after each slice.

The DMA and the accelerators' streamers reserve their TCDM words too
(`reserve_stream`), at the cycles their transfers move them: cores then wait
behind those ports. The ports' own timing follows their models (a port is not
slowed down by cores), a simplification of the hardware's round-robin.

What is exact: a bank serves one access per cycle, so a contended phase lasts
as long as the bank's demand takes to serve, as on the hardware (the 8-cores-
on-one-bank test finishes within 10% of that bound). What is approximate: which
core waits. The hardware arbitrates round-robin, so contending cores slow down
together; here the first hart to run a quantum takes the cycles it asks for and
later ones wait behind it (first come, first served in simulation order), so
their finishing times form a staircase. A phase that ends at a barrier (the
usual PULP pattern) sees the same makespan either way.
"""
from __future__ import annotations

import ctypes

import numpy as np

from .. import native


class TcdmArbiter:
    def __init__(self, banks: int, horizon: int):
        self.banks = banks
        self.horizon = horizon
        self.busy = np.zeros(banks * (horizon // 64), dtype=np.uint64)
        self.retired = np.zeros(1, dtype=np.uint64)
        fn = native.lib().iss_tcdm_retire
        fn.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_uint64]
        fn.restype = None
        self._retire = fn
        rs = native.lib().iss_tcdm_reserve_words
        rs.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p,
                       ctypes.c_void_p, ctypes.c_uint32]
        rs.restype = ctypes.c_uint64
        self._reserve = rs
        self._args = (self.busy.ctypes.data, banks, horizon, self.retired.ctypes.data)
        self._next = horizon // 4

    def reserve_stream(self, addresses, start: int, bytes_per_cycle: int) -> int:
        """A port moves the TCDM bytes at `addresses` (in order) from cycle
        `start`, `bytes_per_cycle` a cycle: reserve their banks at those cycles.
        Returns how many cycles in all the port's words were pushed back."""
        addr = np.asarray(addresses, dtype=np.int64)
        if addr.size == 0:
            return 0
        words = addr >> 2
        keep = np.ones(words.size, dtype=bool)
        keep[1:] = words[1:] != words[:-1]             # one access per word moved
        words = words[keep]
        pos = np.nonzero(keep)[0]
        cycles = (start + (pos * 1) // max(1, bytes_per_cycle)).astype(np.uint64)
        words = words.astype(np.uint32)
        return int(self._reserve(self.busy.ctypes.data, self.banks, self.horizon, self.retired.ctypes.data,
                                 words.ctypes.data, cycles.ctypes.data, words.size))

    def retire(self, upto: int) -> None:
        """No hart will access a cycle before `upto` any more: free those slots.
        Done once a quarter of the window has passed (each call clears in bulk)."""
        if upto >= self._next:
            self._retire(*self._args, upto)
            self._next = upto + self.horizon // 4
