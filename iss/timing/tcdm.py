"""TCDM bank arbitration shared by every hart (and, later, the DMA and
accelerator ports).

Banks are word-interleaved: bank = (address / 4) % banks. Each bank serves one
access per cycle; an access to a bank already taken in that cycle waits for the
first free cycle (counted as TCDM contention). The native helper keeps one bit per
bank and cycle over a circular window starting at the oldest cycle any running
hart can still access (`retired`); the scheduler advances it after each slice.

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
        self._args = (self.busy.ctypes.data, banks, horizon, self.retired.ctypes.data)
        self._next = horizon // 4

    def retire(self, upto: int) -> None:
        """No hart will access a cycle before `upto` any more: free those slots.
        Done once a quarter of the window has passed (each call clears in bulk)."""
        if upto >= self._next:
            self._retire(*self._args, upto)
            self._next = upto + self.horizon // 4
