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
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError


@dataclass
class ClusterSection:
    cores: int = 8
    """Harts in the cluster (1-8, as the event unit's masks allow up to 32)."""
    clock_mhz: float = 500.0
    """Cluster clock. Not published for the paper's chip; 500 MHz is plausible for
    22 nm FDX. Accelerator and DMA times given in ns convert with it."""
    cluster_id: int = 0
    """Goes into mhartid bits 10:5, as on PULP."""


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


@dataclass
class SchedulerSection:
    quantum: int = 1000
    """Cycles a hart runs before another hart whose clock is behind gets the host.
    It bounds how far apart the harts' clocks drift between synchronisation
    points (barriers, events and peripheral accesses resynchronise exactly).
    Larger is faster to simulate; smaller interleaves shared-memory accesses finer."""
    max_cycles: int = 2_000_000_000
    """Stop with an error when any hart's clock passes this (0: no limit)."""


@dataclass
class EventUnitSection:
    barrier_latency: int = 2
    """Cycles from the last core's arrival to the release of the waiting cores."""
    wakeup_latency: int = 2
    """Cycles from an event to the first instruction of a clock-gated core."""


@dataclass
class Config:
    cluster: ClusterSection = field(default_factory=ClusterSection)
    memory: MemorySection = field(default_factory=MemorySection)
    scheduler: SchedulerSection = field(default_factory=SchedulerSection)
    event_unit: EventUnitSection = field(default_factory=EventUnitSection)

    def validate(self) -> "Config":
        c, m = self.cluster, self.memory
        if not 1 <= c.cores <= 8:
            raise ConfigError(f"cluster.cores must be 1-8, got {c.cores}")
        if c.clock_mhz <= 0:
            raise ConfigError(f"cluster.clock_mhz must be positive, got {c.clock_mhz}")
        if m.tcdm_size <= 0 or m.tcdm_size % 4096 or m.tcdm_size > 0x200000:
            raise ConfigError(f"memory.tcdm_size must be a multiple of 4096 up to 2 MiB, got {m.tcdm_size}")
        if m.tcdm_banks <= 0 or m.tcdm_banks & (m.tcdm_banks - 1):
            raise ConfigError(f"memory.tcdm_banks must be a power of two, got {m.tcdm_banks}")
        if m.l2_size <= 0 or m.l2_size % 4096 or m.l2_size > 0x4000000:
            raise ConfigError(f"memory.l2_size must be a multiple of 4096 up to 64 MiB, got {m.l2_size}")
        if self.scheduler.quantum < 1:
            raise ConfigError(f"scheduler.quantum must be >= 1, got {self.scheduler.quantum}")
        return self

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
            try:
                data = tomllib.loads(p.read_text())
            except FileNotFoundError:
                raise ConfigError(f"config file not found: {p}") from None
            except tomllib.TOMLDecodeError as e:
                raise ConfigError(f"{p}: invalid TOML: {e}") from None
            cfg.override(data, str(p))
        if sections:
            cfg.override(sections, "override")
        return cfg.validate()

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)
