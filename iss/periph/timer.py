"""The cluster timer: PULP's timer_unit (register map of GVSoC's timer_v2 model),
at cluster peripherals +0x400 (archi.h ARCHI_TIMER_BASE; driver: timer.h).

=======  =========  ==============================================================
offset   register   behaviour
=======  =========  ==============================================================
0x00     CFG_LO     ENABLE 0, RESET 1 (write 1: counter to 0), IRQEN 2, IEM 3,
                    MODE 4 (1: back to 0 on match), ONE_S 5 (stop on match),
                    PEN 6 (prescaler), CCFG 7 (count the reference clock),
                    PVAL 15:8 (one count per PVAL+1 cycles), CASC 31 (64-bit)
0x04     CFG_HI     the same for the HI counter (no CASC)
0x08     CNT_LO     counter (r/w); with CASC the low half of the 64-bit counter
0x0C     CNT_HI     counter (r/w); with CASC the high half
0x10     CMP_LO     compare value (with CASC: low half of a 64-bit compare)
0x14     CMP_HI     compare value (with CASC: high half)
0x18     START_LO   write: set CFG_LO.ENABLE          0x1C START_HI: the same for HI
0x20     RESET_LO   write: counter LO to 0            0x24 RESET_HI: the same for HI
=======  =========  ==============================================================

A counter counts cluster cycles (or prescaled ones, or reference-clock ticks)
while enabled. When it equals its compare value: with IRQEN it raises its event
line (LO: event 10, HI: event 11; with CASC the one 64-bit counter uses line 10)
on every core at that cycle; with MODE it restarts from 0 (a period of CMP
counts, as GVSoC models it), with ONE_S it stops, else it keeps counting and
matches again after wrapping. The model keeps no per-cycle state: a counter is
(value, cycle it had that value), and the next match is an event on the
cluster's clock.

Connections (given when built, GVSoC-style): `now()` the accessing core's cycle,
`schedule(cycle, fn)` the cluster clock, `lines` one event line per
counter (`line(cycle)`), the cluster and reference clock frequencies.
"""
from __future__ import annotations

from typing import Callable

from ..memory import CLUSTER_PERIPH_BASE, TIMER_OFFSET
from .base import Peripheral

REGISTERS = {0x00: "CFG_LO", 0x04: "CFG_HI", 0x08: "CNT_LO", 0x0C: "CNT_HI", 0x10: "CMP_LO", 0x14: "CMP_HI",
             0x18: "START_LO", 0x1C: "START_HI", 0x20: "RESET_LO", 0x24: "RESET_HI"}

CFG_ENABLE = 1 << 0
CFG_RESET = 1 << 1
CFG_IRQEN = 1 << 2
CFG_IEM = 1 << 3
CFG_MODE = 1 << 4
CFG_ONE_S = 1 << 5
CFG_PEN = 1 << 6
CFG_CCFG = 1 << 7
CFG_PVAL_SHIFT = 8
CFG_CASC = 1 << 31
_CFG_KEPT = CFG_ENABLE | CFG_IRQEN | CFG_IEM | CFG_MODE | CFG_ONE_S | CFG_PEN | CFG_CCFG | (0xFF << CFG_PVAL_SHIFT)

EVT_TIMER0, EVT_TIMER1 = 10, 11


class _Counter:
    def __init__(self):
        self.cfg = 0
        self.cmp = 0
        self.value = 0          # the count at cycle `since`
        self.since = 0
        self.enabled = False
        self.generation = 0     # bumped on every change: older match events are stale


