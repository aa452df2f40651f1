"""Cluster time: which hart runs next, for how long, and when peripherals act.

Policy: the running hart is always the one whose clock is furthest behind; it
runs until its clock reaches min(its clock + quantum, the next pending event), or
until it sleeps. So harts' clocks stay within one quantum (plus one translated
block) of each other, and no hart passes an event before it fires. A clock-gated
hart costs nothing; an event wakes it at the event's cycle.

Before each slice the TCDM arbiter settles every bank request below the
slowest running hart's clock and the next event (no requester can still reach
those cycles); which hart runs when, and for how long, changes no cycle count
(iss/timing/tcdm.py).

The loop itself runs in C (iss/native/sched.c) for as long as slices need
nothing from Python: no event due, no interrupt enabled on the hart picked, and
each slice ending at its budget without a Python hook (an MMIO access, a CSR,
mret/ebreak). Everything else comes back here at the point the Python loop
below would have handled it, so both loops make the same decisions (the Python
one alone runs under a debugger, and with `native_slices` off).
"""
from __future__ import annotations

import ctypes
import heapq
import itertools
from typing import TYPE_CHECKING, Callable

from unicorn import UcError

from . import native, unicorn_adapter
from .errors import CycleLimit, Deadlock
from .hart import State, Stop

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster


# How a user raises the cycle limit (the pytest plugin puts its own knobs here).
LIMIT_ADVICE = "raise it with --max-cycles"

# Slices the C loop runs before Python gets control back (progress, Ctrl-C).
NATIVE_SLICES = 64
UINT64_MAX = (1 << 64) - 1


