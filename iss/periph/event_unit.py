"""The cluster event unit (PULP eu_v3 layout): event masks and buffers per core,
clock-gating waits, hardware barriers, the team-fork dispatch FIFO, mutexes and
software events.

Register layout, as a core sees it in its private window (demux 0x1020_4000) and
in the shared window (cluster peripherals +0x800, same offsets, the accessing
core's view):

==========  ===================  =====================================================
offset      register             behaviour
==========  ===================  =====================================================
0x00        MASK                 events that end a wait (r/w)
0x04        MASK_AND             write: clear these mask bits
0x08        MASK_OR              write: set these mask bits
0x0C        IRQ_MASK             events that raise the core's interrupt line of the
                                 same number (r/w); 0x10 IRQ_MASK_AND, 0x14 IRQ_MASK_OR
0x24        BUFFER_IRQ_MASKED    read: pending & IRQ mask (the lines raised)
0x18        STATUS               read: 1 (the core is running when it can read)
0x1C        BUFFER               read: pending events
0x20        BUFFER_MASKED        read: pending & mask
0x28        BUFFER_CLEAR         write: clear these pending bits
0x38        EVENT_WAIT           read: sleep until pending & mask, return it
0x3C        EVENT_WAIT_CLEAR     as EVENT_WAIT, then clear those pending bits
0x80        DISPATCH_FIFO        write: push a word to every core of the team;
                                 read: pop this core's next word (sleeps until one)
0x84        DISPATCH_TEAM        write: the team (core mask) later pushes go to
0xC0+4m     MUTEX m (m < 8)      read: take the lock (sleeps until free), returns 0;
                                 write: release
0x100+4e    SW_EVENT e (e < 8)   write core mask: raise software event line e there
0x200+0x20b barrier b (b < 8):   +0x00 TRIG_MASK (cores that must arrive), +0x04 STATUS
                                 (cores arrived), +0x0C TARGET_MASK (cores notified),
                                 +0x10 TRIGGER (write core mask: those arrive),
                                 +0x14 TRIGGER_SELF (read/write: this core arrives),
                                 +0x18 TRIGGER_WAIT (read: arrive, wait for the barrier
                                 event), +0x1C TRIGGER_WAIT_CLEAR (also clears it)
==========  ===================  =====================================================

The fabric controller (programs whose main runs on it, iss/cluster.py) has a
slot of its own after the cluster cores, with the same registers, reached at
the same addresses from the FC (as GAP-class chips give the FC an event unit of
the cluster's layout): it sleeps there while the cluster works. Bit 31 of a
SW_EVENT core mask targets the FC (PULP routes the cluster's notification to
the FC as a SoC event: one bit here); the runtime uses software event 7 for
offload (firmware/runtime/cluster.c).

Event lines: software 0-7, DMA 8/9, timer 10/11, accelerators 12-15, barrier 16,
mutex 17, dispatch 18. A completed barrier raises line 16 on its target cores
`barrier_latency` cycles after the last arrival; a woken core resumes
`wakeup_latency` cycles after its event.

An event becomes visible in a core's buffer at its cycle: a core that runs
behind the one that raised it (harts take turns by quanta) does not see it
early when it polls; a sleeping core wakes at the event's cycle.

Interrupts (as PULP's eu_v3 drives a core's irq lines): a pending event whose
bit is set in the core's IRQ mask raises the core's interrupt line of that
number (iss/machine.py lists the lines the core has); taking the interrupt
acknowledges it, which clears the event. A core asleep in a wait (EVENT_WAIT, a
barrier, a mutex, the dispatch FIFO, cv.elw, wfi) wakes for an interrupt it
would take, runs the handler, and its waiting access is retried after mret.

EVENT_WAIT sleeps on the core's mask. The blocking reads of a barrier, a mutex
and the dispatch FIFO wake on their own event whatever the mask, and consume it
(the barrier's TRIGGER_WAIT leaves it pending), so a stale event of one kind
never ends a wait of another.
"""
from __future__ import annotations

from collections import deque

from ..sleep import SleepKind
from .base import WAIT, Peripheral

EVT_BARRIER = 16
EVT_MUTEX = 17
EVT_DISPATCH = 18
FC_MASK_BIT = 31        # SW_EVENT core-mask bit that targets the fabric controller
N_BARRIERS = 8
N_MUTEXES = 8

