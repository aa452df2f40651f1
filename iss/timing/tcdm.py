"""TCDM bank arbitration shared by every hart (and, later, the DMA and
accelerator ports).

Banks are word-interleaved: bank = (address / 4) % banks. Each bank serves one
access per cycle; an access to a bank already taken in that cycle waits for the
first free cycle (counted as TCDM contention). The native helper keeps one bit per
bank and cycle over a circular window starting at the oldest cycle any running
hart can still access (`retired`); the scheduler advances it after each slice.

Arbitration is first come, first served in simulation order: within one
scheduler quantum a hart that runs first takes the cycles it asks for, and harts
that run later that quantum wait behind it. Over symmetric workloads this gives
the same total contention as the hardware's round-robin; individual accesses may
be ordered differently (bounded by the quantum).
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
        self._lib = native.lib()

    def retire(self, upto: int) -> None:
        """No hart will access a cycle before `upto` any more: free those slots."""
        self._lib.iss_tcdm_retire(ctypes.c_void_p(self.busy.ctypes.data), ctypes.c_uint32(self.banks),
                                  ctypes.c_uint32(self.horizon), ctypes.c_void_p(self.retired.ctypes.data),
                                  ctypes.c_uint64(upto))
