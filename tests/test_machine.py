"""Machine mode as on the CV32E40P (iss/machine.py): CSRs, exceptions, mret,
interrupts from the event unit and the cluster timer. Expected values come from
the CV32E40P user manual ("Control and Status Registers", "Exceptions and
Interrupts") and from cycle counts worked out by hand."""
from __future__ import annotations

import pytest

from iss import Cluster
from iss.machine import IRQ_LINES, Machine, highest_priority

MPP_M = 3 << 11
MIE, MPIE = 1 << 3, 1 << 7


def sym(cluster, name, dtype="uint32"):
    return cluster.read_symbol(name, dtype)


# ------------------------------------------------------------------ CSR rules
def test_csr_rules_from_the_manual():
    lines = [0]
    m = Machine(0x25, lambda: lines[0], lambda: {"start": [1, 2], "end": [3, 4], "count": [5, 6]})
    assert m.read(0x300) == MPP_M                      # MPP hard-wired to M, MIE/MPIE 0 out of reset
    assert m.write(0x300, 0xFFFFFFFF) and m.read(0x300) == MPP_M | MIE | MPIE
    assert m.write(0x305, 0x1C000123) and m.read(0x305) == 0x1C000101   # base 256-aligned, MODE bit 0
    assert m.write(0x343, 5) and m.read(0x343) == 0    # mtval: hard-wired zero
    assert m.write(0x341, 0x1C000003) and m.read(0x341) == 0x1C000002
    assert m.write(0x304, 0xFFFFFFFF) and m.read(0x304) == IRQ_LINES
    assert IRQ_LINES & 0x8F == 0x88 and IRQ_LINES >> 16 == 0xFFFF   # 3, 7, 11, 16-31 (and PULP's 8-15)
    lines[0] = 0xFFFFFFFF
    assert m.read(0x344) == IRQ_LINES                  # mip: the lines the core has
    assert m.read(0x301) == 0x40801104                 # RV32 I M C X
    assert (m.read(0xF11), m.read(0xF12), m.read(0xF14)) == (0x602, 4, 0x25)
    assert not m.write(0xF11, 0) and not m.write(0xC00, 0)   # read-only CSRs: illegal
    assert m.read(0x7C0) is None and not m.write(0x7C0, 1)    # no such CSR: illegal
    assert [m.read(0xCC0 + i) for i in range(6)] == [1, 3, 5, 2, 4, 6]


def test_interrupt_priority_is_the_manuals():
    """31..16, then 11, 3, 7 (timer last); PULP's 8-15 by id in between."""
    assert highest_priority((1 << 7) | (1 << 3)) == 3
    assert highest_priority((1 << 7) | (1 << 3) | (1 << 11)) == 11
    assert highest_priority((1 << 16) | (1 << 31) | (1 << 11)) == 31
    assert highest_priority((1 << 10) | (1 << 11) | (1 << 8)) == 11
    assert highest_priority(1 << 7) == 7 and highest_priority(0) is None


def test_trap_entry_and_mret():
    m = Machine(0, lambda: 0, lambda: {})
    m.write(0x305, 0x1C000201)                         # vectored
    m.write(0x300, MIE)
    assert m.enter(2, 0x1C000010) == 0x1C000200       # exceptions: the base
    assert (m.mepc, m.mcause, m.mstatus) == (0x1C000010, 2, MPP_M | MPIE)
    assert m.mret() == 0x1C000010 and m.mstatus == MPP_M | MIE | MPIE
    assert m.enter((1 << 31) | 10, 0x1C000020) == 0x1C000200 + 40   # interrupt 10: base + 4 x 10
    m.write(0x305, 0x1C000200)                         # direct
    assert m.enter((1 << 31) | 10, 0x1C000020) == 0x1C000200


