"""Cluster controller: end of computation, fetch enable and boot addresses.

=======  ===========  ==========================================================
offset   register     behaviour
=======  ===========  ==========================================================
0x00     EOC          write: end the simulation; the value is the exit code
0x08     FETCH_EN     read/write: cores allowed to fetch. Without a fabric
                      controller all are, out of reset; with one (the program's
                      main runs on the FC) none are until the FC sets their
                      bits: a core then boots at its BOOT_ADDR (clearing a bit
                      of a core already started does not stop it)
0x40+4c  BOOT_ADDR c  read/write: where core c starts (the ELF entry out of reset)
0xF0     TRAP         write mcause: the runtime's default trap vector reports a
                      trap no handler took; the run ends with an error naming
                      the writing core's mepc (simulator register, not on PULP)
0x3F0    TCDM_SIZE    read: bytes of TCDM configured (simulator-specific: the
                      runtime's heaps end there)
0x3F4    L2_SIZE      read: bytes of L2 configured (simulator-specific)
0x3F8    CLOCK_KHZ    read: the cluster clock in kHz (simulator-specific: pi_time_*)
=======  ===========  ==========================================================
"""
from __future__ import annotations

from .base import Peripheral

# What a cluster core held off until fetch enable waits for (iss/cluster.py).
FETCH_WAIT = "fetch enable"


class ClusterCtrl(Peripheral):
    name = "cluster controller"
    size = 0x400
    registers = {0x00: "EOC", 0x08: "FETCH_EN", **{0x40 + 4 * c: f"BOOT_ADDR{c}" for c in range(8)},
                 0xF0: "TRAP", 0x3F0: "TCDM_SIZE", 0x3F4: "L2_SIZE", 0x3F8: "CLOCK_KHZ"}

    def __init__(self, cluster):
        # The cluster's own controller: it ends the run and reports the cluster's
        # configuration, so it is connected to the cluster itself.
        self.cluster = cluster
        self.fetch_en = (1 << cluster.config.cluster.cores) - 1
        self.boot_addr = [cluster.entry] * 8

    def read(self, hart, offset, size):
        if offset == 0x00:
            return 0 if self.cluster.exit_code is None else 1
        if offset == 0x08:
            return self.fetch_en
        if 0x40 <= offset < 0x60:
            return self.boot_addr[(offset - 0x40) // 4]
        if offset == 0x3F0:
            return self.cluster.config.memory.tcdm_size
        if offset == 0x3F4:
            return self.cluster.config.memory.l2_size
        if offset == 0x3F8:
            return round(self.cluster.config.cluster.clock_mhz * 1000)
        return super().read(hart, offset, size)

    def peek(self, core, offset, size):
        # Every register here reads without side effect.
        if offset in (0x00, 0x08) or 0x40 <= offset < 0x60:
            return self.read(None, offset, size)
        return None

    def write(self, hart, offset, size, value):
        if offset == 0x00:
            self.cluster.finish(value, hart)
        elif offset == 0x08:
            self._fetch_enable(value)
        elif 0x40 <= offset < 0x60:
            self.boot_addr[(offset - 0x40) // 4] = value
        elif offset == 0xF0 and hasattr(hart, "report_unhandled_trap"):
            raise hart.report_unhandled_trap(value)
        else:
            super().write(hart, offset, size, value)

    def _fetch_enable(self, value: int) -> None:
        """Cores whose bit rises and that wait, held off, for fetch enable boot
        at their BOOT_ADDR now (the fabric controller powering the cluster up)."""
        harts = self.cluster.harts
        rising = value & ~self.fetch_en
        self.fetch_en = value & 0xFFFFFFFF
        now = self.cluster.now
        for c in range(min(8, self.cluster.config.cluster.cores)):
            h = harts[c] if c < len(harts) else None
            if rising >> c & 1 and h is not None and h is not self.cluster.fc and h.waiting_for.startswith(FETCH_WAIT):
                h.pc = self.boot_addr[c]
                h.wake(now)
