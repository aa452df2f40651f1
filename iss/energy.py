"""Energy of a finished run: event counts from the simulator times energy per
event from the configuration (`[energy]`, iss/config.py EnergySection, which
documents each value's source or that it is a choice).

    from iss.energy import count_events, energy
    counts = count_events(cluster)        # after cluster.run()
    report = energy(counts, cluster.config)
    print(report.total_pj, report.components)

Events and where their counts come from:

* core instructions by class (ALU/SIMD, mul/MAC/div, SIMD dot product, load,
  store, branch/jump): ``Cluster.profile_data()`` execution counts per
  instruction, classed by the decode table's cost class (iss/isa/table.py);
* awake cycles that retire nothing (stalls, multi-cycle instructions) and
  clock-gated cycles per core (``profile_data`` cycles and sleep; a core that
  ended earlier than the cluster is clock-gated to the end);
* TCDM and L2 accesses of the cores (``profile_data``);
* DMA bytes, IMA MVMs (and the window size of each), IMA streamer words, DWA
  MACs and port words, programmed IMA cells: the statistics the models keep
  (iss/periph/dma.py, ima.py, dwa.py), read from ``cluster.dma``, ``.imas``, ``.dwa``;
* cluster cycles (shared infrastructure): the run's cycles.

Calibration check (the EnergySection values are chosen, not fitted): the
cores-only 28x28x32 bottleneck of firmware/apps/bottleneck_cores.c comes out at
roughly 0.5-0.6 TOPS/W (2 ops per MAC) in this model, against Vega's measured
615 GOPS/W for 8-bit SIMD code on the same class of cluster
(`iss bench bottleneck` prints it).

The energy is a linear function of the counts, so the energy of a part of a
program is the difference of two runs' counts (:meth:`Counts.minus`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

INSN_CLASSES = ("alu", "mul", "dot", "load", "store", "branch")

#: decode-table cost class -> energy class
_CLASS_OF = {"alu": "alu", "simd": "alu", "hwlp": "alu", "csr": "alu", "system": "alu", "fence": "alu",
             "mul": "mul", "mulh": "mul", "mac": "mul", "div": "mul", "dot": "dot",
             "load": "load", "amo": "load", "elw": "load", "store": "store",
             "branch": "branch", "jump": "branch"}



@dataclass
class Counts:
    """Event counts of one run (or the difference of two)."""

    cycles: int = 0
    insn: dict = field(default_factory=lambda: {k: 0 for k in INSN_CLASSES})
    stall_cycles: int = 0
    sleep_cycles: int = 0
    tcdm_accesses: int = 0
    l2_accesses: int = 0
    dma_bytes: int = 0
    ima_mvms: int = 0
    ima_ops: int = 0            # 2 * rows * cols summed over MVMs
    ima_stream_words: int = 0
    ima_cells_programmed: int = 0
    dwa_macs: int = 0
    dwa_words: int = 0

    def minus(self, other: "Counts") -> "Counts":
        out = Counts()
        for k, v in vars(self).items():
            o = getattr(other, k)
            setattr(out, k, {c: v[c] - o[c] for c in v} if isinstance(v, dict) else v - o)
        # Clock-gated cycles are every core's time to the end of the run less its
        # awake time: when `other` (a set-up-only build) spends a little longer
        # outside the timed part than this run does (its report prints other
        # numbers), the difference comes out below 0 by that much per core. The
        # timed part then has no clock-gated cycles, not a negative count.
        out.sleep_cycles = max(out.sleep_cycles, 0)
        return out

    @property
    def instructions(self) -> int:
        return sum(self.insn.values())


def _insn_class_table(code) -> np.ndarray:
    """Energy class index (into INSN_CLASSES, -1 for none) per halfword of the code image."""
    from .timing.core import _CLS
    lut = np.full(len(_CLS), 0, np.int8)
    for op, cls in enumerate(_CLS):
        lut[op] = INSN_CLASSES.index(_CLASS_OF.get(cls, "alu"))
    ops = np.asarray(code.table["op"], dtype=np.int64)
    out = lut[np.clip(ops, 0, len(_CLS) - 1)]
    out[~code.starts] = -1
    return out


def count_events(cluster) -> Counts:
    """Counts of every energy event of a finished run of `cluster`."""
    c = Counts()
    data = cluster.profile_data()
    end = max((d["cycles"] for d in data), default=0)
    c.cycles = int(end)
    classes = _insn_class_table(cluster.code)
    for d in data:
        count = d["exec_count"].astype(np.int64)
        for i, name in enumerate(INSN_CLASSES):
            c.insn[name] += int(count[classes == i].sum())
        awake = d["cycles"] - d["sleep_cycles"]
        c.stall_cycles += max(int(awake - d["instructions"]), 0)
        c.sleep_cycles += int(d["sleep_cycles"] + (end - d["cycles"]))
        c.tcdm_accesses += int(d["tcdm_accesses"])
        c.l2_accesses += int(d["l2_accesses"])
    for p in cluster.imas:
        c.ima_mvms += p.mvms
        c.ima_ops += p.ops
        c.ima_stream_words += p.stream_words
        c.ima_cells_programmed += int(p.programmed.sum())
    c.dwa_macs += cluster.dwa.macs
    c.dwa_words += cluster.dwa.stream_words
    c.dma_bytes += cluster.dma.bytes_done
    return c


@dataclass
class EnergyReport:
    """Energy per component in pJ (`components`, ordered) and the total."""

    components: dict
    counts: Counts
    clock_mhz: float

    @property
    def total_pj(self) -> float:
        return float(sum(self.components.values()))

    @property
    def total_uj(self) -> float:
        return self.total_pj * 1e-6

    @property
    def seconds(self) -> float:
        return self.counts.cycles / (self.clock_mhz * 1e6)

    @property
    def average_mw(self) -> float:
        return self.total_pj * 1e-9 / self.seconds if self.seconds else 0.0

    def groups(self) -> dict:
        """Components summed by unit: cores, memory, cluster, DMA, IMA, DWA."""
        out: dict = {}
        for k, v in self.components.items():
            g = k.split(":")[0]
            out[g] = out.get(g, 0.0) + v
        return out


def energy(counts: Counts, config) -> EnergyReport:
    """Energy of `counts` with the `[energy]` table of `config`."""
    e = config.energy
    per_insn = {"alu": e.core_alu_pj, "mul": e.core_mul_pj, "dot": e.core_dot_pj, "load": e.core_load_pj,
                "store": e.core_store_pj, "branch": e.core_branch_pj}
    comp = {}
    for k in INSN_CLASSES:
        comp[f"cores: {k} instructions"] = counts.insn[k] * per_insn[k]
    comp["cores: stall cycles"] = counts.stall_cycles * e.core_stall_pj
    comp["cores: clock-gated cycles"] = counts.sleep_cycles * e.core_sleep_pj
    comp["memory: TCDM accesses (cores)"] = counts.tcdm_accesses * e.tcdm_access_pj
    comp["memory: L2 accesses (cores)"] = counts.l2_accesses * e.l2_access_pj
    comp["cluster: shared per cycle"] = counts.cycles * e.cluster_cycle_pj
    comp["DMA: bytes"] = counts.dma_bytes * e.dma_byte_pj
    comp["IMA: MVMs"] = counts.ima_ops / (e.ima_tops_per_w * 1e12) * 1e12
    comp["IMA: streamer TCDM words"] = counts.ima_stream_words * e.tcdm_access_pj
    comp["IMA: weight programming"] = counts.ima_cells_programmed * e.ima_plot_cell_pj
    comp["DWA: MACs"] = counts.dwa_macs * e.dwa_mac_pj
    comp["DWA: TCDM words"] = counts.dwa_words * e.tcdm_access_pj
    return EnergyReport(comp, counts, config.cluster.clock_mhz)


def run_energy(cluster) -> EnergyReport:
    """Energy of a finished run of `cluster`."""
    return energy(count_events(cluster), cluster.config)


def format_energy(report: EnergyReport) -> str:
    """A table of the components (pJ, share), the groups and the total."""
    total = report.total_pj or 1.0
    lines = [f"energy: {report.total_uj:.3f} uJ over {report.counts.cycles} cycles "
             f"({report.seconds * 1e6:.1f} us at {report.clock_mhz:g} MHz, average {report.average_mw:.2f} mW)"]
    for k, v in report.components.items():
        if v:
            lines.append(f"  {k:34s} {v / 1e6:12.4f} uJ  {100 * v / total:5.1f}%")
    lines.append("  by unit: " + ", ".join(f"{g} {v / 1e6:.3f} uJ" for g, v in report.groups().items() if v))
    return "\n".join(lines) + "\n"


__all__ = ["INSN_CLASSES", "Counts", "EnergyReport", "count_events", "energy", "run_energy", "format_energy"]