# ------------------------------------------------------------------ exceptions
def test_each_exception_cause_with_its_csr_values(fw):
    """ecall 11, ebreak and c.ebreak 3, illegal 2 (c.unimp, a CSR the core lacks,
    a write to a read-only CSR, an F instruction without FPU, c.fld and c.addw,
    which Unicorn would run, an undefined CORE-V encoding): mepc at the instruction, MIE saved in MPIE, MPP = M, mtval 0; the
    undefined CORE-V instruction changed no register."""
    c = Cluster(fw("mmode_exceptions"))
    r = c.run()
    names = ["at_ecall", "at_ebreak", "at_cebreak", "at_illegal", "at_nocsr", "at_rocsr", "at_flw", "at_cfld",
             "at_caddw", "at_corev", "at_ecall_mie"]
    causes = [11, 3, 3, 2, 2, 2, 2, 2, 2, 2, 11]
    assert r.exit_code == len(names)
    assert list(sym(c, "log_epc")[:len(names)]) == [c.program.symbol(n).addr for n in names]
    assert list(sym(c, "log_cause")[:len(names)]) == causes
    assert list(sym(c, "log_mstatus")[:len(names)]) == [MPP_M] * 10 + [MPP_M | MPIE]
    assert not sym(c, "log_mtval").any()
    assert sym(c, "mstatus_after_enabled")[0] == MPP_M | MPIE | MIE     # mret restored MIE
    assert (sym(c, "corev_a0")[0], sym(c, "corev_a1")[0]) == (0x1234, 0x5678)
    assert c.harts[0].traps == len(names)


# ------------------------------------------------------------------ the cluster timer
TIMER = 0x10200400


def timer_cluster():
    c = Cluster(None)
    raised = []
    eu = c.event_unit
    orig = eu.trigger
    eu.trigger = lambda line, mask, at=None: (raised.append((line, at)), orig(line, mask, at))
    return c, raised


def test_timer_periodic_oneshot_continuous_prescaler():
    c, raised = timer_cluster()
    c.bus_write(TIMER + 0x10, 100)                        # CMP_LO
    c.bus_write(TIMER + 0x00, 0x17)                       # ENABLE RESET IRQEN MODE: every 100 cycles
    c.advance(350)
    assert raised == [(10, 100), (10, 200), (10, 300)]
    assert c.bus_read(TIMER + 0x08) == 50                 # counts since the last match
    raised.clear()
    c.bus_write(TIMER + 0x00, 0x27)                       # ONE_S: one match, then stopped
    c.advance(500)
    assert raised == [(10, 450)] and c.bus_read(TIMER + 0x00) & 1 == 0
    raised.clear()
    c.bus_write(TIMER + 0x14, 10)                         # HI: prescaler 4 (PVAL 3): 10 counts = 40 cycles
    c.bus_write(TIMER + 0x04, 0x17 | 0x40 | (3 << 8))
    c.advance(100)
    assert raised == [(11, 890), (11, 930)]
    c.bus_write(TIMER + 0x04, 0)
    raised.clear()
    c.bus_write(TIMER + 0x10, 5)                          # continuous (no MODE): next match after wrapping
    c.bus_write(TIMER + 0x00, 0x07)
    c.advance(20)
    assert raised == [(10, 955)] and c.bus_read(TIMER + 0x08) == 20
    assert max(e[0] for e in c.scheduler.events) == 955 + (1 << 32)


def test_timer_64bit_cascade():
    c, raised = timer_cluster()
    c.bus_write(TIMER + 0x08, 0xFFFFFFF0)                 # CNT_LO
    c.bus_write(TIMER + 0x10, 0x00000010)                 # CMP = 0x1_0000_0010
    c.bus_write(TIMER + 0x14, 1)
    c.bus_write(TIMER + 0x00, (1 << 31) | 0x05)           # CASC ENABLE IRQEN
    c.advance(0x10)
    assert (c.bus_read(TIMER + 0x0C), c.bus_read(TIMER + 0x08)) == (1, 0)
    assert raised == []
    c.advance(0x10)
    assert raised == [(10, 0x20)]


