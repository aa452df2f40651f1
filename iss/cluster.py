"""A PULP cluster: harts, memories and peripherals put together, and the public
Python API to run firmware on it.

    from iss import Cluster
    result = Cluster("app.elf").run()
    print(result.exit_code, result.cycles, result.stdout)
"""
from __future__ import annotations

import functools
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController

from .config import Config
from .elf import Program
from .errors import ConfigError, ElfError, SimulationError
from .hart import CodeImage, Hart
from .memory import CLUSTER_PERIPH_BASE, CTRL_OFFSET, EU_OFFSET, SOC_PERIPH_BASE, STDOUT_OFFSET, Memory
from .periph import dma, dwa, ima, timer
from .periph.base import WAIT, Wiring
from .periph.cluster_ctrl import FETCH_WAIT, ClusterCtrl
from .periph.event_unit import EventUnit
from .periph.stdout import Stdout
from .periph.timer import Timer
from .scheduler import Scheduler
from .sleep import SleepKind
from .timing.tcdm import TcdmArbiter

# The fabric controller's mhartid, as on PULP: cluster id 31 (ARCHI_FC_CID), core 0.
FC_CLUSTER_ID = 31
FC_MHARTID = FC_CLUSTER_ID << 5


@dataclass
class HartStats:
    hart: int
    cycles: int
    instructions: int
    sleep_cycles: int
    pc: int
    state: str


@dataclass
class Result:
    exit_code: int
    cycles: int                 # the cluster's clock at the end (the furthest hart)
    harts: list[HartStats]
    stdout: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0   # running (Cluster.run)
    load_seconds: float = 0.0   # building the cluster: loading the ELF and its tables, the engines

    @property
    def instructions(self) -> int:
        return sum(h.instructions for h in self.harts)

    @property
    def mips(self) -> float:
        return self.instructions / self.wall_seconds / 1e6 if self.wall_seconds else 0.0


class TestPort:
    """The bus initiator tests and tools use to access registers as a core would
    (core `id`), at the cluster's current time."""

    def __init__(self, cluster: "Cluster", core: int):
        self.cluster = cluster
        self.id = core
        self.retry_addr = None
        self.retrying = False

    @property
    def now(self) -> int:
        return self.cluster.now

    def sleep(self, waiting_for: str, kind=None) -> None:
        raise SimulationError(f"test port access as core {self.id} would block waiting for {waiting_for}")

    def where(self) -> str:
        return f"test port (core {self.id})"


@functools.lru_cache(maxsize=1)
def _blas_controller() -> ThreadpoolController:
    # Finding the loaded BLAS libraries scans the process's libraries (0.2 ms, a
    # percent of a short run): once per process. numpy's BLAS is loaded by then.
    return ThreadpoolController()


def single_threaded_blas():
    """The simulation is one thread, and the accelerators' products are small
    (an IMA job: 8 bit planes x 256 rows x 256 columns): OpenBLAS's worker threads
    cost more in hand-offs than they save (an end-to-end MobileNetV2 run 27 s with
    one, 48 s with the default on 2 cores). Limits BLAS for the run only."""
    return _blas_controller().limit(limits=1, user_api="blas")

class ClusterClock:
    """The cluster's clock as its peripherals are given it: `now` (the running
    hart's clock, or the event being fired) and `schedule(at, fn)`."""
    __slots__ = ("_cluster",)

    def __init__(self, cluster: "Cluster"):
        self._cluster = cluster

    @property
    def now(self) -> int:
        return self._cluster.now

    def schedule(self, at: int, fn) -> None:
        self._cluster.schedule(at, fn)


