"""Timelines of a run: Perfetto/Chrome trace-event JSON, VCD, and an activity plot.

All three are drawn from the same `Timeline`: per core, the function-change and
sample stream of the native timeline hook (iss/native/trace.c) and the sleep
spans; per accelerator/DMA unit, the busy spans peripherals record in
`cluster.activity`.

Perfetto (`--perfetto FILE`, open in ui.perfetto.dev or chrome://tracing): the
JSON object form of the Chrome trace-event format. Process 1 "cluster" has per
core a thread "core N" with one complete ("X") event per function span, a thread
"core N sleep" with one per clock-gated span (named after what the core awaited),
and a counter ("C") "core N IPC" per sample period; process 2 "units" has a thread
per accelerator/DMA unit with its busy spans. Timestamps and durations are in
microseconds at the configured clock (`cluster.clock_mhz`); `args` carry cycles.

VCD (`--vcd FILE`, GTKWave): timescale 1 ns at the configured clock (one step
per ns, values changing at cycle boundaries rounded to ns); per core
`coreN.pc` (32-bit, the PC of each block that starts a function or a sample
period: block granularity), `coreN.asleep` (1 while clock-gated) and
`coreN.function` (string).

Plot (`--plot FILE.png`): per core, the fraction of each time bin spent busy
(retiring instructions), stalled (awake, not retiring) and asleep.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class CoreTimeline:
    hart: int
    end: int                                   # the core's final clock
    instret: int                               # instructions retired by then
    functions: list[tuple[int, int, str]]      # (start, end, function)
    sleep: list[tuple[int, int, str, str]]     # (start, end, awaited, SleepKind)
    samples: np.ndarray                        # SAMPLE_DTYPE records


@dataclass
class Timeline:
    clock_mhz: float
    end: int
    cores: list[CoreTimeline]
    units: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)

    @classmethod
    def from_session(cls, session, end: int) -> "Timeline":
        c = session.cluster
        fmap = session.function_map
        cores = []
        for h in c.harts:
            s = session.samples.get(h.id)
            if s is None:
                continue
            sleep = sorted(session.sleep.spans.get(h.id, [])) if session.sleep else []
            hend = max([int(h.native.cycles)] + [e for _, e, *_ in sleep])
            changes = s[(s["pc_kind"] & 1) == 0]
            funcs = []
            cyc, fid = changes["cycle"].tolist(), changes["func"].tolist()
            for i in range(len(cyc)):
                stop = cyc[i + 1] if i + 1 < len(cyc) else hend
                if stop > cyc[i]:
                    funcs.append((cyc[i], stop, fmap.name(fid[i])))
            cores.append(CoreTimeline(h.id, hend, int(h.native.instret), funcs, sleep, s))
        units: dict[str, list] = {}
        for unit, label, start, stop in c.activity:
            units.setdefault(unit, []).append((start, stop, label))
        return cls(float(c.config.cluster.clock_mhz), end, cores, units)

    def us(self, cycles: int) -> float:
        return cycles / self.clock_mhz

    def activity(self, core: CoreTimeline, bins: int):
        """(edges in cycles, busy, stalled, asleep) per time bin of one core, in cycles.
        Instructions are spread evenly over the awake cycles between two samples."""
        end = max(self.end, 1)
        edges = np.linspace(0, end, bins + 1)
        xs, ys, acc = [0.0], [0.0], 0.0          # cycles asleep before t: piecewise linear
        for s, e, *_ in sorted(core.sleep):
            xs += [float(s), float(e)]
            ys += [acc, acc + (e - s)]
            acc += e - s
        alive = np.minimum(edges, core.end)
        asleep_cum = np.interp(alive, xs, ys)
        awake_cum = alive - asleep_cum
        smp = core.samples
        sc = np.concatenate(([0.0], smp["cycle"].astype(float), [float(core.end)]))
        si = np.concatenate(([0.0], smp["instret"].astype(float), [float(core.instret)]))
        sa = sc - np.interp(sc, xs, ys)
        ins_cum = np.interp(awake_cum, sa, si)
        asleep = np.diff(asleep_cum)
        awake = np.diff(awake_cum)
        busy = np.clip(np.diff(ins_cum), 0, awake)
        return edges, busy, awake - busy, asleep


# -- Perfetto ---------------------------------------------------------------------------
def perfetto_events(tl: Timeline) -> list[dict]:
    ev: list[dict] = [{"ph": "M", "pid": 1, "name": "process_name", "args": {"name": "cluster"}},
                      {"ph": "M", "pid": 2, "name": "process_name", "args": {"name": "units"}}]
    for core in tl.cores:
        tid, stid = 1 + 2 * core.hart, 2 + 2 * core.hart
        ev.append({"ph": "M", "pid": 1, "tid": tid, "name": "thread_name", "args": {"name": f"core {core.hart}"}})
        ev.append({"ph": "M", "pid": 1, "tid": tid, "name": "thread_sort_index", "args": {"sort_index": tid}})
        ev.append({"ph": "M", "pid": 1, "tid": stid, "name": "thread_name",
                   "args": {"name": f"core {core.hart} sleep"}})
        ev.append({"ph": "M", "pid": 1, "tid": stid, "name": "thread_sort_index", "args": {"sort_index": stid}})
        for s, e, name in core.functions:
            ev.append({"ph": "X", "pid": 1, "tid": tid, "name": name, "cat": "function", "ts": tl.us(s),
                       "dur": tl.us(e - s), "args": {"start_cycle": s, "cycles": e - s}})
        for s, e, what, _ in core.sleep:
            ev.append({"ph": "X", "pid": 1, "tid": stid, "name": f"asleep: {what}", "cat": "sleep",
                       "ts": tl.us(s), "dur": tl.us(e - s), "args": {"start_cycle": s, "cycles": e - s}})
        smp = core.samples
        if len(smp) > 1:
            c, i = smp["cycle"].astype(np.int64), smp["instret"].astype(np.int64)
            dc, di = np.diff(c), np.diff(i)
            for k in np.nonzero(dc > 0)[0].tolist():
                ev.append({"ph": "C", "pid": 1, "tid": tid, "name": f"core {core.hart} IPC", "ts": tl.us(int(c[k])),
                           "args": {"ipc": round(float(di[k]) / float(dc[k]), 4)}})
    for n, (unit, spans) in enumerate(sorted(tl.units.items())):
        tid = n + 1
        ev.append({"ph": "M", "pid": 2, "tid": tid, "name": "thread_name", "args": {"name": unit}})
        for s, e, label in spans:
            ev.append({"ph": "X", "pid": 2, "tid": tid, "name": label, "cat": unit, "ts": tl.us(s),
                       "dur": tl.us(max(e - s, 0)), "args": {"start_cycle": s, "cycles": e - s}})
    return ev


def write_perfetto(tl: Timeline, path: str | Path) -> None:
    doc = {"traceEvents": perfetto_events(tl), "displayTimeUnit": "ns",
           "otherData": {"clock_mhz": tl.clock_mhz, "cycles": tl.end, "generator": "iss"}}
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))


# -- VCD --------------------------------------------------------------------------------
def write_vcd(tl: Timeline, path: str | Path) -> None:
    from vcd import VCDWriter

    ns = 1000.0 / tl.clock_mhz

    def t(cycle: int) -> int:
        return int(round(cycle * ns))

    with open(path, "w") as f, VCDWriter(f, timescale="1 ns", date="", version="iss") as w:
        sig = {}
        for core in tl.cores:
            scope = f"cluster.core{core.hart}"
            sig[core.hart] = (w.register_var(scope, "pc", "reg", size=32, init=0),
                              w.register_var(scope, "asleep", "wire", size=1, init=0),
                              w.register_var(scope, "function", "string", init=""))
        changes = []   # (time, order, var, value)
        for core in tl.cores:
            pc_var, sleep_var, fn_var = sig[core.hart]
            s = core.samples
            fmap_names = {}
            for fs, _, name in core.functions:
                fmap_names[fs] = name
            for cyc, pck in zip(s["cycle"].tolist(), s["pc_kind"].tolist()):
                changes.append((t(cyc), 1, pc_var, pck & ~1))
            for fs, name in fmap_names.items():
                changes.append((t(fs), 2, fn_var, name))
            for a, b, *_ in core.sleep:
                changes.append((t(a), 0, sleep_var, 1))
                changes.append((t(b), 0, sleep_var, 0))
        changes.sort(key=lambda x: (x[0], x[1]))
        for when, _, var, value in changes:
            w.change(var, when, value)
        w.flush(t(tl.end))


# -- plot -------------------------------------------------------------------------------
def write_plot(tl: Timeline, path: str | Path, bins: int = 400) -> None:
    try:
        import matplotlib
    except ImportError:
        from ..errors import IssError
        raise IssError("--plot needs matplotlib: pip install 'iss[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(tl.cores)
    fig, axes = plt.subplots(max(n, 1), 1, figsize=(11, 0.9 * max(n, 1) + 1.2), sharex=True, squeeze=False)
    bins = max(1, min(bins, tl.end or 1))
    for ax, core in zip(axes[:, 0], tl.cores):
        edges, busy, stalled, asleep = tl.activity(core, bins)
        width = np.diff(edges)
        x = tl.us(edges[:-1])
        w = tl.us(width)
        ax.bar(x, busy / width, w, align="edge", color="#2e7d32", label="busy")
        ax.bar(x, stalled / width, w, bottom=busy / width, align="edge", color="#f9a825", label="stalled")
        ax.bar(x, asleep / width, w, bottom=(busy + stalled) / width, align="edge", color="#90a4ae", label="asleep")
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.set_ylabel(f"core {core.hart}", rotation=0, ha="right", va="center")
    axes[0, 0].legend(loc="upper right", ncol=3, fontsize="small", framealpha=0.9)
    axes[0, 0].set_title(f"core activity ({tl.end} cycles at {tl.clock_mhz:g} MHz)")
    axes[-1, 0].set_xlabel("time (us)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