# ------------------------------------------------------------------ interrupts (our firmware)
def irq_run(fw, scenario, **config):
    from iss import Config
    c = Cluster(fw("mmode_irq", defines=[scenario]), Config.load(**config) if config else None)
    return c, c.run(max_cycles=5_000_000)


def compute_reference():
    """Python model of mmode_irq.c's compute(): what each core must get."""
    l1 = [i * 7 + 1 for i in range(64)]
    out = []
    for core in range(8):
        acc = 0
        for i in range(3000):
            acc = (acc + l1[(i + core) & 63] * i) & 0xFFFFFFFF
            acc ^= acc // (i + 3)
        out.append(acc)
    return out


def test_timer_ticks_counted_exactly_while_8_cores_compute(fw):
    """A tick every 2000 cycles on core 0 while 8 cores compute: every match of
    the timer is taken once, and the computation is unchanged. The interrupted
    work is divisions (multi-cycle) and loads all cores make from the same TCDM
    words (bank conflicts), in loops the compiler made hardware loops."""
    c, r = irq_run(fw, "TICKS")
    ticks = r.exit_code
    assert ticks == c.timer.matches[0] == c.harts[0].interrupts
    elapsed = c.harts[0].cycles - int(sym(c, "start_cycle")[0])
    assert ticks == elapsed // 2000
    assert list(sym(c, "result")) == compute_reference()
    assert all(h.interrupts == 0 for h in c.harts[1:])   # only core 0 enabled the line


def test_wfi_wakes_on_the_timer_interrupt_at_the_hand_computed_cycle(fw):
    """c0 = mcycle; the store starting the timer issues at c0 + 4 (csrr mcycle:
    4 cycles) and reaches it 2 cycles later (periph_latency): the match is at
    c0 + 6 + 1000. The core sleeping in wfi wakes wakeup_latency = 2 cycles
    later and enters the handler trap_cycles = 4 cycles after that: its first
    instruction reads mcycle = c0 + 1012."""
    c, r = irq_run(fw, "WFI")
    c0 = int(sym(c, "start_cycle")[0])
    assert int(sym(c, "handler_cycle")[0]) == c0 + 6 + 1000 + 2 + 4
    c, r = irq_run(fw, "WFI", machine={"trap_cycles": 10}, event_unit={"wakeup_latency": 5})
    c0 = int(sym(c, "start_cycle")[0])
    assert int(sym(c, "handler_cycle")[0]) == c0 + 6 + 1000 + 5 + 10


def test_masking_with_mie_and_mstatus(fw):
    c, r = irq_run(fw, "MASK")
    assert int(sym(c, "ticks_mie_off")[0]) == 0            # mstatus.MIE off
    assert int(sym(c, "mip_seen")[0]) == 1 << 10           # the line is raised meanwhile
    assert int(sym(c, "ticks_masked")[0]) == 0             # its mie bit off
    assert r.exit_code == 1                                # taken right after mie is set


def test_nested_interrupts(fw):
    """The timer handler re-enables interrupts and raises MSI (line 3) on its own
    core: the MSI handler runs inside it."""
    c, r = irq_run(fw, "NEST")
    assert list(sym(c, "nest_log")[:3]) == [10, 103, 210]
    assert c.harts[0].interrupts == 2


def test_interrupts_inside_a_hardware_loop_resume_it(fw):
    c, r = irq_run(fw, "HWLOOP")
    a = b = 0
    for _ in range(2000):
        a += 1
        b = (b + 3) ^ a
    assert r.exit_code >= 10 and r.exit_code == c.timer.matches[0]
    assert list(sym(c, "result")[:2]) == [a, b]


def test_dma_completion_by_interrupt(fw):
    c, r = irq_run(fw, "DMA")
    assert r.exit_code == 1 and int(sym(c, "dma_buf_ok")[0]) == 1
    assert c.harts[0].sleep_by_kind.get("wfi", 0) > 0       # it slept until the interrupt


