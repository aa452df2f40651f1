"""Every number a user may change, with its default and why.

A TOML file overrides any field by section, e.g.::

    [cluster]
    cores = 4
    clock_mhz = 400

    [memory]
    tcdm_size = 131072
    tcdm_banks = 16

Unknown sections or fields, and values of the wrong type, are errors (a typo must
not silently leave a default in place).
"""
from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError, file_error


@dataclass
class ClusterSection:
    cores: int = 8
    """Harts in the cluster (1-8, as the event unit's masks allow up to 32)."""
    clock_mhz: float = 500.0
    """Cluster clock. Not published for the paper's chip; 500 MHz is plausible for
    22 nm FDX. Accelerator and DMA times given in ns convert with it."""
    cluster_id: int = 0
    """Goes into mhartid bits 10:5, as on PULP (0-31: the SoC stdout window holds
    32 clusters of 8 cores, 0x80 bytes each)."""


@dataclass
class MemorySection:
    tcdm_size: int = 512 * 1024
    """L1 scratchpad. The paper's cluster: 512 KiB in 32 banks (GVSoC's open PULP
    cluster uses 64 KiB in 16: set both to compare)."""
    tcdm_banks: int = 32
    """Word-interleaved banks: bank = (address / 4) % tcdm_banks."""
    l2_size: int = 4 * 1024 * 1024
    """L2 (code, globals, large buffers). End-to-end MobileNetV2 wants several MiB."""
    l2_latency: int = 8
    """Extra cycles of a core's load/store to L2 over the cluster bus (chosen: PULP
    clusters see ~10 cycles through the AXI crossbar; GVSoC models 5-15)."""
    periph_latency: int = 2
    """Extra cycles of a core's access to a cluster peripheral register."""
    fc_l2_latency: int = 1
    """Extra cycles of a fabric-controller load/store to L2 (chosen: the FC sits
    on the SoC interconnect one hop from L2, while cluster cores cross the
    cluster's AXI bridge, `l2_latency`). Used by programs whose main runs on the
    fabric controller (the PMSIS cluster API)."""


@dataclass
class SchedulerSection:
    quantum: int = 20000
    """Cycles a hart runs before the hart whose clock is furthest behind gets the
    host. Cycle and stall counts do not depend on it: synchronisation through the
    event unit (barriers, events, mutexes, dispatch), peripheral accesses and
    events, interrupts (a core that takes them never runs ahead of the cores
    that take none), and TCDM bank arbitration (round robin per cycle,
    iss/timing/tcdm.py) are exact whatever the quantum. What the quantum bounds is
    communication through plain shared memory: a store by one hart is seen by
    another up to one quantum early or late in simulated time (tests/
    test_timing.py::test_quantum_bounds_shared_memory_latency); and a line that
    a core taking interrupts raises for another core taking interrupts. Smaller is finer
    and slower: every slice has a fixed host cost, which at 1000 cycles makes
    compute-bound code several times slower than at the default (README,
    "Speed", has the default's figures; `make bench` measures them)."""
    max_cycles: int = 2_000_000_000
    """Stop with an error when any hart's clock passes this (0: no limit)."""


@dataclass
class EventUnitSection:
    barrier_latency: int = 2
    """Cycles from the last core's arrival to the release of the waiting cores."""
    wakeup_latency: int = 2
    """Cycles from an event to the first instruction of a clock-gated core."""


@dataclass
class DmaSection:
    """Cluster DMA (mchan v7 style, iss/periph/dma.py). One engine serves the
    commands in FIFO order; a transfer of lines l_1..l_n (one line for 1-D) keeps
    the engine busy for sum_i ceil(l_i / bytes_per_cycle) cycles and completes
    `latency` cycles after its last beat (the latency overlaps the next transfer)."""
    bytes_per_cycle: int = 8
    """Bytes moved per cycle (mchan: 64-bit AXI plug towards L2; chosen)."""
    latency: int = 20
    """Cycles from the last beat of a transfer to its completion event (L2 round
    trip and event delivery; chosen: PULP L2 latencies are 10-20 cycles)."""
    queue_depth: int = 16
    """Commands queued or in flight; a core pushing one more stalls until one
    completes (the PULP HAL: "typically 16 commands")."""