REGISTERS = {0x00: "MASK", 0x04: "MASK_AND", 0x08: "MASK_OR", 0x0C: "IRQ_MASK", 0x10: "IRQ_MASK_AND",
             0x14: "IRQ_MASK_OR", 0x18: "STATUS", 0x1C: "BUFFER", 0x20: "BUFFER_MASKED", 0x24: "BUFFER_IRQ_MASKED",
             0x28: "BUFFER_CLEAR", 0x38: "EVENT_WAIT", 0x3C: "EVENT_WAIT_CLEAR",
             0x80: "DISPATCH_FIFO", 0x84: "DISPATCH_TEAM"}
REGISTERS.update({0xC0 + 4 * m: f"MUTEX{m}" for m in range(N_MUTEXES)})
REGISTERS.update({0x100 + 4 * e: f"SW_EVENT{e}" for e in range(8)})
for _b in range(N_BARRIERS):
    for _o, _n in ((0x00, "TRIG_MASK"), (0x04, "STATUS"), (0x0C, "TARGET_MASK"), (0x10, "TRIGGER"),
                   (0x14, "TRIGGER_SELF"), (0x18, "TRIGGER_WAIT"), (0x1C, "TRIGGER_WAIT_CLEAR")):
        REGISTERS[0x200 + 0x20 * _b + _o] = f"BARRIER{_b}_{_n}"


_DMA_LINES = (1 << 8) | (1 << 9)
_ACCEL_LINES = 0xF << 12


def _wait_kind(mask: int) -> SleepKind:
    """What a core waiting on `mask` waits for, for profiles: the DMA or an
    accelerator when only their event lines can wake it."""
    if mask and not mask & ~_DMA_LINES:
        return SleepKind.DMA
    if mask and not mask & ~_ACCEL_LINES:
        return SleepKind.ACCELERATOR
    if mask and not mask & ~(_DMA_LINES | _ACCEL_LINES):
        return SleepKind.ACCELERATOR
    return SleepKind.EVENT


class Barrier:
    def __init__(self):
        self.trig_mask = 0
        self.target_mask = 0
        self.arrived = 0