def test_trap_inside_a_team_fork_on_one_core(fw):
    c, r = irq_run(fw, "FORK_TRAP")
    log = list(sym(c, "trap_core_log"))
    assert log == [0, 0, 0, 11, 0, 0, 0, 0]
    assert list(sym(c, "result")) == [(v + 1) & 0xFFFFFFFF for v in compute_reference()]
    assert [h.traps for h in c.harts] == [0, 0, 0, 1, 0, 0, 0, 0]


def test_rtos_demo_switches_tasks_on_the_tick(iss_build):
    """firmware/apps/rtos_tick.c: two tasks on core 0 switched by the timer
    interrupt while cores 1-7 compute; both tasks finish their work exactly."""
    from pathlib import Path
    app = Path(__file__).resolve().parents[1] / "firmware" / "apps" / "rtos_tick.c"
    c = Cluster(iss_build([app], name="rtos_tick", opt="-O3"))
    r = c.run()

    def mix(x):
        x ^= x >> 13
        x = (x * 0x5bd1e995) & 0xFFFFFFFF
        return x ^ (x >> 15)
    a = sum(mix(i) for i in range(3000)) & 0xFFFFFFFF
    b = sum(mix(i + 7) for i in range(2000)) & 0xFFFFFFFF
    switches = c.timer.matches[0]
    assert r.exit_code == 0 and switches >= 4
    assert r.stdout == [f"task A 0x{a:08x}, task B 0x{b:08x}, {switches} task switches",
                        f"cluster sum {sum(i * 13 - 20000 for i in range(4096))} (ok)"]
    assert c.harts[0].interrupts == switches


def test_exception_entry_and_mret_cycles_by_hand(fw):
    """c0 = mcycle (4 cycles: a counter CSR); the ecall traps without retiring and
    the handler starts trap_cycles = 4 later: c1 = c0 + 8. The handler: csrr c1
    (4), csrr mepc (4), addi (1), csrw mepc (4), mret (mret_cycles = 4): the next
    instruction reads c2 = c1 + 17."""
    c = Cluster(fw("mmode_timing"))
    assert c.run().exit_code == 0
    c0, c1, c2 = (int(sym(c, n)[0]) for n in ("c0", "c1", "c2"))
    assert (c1 - c0, c2 - c1) == (8, 17)
    from iss import Config
    c = Cluster(fw("mmode_timing"), Config.load(machine={"trap_cycles": 7, "mret_cycles": 2}))
    c.run()
    c0, c1, c2 = (int(sym(c, n)[0]) for n in ("c0", "c1", "c2"))
    assert (c1 - c0, c2 - c1) == (11, 15)


def test_interrupt_taken_at_the_exact_instruction_boundary(fw):
    """The timer matches at c0 + 1006 (as in the WFI case) while the core runs 1100
    one-cycle addi; the k-th (from 0) starts at c0 + 9 + k. The first boundary at
    or after the match is before addi 997: mepc points at it, the run had counted
    997, and the handler starts trap_cycles = 4 later. Before this was exact, the
    interrupt waited for the start of the next block Unicorn had translated."""
    c, r = irq_run(fw, "EXACT")
    c0, start = int(sym(c, "start_cycle")[0]), int(sym(c, "run_start")[0])
    assert r.exit_code == 0 and int(sym(c, "run_count")[0]) == 1100
    assert int(sym(c, "handler_mepc")[0]) == start + 4 * 997
    assert int(sym(c, "handler_count")[0]) == 997
    assert int(sym(c, "handler_cycle")[0]) == c0 + 1006 + 4


def test_interrupt_a_core_raises_itself_is_taken_after_the_store(fw):
    """A store raising software event 3 (MSI, enabled) on the storing core: the
    interrupt is taken at the next instruction boundary, before the auipc that
    follows the store, with the 20 addi before it counted and none of the 200
    after it (not at the end of the block the store was translated in)."""
    c, r = irq_run(fw, "SELF")
    assert r.exit_code == 0 and c.harts[0].interrupts == 1
    assert int(sym(c, "handler_mepc")[0]) == int(sym(c, "store_next")[0])
    assert int(sym(c, "handler_count")[0]) == 20