@dataclass
class ImaSection:
    """In-memory accelerator (iss/periph/ima.py), defaults from GVSoC's ima_v1 and
    the paper (IBM PCM 256x256 crossbar)."""
    count: int = 1
    """IMA instances: IMA 0 at cluster peripherals +0x1000 (the HWPE slot), IMA i
    (i >= 1) at ACCEL_BASE + 0x100*i. The paper's end-to-end MobileNetV2 uses 34."""
    eval_ns: float = 130.0
    """One analog MVM (paper and GVSoC: 130 ns)."""
    plot_write_ns: float = 1000.0
    """Programming one SUBMIT_PLOT word (8 cells in parallel), GVSoC's default;
    ~8x an MVM per word, far slower than inference as PCM programming is."""
    stream_ports: int = 16
    """32-bit streamer ports to the TCDM (GVSoC: 16 -> 64 bytes per cycle)."""
    fifo_cycles: int = 2
    """Streamer FIFO cycles added to each stream-in and stream-out (GVSoC: 2)."""
    idle_cycles: int = 2
    """Idle cycles before each job's stream-in (GVSoC: 2 between jobs)."""
    pipeline: bool = True
    """Overlap successive jobs (stream-in of job k+1 during the MVM of job k);
    False runs them back to back as GVSoC's ima_v1 does."""
    sigma_prog: float = 0.0
    """PCM programming noise, a fraction of G_max, drawn once per programmed cell
    (0: off; the paper's PCM shows a few percent)."""
    sigma_read: float = 0.0
    """PCM read noise, a fraction of G_max, drawn for every MVM (0: off)."""
    seed: int = 0
    """Seed of the noise generators (instance i uses seed + i)."""
    event_line: int = 12
    """Event-unit line every IMA raises at the end of its last job (broadcast)."""


@dataclass
class DwaSection:
    """Digital depthwise 3x3 accelerator (iss/periph/dwa.py; its design is ours:
    the paper does not publish it). A job costs
    setup_cycles + max(ceil(MACs / macs_per_cycle), ceil(bytes / port_bytes))."""
    macs_per_cycle: int = 144
    """Multiply-accumulates per cycle (chosen: 16 channels x 9 taps)."""
    port_bytes: int = 32
    """Bytes per cycle on its TCDM port (chosen: 8 32-bit ports)."""
    setup_cycles: int = 10
    """Fixed cycles per job (register decode, line-buffer fill start)."""
    event_line: int = 13
    """Event-unit line raised at the end of a job (broadcast)."""


@dataclass
class EnergySection:
    """Energy per event (pJ) for `iss run --energy` and the studies (iss/energy.py).

    Published anchors for this class of cluster (22 nm FDX, 8 RI5CY-class cores,
    shared TCDM): Vega (Rossi et al., JSSC 2022) measures 615 GOPS/W on 8-bit
    integer SIMD code on its cluster (32.2 GOPS at 49.4 mW); the per-class split
    below is OUR CHOICE, made so that the cores-only pointwise kernels of
    firmware/kernels land near that figure in this model (iss/energy.py
    documents the check). The IMA figure is the seed paper's 6.39 TOPS/W."""
    core_alu_pj: float = 2.5
    """ALU, SIMD (non-dot), CSR, hardware-loop set-up instruction (choice)."""
    core_mul_pj: float = 3.5
    """mul/mulh/div/cv.mac instruction (choice: ~1.4x an ALU op)."""
    core_dot_pj: float = 4.5
    """cv.sdotsp/cv.dotup (4 8-bit MACs) instruction (choice: ~1.8x an ALU op)."""
    core_load_pj: float = 2.5
    """Load instruction, core side (the memory access is charged separately)."""
    core_store_pj: float = 2.5
    """Store instruction, core side."""
    core_branch_pj: float = 2.5
    """Branch or jump instruction."""
    core_stall_pj: float = 1.2
    """An awake core cycle that retires nothing (stall, multi-cycle op; choice:
    ~half an ALU op: clock tree and pipeline registers still toggle)."""
    core_sleep_pj: float = 0.1
    """A clock-gated core cycle (leakage; choice)."""
    cluster_cycle_pj: float = 6.0
    """Shared per cluster cycle: instruction cache, interconnect, event unit,
    cluster clock tree (choice; charged for every cycle of the run)."""
    tcdm_access_pj: float = 1.8
    """One 32-bit TCDM bank access (core, IMA or DWA streamer word; choice:
    a 22 nm 16 KiB SRAM bank read plus the logarithmic interconnect)."""
    l2_access_pj: float = 8.0
    """A core's access to L2 over the cluster bus (choice: ~4x TCDM)."""
    dma_byte_pj: float = 1.0
    """Per byte moved by the cluster DMA, L2 and TCDM sides (choice)."""
    ima_tops_per_w: float = 6.39
    """IMA energy efficiency (seed paper: 6.39 TOPS/W). An MVM on a window of
    rows x cols costs 2*rows*cols ops / this (a choice: the paper's figure is for
    the full 256x256 array; energy scaled with the active window)."""
    ima_plot_cell_pj: float = 50.0
    """Programming one PCM cell (choice: tens of pJ per cell for program-and-
    verify; only the one-time weight programming pays it)."""
    dwa_mac_pj: float = 0.15
    """One 8-bit MAC of the depthwise accelerator, datapath only (choice; its
    TCDM traffic is charged per word at tcdm_access_pj)."""


