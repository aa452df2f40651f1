"""PNG charts of a run (matplotlib, the `plot` extra).

`activity_plot` (`--plot FILE.png`): one lane per core (the fraction of each
time bin spent busy, stalled and asleep) and one lane per accelerator and the
DMA (the fraction of each bin it works), over a window of the run: the studies
pass their timed part, `iss run` the whole run.

`mobilenetv2_chart` (`iss bench mobilenetv2 --plot FILE.png`): the end-to-end
network per layer, and its latency stacked by unit next to the paper's.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

#: one colour per kind of unit, the same in both charts
UNIT_COLORS = {"cores": "#2e7d32", "IMA": "#1565c0", "DWA": "#ef6c00", "dma": "#6a1b9a"}


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        from ..errors import IssError
        raise IssError("--plot needs matplotlib: pip install 'iss[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _unit_kind(unit: str) -> str:
    return "IMA" if unit.startswith("IMA") else unit


def _unit_order(unit: str):
    kind = _unit_kind(unit)
    digits = "".join(ch for ch in unit if ch.isdigit())
    return ({"dma": 0, "DWA": 1, "IMA": 2}.get(kind, 3), int(digits) if digits else 0, unit)


def busy_per_bin(spans, edges) -> np.ndarray:
    """Cycles of each bin [edges[i], edges[i+1]) covered by the union of ``spans``
    ((start, end, ...) tuples)."""
    out = np.zeros(len(edges) - 1)
    merged = []
    for s, e, *_ in sorted(spans):
        if e <= s:
            continue
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    for s, e in merged:
        out += np.clip(np.minimum(edges[1:], e) - np.maximum(edges[:-1], s), 0, None)
    return out


def unit_lanes(tl, edges) -> dict:
    """Lane name -> busy fraction of each bin, for every unit of ``tl`` and the
    DMA (its lane is drawn even when it stays idle)."""
    width = np.diff(edges)
    units = sorted(set(tl.units) | {"dma"}, key=_unit_order)
    return {("DMA" if u == "dma" else u): busy_per_bin(tl.units.get(u, []), edges) / width for u in units}


def activity_plot(tl, path: str | Path, window: tuple[int, int] | None = None, bins: int = 400) -> None:
    """Lanes of ``tl`` (iss.trace.timeline.Timeline) over ``window`` = (start,
    end) cycles (default: the whole run)."""
    plt = _pyplot()
    start, end = window if window is not None else (0, tl.end)
    start, end = max(0, int(start)), max(int(start) + 1, int(end))
    bins = max(1, min(bins, end - start))
    edges = np.linspace(start, end, bins + 1)
    units = unit_lanes(tl, edges)
    lanes = len(tl.cores) + len(units)
    fig, axes = plt.subplots(max(lanes, 1), 1, figsize=(11, 0.55 * max(lanes, 1) + 1.4), sharex=True,
                             squeeze=False)
    x = tl.us(edges[:-1])
    w = tl.us(np.diff(edges))
    width = np.diff(edges)
    row = 0
    for core in tl.cores:
        ax = axes[row, 0]
        row += 1
        # the core's bins over the whole run, resampled onto the window's edges
        full_edges, busy, stalled, asleep = tl.activity(core, max(bins, int(bins * tl.end / (end - start))))
        cum = [np.interp(edges, full_edges, np.concatenate(([0.0], np.cumsum(v)))) for v in (busy, stalled, asleep)]
        b, s, a = (np.diff(c) / width for c in cum)
        ax.bar(x, b, w, align="edge", color=UNIT_COLORS["cores"], label="busy")
        ax.bar(x, s, w, bottom=b, align="edge", color="#f9a825", label="stalled")
        ax.bar(x, a, w, bottom=b + s, align="edge", color="#cfd8dc", label="asleep")
        ax.set_ylabel(core.name, rotation=0, ha="right", va="center", fontsize="small")
    for unit, frac in units.items():
        ax = axes[row, 0]
        row += 1
        ax.bar(x, frac, w, align="edge", color=UNIT_COLORS.get(_unit_kind(unit.replace("DMA", "dma")), "#455a64"))
        ax.set_ylabel(unit, rotation=0, ha="right", va="center", fontsize="small")
    for ax in axes[:, 0]:
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.set_xlim(tl.us(start), tl.us(end))
    if tl.cores:
        axes[0, 0].legend(loc="upper right", ncol=3, fontsize="x-small", framealpha=0.9)
    what = "whole run" if window is None else f"cycles {start}-{end}"
    axes[0, 0].set_title(f"activity, {what} ({end - start} cycles, {tl.us(end - start):.1f} us at "
                         f"{tl.clock_mhz:g} MHz); units: fraction of each bin busy")
    axes[-1, 0].set_xlabel("time (us)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def mobilenetv2_chart(res, path: str | Path, serial=None, paper_ms: float | None = 10.1) -> None:
    """Per layer, the cycles of the end-to-end run coloured by the unit that runs
    it (the layer alone when ``serial``, the run without overlap, is given;
    chained layers of ``res`` are marked); beside it the latency: without
    overlap stacked by unit, with overlap, and the paper's."""
    from ..study.mobilenetv2 import UNIT_NAMES, chain_label
    plt = _pyplot()
    mhz = res.cluster.config.cluster.clock_mhz
    ops = res.plan.ops
    per_layer = serial.op_cycles if serial is not None else res.op_cycles
    kinds = [UNIT_NAMES[o.unit] for o in ops]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(14, 5), gridspec_kw={"width_ratios": [4, 1]})
    xs = np.arange(len(ops))
    ax.bar(xs, [c / (mhz * 1e3) for c in per_layer], color=[UNIT_COLORS[k] for k in kinds], width=0.8)
    chained = chain_label(res)
    for i in chained:
        ax.plot(i, per_layer[i] / (mhz * 1e3), marker="v", color="black", markersize=3)
    ax.set_xticks(xs)
    ax.set_xticklabels([o.name for o in ops], rotation=90, fontsize=6)
    ax.set_ylabel("ms")
    ax.set_title("per layer" + (" (each alone, no overlap; ▼ overlapped in a chain in the timed run)"
                                if serial is not None else ""), fontsize="small")
    handles = [plt.Rectangle((0, 0), 1, 1, color=UNIT_COLORS[k]) for k in ("cores", "IMA", "DWA")]
    ax.legend(handles, ["cores", "IMA", "DWA"], fontsize="small")
    bars, labels = [], []
    if serial is not None:
        bottom = 0.0
        for k in ("cores", "IMA", "DWA"):
            v = sum(c for c, kk in zip(serial.op_cycles, kinds) if kk == k) / (mhz * 1e3)
            bx.bar(0, v, bottom=bottom, color=UNIT_COLORS[k])
            bottom += v
        bars.append(serial.total_cycles / (mhz * 1e3))
        labels.append("layer after\nlayer")
    bx.bar(len(labels), res.total_cycles / (mhz * 1e3), color="#455a64")
    bars.append(res.total_cycles / (mhz * 1e3))
    labels.append("overlapped" if res.chains else "this run")
    if paper_ms is not None:
        bx.bar(len(labels), paper_ms, color="#9e9e9e", hatch="//")
        bars.append(paper_ms)
        labels.append("paper")
    for i, v in enumerate(bars):
        bx.text(i, v, f"{v:.2f}", ha="center", va="bottom", fontsize="small")
    bx.set_xticks(range(len(labels)))
    bx.set_xticklabels(labels, fontsize="small")
    bx.set_ylabel("latency (ms)")
    bx.set_title(f"latency at {mhz:g} MHz", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


__all__ = ["activity_plot", "mobilenetv2_chart", "busy_per_bin", "unit_lanes", "UNIT_COLORS"]
