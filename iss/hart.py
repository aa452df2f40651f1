"""One simulated core: a Unicorn engine against the cluster's shared memories.

A hart runs a slice (until its cycle budget, a sleep, or an error) and says why
it stopped; the scheduler decides what runs next. Cycles and instructions are
charged per translated block by the native helper (iss/native), from the
per-instruction cost tables of the code (iss/timing/core.py).
"""
from __future__ import annotations

import bisect
import ctypes
import enum
import functools
import weakref
from typing import TYPE_CHECKING

import numpy as np
from unicorn import (UC_ARCH_RISCV, UC_ERR_FETCH_PROT, UC_ERR_INSN_INVALID, UC_HOOK_BLOCK, UC_HOOK_CODE,
                     UC_HOOK_MEM_FETCH_UNMAPPED, UC_HOOK_MEM_READ, UC_HOOK_MEM_READ_UNMAPPED, UC_HOOK_MEM_WRITE,
                     UC_HOOK_MEM_WRITE_UNMAPPED, UC_MEM_FETCH_UNMAPPED, UC_MEM_READ_UNMAPPED, UC_MEM_WRITE_UNMAPPED,
                     UC_MODE_RISCV32, UC_PROT_ALL, Uc, UcError)
from unicorn.riscv_const import UC_RISCV_REG_PC, UC_RISCV_REG_X0

from . import isa, native, unicorn_adapter
from . import machine as mm
from .errors import IllegalInstruction, MemoryFault, SimulationError
from .memory import (ACCEL_BASE, ACCEL_SIZE, CLUSTER_PERIPH_BASE, CLUSTER_PERIPH_SIZE, DEMUX_BASE, DEMUX_SIZE,
                     SOC_PERIPH_BASE, SOC_PERIPH_SIZE)
from .periph.base import WAIT
from .sleep import SleepKind
from .timing import core as timing_core
from .timing import perf

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

WFI = 0x10500073
TCG_BUFFER = 128 << 20     # bytes of translated code per engine
MRET = 0x30200073
EBREAK = 0x00100073
C_EBREAK = 0x9002
CHAIN_LIMIT = 1 << 20

# CSRs whose value Unicorn cannot know (it reads 0 for mhartid and the host's TSC
# for the counters): reads and writes of these are emulated at their call sites.
CSR_MHARTID = 0xF14
CSR_COUNTERS = {0xB00: "mcycle", 0xB02: "minstret", 0xB80: "mcycleh", 0xB82: "minstreth",
                0xC00: "cycle", 0xC02: "instret", 0xC80: "cycleh", 0xC82: "instreth"}
# mhpmcounter3.. (low and high halves): the performance events of iss/timing/perf.py
CSR_PERF = {csr: e for e, csr in enumerate(perf.CSRS)}
CSR_PERF_H = {csr + 0x80: e for e, csr in enumerate(perf.CSRS)}


class State(enum.Enum):
    RUNNING = "running"
    SLEEPING = "asleep"


UINT64_MAX = (1 << 64) - 1


class Stop(enum.Enum):
    BUDGET = "budget"      # quantum or event horizon reached
    SLEEP = "sleep"        # waiting for an event
    EXIT = "exit"          # the program ended the simulation
    DEBUG = "debug"        # a debugger's breakpoint, watchpoint or step (iss/gdb)


def python_hook(method):
    """A hook Unicorn calls into Python. In a slice the scheduler's C loop
    started, the hart first becomes the cluster's current one, and the slice is
    finished in Python (Scheduler.hook_in_native_slice)."""
    @functools.wraps(method)
    def hook(self, *args):
        if self.cluster.current is None:
            self.cluster.scheduler.hook_in_native_slice(self)
        return method(self, *args)
    return hook