class Cluster:
    def __init__(self, program: str | Path | Program | None = None, config: Config | None = None,
                 echo: bool = False):
        """`program`: an ELF path or a loaded Program (None: a cluster with no
        harts, for driving peripherals from tests). `echo`: also print the
        firmware's output lines as they come."""
        t0 = time.perf_counter()
        self.config = (config or Config()).validate()
        self.memory = Memory(self.config)
        self.exit_code: int | None = None
        self.exit_hart: int | None = None
        self.stdout_lines: list[str] = []
        self.activity: list[tuple[str, str, int, int]] = []
        # Called with (hart, start, end, what it waited for) for every clock-gated span
        # as it ends (views record timelines with it; empty unless one asks).
        self.sleep_listeners: list = []
        self.current: Hart | None = None
        self._echo = echo
        self.scheduler = Scheduler(self)
        if program is not None and not isinstance(program, Program):
            program = Program(program)
        self.program = program
        self.entry = program.entry if program else 0
        # main on a fabric-controller hart (the program links the runtime's cluster
        # API: its build note says so), or on cluster core 0.
        self.has_fc = bool(program and (program.build or {}).get("main_on") == "fc")
        if program:
            self._check_build(program)
            self._load(program)

        # The peripherals, each given what it is connected to (iss/periph/base.py).
        self.clock = ClusterClock(self)
        self.ctrl = ClusterCtrl(self)
        self.event_unit = EventUnit(self.config, self.clock, fc=self.has_fc)
        self.stdout = Stdout(self._line)
        self.memory.attach(CLUSTER_PERIPH_BASE + CTRL_OFFSET, self.ctrl)
        self.memory.attach(CLUSTER_PERIPH_BASE + EU_OFFSET, self.event_unit)
        self.memory.attach_private(0x000, self.event_unit)
        self.memory.attach(SOC_PERIPH_BASE + STDOUT_OFFSET, self.stdout)
        cores = self.config.cluster.cores
        self.tcdm_arbiter = TcdmArbiter(self.config.memory.tcdm_banks, cores + self.has_fc,
                                        self.config.timing.tcdm_window)
        wiring = Wiring(self.config, self.clock, self.memory, self.tcdm_arbiter, self.event_unit,
                        self.record_activity)
        self.timer: Timer = timer.install(wiring)
        self.dma: dma.Dma = dma.install(wiring)
        self.imas: list[ima.Ima] = ima.install(wiring)
        self.dwa: dwa.Dwa = dwa.install(wiring)

        self.harts: list[Hart] = []
        self.fc: Hart | None = None
        if program:
            self.code = CodeImage(program)
            self.memory.write_listeners.append(self.code.written)
            self.harts = [Hart(self, i, self.code) for i in range(cores)]
            if self.has_fc:
                self.fc = self._fabric_controller(program, cores)
                self.harts.append(self.fc)
        self.event_unit.connect_cores(self.harts)
        # Reading the ELF, the code image's tables, the engines: before the first instruction.
        self.load_seconds = time.perf_counter() - t0

    # -- set-up ----------------------------------------------------------------
    def _check_build(self, program: Program) -> None:
        """An ELF built for more cores than the cluster has would fork onto
        cores that do not exist and leave their share of the work undone."""
        built = (program.build or {}).get("num_cores")
        cores = self.config.cluster.cores
        if built and built > cores:
            raise ElfError(f"{program.path} was built for NUM_CORES={built} but the cluster has {cores} "
                           f"core{'s' if cores > 1 else ''}: run it with --cores {built} (or [cluster] cores = "
                           f"{built}), or rebuild it with iss cc --cores {cores}")

    def _fabric_controller(self, program: Program, index: int) -> Hart:
        """The FC: a hart after the cluster cores (index `index`), with PULP's
        mhartid and the FC's L2 latency, starting at the runtime's FC entry. The
        cluster cores wait, clock-gated, until it fetch-enables them (cluster
        controller FETCH_EN, at their BOOT_ADDR)."""
        if self.config.cluster.cluster_id == FC_CLUSTER_ID:
            raise ConfigError(f"cluster.cluster_id {FC_CLUSTER_ID} is the fabric controller's (as on PULP), and "
                              f"{program.path} runs main on the fabric controller: choose another cluster id")
        try:
            start = program.symbol("__iss_fc_start").addr
        except Exception:
            raise ElfError(f"{program.path}: its build note asks for a fabric controller, but it has no "
                           f"__iss_fc_start (the runtime's FC entry): rebuild it with iss cc") from None
        fc = Hart(self, index, self.code)
        # PULP's id for the FC: pi_cluster_id()/hal_cluster_id() 31, core 0.
        fc.mhartid = fc.machine.mhartid = FC_MHARTID
        fc.native.l2_latency = self.config.memory.fc_l2_latency
        fc.pc = start
        for h in self.harts:
            h.sleep(f"{FETCH_WAIT} (the fabric controller has not opened the cluster)", SleepKind.OFF)
        self.ctrl.fetch_en = 0
        return fc

    def _load(self, program: Program) -> None:
        for seg in program.segments:
            if self.memory.region(seg.vaddr, max(seg.memsz, 1)) is None:
                raise ElfError(f"{program.path}: segment at 0x{seg.vaddr:08x} ({seg.memsz} bytes) is outside "
                               f"TCDM (0x{self.memory.tcdm_base:08x}, {self.memory.tcdm.size} bytes) and "
                               f"L2 (0x{self.memory.l2_base:08x}, {self.memory.l2.size} bytes)")
            view = self.memory.view(seg.vaddr, seg.memsz)
            view[:len(seg.data)] = memoryview(seg.data)
            view[len(seg.data):] = 0

    def attach(self, base: int, periph) -> None:
        """Place a peripheral's register window in the shared address map."""
        self.memory.attach(base, periph)

    def attach_private(self, offset: int, periph) -> None:
        """Place a peripheral in every core's private (demux) window."""
        self.memory.attach_private(offset, periph)

    # -- services for peripherals ----------------------------------------------
    @property
    def now(self) -> int:
        """Current cluster time: the running hart's clock, or the event being fired."""
        return self.current.now if self.current is not None else self.scheduler.now

    def schedule(self, at: int, fn) -> None:
        self.scheduler.schedule(at, fn)
        # The running hart's slice was planned without this event: when some core
        # has interrupts enabled (the event may raise a line), end the slice where
        # it fires. Without interrupts nothing changes (zero cost when unused).
        cur = self.current
        if cur is not None and any(h.machine.mie for h in self.harts):
            cur.line_may_rise(at)

    def record_activity(self, unit: str, label: str, start: int, end: int) -> None:
        self.activity.append((unit, label, int(start), int(end)))

    def finish(self, exit_code: int, hart=None) -> None:
        if self.exit_code is None:
            self.exit_code = exit_code & 0xFFFFFFFF
            if self.exit_code >= 0x80000000:
                self.exit_code -= 1 << 32
            self.exit_hart = getattr(hart, "id", None)

    def _line(self, text: str) -> None:
        self.stdout_lines.append(text)
        if self._echo:
            print(text, flush=True)

    # -- program data ------------------------------------------------------------
    def write_symbol(self, name: str, data) -> None:
        """Write `data` (bytes or a numpy array) into the global `name`, e.g. a
        test input before the run. A global in .bss is refused: the start-up code
        clears .bss, so what was written would be lost."""
        sym = self.program.symbol(name)
        raw = data.tobytes() if hasattr(data, "tobytes") else bytes(data)
        if sym.size and len(raw) > sym.size:
            raise SimulationError(f"{name} is {sym.size} bytes; {len(raw)} bytes do not fit")
        for section in (".bss", ".l1_bss"):
            base, size = self.program.sections.get(section, (0, 0))
            if base <= sym.addr < base + size and not any(h.instret for h in self.harts):
                raise SimulationError(
                    f"{name} is in {section}, which the start-up code clears: give it an initial value in C "
                    f"(e.g. `int {name}[N] = {{1}};`) to place it in initialised data, or write it after "
                    f"start-up (the pytest plugin's firmware.call does)")
        self.memory.write(sym.addr, raw)

    def read_symbol(self, name: str, dtype="uint8", count: int | None = None) -> np.ndarray:
        """A copy of the global `name` as a numpy array (all of it by default)."""
        sym = self.program.symbol(name)
        itemsize = np.dtype(dtype).itemsize
        count = sym.size // itemsize if count is None else count
        return np.frombuffer(self.memory.read(sym.addr, count * itemsize), dtype=dtype).copy()

    # -- tests and tools ---------------------------------------------------------
    def bus_read(self, addr: int, size: int = 4, core: int = 0) -> int:
        """Read a peripheral register (or RAM) as core `core` would."""
        r = self.memory.region(addr, size)
        if r is not None:
            buf, off = r
            return int.from_bytes(buf[off:off + size].tobytes(), "little")
        v = self.memory.io_read(TestPort(self, core), addr, size)
        assert v is not WAIT
        return v

    def bus_write(self, addr: int, value: int, size: int = 4, core: int = 0) -> None:
        r = self.memory.region(addr, size)
        if r is not None:
            buf, off = r
            buf[off:off + size] = list((value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))
            return
        self.memory.io_write(TestPort(self, core), addr, size, value)

    def advance(self, cycles: int) -> None:
        """With no harts running: fire the peripheral events of the next `cycles`."""
        end = self.scheduler.time + cycles
        self.scheduler._fire_until(end)
        self.scheduler.time = end

    # -- running ---------------------------------------------------------------------
    def run(self, max_cycles: int | None = None) -> Result:
        """Run until the firmware ends the simulation (EOC). Raises a
        SimulationError subclass for deadlocks, faults and the cycle limit."""
        if not self.harts:
            raise SimulationError("no program loaded")
        limit = self.config.scheduler.max_cycles if max_cycles is None else max_cycles
        if limit < 0:
            raise ConfigError(f"max_cycles must be >= 0 (0: no limit), got {limit}")
        t0 = time.perf_counter()
        try:
            with single_threaded_blas():
                self.scheduler.run(limit)
        finally:
            self.stdout.flush()
            self.wall_seconds = time.perf_counter() - t0
        return self.result()

    def profile_data(self) -> list[dict]:
        """Per hart: cycles, instructions, stall and sleep cycles by kind, and per
        instruction (per halfword of the code image, at the addresses `pcs`) how often it
        ran (`exec_count`) and the cycles spent in it (`cycles_at`, stalls included)."""
        out = []
        code = self.code
        static = np.diff(code.cycle_prefix.astype(np.int64))
        load_use = code.timing.load_use.astype(np.int64)
        jump = code.timing.jump.astype(np.int64)
        for h in self.harts:
            st = h.native
            count = np.cumsum(h.exec_diff[:-1], dtype=np.int64)
            count[~code.starts] = 0
            out.append({
                "hart": h.id,
                "name": self.hart_name(h),
                "cycles": int(st.cycles),
                "instructions": int(st.instret),
                "stalls": {
                    "load_use": int((count * load_use).sum()),
                    "branch": int(st.stall_branch + (count * jump).sum()),
                    "tcdm": int(st.stall_tcdm),
                    "l2": int(st.stall_l2),
                    "periph": int(h.stall_periph),
                    "misaligned": int(st.stall_misaligned),
                },
                "div_cycles": int(st.div_cycles),
                "sleep": dict(h.sleep_by_kind),
                "sleep_cycles": int(h.sleep_cycles),
                "tcdm_accesses": int(st.tcdm_accesses),
                "l2_accesses": int(st.l2_accesses),
                "pcs": code.pcs,
                "exec_count": count.astype(np.uint32),
                "cycles_at": (count * static + h.stall_at[:-1]).astype(np.uint64),
            })
        return out

    def hart_name(self, hart) -> str:
        """How views name a hart: "fc" for the fabric controller, else "core N"."""
        return "fc" if hart is self.fc and hart is not None else f"core {hart.id}"

    def result(self) -> Result:
        stats = [HartStats(h.id, h.cycles, h.instret, h.sleep_cycles, h.pc, h.state.value) for h in self.harts]
        return Result(self.exit_code if self.exit_code is not None else -1,
                      max((h.cycles for h in self.harts), default=0), stats, list(self.stdout_lines),
                      getattr(self, "wall_seconds", 0.0), self.load_seconds)


def run(program: str | Path, config: Config | None = None, echo: bool = False, **kw) -> Result:
    """Load and run an ELF; returns the Result."""
    return Cluster(program, config, echo=echo).run(**kw)


if __name__ == "__main__":  # pragma: no cover
    r = run(sys.argv[1], echo=True)
    sys.exit(r.exit_code)