@pytest.mark.parametrize("quantum", [20000, 1000, 37])
def test_interrupt_from_another_core_is_exact_whatever_the_quantum(fw, quantum):
    """Core 0's store sends MSI to core 1 (c0 = its mcycle before the store; the
    event reaches the event unit at c0 + 6) while core 1 runs 2000 addi (its
    k-th starts at c1 + 6 + k): core 1 takes it before addi k = c0 - c1, and its
    handler starts trap_cycles = 4 after that boundary. The scheduler lets a core
    run up to a quantum ahead of the others: one that takes interrupts does not
    run past them (another core may raise its lines at any cycle it reaches)."""
    c, r = irq_run(fw, "IPI", scheduler={"quantum": quantum})
    c0, c1 = int(sym(c, "send_cycle")[0]), int(sym(c, "run_cycle")[0])
    k = c0 - c1
    assert r.exit_code == 0 and c.harts[1].interrupts == 1 and 0 < k < 2000
    assert int(sym(c, "handler_count")[0]) == k
    assert int(sym(c, "handler_mepc")[0]) == int(sym(c, "run_start")[0]) + 4 * k
    assert int(sym(c, "handler_cycle")[0]) == c0 + 6 + 4


@pytest.mark.parametrize("scenario", ["rtos_tick", "TICKS", "NEST", "HWLOOP", "DMA", "IPI", "EXACT", "SELF", "BARRIER_IRQ"])
def test_interrupt_driven_runs_do_not_depend_on_the_quantum(fw, iss_build, scenario):
    """Every core's cycles, instructions and interrupts are the same at any
    scheduler quantum (rtos_tick once took its 4th tick a cycle late at quantum
    100: a slice ended a block past its budget, past the tick)."""
    from pathlib import Path

    from iss import Config
    if scenario == "rtos_tick":
        app = Path(__file__).resolve().parents[1] / "firmware" / "apps" / "rtos_tick.c"
        elf = iss_build([app], name="rtos_tick", opt="-O3")
    else:
        elf = fw("mmode_irq", defines=[scenario])
    seen = set()
    for quantum in (20000, 1000, 100, 37):
        c = Cluster(elf, Config.load(scheduler={"quantum": quantum}))
        r = c.run(max_cycles=5_000_000)
        seen.add((r.exit_code, tuple((h.cycles, h.instret, h.interrupts) for h in c.harts)))
        assert c.tcdm_arbiter.counters()["late"] == 0      # no request came after its cycle was arbitrated
    assert len(seen) == 1, seen


def test_interrupt_from_a_line_raised_later_by_the_cores_own_store(fw):
    """Core 0 arrives alone at barrier 1 with the barrier event as an interrupt:
    the store reaches the event unit at c0 + 6 and the event is raised
    barrier_latency = 50 cycles later, at c0 + 56, while the core runs addi (the
    k-th starts at c0 + 9 + k): taken before addi 47, the handler trap_cycles = 4
    later. Before, the slice did not learn of that rise and ran past it."""
    c, r = irq_run(fw, "BARRIER_IRQ", event_unit={"barrier_latency": 50})
    c0, start = int(sym(c, "start_cycle")[0]), int(sym(c, "run_start")[0])
    assert r.exit_code == 0 and c.harts[0].interrupts == 1
    assert int(sym(c, "handler_count")[0]) == 47
    assert int(sym(c, "handler_mepc")[0]) == start + 4 * 47
    assert int(sym(c, "handler_cycle")[0]) == c0 + 56 + 4


def test_cores_that_all_take_interrupts_are_not_run_in_lockstep(fw):
    """Eight cores with interrupts enabled compute: each may run up to a quantum
    ahead of the others (staying behind every other one would make them take
    turns an instruction at a time: ~10^5 slices here, 1000 times slower)."""
    c, r = irq_run(fw, "ALL_IRQ")
    assert r.exit_code == 0 and list(sym(c, "result")) == compute_reference()
    assert c.scheduler.slices < 2000, c.scheduler.slices