class Scheduler:
    def __init__(self, cluster: "Cluster"):
        self.cluster = cluster
        self.events: list = []
        self._seq = itertools.count()
        self.time = 0            # the latest clock seen (cluster time between slices)
        self.firing: int | None = None   # the cycle of the event being fired
        self.solo = None         # the hart a debugger runs alone (the others frozen: not waited for)
        self.slices = 0          # how many times a hart was given the host (for benchmarks)
        self.progress: Callable[[int], None] | None = None
        # Set by a debugger (iss/gdb), also from its connection thread (Ctrl-C):
        # the run returns after the current slice, every hart at an instruction boundary.
        self.pause_request = None
        # Run slices in the C loop where they need nothing from Python (tests turn
        # it off to compare the two loops).
        self.native_slices = True
        self._native = None        # native.SchedState, built on first use
        self._in_native = False    # inside the C loop's call
        # (running, native_ok) bit masks for the C loop, None: to be worked out. Only
        # a hart sleeping or waking (Hart.sleep, wake) and what Python runs of a
        # hart (a slice, a slice's end: CSRs, mret, traps) change them.
        self._masks = None
        self.verify_masks = False  # tests: check the kept masks against the harts at every use

    def schedule(self, at: int, fn: Callable[[], None]) -> None:
        heapq.heappush(self.events, (int(at), next(self._seq), fn))

    def _fire_until(self, t: int) -> None:
        while self.events and self.events[0][0] <= t:
            at, _, fn = heapq.heappop(self.events)
            self.time = max(self.time, at)
            self.firing = at
            try:
                fn()
            finally:
                self.firing = None

    @property
    def now(self) -> int:
        """Cluster time outside hart slices: the cycle of the event being fired
        (not the latest clock, which depends on how far harts ran ahead)."""
        return self.firing if self.firing is not None else self.time

    def may_act(self, hart, at: int) -> bool:
        """Whether `hart` may make a peripheral access at cycle `at` now: every
        other running hart has passed that cycle (or stands at it with a higher
        id) and no event is due by then. Peripherals then see accesses in the
        order of simulated time, whatever the quantum."""
        if self.solo is not None:
            return True
        hid = hart.id
        for h in self.cluster.harts:
            if h is not hart and h.state is State.RUNNING:
                c = h.next_cycle
                if c < at or (c == at and h.id < hid):
                    return False
        return not (self.events and self.events[0][0] <= at)

    def others_clock(self, hart) -> int | None:
        """The clock of the running hart furthest behind, other than `hart`, among
        those that take no interrupt (None: none, or a debugger runs `hart` alone).
        A hart that takes interrupts stays behind them (Hart._interrupt_budget); two
        harts that both take interrupts may run up to a quantum apart, as they
        would otherwise have to run in lockstep, an instruction at a time."""
        if self.solo is not None:
            return None
        lead = None
        for h in self.cluster.harts:
            if h is not hart and h.state is State.RUNNING:
                if h.machine.interrupts_enabled:
                    continue
                c = h.next_cycle
                if lead is None or c < lead:
                    lead = c
        return lead

    def arbitration_bound(self, hart, at: int) -> int:
        """The first cycle a TCDM request may still arrive for, seen from `hart`
        about to issue an instruction at cycle `at`: no other running hart's clock,
        nor the next event, is below it."""
        bound = at
        for h in self.cluster.harts:
            if self.solo is None and h is not hart and h.state is State.RUNNING and h.next_cycle < bound:
                bound = h.next_cycle
        if self.events and self.events[0][0] < bound:
            bound = self.events[0][0]
        return bound

    def run(self, max_cycles: int) -> None:
        cluster = self.cluster
        harts = cluster.harts
        quantum = cluster.config.scheduler.quantum
        events = self.events
        running = State.RUNNING
        try:
            self._run(max_cycles, cluster, harts, quantum, events, running)
        finally:
            cluster.tcdm_arbiter.resolve()      # every wait counted, whatever stopped the run

    def _run(self, max_cycles, cluster, harts, quantum, events, running) -> None:
        arbitrate = cluster.tcdm_arbiter.resolve
        s = self._native_state() if self.native_slices and all(h.debug is None for h in harts) else None
        if s is not None:
            s.quantum, s.max_cycles = quantum, max_cycles or 0
        self._masks = None
        while cluster.exit_code is None:
            if s is not None:
                stop = self._native_slices(s)
                if stop is not None:
                    if stop is Stop.EXIT or self.pause_request is not None:
                        break
                    continue
                if s.event != UINT64_MAX:
                    # An event is due by the clock of the hart furthest behind (the
                    # C loop picked it as the code below would): fire, as below.
                    arbitrate(events[0][0])
                    self._fire_until(s.event)
                    continue
            # The running hart whose clock is furthest behind (lowest id on ties). A
            # hart that stopped to retry an instruction once the others pass its
            # cycle (Hart.ready_at) counts from that cycle, so they run first.
            hart, now = None, 0
            for h in harts:
                if h.state is running:
                    c = h.next_cycle
                    if hart is None or c < now:
                        hart, now = h, c
            if hart is None:
                if not events:
                    raise Deadlock(self._deadlock_message())
                arbitrate(events[0][0])
                self._fire_until(events[0][0])
                continue
            if events and events[0][0] <= now:
                arbitrate(events[0][0])
                self._fire_until(now)
                continue
            arbitrate(min(now, events[0][0]) if events else now)
            if max_cycles and now >= max_cycles:
                raise CycleLimit(self._limit_message(max_cycles))
            budget = now + quantum
            if events and events[0][0] < budget:
                budget = events[0][0]
            if max_cycles and max_cycles < budget:
                budget = max_cycles
            cluster.current = hart
            self._masks = None
            try:
                stop = hart.run(budget)
            finally:
                cluster.current = None
            if hart.native.cycles > self.time:
                self.time = hart.native.cycles
            self.slices += 1
            if self.progress is not None:
                self.progress(self.time)
            if stop is Stop.EXIT or self.pause_request is not None:
                break

    def _native_state(self):
        s = self._native
        if s is None:
            harts = self.cluster.harts
            if len(harts) > native.SCHED_HARTS:
                return None
            s = native.SchedState()
            s.n = len(harts)
            s.max_slices = NATIVE_SLICES
            s.arb = self.cluster.tcdm_arbiter.ptr
            for h in harts:
                s.harts[h.id] = ctypes.addressof(h.native)
                s.ucs[h.id] = unicorn_adapter.handle(h.uc)
            lib = native.lib()
            lib.iss_sched_run.argtypes = [ctypes.c_void_p]
            lib.iss_sched_run.restype = ctypes.c_int
            self._native, self._run_c, self._native_address = s, lib.iss_sched_run, ctypes.addressof(s)
        return s

    def _native_slices(self, s) -> Stop | None:
        """Run slices in the C loop (`s`: its state, quantum and limit set);
        returns the stop of a slice finished here (Hart.finish), or None when
        the Python loop must take the next step (s.event says if it is to fire
        the events due)."""
        s.event = UINT64_MAX
        if self._masks is None or self.verify_masks:
            masks = self._harts_masks()
            if self._masks is not None and masks != self._masks:
                raise AssertionError(f"scheduler: kept masks {self._masks} but the harts say {masks}")
            self._masks = masks
        running, native_ok = self._masks
        if not native_ok:
            return None
        s.running, s.native_ok = running, native_ok
        s.next_event = self.events[0][0] if self.events else UINT64_MAX
        s.time = self.time
        before = s.slices
        self._in_native = True
        try:
            result = self._run_c(self._native_address)
        finally:
            self._in_native = False
        self.time = s.time
        self.slices += s.slices - before
        stop = None
        if result == native.SCHED_FINISH:
            self._masks = None
            hart = self.cluster.harts[s.last]
            if not s.touched:
                hart.slice_started()
            raised = unicorn_adapter.take_hook_exception(hart.uc)
            error = UcError(s.err) if s.err else raised     # as the binding's emu_start raises them
            self.cluster.current = hart
            try:
                stop = hart.finish(s.blocks, error)
            finally:
                self.cluster.current = None
                if hart.native.cycles > self.time:
                    self.time = hart.native.cycles
        if self.progress is not None and s.slices != before:
            self.progress(self.time)
        return stop

    def _harts_masks(self) -> tuple[int, int]:
        """(running, native_ok): a bit per running hart, and per running hart
        whose slices the C loop may start (no interrupt enabled: Hart.run
        takes or waits for one at a slice's start)."""
        running = native_ok = 0
        for h in self.cluster.harts:
            if h.state is State.RUNNING:
                running |= 1 << h.id
                if not h.machine.interrupts_enabled:
                    native_ok |= 1 << h.id
        return running, native_ok

    def harts_changed(self) -> None:
        """A hart fell asleep or woke (Hart.sleep, wake)."""
        self._masks = None

    def hook_in_native_slice(self, hart) -> None:
        """A Python hook of `hart` runs in a slice the C loop started: the hart is
        the current one from now on, and the slice is finished in Python."""
        if not self._in_native:
            return
        s = self._native
        s.touched = 1
        hart.slice_started()
        self.cluster.current = hart

    def run_hart(self, hart, max_cycles: int = 0, step: bool = False) -> Stop:
        """One slice of `hart` alone, the others frozen (a debugger resuming one
        core, or its stepi with `step`: one instruction). The events due by the
        hart's clock fire first, as in `run`."""
        now = hart.native.cycles
        self._fire_until(now)
        if max_cycles and now >= max_cycles:
            raise CycleLimit(self._limit_message(max_cycles))
        budget = now + self.cluster.config.scheduler.quantum
        if self.events and self.events[0][0] < budget:
            budget = self.events[0][0]
        if max_cycles and max_cycles < budget:
            budget = max_cycles
        self.cluster.current = hart
        self.solo = hart
        try:
            stop = hart.run(budget, step=step)
        finally:
            self.cluster.current = None
            self.solo = None
        self.time = max(self.time, hart.native.cycles)
        self.slices += 1
        return stop

    def _deadlock_message(self) -> str:
        parts = [f"{h.where()} waiting for {h.waiting_for or 'an event'}" for h in self.cluster.harts]
        return "deadlock: every hart is asleep and no event is pending: " + "; ".join(parts)

    def _limit_message(self, limit: int) -> str:
        parts = [h.where() for h in self.cluster.harts if h.state is State.RUNNING]
        return f"cycle limit reached ({limit} cycles; {LIMIT_ADVICE}): " + "; ".join(parts)