@dataclass
class TimingSection:
    enabled: bool = True
    """The cycle model: taken-branch and jump penalties, operand-dependent
    division, misaligned accesses, L2 latency and TCDM bank conflicts. Off
    ("functional mode"), only the static per-instruction costs are counted:
    faster, and results are identical."""
    tcdm_window: int = 131072
    """TCDM accesses a hart may have queued for arbitration (a power of two, >= 4 x
    scheduler.quantum): harts' clocks drift apart by up to a quantum, and the
    accesses of a hart ahead wait in its queue until the others catch up."""


def read_toml(path: str | Path, what: str = "config file", error=ConfigError) -> dict:
    """The table of the TOML file at `path`; `error` (one line) if it is missing,
    unreadable, a directory, not UTF-8 or invalid."""
    p = Path(path)
    try:
        return tomllib.loads(p.read_bytes().decode("utf-8"))
    except OSError as e:
        raise error(file_error(p, e, what)) from None
    except UnicodeDecodeError as e:
        raise error(f"{p}: not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start}); "
                    "a TOML file is UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise error(f"{p}: invalid TOML: {e}") from None


# Bounds beyond "finite and >= 0" (Config.validate): past them a value is a typo,
# and would allocate without limit (tcdm_banks x tcdm_window reservation words)
# or overflow the native 32-bit fields.
CLOCK_MHZ_MAX = 100_000.0
CLUSTER_ID_MAX = 31
TCDM_BANKS_MAX = 1024
TCDM_WINDOW_MAX = 1 << 24
LATENCY_MAX = 1_000_000
RESERVATION_BYTES_MAX = 256 << 20      # one bit per bank and cycle of the window
LATENCIES = ("memory.l2_latency", "memory.periph_latency", "memory.fc_l2_latency", "event_unit.barrier_latency",
             "event_unit.wakeup_latency", "dma.latency", "ima.fifo_cycles", "ima.idle_cycles", "dwa.setup_cycles")


@dataclass
class MachineSection:
    """Machine mode of the CV32E40P (traps, interrupts) and the cluster timer.
    The manual gives no cycle counts for trap entry and mret: these are choices
    (a trap or mret flushes the pipeline like a jump and refetches from the
    handler or mepc)."""
    trap_cycles: int = 4
    """Cycles from the trapping instruction (or the interrupted boundary) to the
    first instruction of the handler; the trapping instruction does not retire."""
    mret_cycles: int = 4
    """Cycles of an mret (it retires; the jump to mepc included)."""
    timer_ref_clock_hz: int = 32768
    """The timer's reference clock (CFG.CCFG = 1), as on PULP (32 kHz)."""


@dataclass
class Config:
    cluster: ClusterSection = field(default_factory=ClusterSection)
    memory: MemorySection = field(default_factory=MemorySection)
    scheduler: SchedulerSection = field(default_factory=SchedulerSection)
    event_unit: EventUnitSection = field(default_factory=EventUnitSection)
    timing: TimingSection = field(default_factory=TimingSection)
    dma: DmaSection = field(default_factory=DmaSection)
    ima: ImaSection = field(default_factory=ImaSection)
    dwa: DwaSection = field(default_factory=DwaSection)
    energy: EnergySection = field(default_factory=EnergySection)
    machine: MachineSection = field(default_factory=MachineSection)

    def validate(self) -> "Config":
        self._validate_numbers(finite_only=True)
        c, m = self.cluster, self.memory
        if not 1 <= c.cores <= 8:
            raise ConfigError(f"cluster.cores must be 1-8, got {c.cores}")
        if c.clock_mhz <= 0:
            raise ConfigError(f"cluster.clock_mhz must be positive, got {c.clock_mhz}")
        if c.clock_mhz > CLOCK_MHZ_MAX:
            raise ConfigError(f"cluster.clock_mhz must be at most {CLOCK_MHZ_MAX:g}, got {c.clock_mhz}")
        if not 0 <= c.cluster_id <= CLUSTER_ID_MAX:
            raise ConfigError(f"cluster.cluster_id must be 0-{CLUSTER_ID_MAX} (the SoC stdout window holds "
                              f"{CLUSTER_ID_MAX + 1} clusters), got {c.cluster_id}")
        if m.tcdm_size <= 0 or m.tcdm_size % 4096 or m.tcdm_size > 0x200000:
            raise ConfigError(f"memory.tcdm_size must be a multiple of 4096 up to 2 MiB, got {m.tcdm_size}")
        if m.tcdm_banks <= 0 or m.tcdm_banks & (m.tcdm_banks - 1):
            raise ConfigError(f"memory.tcdm_banks must be a power of two, got {m.tcdm_banks}")
        if m.tcdm_banks > TCDM_BANKS_MAX:
            raise ConfigError(f"memory.tcdm_banks must be at most {TCDM_BANKS_MAX}, got {m.tcdm_banks}")
        if m.l2_size <= 0 or m.l2_size % 4096 or m.l2_size > 0x4000000:
            raise ConfigError(f"memory.l2_size must be a multiple of 4096 up to 64 MiB, got {m.l2_size}")
        if self.scheduler.quantum < 1:
            raise ConfigError(f"scheduler.quantum must be >= 1, got {self.scheduler.quantum}")
        w = self.timing.tcdm_window
        if w < 1024 or w & (w - 1) or w < 4 * self.scheduler.quantum or w > TCDM_WINDOW_MAX:
            raise ConfigError(f"timing.tcdm_window must be a power of two >= 1024 and >= 4 x scheduler.quantum, "
                              f"up to {TCDM_WINDOW_MAX}, got {w}")
        if m.tcdm_banks * w // 8 > RESERVATION_BYTES_MAX:
            raise ConfigError(f"memory.tcdm_banks x timing.tcdm_window = {m.tcdm_banks} x {w} needs "
                              f"{m.tcdm_banks * w // 8 >> 20} MiB of bank reservations; at most "
                              f"{RESERVATION_BYTES_MAX >> 20} MiB")
        for name in LATENCIES:
            sname, key = name.split(".")
            if getattr(getattr(self, sname), key) > LATENCY_MAX:
                raise ConfigError(f"{name} must be 0-{LATENCY_MAX} cycles, got {getattr(getattr(self, sname), key)}")
        self._validate_accelerators()
        self._validate_numbers()
        return self

    def _validate_numbers(self, finite_only: bool = False) -> None:
        """Every number finite (checked first: NaN passes every comparison) and
        >= 0, and an integer within what the native state holds (32 bits;
        max_cycles 63): a NaN or a wrapped negative would otherwise run silently
        with nonsense timing. The fields' own checks run between the two passes."""
        for sname in SECTIONS:
            section = getattr(self, sname)
            for f in dataclasses.fields(section):
                v, name = getattr(section, f.name), f"{sname}.{f.name}"
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    continue
                if isinstance(v, float) and not math.isfinite(v):
                    raise ConfigError(f"{name} must be a finite number, got {v}")
                if finite_only:
                    continue
                if v < 0:
                    raise ConfigError(f"{name} must be >= 0, got {v}")
                top = (1 << 63) - 1 if name == "scheduler.max_cycles" else (1 << 32) - 1
                if isinstance(v, int) and v > top:
                    raise ConfigError(f"{name} must be at most {top}, got {v}")

    def _validate_accelerators(self) -> None:
        d, i, w = self.dma, self.ima, self.dwa
        for name, value in (("dma.bytes_per_cycle", d.bytes_per_cycle), ("dma.queue_depth", d.queue_depth),
                            ("ima.stream_ports", i.stream_ports), ("dwa.macs_per_cycle", w.macs_per_cycle),
                            ("dwa.port_bytes", w.port_bytes)):
            if value < 1:
                raise ConfigError(f"{name} must be >= 1, got {value}")
        for name, value in (("dma.latency", d.latency), ("ima.fifo_cycles", i.fifo_cycles),
                            ("ima.idle_cycles", i.idle_cycles), ("dwa.setup_cycles", w.setup_cycles)):
            if value < 0:
                raise ConfigError(f"{name} must be >= 0, got {value}")
        if not 0 <= i.count <= 255:
            raise ConfigError(f"ima.count must be 0-255 (0x100-byte slots after ACCEL_BASE), got {i.count}")
        if i.eval_ns <= 0 or i.plot_write_ns <= 0:
            raise ConfigError("ima.eval_ns and ima.plot_write_ns must be positive")
        if i.sigma_prog < 0 or i.sigma_read < 0:
            raise ConfigError("ima.sigma_prog and ima.sigma_read must be >= 0")
        mm = self.machine
        for name, value in (("machine.trap_cycles", mm.trap_cycles), ("machine.mret_cycles", mm.mret_cycles),
                            ("machine.timer_ref_clock_hz", mm.timer_ref_clock_hz)):
            if value < 1:
                raise ConfigError(f"{name} must be >= 1, got {value}")
        for name, line in (("ima.event_line", i.event_line), ("dwa.event_line", w.event_line)):
            if not 0 <= line < 32:
                raise ConfigError(f"{name} must be an event line 0-31, got {line}")

    def ns_to_cycles(self, ns: float) -> int:
        """Cycles a phase of `ns` nanoseconds occupies: floor(ns / period) + 1, as
        GVSoC's accelerator models count it."""
        return int(ns * self.cluster.clock_mhz / 1000.0) + 1

    # -- overrides ---------------------------------------------------------
    def override(self, values: dict, origin: str = "config") -> "Config":
        for sname, sval in values.items():
            if not hasattr(self, sname) or not dataclasses.is_dataclass(getattr(self, sname)):
                raise ConfigError(f"{origin}: unknown section [{sname}]")
            if not isinstance(sval, dict):
                raise ConfigError(f"{origin}: [{sname}] must be a table")
            section = getattr(self, sname)
            known = {f.name: f for f in dataclasses.fields(section)}
            for key, value in sval.items():
                if key not in known:
                    raise ConfigError(f"{origin}: unknown field {sname}.{key}")
                current = getattr(section, key)
                if isinstance(current, bool) != isinstance(value, bool) or (
                        isinstance(current, (int, float)) and not isinstance(value, (int, float))) or (
                        isinstance(current, int) and not isinstance(current, bool)
                        and isinstance(value, float)) or (
                        isinstance(current, str) and not isinstance(value, str)):
                    raise ConfigError(f"{origin}: {sname}.{key} must be {type(current).__name__}, got {value!r}")
                setattr(section, key, type(current)(value))
        return self.validate()

    @classmethod
    def load(cls, path: str | Path | None = None, **sections) -> "Config":
        """Defaults, then the TOML file at `path`, then keyword overrides
        (`Config.load(cluster={"cores": 4})`)."""
        cfg = cls()
        if path is not None:
            p = Path(path)
            data = read_toml(p)
            try:
                cfg.override(data, str(p))
            except ConfigError as e:
                raise ConfigError(e if str(e).startswith(f"{p}: ") else f"{p}: {e}") from None
        if sections:
            cfg.override(sections, "override")
        return cfg.validate()

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


SECTIONS = tuple(f.name for f in dataclasses.fields(Config))