class Hart:
    def __init__(self, cluster: "Cluster", hart_id: int, code: "CodeImage"):
        self.cluster = cluster
        self.id = hart_id
        self.mhartid = (cluster.config.cluster.cluster_id << 5) | hart_id
        self.state = State.RUNNING
        self.waiting_for = ""          # what a sleeping hart waits for, for deadlock reports
        self.retry_addr = None          # address of an MMIO access to retry after a wake
        self.retrying = False           # the current MMIO access is that retry
        self.sleep_cycles = 0           # clock-gated cycles
        self.stall_periph = 0           # cycles of peripheral accesses beyond the first
        self._timing = cluster.config.timing.enabled
        self._periph_latency = cluster.config.memory.periph_latency if self._timing else 0
        self._io_time = None             # set during an MMIO access (see now)
        # Machine mode (iss/machine.py): CSRs, traps; the lines come from the event unit.
        self.machine = mm.Machine(self.mhartid, lambda: cluster.event_unit.irq_lines(hart_id),
                                  lambda: self.isa.hwloop_state())
        mcfg = cluster.config.machine
        self._trap_cycles, self._mret_cycles = mcfg.trap_cycles, mcfg.mret_cycles
        self._retry_stack: list = []      # retry_addr of each interrupted access (nesting)
        self.traps = 0                    # traps taken (exceptions and interrupts)
        self.interrupts = 0               # of which interrupts
        self._stop_request = None
        self._stop_in_access = False     # the stop was requested during an MMIO access
        self._store_raised = False       # the MMIO store in progress raised a line this hart takes (or will)
        self._stop_after_store = False   # the stop comes after that store (it retired)
        self._in_io = False
        self._fault = None
        self._hook_error = None         # raised by an MMIO read callback, re-raised by run()
        self._code = code
        # The debugger attached to this hart (iss/gdb), None when there is none: it
        # puts its own hooks on the engine and is told of ebreaks and of its stops.
        self.debug = None

        mem = cluster.memory
        uc = self.uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
        # Unicorn reserves 1 GiB for translated code by default, which takes ~5 ms
        # per engine to set up (and 8 GiB of address space for 8 harts); firmware
        # translates to a few MiB, and a full buffer is only flushed, not an error.
        uc.ctl_set_tcg_buffer_size(TCG_BUFFER)
        uc.mem_map_ptr(mem.tcdm_base, mem.tcdm.size, UC_PROT_ALL, mem.tcdm.ctypes.data)
        uc.mem_map_ptr(mem.l2_base, mem.l2.size, UC_PROT_ALL, mem.l2.ctypes.data)
        for base, size in ((CLUSTER_PERIPH_BASE, CLUSTER_PERIPH_SIZE), (DEMUX_BASE, DEMUX_SIZE),
                           (ACCEL_BASE, ACCEL_SIZE), (SOC_PERIPH_BASE, SOC_PERIPH_SIZE)):
            uc.mmio_map(base, size, self._mmio_read, base, self._mmio_write, base)

        st = self.native = native.HartState()
        if native.lib().iss_hart_size() != ctypes.sizeof(st):
            raise RuntimeError("iss.native.HartState does not match struct iss_hart")
        st.hartid = hart_id
        st.budget = 0
        st.pc = cluster.entry
        code.fill(st.code)
        st.insn_prefix = code.insn_prefix.ctypes.data
        st.blocks = code.blocks.ctypes.data
        st.cycle_prefix = code.cycle_prefix.ctypes.data
        st.tcdm, st.tcdm_base, st.tcdm_size = mem.tcdm.ctypes.data, mem.tcdm_base, mem.tcdm.size
        st.l2, st.l2_base, st.l2_size = mem.l2.ctypes.data, mem.l2_base, mem.l2.size
        # Cycle model: per-hart profile counters, the shared tables and TCDM arbitration.
        cfg = cluster.config
        self.exec_diff = np.zeros(code.halfwords + 1, dtype=np.int32)
        self.stall_at = np.zeros(code.halfwords + 1, dtype=np.uint32)
        self.sleep_by_kind: dict[str, int] = {}
        self.sleep_kind = SleepKind.EVENT  # why it sleeps, while it does
        st.timing = int(cfg.timing.enabled)
        st.l2_latency = cfg.memory.l2_latency
        # The most one memory callback adds to the clock (exact interrupt entry
        # bounds what a block may add with it): a misaligned access's second
        # transaction, and L2's or a peripheral's latency.
        st.cut_access_max = 1 + cfg.memory.l2_latency + self._periph_latency if self._timing else 0
        st.div_hook_pc = 0xFFFFFFFF
        self._cut_hook = None           # iss_cut_hook's handle while it is on a block
        st.flags = code.flags.ctypes.data
        st.info, st.cost_at = code.info.ctypes.data, code.cost_at.ctypes.data
        st.exec_diff = self.exec_diff.ctypes.data
        st.stall_at = self.stall_at.ctypes.data
        cluster.tcdm_arbiter.attach(hart_id, st)
        addr = ctypes.addressof(st)
        native.add_hook(uc, UC_HOOK_BLOCK, "iss_block_hook", addr)
        # Always (functional mode too): it tells which instruction makes each access.
        native.add_hook(uc, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, "iss_mem_hook", addr)
        # Code hooks at sites of the code image, by pc (redone where code is rewritten).
        self._div_hooks: dict[int, int] = {}
        self._csr_sites = unicorn_adapter.SiteHooks(uc, self._csr)
        self._system_sites = unicorn_adapter.SiteHooks(uc, self._system)
        for site in code.timing.div_sites:
            self._add_div_hook(site)
        # The CORE-V executor: its INTR hook runs every instruction Unicorn does not
        # know, and stops with a reason for everything else it cannot handle. It
        # runs up to CHAIN_LIMIT instructions per trap, the CORE-V one and those
        # after it, CORE-V or standard (an instruction tracer sets 0: it must see
        # each one through its hook).
        self.isa = isa.attach(uc, ctypes.addressof(st), code)
        st.chain_limit = CHAIN_LIMIT
        st.chain_standard = 1
        # Stores to code are watched (CodeImage.refresh).
        st.code_dirty_pages, st.code_dirty = code.dirty_pages.ctypes.data, code.dirty.ctypes.data
        # Execution stops before any encoding that is not a valid instruction (an
        # exit address; 0 is the `until` of emu_start, never executed).
        uc.ctl_exits_enabled(True)
        uc.ctl_set_exits([0, *code.illegal])
        uc.hook_add(UC_HOOK_MEM_READ_UNMAPPED | UC_HOOK_MEM_WRITE_UNMAPPED | UC_HOOK_MEM_FETCH_UNMAPPED,
                    self._unmapped)
        # After isa.attach: Unicorn runs hooks in registration order, and a hardware
        # loop ending on a csrr must redirect before the CSR is emulated (_csr).
        for site in code.csr_sites:
            self._add_csr_hook(site)
        # mret and ebreak: Unicorn would not run them as the core does (iss/machine.py).
        for site in code.system_sites:
            self._add_system_hook(site)
        # The stack pointer and the rest start at 0, like the core out of reset.

    def _add_div_hook(self, site) -> None:
        if self._timing:
            pc = site[0]
            self._div_hooks[pc] = native.add_hook(self.uc, UC_HOOK_CODE, "iss_div_hook",
                                                  ctypes.addressof(self.native), pc, pc)

    def _add_csr_hook(self, site) -> None:
        pc, csr, word = site
        self._csr_sites.add(pc, (csr, word))

    def _add_system_hook(self, site) -> None:
        pc, word = site
        self._system_sites.add(pc, word)

    def code_changed(self, lo: int, hi: int, removed, added, illegal_changed: bool) -> None:
        """Code in [lo, hi) was redecoded (CodeImage.refresh): its translations,
        the hooks at its sites and the exits at invalid encodings are redone."""
        uc = self.uc
        old_csr, old_sys, _, old_div = removed
        new_csr, new_sys, _, new_div = added
        for sites, hooks in ((old_csr, self._csr_sites), (old_sys, self._system_sites)):
            for site in sites:
                hooks.remove(site[0])
        for site in old_div:
            h = self._div_hooks.pop(site[0], None)
            if h is not None:
                unicorn_adapter.hook_del(uc, h)
        for site in new_div:
            self._add_div_hook(site)
        for site in new_csr:
            self._add_csr_hook(site)
        for site in new_sys:
            self._add_system_hook(site)
        if illegal_changed:
            uc.ctl_set_exits([0, *self._code.illegal])
        uc.ctl_remove_cache(lo, hi)

    # -- registers -----------------------------------------------------------
    def reg(self, n: int) -> int:
        return self.uc.reg_read(UC_RISCV_REG_X0 + n) if n else 0

    def set_reg(self, n: int, value: int) -> None:
        if n:
            self.uc.reg_write(UC_RISCV_REG_X0 + n, value & 0xFFFFFFFF)

    @property
    def pc(self) -> int:
        """The next instruction between slices (kept natively: the scheduler's
        C loop starts slices from it)."""
        return self.native.pc

    @pc.setter
    def pc(self, value: int) -> None:
        self.native.pc = value

    @property
    def ready_at(self) -> int:
        """The cycle a retried instruction waits to act at (_exact_time), 0: none."""
        return self.native.ready_at

    @ready_at.setter
    def ready_at(self, value: int) -> None:
        self.native.ready_at = value

    @property
    def cycles(self) -> int:
        return self.native.cycles

    @property
    def instret(self) -> int:
        return self.native.instret

    @property
    def next_cycle(self) -> int:
        """The first cycle this hart can act at: its clock, or, when it stopped to
        retry an instruction until the others pass that instruction's cycle, that
        cycle (nothing it does comes earlier)."""
        c = self.native.cycles
        return self.ready_at if self.ready_at > c else c

    @property
    def now(self) -> int:
        """This hart's clock. During a peripheral access with the cycle model on:
        the cycle the access reaches the peripheral (issue cycle + latency);
        otherwise the cycles charged so far (the block in flight included)."""
        if self._io_time is not None:
            return self._io_time
        return self.native.cycles

    def recent_instructions(self, limit: int = 64) -> list[tuple[int, int]]:
        """(pc, raw word) of the last instructions this hart executed, oldest
        first, ending with the one at `self.pc` when it stopped on it (a fault):
        from the native ring of the last blocks run."""
        st, code = self.native, self._code
        n = min(st.recent_pos, native.RECENT)
        out = []
        for k in range(n):
            start, end = st.recent[(st.recent_pos - n + k) % native.RECENT]
            last = k == n - 1
            pc = start
            while pc < end or (last and pc == self.pc):
                word = code.word(pc)
                word = word if word & 3 == 3 else word & 0xFFFF
                out.append((pc, word))
                if last and pc == self.pc:
                    break
                pc += 4 if word & 3 == 3 else 2
        return out[-limit:]

    def format_recent(self, limit: int = 32) -> str:
        """The last instructions as disassembly lines (crash reports)."""
        prog = self.cluster.program
        return "\n".join(f"  0x{pc:08x}  {isa.disasm(word, pc):<32s} {prog.symbolize(pc)}"
                         for pc, word in self.recent_instructions(limit))

    def where(self, pc: int | None = None) -> str:
        pc = self.pc if pc is None else pc
        return f"hart {self.id} pc 0x{pc:08x} {self.cluster.program.symbolize(pc)}"

    # -- running -------------------------------------------------------------
    def run(self, budget: int, step: bool = False) -> Stop:
        """Run until the hart's clock reaches `budget`, it sleeps, or the program
        exits; `step`: one instruction at most (a debugger's stepi)."""
        st = self.native
        m = self.machine
        cut_at = None
        if m.interrupts_enabled:
            # Interrupts are enabled: take a raised line now (a slice starts at an
            # instruction boundary), else end the slice exactly (at the first
            # instruction boundary whose clock reaches it) where one may rise.
            line = m.pending_interrupt()
            if line is not None:
                self._interrupt(line, self.pc)
            else:
                budget, cut_at = self._interrupt_budget(budget, st.cycles + 1)
        st.budget = budget
        st.cut_exact = 0
        if cut_at is not None:
            self._cut_exactly(cut_at)
        st.stop_reason = native.STOP_NONE
        st.io_stop = 0
        self.ready_at = 0
        self.slice_started()
        blocks = st.recent_pos
        if step:
            self.uc.ctl_flush_tb()    # blocks translated without the instruction counter would not stop
        try:
            while True:
                self.uc.emu_start(self.pc, 0, count=1 if step else 0)
                if st.stop_reason != native.STOP_CUT:
                    break
                # cut_at may fall inside the block at stop_pc: it runs again with
                # a hook that stops before the exact instruction.
                self.pc = st.stop_pc
                self._cut_on(st.stop_pc, st.stop_pc + st.stop_info)
                st.stop_reason = native.STOP_NONE
            error = None
        except (UcError, SimulationError) as e:
            error = e
        finally:
            self._cut_off()
        return self.finish(blocks, error, step)

    def _interrupt_budget(self, budget: int, floor: int) -> tuple[int, int | None]:
        """With interrupts enabled and none raised: the slice's budget, and the
        cycle it must not pass by a single instruction (None: none), where a line
        may rise: where the next one rises, where an event fires (the slice may
        end a block past its budget, but not past that), or where the clock
        would pass that of another running core taking no interrupt
        (Scheduler.others_clock: that core may raise one of this core's lines,
        with a store or what it starts, at any cycle it reaches; this core waits
        for it there, not before `floor`)."""
        cut_at = None
        rise = self.cluster.event_unit.next_irq(self.id, self.machine.mie)
        if rise is not None and rise < budget:
            budget = cut_at = rise
        sched = self.cluster.scheduler
        if sched.events and (cut_at is None or sched.events[0][0] < cut_at):
            cut_at = sched.events[0][0]
        lead = sched.others_clock(self)
        if lead is not None:
            lead = max(lead, floor)
            budget = min(budget, lead)
            cut_at = lead if cut_at is None else min(cut_at, lead)
        return budget, cut_at

    def _interrupts_changed(self, pc: int) -> None:
        """A CSR write or mret (in a hook) changed mstatus or mie: take a raised
        line before `pc`, or plan the slice's end for the next one."""
        m = self.machine
        line = m.pending_interrupt()
        if line is not None:
            self._interrupt(line, pc, in_hook=True)
        elif m.interrupts_enabled:
            st = self.native
            st.budget, cut_at = self._interrupt_budget(st.budget, st.cycles)
            if cut_at is not None:
                self._cut_exactly(cut_at)

    def line_may_rise(self, at: int) -> None:
        """An interrupt line of this hart may rise at cycle `at`, learnt while it
        runs (an event scheduled, Cluster.schedule; an event unit line raised for
        later): the slice ends there; exactly there if this hart takes interrupts."""
        st = self.native
        if at < st.budget:
            st.budget = at
        if self.machine.interrupts_enabled:
            self._cut_exactly(at)
            # During a store (_mmio_write): the rest of its block was charged with no
            # cut on it, so the slice stops right after the store.
            self._store_raised = True

    def other_woke(self, other: "Hart") -> None:
        """Another core woke (what this one did woke it) and runs from its clock:
        if this one takes interrupts, it stops there, or at once if it is past it
        (the other may raise its lines from then on: Scheduler.others_clock)."""
        if self.machine.interrupts_enabled and not other.machine.interrupts_enabled:
            st = self.native
            at = max(other.native.cycles, st.cycles)
            st.budget = min(st.budget, at)
            self._cut_exactly(at)

    def _cut_exactly(self, at: int) -> None:
        """The slice must not pass cycle `at` by a single instruction (with the
        one the slice had already): it stops at the first instruction boundary
        whose clock reaches it (iss_cut_hook), with an exact clock (its TCDM
        waits arbitrated as it goes, below the cycle no other requester can
        still reach)."""
        st = self.native
        settle = self.cluster.scheduler.arbitration_bound(self, UINT64_MAX)
        if st.cut_exact:
            st.cut_at, st.cut_settle = min(st.cut_at, at), min(st.cut_settle, settle)
        else:
            st.cut_exact, st.cut_at, st.cut_settle = 1, at, settle

    def _cut_on(self, lo: int, hi: int) -> None:
        """Put iss_cut_hook on the block [lo, hi) (retranslated with it)."""
        self._cut_off()
        st = self.native
        self._cut_hook = native.add_hook(self.uc, UC_HOOK_CODE, "iss_cut_hook", ctypes.addressof(st), lo, hi - 1)
        st.cut_lo, st.cut_hi = lo, hi
        self.uc.ctl_remove_cache(lo, hi)

    def _cut_off(self) -> None:
        if self._cut_hook is None:
            return
        st = self.native
        unicorn_adapter.hook_del(self.uc, self._cut_hook)
        self._cut_hook = None
        self.uc.ctl_remove_cache(st.cut_lo, st.cut_hi)     # translated again without the hook
        st.cut_lo = st.cut_hi = 0

    def slice_started(self) -> None:
        """A slice starts: nothing of the last one is pending."""
        self._stop_request = None
        self._stop_in_access = False
        self._store_raised = False
        self._stop_after_store = False
        self._fault = None
        self._in_io = False

    def finish(self, blocks: int, error: BaseException | None = None, step: bool = False) -> Stop:
        """The engine returned from a slice that started with `blocks` blocks run
        (native.recent_pos), having raised `error` (a UcError or a hook's exception)
        or not: the stop's reason, and whatever it asks done."""
        st = self.native
        st.cut_exact = 0      # (set again by the next slice that needs it)
        try:
            if error is not None:
                raise error
            if self._hook_error is not None:
                e, self._hook_error = self._hook_error, None
                raise e
        except UcError as e:
            self.pc = self.uc.reg_read(UC_RISCV_REG_PC) if self._fault is None else self.native.access_pc
            if self.debug is not None and self.debug.ebreak(self):
                return Stop.DEBUG      # an ebreak a debugger wrote over the code
            raise self._memory_error(e) from None
        except SimulationError as e:
            # Raised by a peripheral during an access (Unicorn's PC is not the
            # access's), or by the CSR hook (Unicorn's PC is exact there).
            self.pc = self.native.access_pc if self._in_io else self.uc.reg_read(UC_RISCV_REG_PC)
            if not e.where:
                e.where = self.where()
            raise
        reason = st.stop_reason
        if st.cut_stopped:
            # Stopped inside a block, before an instruction a tracer's hook (which
            # runs first) has already seen: it has not run.
            st.cut_stopped = 0
            tracer = getattr(self, "_iss_tracer", None)
            if tracer is not None:
                tracer.forget(st.stop_pc)
        if reason == native.STOP_BUDGET or reason == native.STOP_CUT:
            # At the block it stopped before (saves reading the PC: most slices end
            # so), or at the instruction iss_cut_hook stopped before. A cut block's
            # slice ending here (the C loop does not cut exactly) also stops before
            # the block, uncharged.
            self.pc = st.stop_pc
            return Stop.BUDGET
        pc = self.uc.reg_read(UC_RISCV_REG_PC)
        if reason == native.STOP_ILLEGAL:
            self._exception(mm.CAUSE_ILLEGAL, st.stop_pc, st.stop_info)
            return Stop.BUDGET
        if reason == native.STOP_ECALL:
            self._exception(mm.CAUSE_ECALL, st.stop_pc)
            return Stop.BUDGET
        if reason == native.STOP_EBREAK:
            # An ebreak (one of the program's, or one a debugger wrote over the
            # code): a debugger attached takes it first, else it is a breakpoint trap.
            self.pc = st.stop_pc
            if self.debug is not None and self.debug.ebreak(self):
                return Stop.DEBUG
            self._exception(mm.CAUSE_BREAKPOINT, st.stop_pc)
            return Stop.BUDGET
        if reason == native.STOP_TRAP:
            self.pc = st.stop_pc
            raise SimulationError(f"unexpected trap {st.stop_info}", self.where())
        if reason == native.STOP_FAULT:
            self.pc = st.stop_pc
            raise MemoryFault(f"access at 0x{st.stop_info:08x} outside mapped memory", self.where())
        if reason == native.STOP_SLOW:
            self.pc = st.stop_pc
            return self._slow()
        if reason == native.STOP_EXIT:
            self.pc = st.stop_pc
            self._code.add_exit(st.stop_info, self.cluster.harts)
            return Stop.BUDGET
        if reason == native.STOP_CODE:
            # About to run rewritten code: stopped at a block start before the block
            # was charged, as at the budget. Nothing is refunded: the block before
            # ran whole (Unicorn does not cut a RISC-V block short at a store into
            # it, the rest runs as translated; what cuts a block refunds its tail
            # then), and stop_pc inside it is a jump back into it (a loop), whose
            # iteration and taken-branch penalty stand.
            self.pc = st.stop_pc
            self._code.refresh(self.cluster.memory, self.cluster.harts)
            return Stop.BUDGET
        if self._stop_request is not None:
            return self._stopped_on_access(pc)
        # emu_start returned by itself: a wfi (PC on the next instruction), or an
        # exit address: an invalid encoding (CodeImage.illegal) is next.
        self.pc = pc
        # (an exit at the very address emu_start began at runs no block)
        if self._code.word(pc - 4) == WFI and (st.recent_pos != blocks or not self._code.is_illegal(pc)):
            self._refund_block_tail(pc)
            if not self._exact_time(self.native.cycles):
                # It sleeps from an exact cycle: run the wfi again once it is known.
                self._refund_block_tail(pc - 4)
                self.pc = pc - 4
                return Stop.BUDGET
            if self.cluster.event_unit.pending(self.id) or self.machine.wakes_from_wfi():
                return Stop.BUDGET
            self.cluster.event_unit.sleep_wfi(self)
            return Stop.SLEEP
        if self._code.is_illegal(pc) and not (step and st.recent_pos != blocks):
            # Stopped before it, as the core traps it (machine mode's handler, or
            # the one-line error without one).
            word = self._code.word(pc)
            self._exception(mm.CAUSE_ILLEGAL, pc, word if word & 3 == 3 else word & 0xFFFF)
            return Stop.BUDGET
        if step or (self.debug is not None and self.debug.stopped_here(self)):
            # One instruction done (stepi), or a debugger stopped before the next one.
            self._refund_block_tail(pc)
            return Stop.DEBUG if not step else Stop.BUDGET
        raise SimulationError("emulation stopped for no known reason", self.where())

    def _stopped_on_access(self, pc: int) -> Stop:
        """Stopped from an MMIO callback: the hart resumes on the access (a sleeping
        load or store runs again, its model sees the retry; the store that ended
        the program is not retired). Unicorn's PC is not the access's (only the
        start of its block once a hook wrote the PC): the native memory hook knows
        which instruction it was. Stopped from a code hook (a debugger's
        breakpoint): Unicorn's PC `pc` is exact."""
        self.pc = self.native.access_pc if self._stop_in_access else pc
        if self._stop_after_store:
            # The store retired: the hart resumes (or takes its interrupt) after it.
            self.pc += 4 if self._code.word(self.pc) & 3 == 3 else 2
        self._refund_block_tail(self.pc)
        return self._stop_request

    def _slow(self) -> Stop:
        """Finish a custom instruction the native executor handed back: cv.elw
        is a load that may put the hart to sleep until its event."""
        try:
            req = self.isa.slow(self.uc)
        except RuntimeError:
            if self.native.stop_reason == native.STOP_ILLEGAL:
                self._exception(mm.CAUSE_ILLEGAL, self.native.stop_pc, self.native.stop_info)
                return Stop.BUDGET
            raise
        if req is not None:
            mem = self.cluster.memory
            ram = mem.region(req.address, 4)
            if ram is not None:
                buf, off = ram
                value = int.from_bytes(buf[off:off + 4].tobytes(), "little")
            else:
                if not self._exact_time(self.native.cycles):
                    return Stop.BUDGET         # PC stays on the cv.elw: retried
                self.cluster.current = self
                self.native.access_pc = req.pc
                value = mem.io_read(self, req.address, 4)
                if value is WAIT:
                    return Stop.SLEEP          # PC stays on the cv.elw: retried on wake
            self.isa.complete(self.uc, req, value)
        elif self._stop_request is not None:
            # a CORE-V instruction outside the image stopped on an MMIO access
            return self._stopped_on_access(self.pc)
        self.pc = self.uc.reg_read(UC_RISCV_REG_PC)
        return Stop.BUDGET

    def _refund_block_tail(self, pc: int) -> None:
        """The block in flight was charged whole; the instructions from `pc` on
        will be charged again when the hart resumes there."""
        native.lib().iss_cut_block(ctypes.byref(self.native), ctypes.c_uint32(pc))

    def sleep(self, waiting_for: str, kind: SleepKind) -> None:
        """Clock-gate the hart, waiting for `waiting_for` (said in deadlock
        reports and timelines); `kind` is why, for the counters (iss/sleep.py)."""
        self.state = State.SLEEPING
        self.cluster.scheduler.harts_changed()
        self.waiting_for = waiting_for
        self.sleep_kind = kind

    def wake(self, at: int) -> None:
        """Resume a clock-gated hart at cycle `at` (its clock never goes back)."""
        if self.state is not State.SLEEPING:
            return
        if at > self.native.cycles:
            start = self.native.cycles
            gated = at - start
            self.sleep_cycles += gated
            self.sleep_by_kind[self.sleep_kind] = self.sleep_by_kind.get(self.sleep_kind, 0) + gated
            for listener in self.cluster.sleep_listeners:
                listener(self.id, start, at, self.waiting_for, self.sleep_kind)
            self.native.cycles = at
        self.state = State.RUNNING
        self.cluster.scheduler.harts_changed()
        self.waiting_for = ""
        cur = self.cluster.current
        if cur is not None and cur is not self:
            cur.other_woke(self)

    # -- hooks ---------------------------------------------------------------
    @python_hook
    def _mmio_read(self, uc, offset, size, base):
        addr = base + offset
        if not self._exact_time(self.native.access_cycle):
            self._request_stop(Stop.BUDGET, uc, in_access=True)     # retried once its TCDM waits are known
            return 0
        self._in_io = True
        self._charge_periph()
        self._io_time = self._access_time()
        try:
            value = self.cluster.memory.io_read(self, addr, size)
        except BaseException as e:
            # Raised through Unicorn's wrapper, a read callback returns None, which
            # ctypes reports as "Exception ignored ... TypeError": run() raises it.
            self._hook_error = e
            uc.emu_stop()
            return 0
        finally:
            self._io_time = None
        self._in_io = False
        if value is WAIT:
            self._request_stop(Stop.SLEEP, uc, in_access=True)
            return 0
        return value

    @python_hook
    def _mmio_write(self, uc, offset, size, value, base):
        addr = base + offset
        if not self._exact_time(self.native.access_cycle):
            self._request_stop(Stop.BUDGET, uc, in_access=True)     # retried once its TCDM waits are known
            return
        self._in_io = True
        self._charge_periph()
        self._io_time = self._access_time()
        self._store_raised = False
        try:
            r = self.cluster.memory.io_write(self, addr, size, value)
        finally:
            self._io_time = None
        self._in_io = False
        if r is WAIT:
            # PC stays on the store, which is retried when the hart wakes.
            self._request_stop(Stop.SLEEP, uc, in_access=True)
        elif self.cluster.exit_code is not None:
            self._request_stop(Stop.EXIT, uc, in_access=True)
        elif self._store_raised and self._stop_request is None and self._is_plain_store(self.native.access_pc):
            # It raised a line this hart takes (line_raised), or one may rise soon
            # (line_may_rise): stop right after it, where the interrupt is taken,
            # or from where the next slice ends exactly where the line rises.
            self._request_stop(Stop.BUDGET, uc, in_access=True)
            self._stop_after_store = True
            self.native.io_stop = 0

    def _exact_time(self, at: int, ordered: bool = True) -> bool:
        """Whether this hart may act at cycle `at` (the instruction it is about to
        issue there) as the hardware would: its queued TCDM accesses are
        arbitrated, so its clock is exact (iss/timing/tcdm.py), and, if `ordered`
        (it talks to a peripheral), every access to peripherals before it in
        simulated time, or at the same cycle from a lower hart id, has been made
        and every event due by then has fired. False: the hart must stop before
        the instruction and retry it when the others have caught up."""
        sched = self.cluster.scheduler
        if ordered and not sched.may_act(self, at):
            self.ready_at = at       # the scheduler runs the harts behind `at` first
            return False
        st = self.native
        if not st.tcdm_pending:
            return True
        self.cluster.tcdm_arbiter.resolve(sched.arbitration_bound(self, at))
        return not st.tcdm_pending

    def _access_time(self):
        """The exact cycle the current access reaches its peripheral: its
        instruction's issue cycle (the native memory hook's), plus the cycle
        model's latency to the peripheral."""
        return self.native.access_cycle + (self._periph_latency if self._timing else 0)

    def _charge_periph(self) -> None:
        """A peripheral access crosses the cluster bus: periph_latency cycles
        (charged again when a sleeping access is retried, as the core re-issues it)."""
        if self._periph_latency:
            self.native.cycles += self._periph_latency
            self.native.block_dyn += self._periph_latency
            self.stall_periph += self._periph_latency

    def _request_stop(self, kind: Stop, uc, in_access: bool = False) -> None:
        """Stop the engine; `in_access`: from an MMIO callback, on that access
        (see _stopped_on_access)."""
        if self._stop_request is None:
            self._stop_request = kind
            self._stop_in_access = in_access
            if in_access:
                self.native.io_stop = 1     # a CORE-V access in progress is left undone
            uc.emu_stop()

    @python_hook
    def _unmapped(self, uc, access, address, size, value, user_data):
        self._fault = (access, address, size)
        st = self.native
        if access == UC_MEM_READ_UNMAPPED and not st.access_addr < address < st.access_addr + st.access_size:
            # A load wholly outside memory reaches no memory hook (a store does, and
            # so does the mapped part of a load crossing the end): place it the same way.
            native.lib().iss_locate_access(unicorn_adapter.handle(uc), ctypes.byref(st), ctypes.c_uint32(address))
        return False

    def _memory_error(self, e: UcError) -> SimulationError:
        mem = self.cluster.memory
        if self._fault is None:
            if e.errno == UC_ERR_INSN_INVALID:
                word = self._code.word(self.pc)
                if word == EBREAK or (word & 3 != 3 and word & 0xFFFF == C_EBREAK):
                    return SimulationError("breakpoint (ebreak) with no debugger attached and no trap handler in "
                                           "the runtime", self.where())
                return IllegalInstruction(f"illegal instruction 0x{word:08x}", self.where())
            if e.errno == UC_ERR_FETCH_PROT:
                return MemoryFault(f"jump to 0x{self.pc:08x} ({mem.describe(self.pc)}), where there is no code",
                                   self.where())
            return SimulationError(f"emulator error: {e}", self.where())
        access, address, size = self._fault
        if access == UC_MEM_FETCH_UNMAPPED:
            self.pc = address
            return MemoryFault(f"jump to unmapped address 0x{address:08x}", self.where())
        kind = "store to" if access == UC_MEM_WRITE_UNMAPPED else "load from"
        at = self._access_covering(self.pc, address)
        if at is not None and mem.region(at[1]):
            # Unicorn splits an access that crosses the end of a memory and reports
            # an unmapped piece: name the access the program made.
            self.pc, start, n = at
            end = next(a for a in range(start, start + n) if mem.region(a) is None)
            return MemoryFault(f"{kind} 0x{start:08x} ({n} bytes) crosses the end of {mem.describe(start)} "
                               f"at 0x{end:08x}", self.where())
        return MemoryFault(f"{kind} unmapped address 0x{address:08x} ({size} bytes)", self.where())

    def _access_covering(self, pc: int, address: int, limit: int = 32):
        """(pc, address, size) of the first standard load or store from `pc` on
        whose access, from the registers as they stand, covers `address` (the
        engine may report the start of the block as the PC)."""
        for _ in range(limit):
            insn = isa.decode(self._code.word(pc))
            if insn is None:
                return None
            if insn.fmt in ("L", "S", "CL", "CS", "CLWSP", "CSS"):
                n = 1 if insn.mnemonic in ("lb", "lbu", "sb") else 2 if insn.mnemonic in ("lh", "lhu", "sh") else 4
                start = (self.reg(insn.rs1) + insn.imm) & 0xFFFFFFFF
                if start < address < start + n:
                    return pc, start, n
            pc += insn.length
        return None

    @python_hook
    def _csr(self, uc, address, size, data):
        """Execute a CSR instruction in place of Unicorn, then skip it."""
        if uc.reg_read(UC_RISCV_REG_PC) != address:
            return  # a hardware loop ending here (its hook runs first) went back to the loop start
        csr, word = data
        rd, funct3, rs1 = (word >> 7) & 31, (word >> 12) & 7, (word >> 15) & 31
        code, st = self._code, self.native
        i, j = code.index(address), code.index(address + 4)
        own_cycles = int(code.cycle_prefix[j] - code.cycle_prefix[i])
        if not self._exact_time(st.cycles - own_cycles, ordered=False):
            # Counters must be exact: run the instruction again once they are.
            self._refund_block_tail(address)
            uc.reg_write(UC_RISCV_REG_PC, address)
            self._request_stop(Stop.BUDGET, uc)
            return
        src = rs1 if funct3 >= 5 else self.reg(rs1)
        writes = funct3 in (1, 5) or rs1 != 0
        if csr == CSR_MHARTID:
            old = self.mhartid
        elif csr in CSR_PERF or csr in CSR_PERF_H:
            value = perf.read(self, CSR_PERF.get(csr, CSR_PERF_H.get(csr)))
            old = (value >> 32) & 0xFFFFFFFF if csr in CSR_PERF_H else value & 0xFFFFFFFF
        elif csr in CSR_COUNTERS:
            name = CSR_COUNTERS[csr]
            # The counters as they stand before this instruction.
            value = st.cycles - own_cycles if "cycle" in name else st.instret - 1
            old = (value >> 32) & 0xFFFFFFFF if name.endswith("h") else value & 0xFFFFFFFF
        else:
            old = self.machine.read(csr)
        if old is None or (writes and csr >> 10 == 3):
            # No such CSR on this core, or a write to a read-only one.
            self._refund_block_tail(address)
            self._exception(mm.CAUSE_ILLEGAL, address, word, in_hook=True)
            return
        # Skipping the instruction ends the block here: what follows it was charged
        # with the block and will be charged again from the next one.
        self._refund_block_tail(address + 4)
        if writes:
            new = src if funct3 in (1, 5) else (old | src) if funct3 in (2, 6) else (old & ~src)
            if csr in CSR_COUNTERS:
                # csrw mcycle/minstret: the counter restarts from the written value.
                name = CSR_COUNTERS[csr]
                if funct3 in (1, 5) and not name.endswith("h"):
                    if "cycle" in name:
                        st.cycles = src + own_cycles
                    else:
                        st.instret = src + 1
            elif csr not in CSR_PERF and csr not in CSR_PERF_H:
                self.machine.write(csr, new)
        self.set_reg(rd, old)
        uc.reg_write(UC_RISCV_REG_PC, address + 4)
        if writes and csr in (mm.MSTATUS, mm.MIE):
            self._interrupts_changed(address + 4)

    @python_hook
    def _system(self, uc, address, size, word):
        """mret and ebreak (c.ebreak), in place of Unicorn."""
        if uc.reg_read(UC_RISCV_REG_PC) != address:
            return  # a hardware loop ending here went back to the loop start
        self._refund_block_tail(address)
        if word != MRET:
            if self.debug is not None:     # a debugger attached takes ebreak first (run())
                st = self.native
                st.stop_reason, st.stop_pc, st.stop_info = native.STOP_EBREAK, address, 3
                uc.reg_write(UC_RISCV_REG_PC, address)
                uc.emu_stop()
                return
            self._exception(mm.CAUSE_BREAKPOINT, address, in_hook=True)
            return
        # mret retires: charged as an instruction of its own, mret_cycles in all.
        st = self.native
        lib = native.lib()
        lib.iss_charge_insn(ctypes.byref(st), ctypes.c_uint32(address))
        i, j = self._code.index(address), self._code.index(address + 4)
        own = int(self._code.cycle_prefix[j] - self._code.cycle_prefix[i]) if i is not None and j is not None else 1
        st.cycles += max(0, self._mret_cycles - own)
        target = self.machine.mret()
        if self._retry_stack:
            self.retry_addr = self._retry_stack.pop()
        uc.reg_write(UC_RISCV_REG_PC, target)
        self._interrupts_changed(target)

    # -- traps (iss/machine.py) ---------------------------------------------------
    def _enter(self, cause: int, epc: int, in_hook: bool) -> None:
        """Enter the handler: CSRs, trap_cycles, PC."""
        st = self.native
        target = self.machine.enter(cause, epc)
        st.cycles += self._trap_cycles
        st.prev_flags = 0          # the handler is reached by the trap, not by a branch
        self.traps += 1
        self.pc = target
        if in_hook:
            self.uc.reg_write(UC_RISCV_REG_PC, target)

    def _exception(self, cause: int, pc: int, word: int | None = None, in_hook: bool = False) -> None:
        """The instruction at `pc` traps (it does not retire). With no vector
        installed (mtvec 0: no runtime) the run ends with the clear error the
        runtime's default vector would give."""
        self._refund_block_tail(pc)
        if not self.machine.handler_installed:
            self.pc = pc
            if in_hook:
                self.uc.reg_write(UC_RISCV_REG_PC, pc)
            if word is None and cause == mm.CAUSE_ILLEGAL:
                word = self._code.word(pc)
            err = IllegalInstruction if cause == mm.CAUSE_ILLEGAL else SimulationError
            raise err(mm.describe_unhandled(cause, word), self.where(pc))
        self._enter(cause, pc, in_hook)

    def _interrupt(self, line: int, pc: int, in_hook: bool = False) -> None:
        """Take interrupt `line` at the boundary before `pc`; the event unit is
        acknowledged (it clears the event, as PULP's does on irq_ack)."""
        self.cluster.event_unit.irq_ack(self.id, line)
        self._retry_stack.append(self.retry_addr)
        self.retry_addr = None
        self.interrupts += 1
        self._enter(mm.INTERRUPT | line, pc, in_hook)

    def line_raised(self) -> None:
        """An interrupt line of this core rose: if the core is running now and
        would take it, its slice ends at the next instruction boundary (the
        interrupt is taken there, when the next slice starts): right after the
        store that raised it (_mmio_write), or after the instruction in flight
        (a chain of the CORE-V executor checks the budget after each one; a
        load's callback cannot stop after the load: then at the next block)."""
        if self.cluster.current is self and self.machine.pending_interrupt() is not None:
            st = self.native
            st.budget = min(st.budget, st.cycles)
            self._store_raised = True

    def line_rises_later(self, at: int) -> None:
        """An interrupt line of this core rises at cycle `at`, ahead of its clock:
        if the core is running now (its own access raised it), its slice ends there."""
        if self.cluster.current is self:
            self.line_may_rise(at)

    def _is_plain_store(self, pc: int) -> bool:
        """Whether the instruction at `pc` is a standard store (sw/sh/sb, c.sw,
        c.swsp): it is done once its MMIO callback returns."""
        word = self._code.word(pc)
        if word & 3 == 3:
            return word & 0x7F == 0x23
        return word & 0xE003 in (0xC000, 0xC002)

    def report_unhandled_trap(self, mcause: int) -> SimulationError:
        """The runtime's default vector reports a trap no handler took (written to
        the cluster controller's TRAP register): the error names where it happened."""
        epc = self.machine.mepc
        word = self._code.word(epc) if mcause == mm.CAUSE_ILLEGAL else None
        err = IllegalInstruction if mcause == mm.CAUSE_ILLEGAL else SimulationError
        return err(mm.describe_unhandled(mcause, word), self.where(epc))


