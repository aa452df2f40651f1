"""The PULP address map: where TCDM, L2 and the peripheral windows live.

TCDM and L2 are numpy buffers mapped into every hart's engine (`mem_map_ptr`),
so a store by one hart is visible to the others at once. Peripheral windows are
MMIO: an access calls the owning model (iss/periph/).
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from .config import Config
from .errors import MemoryFault

TCDM_BASE = 0x1000_0000
CLUSTER_PERIPH_BASE = 0x1020_0000   # ctrl +0x000, timer +0x400, event unit +0x800, HWPE +0x1000, DMA +0x1800
CLUSTER_PERIPH_SIZE = 0x4000
DEMUX_BASE = 0x1020_4000            # core-private views: event unit +0x000, DMA +0x400
DEMUX_SIZE = 0x1000               # (Unicorn maps whole 4 KiB pages)
ACCEL_BASE = 0x1021_0000            # further accelerator instances (multi-IMA), 0x100 apart
ACCEL_SIZE = 0x1_0000
L2_BASE = 0x1C00_0000
SOC_PERIPH_BASE = 0x1A10_0000       # stdout at +0xF000
SOC_PERIPH_SIZE = 0x1_0000

# Offsets of the cluster peripherals inside CLUSTER_PERIPH_BASE
CTRL_OFFSET = 0x000
TIMER_OFFSET = 0x400
EU_OFFSET = 0x800
HWPE_OFFSET = 0x1000
DMA_OFFSET = 0x1800
STDOUT_OFFSET = 0xF000              # inside SOC_PERIPH_BASE


class _Wait:
    """What a peripheral's `read`/`write` returns to put the accessing hart to
    sleep. The access is retried, from the same instruction, when an event wakes
    the hart; the model must make the retry free of repeated side effects."""

    def __repr__(self) -> str:
        return "WAIT"


WAIT = _Wait()


@dataclass
class Window:
    """A peripheral placed in the address map."""
    base: int
    periph: object

    @property
    def end(self) -> int:
        return self.base + self.periph.size


class Memory:
    def __init__(self, config: Config):
        m = config.memory
        self.config = config
        # Word-aligned host buffers; the engines map these very bytes.
        self.tcdm = np.zeros(m.tcdm_size, dtype=np.uint8)
        self.l2 = np.zeros(m.l2_size, dtype=np.uint8)
        self.tcdm_base, self.tcdm_end = TCDM_BASE, TCDM_BASE + m.tcdm_size
        self.l2_base, self.l2_end = L2_BASE, L2_BASE + m.l2_size
        self.windows: list[Window] = []   # shared windows (cluster and SoC peripherals), by base
        self._window_bases: list[int] = []   # their bases, for bisect (34 IMAs make 40 windows)
        self.private: list[Window] = []   # per-core demux windows (offset from DEMUX_BASE)
        # Told of RAM written other than by a hart's store (DMA): fn(addr, size).
        # The code image redecodes rewritten code (iss/hart.py CodeImage.written).
        self.write_listeners: list = []

    # -- RAM ------------------------------------------------------------------
    def region(self, addr: int, size: int = 1):
        """(buffer, offset) for a RAM range, or None if it is not all in one RAM."""
        if self.tcdm_base <= addr and addr + size <= self.tcdm_end:
            return self.tcdm, addr - self.tcdm_base
        if self.l2_base <= addr and addr + size <= self.l2_end:
            return self.l2, addr - self.l2_base
        return None

    def written(self, addr: int, size: int) -> None:
        """A port other than a hart's (the DMA) wrote RAM [addr, addr + size)."""
        for fn in self.write_listeners:
            fn(addr, size)

    def view(self, addr: int, size: int, what: str = "access") -> np.ndarray:
        """A writable uint8 view of RAM [addr, addr+size); MemoryFault outside."""
        r = self.region(addr, size)
        if r is None:
            raise MemoryFault(f"{what} of {size} bytes at 0x{addr:08x} is outside TCDM and L2")
        buf, off = r
        return buf[off:off + size]

    def read(self, addr: int, size: int) -> bytes:
        return self.view(addr, size, "read").tobytes()

    def write(self, addr: int, data: bytes) -> None:
        self.view(addr, len(data), "write")[:] = np.frombuffer(bytes(data), dtype=np.uint8)

    def read_u32(self, addr: int) -> int:
        return int.from_bytes(self.read(addr, 4), "little")

    def write_u32(self, addr: int, value: int) -> None:
        self.write(addr, (value & 0xFFFFFFFF).to_bytes(4, "little"))

    def describe(self, addr: int) -> str:
        if self.region(addr):
            return "TCDM" if addr < self.tcdm_end else "L2"
        w = self.window_at(addr)
        if w is not None:
            return w.periph.name
        return "unmapped"

    # -- peripherals ----------------------------------------------------------
    def attach(self, base: int, periph) -> None:
        for w in self.windows:
            if base < w.end and w.base < base + periph.size:
                raise ValueError(f"{periph.name} at 0x{base:x} overlaps {w.periph.name}")
        self.windows.append(Window(base, periph))
        self.windows.sort(key=lambda w: w.base)
        self._window_bases = [w.base for w in self.windows]

    def attach_private(self, offset: int, periph) -> None:
        self.private.append(Window(offset, periph))

    def io_read(self, hart, addr: int, size: int):
        """A hart's load from a peripheral window; may return WAIT."""
        w, off = self._io_window(hart, addr, size, "load from")
        hart.retrying = hart.retry_addr == addr
        value = w.periph.read(hart, off, size)
        hart.retry_addr = addr if value is WAIT else None
        return value

    def io_write(self, hart, addr: int, size: int, value: int):
        w, off = self._io_window(hart, addr, size, "store to")
        hart.retrying = hart.retry_addr == addr
        r = w.periph.write(hart, off, size, value)
        hart.retry_addr = addr if r is WAIT else None
        return r

    def _io_window(self, hart, addr: int, size: int, what: str):
        at = self.locate(addr)
        if at is None:
            raise MemoryFault(f"{what} unmapped address 0x{addr:08x} ({size} bytes, no peripheral there)")
        return at

    def locate(self, addr: int):
        """(the peripheral window at `addr`, the offset of `addr` in it), or None."""
        i = bisect.bisect_right(self._window_bases, addr) - 1   # windows do not overlap (attach)
        if i >= 0 and addr < self.windows[i].end:
            w = self.windows[i]
            return w, addr - w.base
        if DEMUX_BASE <= addr < DEMUX_BASE + DEMUX_SIZE:
            off = addr - DEMUX_BASE
            for w in self.private:
                if w.base <= off < w.end:
                    return w, off - w.base
        return None

    def window_at(self, addr: int):
        at = self.locate(addr)
        return at[0] if at is not None else None