class Timer(Peripheral):
    name = "timer"
    size = 0x400
    registers = REGISTERS

    def __init__(self, now: Callable[[], int], schedule: Callable[[int, Callable[[], None]], None],
                 lines: list, clock_hz: float, ref_clock_hz: float):
        self._now = now
        self._schedule = schedule
        self.lines = lines
        self.clock_hz = clock_hz
        self.ref_clock_hz = ref_clock_hz
        self.counters = [_Counter(), _Counter()]
        self.matches = [0, 0]   # compare matches so far (statistics)

    # -- counting ------------------------------------------------------------------
    @property
    def cascaded(self) -> bool:
        return bool(self.counters[0].cfg & CFG_CASC)

    def _bits(self, k: int) -> int:
        return 64 if k == 0 and self.cascaded else 32

    def _rate(self, k: int) -> tuple[int, int]:
        """Counts per cycle as (num, den): count(t) = floor(t * num / den)."""
        cfg = self.counters[k].cfg
        if cfg & CFG_CCFG:
            return int(self.ref_clock_hz), int(self.clock_hz)
        if cfg & CFG_PEN:
            return 1, ((cfg >> CFG_PVAL_SHIFT) & 0xFF) + 1
        return 1, 1

    def _value_at(self, k: int, t: int) -> int:
        c = self.counters[k]
        if not c.enabled or t <= c.since:
            return c.value
        num, den = self._rate(k)
        return (c.value + (t - c.since) * num // den) % (1 << self._bits(k))

    def _rebase(self, k: int, t: int) -> None:
        c = self.counters[k]
        c.value = self._value_at(k, t)
        c.since = t

    def _compare(self, k: int) -> int:
        if k == 0 and self.cascaded:
            return (self.counters[1].cmp << 32) | self.counters[0].cmp
        return self.counters[k].cmp

    def _arm(self, k: int, t: int) -> None:
        """Schedule counter k's next compare match from cycle t (where it is rebased)."""
        c = self.counters[k]
        c.generation += 1
        if not c.enabled or not c.cfg & (CFG_IRQEN | CFG_MODE | CFG_ONE_S) or (k == 1 and self.cascaded):
            return
        if c.value == self._compare(k):
            self._match(k, t, c.generation)
            return
        span = (self._compare(k) - c.value) % (1 << self._bits(k))
        num, den = self._rate(k)
        at = c.since + -(-span * den // num)          # first cycle the count reaches the compare value
        gen = c.generation
        self._schedule(at, lambda: self._match(k, at, gen))

    def _match(self, k: int, t: int, generation: int) -> None:
        c = self.counters[k]
        if generation != c.generation:
            return
        self._rebase(k, t)
        self.matches[k] += 1
        if c.cfg & CFG_MODE:
            c.value = 0
        if c.cfg & CFG_IRQEN:
            self.lines[k](t)
        if c.cfg & CFG_ONE_S:
            c.enabled = False
            c.generation += 1
            return
        # The next match: a full period later (MODE), or after wrapping.
        c.generation += 1
        span = self._compare(k) if c.cfg & CFG_MODE else 0
        span = span or (1 << self._bits(k))
        num, den = self._rate(k)
        at = t + -(-span * den // num)
        gen = c.generation
        self._schedule(at, lambda: self._match(k, at, gen))

    # -- registers --------------------------------------------------------------------
    def read(self, hart, offset, size):
        self.check_access(offset, size)
        now = self._now()
        k = (offset >> 2) & 1
        c = self.counters[k]
        if offset in (0x00, 0x04):
            return (c.cfg & ~CFG_ENABLE) | (CFG_ENABLE if c.enabled else 0)
        if offset in (0x08, 0x0C):
            if self.cascaded:
                return (self._value_at(0, now) >> (32 * k)) & 0xFFFFFFFF
            return self._value_at(k, now)
        if offset in (0x10, 0x14):
            return c.cmp
        return 0

    def write(self, hart, offset, size, value):
        self.check_access(offset, size)
        now = self._now()
        value &= 0xFFFFFFFF
        k = (offset >> 2) & 1
        if offset in (0x18, 0x1C):
            return self._configure(k, self.counters[k].cfg | CFG_ENABLE, now)
        if offset in (0x20, 0x24):
            return self._configure(k, self.counters[k].cfg | CFG_RESET | (CFG_ENABLE if self.counters[k].enabled
                                                                          else 0), now)
        if offset in (0x00, 0x04):
            return self._configure(k, value, now)
        j = 0 if self.cascaded else k        # the counter the register belongs to
        self._rebase(j, now)
        c = self.counters[j]
        if offset in (0x08, 0x0C):
            if self.cascaded:
                shift = 32 * k
                c.value = (c.value & ~(0xFFFFFFFF << shift)) | (value << shift)
            else:
                c.value = value
        else:
            self.counters[k].cmp = value
        self._arm(j, now)

    def _configure(self, k: int, cfg: int, now: int) -> None:
        self._rebase(k, now)
        c = self.counters[k]
        c.enabled = bool(cfg & CFG_ENABLE)
        if cfg & CFG_RESET:
            c.value = 0
        c.cfg = cfg & (_CFG_KEPT | (CFG_CASC if k == 0 else 0))
        c.since = now
        self._arm(k, now)


def install(wiring) -> Timer:
    """Build the timer, its two event lines reaching every core (PULP's
    cluster_event_map), and place it at cluster peripherals +0x400."""
    clock, cfg = wiring.clock, wiring.config
    t = Timer(lambda: clock.now, clock.schedule, [wiring.event_line(EVT_TIMER0), wiring.event_line(EVT_TIMER1)],
              clock_hz=cfg.cluster.clock_mhz * 1e6, ref_clock_hz=cfg.machine.timer_ref_clock_hz)
    wiring.attach(CLUSTER_PERIPH_BASE + TIMER_OFFSET, t)
    return t
