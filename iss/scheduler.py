"""Cluster time: which hart runs next, for how long, and when peripherals act.

Policy: the running hart is always the one whose clock is furthest behind; it
runs until its clock reaches min(its clock + quantum, the next pending event), or
until it sleeps. So harts' clocks stay within one quantum (plus one translated
block) of each other, and no hart passes an event before it fires. A clock-gated
hart costs nothing; an event wakes it at the event's cycle.
"""
from __future__ import annotations

import heapq
import itertools
from typing import TYPE_CHECKING, Callable

from .errors import CycleLimit, Deadlock
from .hart import State, Stop

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster


class Scheduler:
    def __init__(self, cluster: "Cluster"):
        self.cluster = cluster
        self.events: list = []
        self._seq = itertools.count()
        self.time = 0            # cluster time outside hart slices (event firing)
        self.slices = 0          # how many times a hart was given the host (for benchmarks)
        self.progress: Callable[[int], None] | None = None
        # Set by a debugger (iss/gdb), also from its connection thread (Ctrl-C):
        # the run returns after the current slice, every hart at an instruction boundary.
        self.pause_request = None

    def schedule(self, at: int, fn: Callable[[], None]) -> None:
        heapq.heappush(self.events, (int(at), next(self._seq), fn))

    def _fire_until(self, t: int) -> None:
        while self.events and self.events[0][0] <= t:
            at, _, fn = heapq.heappop(self.events)
            self.time = max(self.time, at)
            fn()

    def run(self, max_cycles: int) -> None:
        cluster = self.cluster
        harts = cluster.harts
        quantum = cluster.config.scheduler.quantum
        events = self.events
        running = State.RUNNING
        while cluster.exit_code is None:
            # The running hart whose clock is furthest behind (lowest id on ties).
            hart, now = None, 0
            for h in harts:
                if h.state is running:
                    c = h.native.cycles
                    if hart is None or c < now:
                        hart, now = h, c
            if hart is None:
                if not events:
                    raise Deadlock(self._deadlock_message())
                self._fire_until(events[0][0])
                continue
            if events and events[0][0] <= now:
                self._fire_until(now)
                continue
            if max_cycles and now >= max_cycles:
                raise CycleLimit(self._limit_message(max_cycles))
            budget = now + quantum
            if events and events[0][0] < budget:
                budget = events[0][0]
            if max_cycles and max_cycles < budget:
                budget = max_cycles
            cluster.current = hart
            try:
                stop = hart.run(budget)
            finally:
                cluster.current = None
            if hart.native.cycles > self.time:
                self.time = hart.native.cycles
            self.slices += 1
            # No running hart can access a TCDM cycle before the slowest one's clock,
            # which was `now` (this hart's, before it ran) or later.
            cluster.tcdm_arbiter.retire(now)
            if self.progress is not None:
                self.progress(self.time)
            if stop is Stop.EXIT or self.pause_request is not None:
                break

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
        try:
            stop = hart.run(budget, step=step)
        finally:
            self.cluster.current = None
        self.time = max(self.time, hart.native.cycles)
        self.slices += 1
        return stop

    def _deadlock_message(self) -> str:
        parts = [f"{h.where()} waiting for {h.waiting_for or 'an event'}" for h in self.cluster.harts]
        return "deadlock: every hart is asleep and no event is pending: " + "; ".join(parts)

    def _limit_message(self, limit: int) -> str:
        parts = [h.where() for h in self.cluster.harts if h.state is State.RUNNING]
        return f"cycle limit reached ({limit} cycles; raise it with --max-cycles): " + "; ".join(parts)