class CodeImage:
    """The executable bytes of the program, indexed per halfword, with the tables
    the native block hook charges from (iss/timing/core.py) and the CSR sites to
    emulate. Shared by every hart.

    One region per executable segment (segments that touch or overlap are one
    region): code in L2 and code in the TCDM (.l1.text) are 192 MiB apart, and
    nothing is decoded in between. The regions' tables lie end to end, each
    followed by one slot for its end (a block ending on the region's last
    instruction); `pcs` gives the address of every slot, `index` the slot of
    an address, and `regions` (base, halfwords, offset) places them for the
    native side (native.CodeMap).

    Self-modifying code: every store to the code, by any hart (standard or
    CORE-V) or by the DMA (`written`), marks its page of slots dirty; the first
    block a hart is about to run on a dirty page stops it (native.STOP_CODE) and
    `refresh` redoes the tables of the dirty pages in place (decode, linear
    decode, costs, prefix sums, sites, illegal encodings) and every hart's
    translations and hooks there. fence.i ends a translated block, so code
    patched before it is seen by the next instruction."""

    def __init__(self, program):
        spans = []
        for seg in sorted((s for s in program.segments if s.executable), key=lambda s: s.vaddr):
            lo, hi = seg.vaddr & ~1, seg.vaddr + seg.memsz
            if spans and lo <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], hi)
            else:
                spans.append([lo, hi])
        if not spans:
            program.code_range()          # the error for a program without code
        if len(spans) > native.CODE_REGIONS:
            raise SimulationError(f"{program.path}: {len(spans)} separate executable segments, the simulator "
                                  f"takes at most {native.CODE_REGIONS}")
        self.regions = []
        self.csr_sites = []
        self.system_sites = []     # (pc, word) of mret, ebreak, c.ebreak
        raws, tables, starts_all, timings, pcs = [], [], [], [], []
        offset = 0
        for lo, hi in spans:
            n = (hi - lo + 1) // 2
            raw = bytearray(2 * n + 2)
            for seg in program.segments:
                if seg.executable and lo <= seg.vaddr < hi:
                    raw[seg.vaddr - lo: seg.vaddr - lo + len(seg.data)] = seg.data
            raw = bytes(raw)
            half = np.frombuffer(raw, dtype="<u2")[:n]
            starts = isa.linear_starts(half)
            csr, system = self._sites_of(half, starts, lo)
            self.csr_sites += csr
            self.system_sites += system
            table = isa.predecode_table(raw, lo)[:n]
            timings.append(timing_core.analyse(table, starts, lo, raw))
            # per region: its n halfwords and the slot for its end
            raws.append(raw[:2 * n + 2])
            tables.append(np.concatenate([table, np.zeros(1, table.dtype)]))
            starts_all.append(np.concatenate([starts, [False]]))
            pcs.append(lo + 2 * np.arange(n + 1, dtype=np.int64))
            self.regions.append((lo, n, offset))
            offset += n + 1
        self.halfwords = offset - 1 if offset else 0     # slots, less the last region's end
        n = self.halfwords
        # (raw, table and the rest are this image's own: rewritten code is redone in place)
        self.raw = bytearray(b"".join(raws))
        self.pcs = np.concatenate(pcs).astype(np.uint32) if pcs else np.zeros(1, np.uint32)
        self.table = np.concatenate(tables)[:n] if tables else np.zeros(0, isa.PREDECODE_DTYPE)
        starts = np.concatenate(starts_all)[:n]
        self.starts = starts
        # Every instruction start of the linear decode that is no valid instruction:
        # Unicorn would run some of these (c.fld, F/D instructions, RV64-only RVC,
        # ...), the CV32E40P traps them; they are the engines' exit addresses. Off
        # the linear decode (a jump into the middle of an instruction) the block hook
        # adds one when a block would reach it (add_exit): every exit costs each
        # emu_start a lookup and invalidates the translations that hold it. The
        # halfword 0x0000 (padding between functions) is none: Unicorn traps it
        # itself, like every encoding it does not know (the CORE-V executor's INTR hook).
        half = np.frombuffer(self.raw, dtype="<u2")[:n]
        self.illegal = self.pcs[:n][starts & (self.table["op"] == 0) & (half != 0)].tolist()
        t = self.timing = timing_core.CodeTiming.concatenate(timings, n)
        self.flags = t.flags
        self.info, self.cost_at = timing_core.halfword_tables(self.table, starts, t.cost)
        self.insn_prefix = np.zeros(n + 1, dtype=np.uint32)
        self.cycle_prefix = np.zeros(n + 1, dtype=np.uint32)
        np.cumsum(starts, out=self.insn_prefix[1:])
        np.cumsum(t.cost, out=self.cycle_prefix[1:])
        # Watching for rewritten code (struct iss_hart.code_dirty_pages, code_dirty).
        self.dirty_pages = np.zeros((offset >> native.CODE_PAGE_SLOTS_SHIFT) + 1, np.uint8)
        self.dirty = np.zeros(1, np.uint32)
        self.refreshes = 0           # how many times rewritten code was redecoded
        # The block hook's per-block cache (struct iss_block_info), made from the
        # tables above: cleared whenever they are redone.
        self.blocks = np.zeros(native.lib().iss_block_cache_bytes(), np.uint8)
        self._derived = []           # (weak reference to a per-slot table, its builder): keep_current

    def keep_current(self, table: np.ndarray, build) -> None:
        """`table` holds a row per slot, made from the decode by build(code, lo, hi)
        for the slots [lo, hi) (a trace's or a debugger's per-instruction table):
        the rows of rewritten code are rebuilt in place when it is redecoded."""
        self._derived.append((weakref.ref(table), build))

    def add_exit(self, addr: int, harts) -> None:
        """An invalid encoding off the linear decode is about to be reached: make it
        an exit address of every engine (see `illegal`), and drop the
        translations that hold it (made before it was an exit)."""
        new = addr not in self.illegal
        if new:
            bisect.insort(self.illegal, addr)
        for h in harts:
            if new:
                h.uc.ctl_set_exits([0, *self.illegal])
            # (always: a translation still holding it would stop here again on every resume)
            h.uc.ctl_remove_cache(addr, addr + 2)

    @staticmethod
    def _sites_of(half: np.ndarray, starts: np.ndarray, lo: int) -> tuple[list, list]:
        """(csr_sites, system_sites) of the instructions of `half` (at `lo`):
        (pc, csr, word) of each CSR access Python emulates, (pc, word) of mret,
        ebreak, c.ebreak."""
        n = len(half)
        idx = np.nonzero(starts[:n])[0]
        h = half[idx].astype(np.int64)
        upper = np.where(idx + 1 < n, half[np.minimum(idx + 1, n - 1)].astype(np.int64), 0)
        word = np.where((h & 3) == 3, h | (upper << 16), h)
        is32 = (h & 3) == 3
        csr = is32 & ((word & 0x7F) == 0x73) & ~np.isin((word >> 12) & 7, (0, 4))
        system = (is32 & ~csr & np.isin(word, (MRET, EBREAK))) | (~is32 & (h == C_EBREAK))
        return ([(lo + 2 * i, w >> 20, w) for i, w in zip(idx[csr].tolist(), word[csr].tolist())],
                [(lo + 2 * i, w) for i, w in zip(idx[system].tolist(), word[system].tolist())])

    # -- rewritten code ----------------------------------------------------------
    def written(self, addr: int, size: int) -> None:
        """Bytes [addr, addr + size) were written other than by a hart's store (the
        DMA): mark the pages of the code among them dirty."""
        for base, n, o in self.regions:
            lo, hi = max(addr, base), min(addr + size, base + 2 * n)
            if lo < hi:
                s0, s1 = o + ((lo - base) >> 1), o + ((hi - 1 - base) >> 1)
                self.dirty_pages[s0 >> native.CODE_PAGE_SLOTS_SHIFT:(s1 >> native.CODE_PAGE_SLOTS_SHIFT) + 1] = 1
                self.dirty[0] = 1

    def refresh(self, memory, harts) -> None:
        """Redecode the dirty pages from memory (see the class docstring)."""
        pages = np.nonzero(self.dirty_pages)[0]
        self.dirty_pages[:] = 0
        self.dirty[0] = 0
        if not len(pages):
            return
        self.refreshes += 1
        self.blocks[:] = 0
        page = 1 << native.CODE_PAGE_SLOTS_SHIFT
        for run in np.split(pages, np.nonzero(np.diff(pages) != 1)[0] + 1):
            s0, s1 = int(run[0]) * page, (int(run[-1]) + 1) * page
            for region in self.regions:
                base, n, o = region
                a, b = max(s0, o) - o, min(s1, o + n) - o
                if a < b:
                    lo_hw, hi_hw, removed, added = self._redecode(memory, region, a, b)
                    illegal_changed = removed[2] != added[2]
                    for h in harts:
                        h.code_changed(base + 2 * lo_hw, base + 2 * hi_hw, removed, added, illegal_changed)
                    self._derived = [(ref, build) for ref, build in self._derived if ref() is not None]
                    for ref, build in self._derived:
                        ref()[o + lo_hw:o + hi_hw] = build(self, o + lo_hw, o + hi_hw)

    def _linear_decode(self, region, i: int, stop: int) -> int:
        """The region's starts from its instruction start i (local), up to `stop`
        or beyond, where the decode meets an old start again (the rest is
        unchanged); returns where it stopped."""
        _, n, o = region
        half = np.frombuffer(self.raw, dtype="<u2")[o:o + n]
        starts = self.starts[o:o + n]
        while i < n:
            if i >= stop and starts[i]:
                break
            starts[i] = True
            step = 2 if half[i] & 3 == 3 else 1
            if step == 2 and i + 1 < n:
                starts[i + 1] = False
            i += step
        return min(i, n)

    def _redecode(self, memory, region, a: int, b: int):
        """Redo every table over the region's halfwords [a, b) (local) rewritten in
        memory; returns the local range whose tables changed and the sites there
        before and after."""
        lo, n, o = region
        raw = self.raw
        raw[2 * (o + a):2 * (o + b)] = memory.read(lo + 2 * a, 2 * (b - a))
        starts = self.starts[o:o + n]
        half = np.frombuffer(raw, dtype="<u2")[o:o + n + 1]
        old = np.nonzero(starts[:max(a - 1, 0) + 1])[0]
        p0 = int(old[-1]) if len(old) else 0               # an instruction start before the change
        before = np.nonzero(starts[:p0])[0]
        p = int(before[-1]) if len(before) else p0          # its predecessor: its load-use stall may change
        pp = int(before[-2]) if len(before) > 1 else p      # what p's jalr rule reads
        r = self._linear_decode(region, p0, b)              # the old starts hold from here on

        def after(i):                                       # the instruction start after the one at i
            return min(i + (2 if half[i] & 3 == 3 else 1), n) if i < n else n
        r2 = after(r)
        we = after(r2)
        d0 = max(a - 1, 0)
        pc_of = lambda i: lo + 2 * i                        # noqa: E731
        old_csr = [x for x in self.csr_sites if pc_of(p) <= x[0] < pc_of(r2)]
        old_sys = [x for x in self.system_sites if pc_of(p) <= x[0] < pc_of(r2)]
        old_ill = {x for x in self.illegal if pc_of(p) <= x < pc_of(r2)}
        old_div = [x for x in self.timing.div_sites if pc_of(p) <= x[0] < pc_of(r2)]
        # decode: [a - 1, b) (a 32-bit decode at a - 1 reads halfword a)
        self.table[o + d0:o + b] = isa.predecode(bytes(raw[2 * (o + d0):2 * (o + b) + 2]), pc_of(d0))[:b - d0]
        # timing: analysed over [pp, we), kept over [p, r2)
        t = timing_core.analyse(self.table[o + pp:o + we], starts[pp:we], pc_of(pp),
                                bytes(raw[2 * (o + pp):2 * (o + we) + 2]))
        k0, k1 = p - pp, r2 - pp
        tm = self.timing
        for name in ("cost", "load_use", "jump", "kind"):
            getattr(tm, name)[o + p:o + r2] = getattr(t, name)[k0:k1]
        tm.flags[o + p:o + r2 + 1] = t.flags[k0:k1 + 1]
        new_div = [x for x in t.div_sites if pc_of(p) <= x[0] < pc_of(r2)]
        tm.div_sites[:] = [x for x in tm.div_sites if x not in old_div] + new_div
        info, cost_at = timing_core.halfword_tables(self.table[o + p:o + r2], starts[p:r2], tm.cost[o + p:o + r2])
        self.info[o + p:o + r2], self.cost_at[o + p:o + r2] = info[:r2 - p], cost_at[:r2 - p]
        g = o + p                                           # prefix sums: from here to the last region's end
        np.cumsum(self.starts[g:], out=self.insn_prefix[g + 1:])
        self.insn_prefix[g + 1:] += self.insn_prefix[g]
        np.cumsum(tm.cost[g:], out=self.cycle_prefix[g + 1:])
        self.cycle_prefix[g + 1:] += self.cycle_prefix[g]
        new_csr, new_sys = self._sites_of(half[p:r2], starts[p:r2], pc_of(p))
        self.csr_sites[:] = sorted(set(self.csr_sites) - set(old_csr) | set(new_csr))
        self.system_sites[:] = sorted(set(self.system_sites) - set(old_sys) | set(new_sys))
        new_ill = {pc_of(int(i)) for i in np.nonzero(starts[p:r2] & (self.table["op"][o + p:o + r2] == 0)
                                                     & (half[p:r2] != 0))[0] + p}
        if new_ill != old_ill:
            self.illegal[:] = sorted(set(self.illegal) - old_ill | new_ill)
        return (min(p, d0), max(r2, b), (old_csr, old_sys, old_ill, old_div), (new_csr, new_sys, new_ill, new_div))

    @property
    def span(self) -> tuple[int, int]:
        """[first, last] address of the code (gaps between regions included)."""
        base, n, _ = self.regions[-1]
        return self.regions[0][0], base + 2 * n - 1

    def index(self, addr: int):
        """The slot of the halfword at `addr` (a region's end included), or None."""
        return native.code_slot(self.regions, addr)

    def indices(self, addrs: np.ndarray) -> np.ndarray:
        """`index` of each address (-1 where there is none)."""
        addrs = np.asarray(addrs, dtype=np.int64)
        out = np.full(addrs.shape, -1, dtype=np.int64)
        for base, n, offset in self.regions:
            inside = (addrs >= base) & (addrs <= base + 2 * n) & ((addrs & 1) == 0)
            out[inside] = offset + ((addrs[inside] - base) >> 1)
        return out

    def is_illegal(self, addr: int) -> bool:
        i = native.code_slot(self.regions, addr, ends=False)
        return i is not None and self.table["op"][i] == 0

    def word(self, addr: int) -> int:
        for base, n, offset in self.regions:
            if base <= addr and addr + 4 <= base + 2 * n + 2:
                off = 2 * offset + (addr - base)
                return int.from_bytes(self.raw[off:off + 4], "little")
        return 0

    def fill(self, code_map) -> None:
        """Place the regions in a native.CodeMap."""
        code_map.set(self.regions)
