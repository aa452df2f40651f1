"""The control block every hardware processing engine (HWPE) of the cluster
shares, as PULP's hwpe-ctrl does: the IMA (ima.py) and the DWA (dwa.py) put their
own job registers after it.

    0x00 TRIGGER        write: start the programmed job (stalls while busy)
    0x04 ACQUIRE        read: 0 and the engine is the reader's, or -1 (busy or another core's)
    0x08 FINISHED_JOBS  read: jobs ended since the last read (cleared by the read)
    0x0C STATUS         read: 1 while a job runs
    0x10 RUNNING_TASK   read: 0 while acquired or running, else -1
    0x14 SOFT_CLEAR     write: abandon the running job; the engine is free again

A core that touches the engine while it is busy, where the model says it must
wait, sleeps until the engine is idle and retries the access (`stall`). A job's
completions are events on the cluster clock; SOFT_CLEAR bumps `gen`, and a
completion scheduled before it sees a different `gen` and does nothing.
"""
from __future__ import annotations

from ..sleep import SleepKind
from .base import WAIT, Peripheral

TRIGGER = 0x00
ACQUIRE = 0x04
FINISHED_JOBS = 0x08
STATUS = 0x0C
RUNNING_TASK = 0x10
SOFT_CLEAR = 0x14
#: The control registers only reads give (ACQUIRE locks, FINISHED_JOBS clears).
READ_ONLY = frozenset({ACQUIRE, FINISHED_JOBS, STATUS, RUNNING_TASK})

NOT_ACQUIRED = 0xFFFFFFFF


class Hwpe(Peripheral):
    """An engine with the HWPE control block. A model says when it is `busy`,
    starts its work in `trigger(hart)`, calls `end_job(end)` when its last job
    ends, and handles its own registers (`read_register`, `write_register`);
    `idle_text` says what a stalled core waits for."""

    idle_text = "it is idle"
    read_only = READ_ONLY

    def __init__(self, clock, done_line):
        self.clock = clock
        self.done_line = done_line   # its end-of-job event line
        self.owner = None            # core holding the engine (ACQUIRE)
        self.gen = 0                 # bumped by SOFT_CLEAR: stale callbacks ignore themselves
        self.stalled = []            # harts sleeping until the engine is idle
        self.finished = 0            # FINISHED_JOBS
        self.jobs_done = 0           # statistics (the energy model reads them)

    @property
    def busy(self) -> bool:
        raise NotImplementedError

    def trigger(self, hart) -> None:
        raise NotImplementedError

    def read(self, hart, offset, size):
        self.check_access(offset, size)
        value = self.read_control(hart, offset)
        return self.read_register(hart, offset) if value is None else value

    def read_register(self, hart, offset):
        return self.regs[offset]

    def write(self, hart, offset, size, value):
        self.check_access(offset, size)
        value &= 0xFFFFFFFF
        if offset == SOFT_CLEAR:
            self.soft_clear()
            return None
        if offset == TRIGGER:
            if self.busy:
                return self.stall(hart, "TRIGGER")
            self.trigger(hart)
            return None
        if offset in self.read_only:
            raise self.error(offset, "register is read-only")
        return self.write_register(hart, offset, value)

    def write_register(self, hart, offset, value):
        self.regs[offset] = value

    def read_control(self, hart, offset: int):
        """The value of control register `offset`, or None if it is not one
        this block answers on reads."""
        if offset == ACQUIRE:
            if not self.busy and self.owner in (None, hart.id):
                self.owner = hart.id
                self.acquired()
                return 0
            return NOT_ACQUIRED
        if offset == FINISHED_JOBS:
            n, self.finished = self.finished, 0
            return n
        if offset == STATUS:
            return int(self.busy)
        if offset == RUNNING_TASK:
            return 0 if (self.busy or self.owner is not None) else NOT_ACQUIRED
        return None

    def acquired(self) -> None:
        """Called when a core acquires the engine (the IMA tracks it in its state)."""

    def release(self) -> None:
        """The engine is free: no job, no owner."""
        self.owner = None

    def soft_clear(self) -> None:
        self.gen += 1
        self.release()
        self.wake_stalled(self.clock.now)

    def stall(self, hart, what: str):
        """Put the accessing core to sleep until the engine is idle; the access is retried."""
        hart.sleep(f"{self.name} busy ({what} stalls until {self.idle_text})", SleepKind.ACCELERATOR)
        if hart not in self.stalled:
            self.stalled.append(hart)
        return WAIT

    def wake_stalled(self, at: int) -> None:
        stalled, self.stalled = self.stalled, []
        for h in stalled:
            h.wake(at)

    def end_job(self, end: int) -> None:
        """The work a TRIGGER started ended at cycle `end`: the engine is free,
        its event line rises, the stalled cores retry."""
        self.release()
        self.done_line(end)
        self.wake_stalled(end)
