"""Run control for a debugger: breakpoints, watchpoints, stepping and all-stop
resumption of the whole cluster, independent of the wire protocol.

All-stop: the debugger only ever runs the cluster through its scheduler
(`Scheduler.run`, `Scheduler.step`); a hit asks the scheduler to pause
(`pause_request`), so simulated time stops for every hart and peripheral at
once, each hart on an instruction boundary.

Cost: nothing is installed on the engines while no breakpoint or watchpoint is
set. A breakpoint is one UC_HOOK_CODE bounded to its address on every hart (only
the block holding it pays). Watchpoints share one native code hook per hart
(iss/native/debug.c) that checks each load/store address (standard and CORE-V,
TCDM, L2 and peripherals alike) before it executes and stops the hart before an
access to a watched range, as a RISC-V trigger does (GDB then steps over it).
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np
from unicorn import UC_HOOK_CODE

from .. import native, unicorn_adapter

from ..errors import CycleLimit, Deadlock, IllegalInstruction, MemoryFault, SimulationError
from ..hart import State, Stop

SIGINT, SIGILL, SIGTRAP, SIGABRT, SIGSEGV, SIGKILL = 2, 4, 5, 6, 11, 9

WATCH_KINDS = {2: "watch", 3: "rwatch", 4: "awatch"}
EBREAK, C_EBREAK = 0x00100073, 0x9002


@dataclass
class Event:
    """Why the cluster stopped (or ended)."""
    kind: str                 # breakpoint, ebreak, watch, rwatch, awatch, step, interrupt, error, exit
    hart: object = None
    address: int = 0          # the data address of a watchpoint hit
    signal: int = SIGTRAP
    message: str = ""         # what went wrong (kind "error")
    error: Exception | None = None
    exit_code: int = 0


@dataclass
class Watchpoint:
    kind: int                 # 2 write, 3 read, 4 access (the Z packet type)
    address: int
    length: int


WATCH_MAX = 32                 # ISS_DEBUG_WATCH_MAX
NO_PC = 0xFFFFFFFF


class _WatchRange(ctypes.Structure):
    _fields_ = [("lo", ctypes.c_uint32), ("hi", ctypes.c_uint32), ("kinds", ctypes.c_uint32)]


class _DebugState(ctypes.Structure):
    """Mirror of `struct iss_debug` (iss/native/debug.c), one per hart."""
    _fields_ = [("stopped", ctypes.c_uint32), ("pc", ctypes.c_uint32), ("hit_addr", ctypes.c_uint32),
                ("hit_index", ctypes.c_uint32), ("skip_pc", ctypes.c_uint32), ("code", native.CodeMap),
                ("n_watch", ctypes.c_uint32), ("meta", ctypes.c_void_p),
                ("watch", _WatchRange * WATCH_MAX)]


def access_table(code, lo: int = 0, hi: int | None = None) -> np.ndarray:
    """Per halfword of the code (its slots [lo, hi)): how the instruction starting
    there forms its data address (iss_trace_meta), for standard loads/stores
    (base + offset) as well as the CORE-V ones the trace table already describes."""
    from ..isa.table import ROWS
    from ..trace.native import TM_IMM, build_meta
    meta = build_meta(code, lo, hi)
    tab = code.table[lo:code.halfwords if hi is None else hi]
    ops = tab["op"].astype(np.int64)
    for op in np.unique(ops):
        if op and ROWS[op - 1].fmt in ("L", "CL", "CLWSP", "S", "CS", "CSS", "LR", "AMO"):
            sel = ops == op
            meta["mem"][sel] |= TM_IMM
            meta["ra"][sel] = tab["rs1"][sel]
            meta["imm"][sel] = 0 if ROWS[op - 1].fmt in ("LR", "AMO") else tab["imm"][sel]
    return meta


class Debugger:
    """The debugging view of a cluster: set `hart.debug` on every hart."""

    def __init__(self, cluster, max_cycles: int = 0):
        self.cluster = cluster
        self.max_cycles = max_cycles
        self.breakpoints: dict[int, dict[int, int]] = {}     # address -> {hart id: hook}
        self.watchpoints: list[Watchpoint] = []
        self.last: Event | None = None
        self.ended = False        # the program exited or the run failed: nothing can run any more
        self._step_from = None    # (hart, pc) being stepped: a breakpoint there does not fire
        self._only = None         # harts GDB resumed alone: the others' hits are not theirs to report
        self._watch_state = {h.id: _DebugState(skip_pc=NO_PC) for h in cluster.harts}
        self.watch_hooks: dict[int, int] = {}     # hart id -> native code hook, while watchpoints exist
        self._access_table = None
        self._chain_limits = None  # each hart's chain limit, while breakpoints or watchpoints turn chains off
        for h in cluster.harts:
            h.debug = self

    def _sync_chains(self) -> None:
        """The CORE-V executor runs what follows a CORE-V instruction (CORE-V and
        standard) in one go, past the engine's code hooks (breakpoints, the watch
        check): while any breakpoint or watchpoint exists each CORE-V instruction
        runs alone and Unicorn runs the rest."""
        harts = self.cluster.harts
        if (self.breakpoints or self.watchpoints) and self._chain_limits is None:
            self._chain_limits = [h.native.chain_limit for h in harts]
            for h in harts:
                h.native.chain_limit = 0
        elif not (self.breakpoints or self.watchpoints) and self._chain_limits is not None:
            for h, limit in zip(harts, self._chain_limits):
                h.native.chain_limit = limit
            self._chain_limits = None

    # -- breakpoints -------------------------------------------------------------
    def add_breakpoint(self, address: int) -> None:
        if address in self.breakpoints:
            return
        hooks = {}
        for h in self.cluster.harts:
            hooks[h.id] = h.uc.hook_add(UC_HOOK_CODE, self._breakpoint_hook, h, address, address)
            # Blocks translated before the hook was added would not call it.
            h.uc.ctl_remove_cache(address, address + 4)
        self.breakpoints[address] = hooks
        self._sync_chains()

    def remove_breakpoint(self, address: int) -> bool:
        hooks = self.breakpoints.pop(address, None)
        if hooks is None:
            return False
        for h in self.cluster.harts:
            h.uc.hook_del(hooks[h.id])
            h.uc.ctl_remove_cache(address, address + 4)
        self._sync_chains()
        return True

    def _breakpoint_hook(self, uc, address, size, hart):
        if _pc(uc) != address:
            return    # an earlier hook (hardware-loop end) sent execution elsewhere
        if self._step_from == (hart, address) or (self._only is not None and hart not in self._only):
            return
        self._pause(Event("breakpoint", hart), hart, uc)

    # -- watchpoints -------------------------------------------------------------
    def add_watchpoint(self, kind: int, address: int, length: int) -> None:
        if len(self.watchpoints) >= WATCH_MAX:
            raise ValueError(f"at most {WATCH_MAX} watchpoints")
        self.watchpoints.append(Watchpoint(kind, address, max(1, length)))
        self._sync_watch()

    def remove_watchpoint(self, kind: int, address: int, length: int) -> bool:
        for w in self.watchpoints:
            if (w.kind, w.address, w.length) == (kind, address, max(1, length)):
                self.watchpoints.remove(w)
                self._sync_watch()
                return True
        return False

    def _sync_watch(self) -> None:
        """Copy the watch list into every hart's native state; install the hook with
        the first watchpoint, remove it with the last (then nothing is left)."""
        self._sync_chains()
        code = self.cluster.code
        if self.watchpoints and self._access_table is None:
            self._access_table = access_table(code)
            code.keep_current(self._access_table, access_table)
        for h in self.cluster.harts:
            st = self._watch_state[h.id]
            code.fill(st.code)
            st.meta = self._access_table.ctypes.data if self._access_table is not None else None
            st.n_watch = len(self.watchpoints)
            for i, w in enumerate(self.watchpoints):
                st.watch[i] = _WatchRange(w.address, w.address + w.length, {2: 1, 3: 2, 4: 3}[w.kind])
            hook = self.watch_hooks.get(h.id)
            if self.watchpoints and hook is None:
                self.watch_hooks[h.id] = native.add_hook(h.uc, UC_HOOK_CODE, "iss_debug_code_hook",
                                                         ctypes.addressof(st), *code.span)
                h.uc.ctl_flush_tb()     # hooks only fire in blocks translated after they were added
            elif not self.watchpoints and hook is not None:
                unicorn_adapter.hook_del(h.uc, self.watch_hooks.pop(h.id))
                h.uc.ctl_flush_tb()

    def stopped_here(self, hart) -> bool:
        """Called by the hart when its engine stopped with no reason of its own:
        the watch hook stopped it before an access to a watched range."""
        st = self._watch_state[hart.id]
        if not st.stopped:
            return False
        st.stopped = 0
        st.skip_pc = st.pc          # resuming there runs the access
        w = self.watchpoints[st.hit_index]
        sched = self.cluster.scheduler
        if sched.pause_request is None:
            sched.pause_request = Event(WATCH_KINDS[w.kind], hart, max(st.hit_addr, w.address))
        return True

    def ebreak(self, hart) -> bool:
        """The hart stopped on an ebreak (compiled in, or written into the code by
        GDB): a breakpoint for the debugger. False when `hart.pc` holds none."""
        raw = self.cluster.memory.read(hart.pc, 4) if self.cluster.memory.region(hart.pc, 4) else b""
        word = int.from_bytes(raw, "little") if raw else 0
        if word != EBREAK and word & 0xFFFF != C_EBREAK:
            return False
        if self.cluster.scheduler.pause_request is None:
            self.cluster.scheduler.pause_request = Event("ebreak", hart)
        return True

    def _pause(self, event: Event, hart, uc) -> None:
        sched = self.cluster.scheduler
        if sched.pause_request is None:
            sched.pause_request = event
        hart._request_stop(Stop.DEBUG, uc)

    # -- running ---------------------------------------------------------------
    def resume(self, only=None) -> Event:
        """Run until something stops the cluster: every hart, or only the harts in
        `only` (the others frozen, as GDB asks when it steps one thread over a
        breakpoint)."""
        if self.ended:
            return self.last
        sched = self.cluster.scheduler
        sched.pause_request = None
        try:
            if only is None or len(only) >= len(self.cluster.harts):
                sched.run(self.max_cycles)
            else:
                self._run_only(list(only))
        except SimulationError as e:
            return self._ended_by(e)
        return self._stopped(sched.pause_request)

    def _run_only(self, only: list) -> None:
        """GDB resumes some threads only (it steps one over a breakpoint so, or
        `set scheduler-locking on`): the others stay frozen, unless all of
        `only` sleep, when the cluster runs until one wakes; meanwhile the other
        harts' breakpoint and watchpoint hits are not reported (GDB did not
        resume them)."""
        sched = self.cluster.scheduler
        self._only = set(only)
        quiet = [h for h in self.cluster.harts if h not in self._only]
        for h in quiet:
            self._watch_state[h.id].n_watch = 0
        try:
            while self.cluster.exit_code is None and sched.pause_request is None:
                awake = [h for h in only if h.state is State.RUNNING]
                if awake:
                    sched.run_hart(min(awake, key=lambda h: h.native.cycles), self.max_cycles)
                else:
                    self._until_awake(only)
        finally:
            self._only = None
            for h in quiet:
                self._watch_state[h.id].n_watch = len(self.watchpoints)

    def _until_awake(self, harts: list) -> None:
        """A sleeping hart cannot run alone: the whole cluster runs until one of
        `harts` wakes (or something else stops it)."""
        sched = self.cluster.scheduler
        ids = {h.id for h in harts}
        woke = Event("woke")

        def listener(hart_id, start, end, what, kind):
            if hart_id in ids and sched.pause_request is None:
                sched.pause_request = woke
        self.cluster.sleep_listeners.append(listener)
        try:
            sched.run(self.max_cycles)
        finally:
            self.cluster.sleep_listeners.remove(listener)
        if sched.pause_request is woke:
            sched.pause_request = None

    def interrupt(self) -> None:
        """Ctrl-C from the debugger (may come from another thread)."""
        if self.cluster.scheduler.pause_request is None:
            self.cluster.scheduler.pause_request = Event("interrupt", None, signal=SIGINT)

    def step(self, hart) -> Event:
        """One instruction on `hart`, the others frozen. A sleeping hart cannot
        execute: the cluster runs until it wakes, then it executes one instruction."""
        if self.ended:
            return self.last
        sched = self.cluster.scheduler
        sched.pause_request = None
        try:
            if hart.state is State.SLEEPING:
                self._until_awake([hart])
                if sched.pause_request is not None or self.cluster.exit_code is not None:
                    return self._stopped(sched.pause_request)
            chain = hart.native.chain_limit
            hart.native.chain_limit = 0          # one CORE-V instruction, not a chain
            self._step_from = (hart, hart.pc)
            try:
                sched.run_hart(hart, self.max_cycles, step=True)
            finally:
                hart.native.chain_limit = chain
                self._step_from = None
                hart.uc.ctl_flush_tb()    # drop the blocks translated with the instruction counter
        except SimulationError as e:
            return self._ended_by(e)
        return self._stopped(sched.pause_request or Event("step", hart))

    def _stopped(self, event: Event | None) -> Event:
        c = self.cluster
        if c.exit_code is not None:
            self.ended = True
            event = Event("exit", None, exit_code=c.exit_code)
        elif event is None:
            event = Event("interrupt", None, signal=SIGINT)
        c.scheduler.pause_request = None
        if event.hart is None and event.kind != "exit":
            event.hart = c.harts[0]
        self.last = event
        return event

    def _ended_by(self, e: SimulationError) -> Event:
        self.ended = True
        sig = SIGSEGV if isinstance(e, MemoryFault) else SIGILL if isinstance(e, IllegalInstruction) else \
            SIGKILL if isinstance(e, (Deadlock, CycleLimit)) else SIGABRT
        hart = self.cluster.current or next((h for h in self.cluster.harts if e.where and
                                             e.where.startswith(f"hart {h.id} ")), self.cluster.harts[0])
        self.cluster.scheduler.pause_request = None
        self.last = Event("error", hart, signal=sig, message=str(e), error=e)
        return self.last

    @property
    def error(self) -> Exception | None:
        """The error that ended the run, if one did."""
        return self.last.error if self.last is not None and self.last.kind == "error" else None

    # -- removing everything (detach) --------------------------------------------
    def clear(self) -> None:
        for address in list(self.breakpoints):
            self.remove_breakpoint(address)
        for w in list(self.watchpoints):
            self.remove_watchpoint(w.kind, w.address, w.length)

    def detach(self) -> None:
        """No more debugging: hooks removed, ebreak back to an error."""
        self.clear()
        for h in self.cluster.harts:
            h.debug = None


def _pc(uc) -> int:
    from unicorn.riscv_const import UC_RISCV_REG_PC
    return uc.reg_read(UC_RISCV_REG_PC)
