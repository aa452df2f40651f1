"""A progress line for long runs on a terminal: cluster cycles, simulated speed and
wall time, redrawn on stderr at most 5 times a second once the run has taken a
second. The caller turns it on only for a terminal (`enabled()`: stderr is a TTY
and CI is not set), so CI logs never see it. Driven by `cluster.scheduler.progress`,
which the scheduler calls with the cluster time after each slice."""
from __future__ import annotations

import os
import sys
import time


def enabled(stream=None) -> bool:
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("CI")


class ProgressLine:
    def __init__(self, cluster, stream=None, delay: float = 1.0, interval: float = 0.2):
        self.cluster = cluster
        self.stream = stream or sys.stderr
        self.delay, self.interval = delay, interval
        self.t0 = time.monotonic()
        self.next = self.t0 + delay
        self.shown = False
        self._chained = cluster.scheduler.progress
        cluster.scheduler.progress = self

    def __call__(self, now: int) -> None:
        if self._chained is not None:
            self._chained(now)
        t = time.monotonic()
        if t < self.next:
            return
        self.next = t + self.interval
        wall = t - self.t0
        rate = now / wall / 1e6 if wall > 0 else 0.0
        self.stream.write(f"\r[iss] {now:>14,} cycles  {rate:8.2f} Mcycles/s  {wall:7.1f} s ")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        self.cluster.scheduler.progress = self._chained
        if self.shown:
            self.stream.write("\r" + " " * 64 + "\r")
            self.stream.flush()