class EventUnit(Peripheral):
    name = "event unit"
    size = 0x400
    registers = REGISTERS

    def __init__(self, config, clock, fc: bool = False):
        """Connected to the cluster's clock now and to its cores (`harts`,
        indexed by core id) once they are built (`connect_cores`). `fc`: the
        cluster has a fabric controller, whose slot follows the cores."""
        n = config.cluster.cores
        self.clock = clock
        self.harts: list = []          # the cores it wakes and raises interrupt lines of
        self.cores = n
        self.all_cores = (1 << n) - 1
        # The fabric controller's slot, after the cores (None: no FC).
        self.fc_slot = n if fc else None
        slots = self.slots = n + (self.fc_slot is not None)
        self.mask = [0] * slots
        self.irq_mask = [0] * slots
        self.buffer = [0] * slots
        self.future = [[] for _ in range(slots)]  # (cycle, bit): raised, not yet visible to that core
        self.wake_bits = [0] * slots   # events that end the current sleep of each core
        self.barriers = [Barrier() for _ in range(N_BARRIERS)]
        for b in self.barriers:
            b.trig_mask = b.target_mask = self.all_cores
        self.team = self.all_cores
        self.fifo = [deque() for _ in range(slots)]
        self.mutex_owner = [None] * N_MUTEXES
        self.mutex_waiters = [deque() for _ in range(N_MUTEXES)]
        cfg = config.event_unit
        self.barrier_latency = cfg.barrier_latency
        self.wakeup_latency = cfg.wakeup_latency

    def connect_cores(self, harts: list) -> None:
        """The cores, indexed by core id (a cluster without a program has none)."""
        self.harts = harts

    # -- what other models call ----------------------------------------------
    def line(self, line: int):
        """Event line `line` as a model is given it: `raise_line(at, core_mask=None)`
        raises it at cycle `at` on the cores of `core_mask` (None: every core)."""
        every = self.all_cores

        def raise_line(at: int, core_mask: int | None = None) -> None:
            self.trigger(line, every if core_mask is None else core_mask, at)
        return raise_line

    def trigger(self, line: int, core_mask: int, at: int | None = None) -> None:
        """Raise event `line` on the cores of `core_mask` (at cycle `at`, default now)."""
        at = self.clock.now if at is None else at
        bit = 1 << line
        harts = self.harts
        for c in range(self.slots):
            if not core_mask >> c & 1:
                continue
            if c < len(harts) and self.wake_bits[c] & bit:
                self.buffer[c] |= bit
                self.wake_bits[c] = 0
                harts[c].wake(at + self.wakeup_latency)
            elif c < len(harts) and harts[c].now < at:
                self.future[c].append((at, bit))
                if bit & self.irq_mask[c]:
                    harts[c].line_rises_later(at)
            else:
                self.buffer[c] |= bit
                if bit & self.irq_mask[c] and c < len(harts):
                    harts[c].line_raised()

    def _catch_up(self, core: int) -> None:
        """Make the events whose cycle this core's clock has reached visible."""
        fut = self.future[core]
        if fut:
            now = self.harts[core].now
            keep = []
            for at, bit in fut:
                if at <= now:
                    self.buffer[core] |= bit
                else:
                    keep.append((at, bit))
            self.future[core] = keep

    def pending(self, core: int) -> int:
        if core < len(self.harts):
            self._catch_up(core)
        return self.buffer[core] & self.mask[core]

    # -- interrupt lines (iss/machine.py reads them) ----------------------------------
    def irq_lines(self, core: int) -> int:
        """The interrupt lines raised for `core` now: pending & IRQ mask."""
        if core < len(self.harts):
            self._catch_up(core)
        return self.buffer[core] & self.irq_mask[core]

    def next_irq(self, core: int, enabled: int) -> int | None:
        """The cycle a line of `enabled` rises later for `core` (raised at a
        cycle its clock has not reached yet), or None."""
        bits = self.irq_mask[core] & enabled
        times = [at for at, bit in self.future[core] if bit & bits]
        return min(times) if times else None

    def irq_ack(self, core: int, line: int) -> None:
        """The core took the interrupt of `line`: the event is consumed."""
        self.buffer[core] &= ~(1 << line)

    def _irq_wake_bits(self, hart, wfi: bool = False) -> int:
        """IRQ-masked events that end a sleep of `hart`: those it would take
        (for wfi: those enabled in mie, whatever mstatus.MIE)."""
        m = getattr(hart, "machine", None)
        if m is None or not m.mie or not (wfi or m.mstatus & 0x8):
            return 0
        return self.irq_mask[hart.id] & m.mie

    def _sleep(self, hart, bits: int, what: str, kind: SleepKind = SleepKind.EVENT, wfi: bool = False):
        bits |= self._irq_wake_bits(hart, wfi)
        fut = self.future[hart.id] if hart.id < len(self.future) else []
        pending = [at for at, bit in fut if bit & bits]
        if pending:
            # What it waits for is already raised, at a later cycle: sleep until then.
            at = min(pending)
            self._catch_up_to(hart.id, at)
            hart.sleep(what, kind)
            hart.wake(at + self.wakeup_latency)
            return WAIT
        self.wake_bits[hart.id] = bits
        hart.sleep(what, kind)
        return WAIT

    def _catch_up_to(self, core: int, cycle: int) -> None:
        keep = []
        for at, bit in self.future[core]:
            if at <= cycle:
                self.buffer[core] |= bit
            else:
                keep.append((at, bit))
        self.future[core] = keep

    def sleep_wfi(self, hart) -> None:
        """wfi: clock-gate until an event of the core's mask."""
        self._sleep(hart, self.mask[hart.id], f"an event (wfi, mask 0x{self.mask[hart.id]:x})", SleepKind.WFI,
                    wfi=True)

    # -- register access -------------------------------------------------------
    def read(self, hart, offset, size):
        c = hart.id
        if c < len(self.harts):
            self._catch_up(c)
        if offset == 0x00:
            return self.mask[c]
        if offset == 0x0C:
            return self.irq_mask[c]
        if offset == 0x18:
            return 1
        if offset == 0x1C:
            return self.buffer[c]
        if offset == 0x20:
            return self.pending(c)
        if offset == 0x24:
            return self.buffer[c] & self.irq_mask[c]
        if offset in (0x38, 0x3C):
            return self._wait(hart, clear=offset == 0x3C, what="an event (EVENT_WAIT)")
        if offset == 0x80:
            return self._pop(hart)
        if 0xC0 <= offset < 0xC0 + 4 * N_MUTEXES:
            return self._lock(hart, (offset - 0xC0) // 4)
        if 0x200 <= offset < 0x200 + 0x20 * N_BARRIERS:
            b, reg = divmod(offset - 0x200, 0x20)
            bar = self.barriers[b]
            if reg == 0x00:
                return bar.trig_mask
            if reg == 0x04:
                return bar.arrived
            if reg == 0x0C:
                return bar.target_mask
            if reg in (0x14, 0x18, 0x1C):
                if not hart.retrying:
                    self._arrive(b, 1 << c)
                if reg == 0x14:
                    return 0
                return self._barrier_wait(hart, b, clear=reg == 0x1C)
        raise self.error(offset, "register is not readable")

    def write(self, hart, offset, size, value):
        c = hart.id
        if c < len(self.harts):
            self._catch_up(c)
        if offset == 0x00:
            self.mask[c] = value
        elif offset == 0x04:
            self.mask[c] &= ~value
        elif offset == 0x08:
            self.mask[c] |= value
        elif offset == 0x0C:
            self.irq_mask[c] = value
        elif offset == 0x10:
            self.irq_mask[c] &= ~value
        elif offset == 0x14:
            self.irq_mask[c] |= value
        elif offset == 0x28:
            self.buffer[c] &= ~value
        elif offset == 0x80:
            self._push(value)
        elif offset == 0x84:
            self.team = value & self.all_cores
        elif 0xC0 <= offset < 0xC0 + 4 * N_MUTEXES:
            self._unlock(hart, (offset - 0xC0) // 4, offset)
        elif 0x100 <= offset < 0x120:
            targets = value & self.all_cores
            if value >> FC_MASK_BIT & 1 and self.fc_slot is not None:
                targets |= 1 << self.fc_slot
            self.trigger((offset - 0x100) // 4, targets, hart.now)
        elif 0x200 <= offset < 0x200 + 0x20 * N_BARRIERS:
            b, reg = divmod(offset - 0x200, 0x20)
            bar = self.barriers[b]
            if reg == 0x00:
                bar.trig_mask = value & self.all_cores
                bar.arrived = 0
            elif reg == 0x0C:
                bar.target_mask = value & self.all_cores
            elif reg == 0x10:
                self._arrive(b, value & self.all_cores)
            elif reg == 0x14:
                self._arrive(b, 1 << c)
            else:
                raise self.error(offset, "register is not writable")
        else:
            raise self.error(offset, "register is not writable")

    # -- behaviour -------------------------------------------------------------
    def _wait(self, hart, clear: bool, what: str):
        c = hart.id
        got = self.buffer[c] & self.mask[c]
        if not got:
            detail = "with an empty event mask" if not self.mask[c] else f"(mask 0x{self.mask[c]:x})"
            return self._sleep(hart, self.mask[c], f"{what} {detail}", _wait_kind(self.mask[c]))
        if clear:
            self.buffer[c] &= ~got
        return got

    def _barrier_wait(self, hart, b: int, clear: bool):
        c = hart.id
        bit = 1 << EVT_BARRIER
        if not self.buffer[c] & bit:
            return self._sleep(hart, bit, f"barrier {b}", SleepKind.BARRIER)
        got = (self.buffer[c] & self.mask[c]) | bit
        if clear:
            self.buffer[c] &= ~bit
        return got

    def _arrive(self, b: int, cores: int) -> None:
        bar = self.barriers[b]
        bar.arrived |= cores
        if bar.trig_mask and (bar.arrived & bar.trig_mask) == bar.trig_mask:
            bar.arrived = 0
            self.trigger(EVT_BARRIER, bar.target_mask, self.clock.now + self.barrier_latency)

    def _push(self, value: int) -> None:
        for c in range(self.cores):
            if self.team >> c & 1:
                self.fifo[c].append(value & 0xFFFFFFFF)
        self.trigger(EVT_DISPATCH, self.team)

    def _pop(self, hart):
        q = self.fifo[hart.id]
        if not q:
            return self._sleep(hart, 1 << EVT_DISPATCH, "team dispatch (DISPATCH_FIFO)", SleepKind.DISPATCH)
        value = q.popleft()
        if not q:
            self.buffer[hart.id] &= ~(1 << EVT_DISPATCH)
        return value

    def _lock(self, hart, m: int):
        owner = self.mutex_owner[m]
        if owner is None:
            self.mutex_owner[m] = hart.id
            return 0
        if owner == hart.id and hart.retrying:
            self.buffer[hart.id] &= ~(1 << EVT_MUTEX)
            return 0  # handed over by _unlock while this core slept
        if hart.id not in self.mutex_waiters[m]:
            self.mutex_waiters[m].append(hart.id)
        return self._sleep(hart, 1 << EVT_MUTEX, f"mutex {m} (held by core {owner})", SleepKind.MUTEX)

    def _unlock(self, hart, m: int, offset: int) -> None:
        if self.mutex_owner[m] != hart.id:
            raise self.error(offset, f"core {hart.id} releases mutex {m}, which it does not hold "
                                     f"(owner: {self.mutex_owner[m]})")
        waiters = self.mutex_waiters[m]
        if waiters:
            nxt = waiters.popleft()
            self.mutex_owner[m] = nxt
            self.trigger(EVT_MUTEX, 1 << nxt, hart.now)
        else:
            self.mutex_owner[m] = None
