"""A run with views: puts the requested tracers on the harts, runs the cluster, and
writes every requested output, also when the run ends in an error (the trace so
far is flushed and converted in a `finally`).

    from iss.trace import Session, ViewOptions
    s = Session(cluster, ViewOptions(trace=Path("t.txt"), perfetto=Path("p.json"), profile=True))
    result = s.run()
    print(format_profile(s.profile))
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import insn as insn_text
from . import profile as prof
from .native import FunctionMap, Tracer, build_meta, read_insn, read_samples


@dataclass
class ViewOptions:
    trace: Path | None = None                    # instruction trace text file
    trace_cores: set[int] | None = None          # None: every core
    trace_window: tuple[int, int | None] = (0, None)
    profile: bool = False                        # compute `Session.profile`
    profile_json: Path | None = None
    perfetto: Path | None = None
    vcd: Path | None = None
    plot: Path | None = None
    progress: bool = False                       # progress line on stderr (the caller checks for a TTY)
    sample_period: int = 1000                    # timeline: cycles between samples at most

    @property
    def timeline(self) -> bool:
        return bool(self.perfetto or self.vcd or self.plot)


class SleepLog:
    """Clock-gated spans of each hart: (start, end, what it waited for), from the
    cluster's sleep listeners; harts still asleep at the end get a span to the end."""

    def __init__(self, cluster):
        self.spans: dict[int, list[tuple[int, int, str]]] = {h.id: [] for h in cluster.harts}
        self._cluster = cluster
        cluster.sleep_listeners.append(self._record)

    def _record(self, hart: int, start: int, end: int, waiting_for: str) -> None:
        self.spans[hart].append((int(start), int(end), waiting_for))

    def close(self, end: int) -> None:
        from ..hart import State
        if self._record in self._cluster.sleep_listeners:
            self._cluster.sleep_listeners.remove(self._record)
        for h in self._cluster.harts:
            if h.state is State.SLEEPING and end > h.native.cycles:
                self.spans[h.id].append((int(h.native.cycles), int(end), h.waiting_for))


class Session:
    def __init__(self, cluster, options: ViewOptions):
        self.cluster = cluster
        self.options = options
        self.profile: dict | None = None
        self.trace_lines = 0
        self.samples: dict[int, np.ndarray] = {}
        self.sleep: SleepLog | None = None
        self.function_map: FunctionMap | None = None
        self.result = None
        self._tracers: list[Tracer] = []
        self._tmp: str | None = None
        self._records: np.ndarray | None = None

    # -- which hooks the options need ------------------------------------------------
    def _needs_insn(self) -> bool:
        o = self.options
        return bool(o.trace) or (o.profile or o.profile_json) and not hasattr(self.cluster, "profile_data")

    def _attach(self) -> None:
        o, c = self.options, self.cluster
        code = c.code
        self.function_map = FunctionMap(c.program, code.base, code.halfwords)
        need_insn = self._needs_insn()
        if need_insn or o.timeline or o.profile or o.profile_json:
            self.sleep = SleepLog(c)
        if not (need_insn or o.timeline):
            return
        out_dir = Path(o.trace).resolve().parent if o.trace else None
        self._tmp = tempfile.mkdtemp(prefix=".iss-trace-", dir=out_dir)
        meta = build_meta(code) if need_insn else None
        # A trace for the profile (no cycle model counters yet) covers every core and cycle.
        full = bool((o.profile or o.profile_json) and need_insn)
        cores = None if full else o.trace_cores
        window = (0, None) if full else o.trace_window
        for h in c.harts:
            ipath = os.path.join(self._tmp, f"insn{h.id}.bin") if need_insn and (
                cores is None or h.id in cores) else None
            spath = os.path.join(self._tmp, f"tl{h.id}.bin") if o.timeline else None
            if ipath or spath:
                self._tracers.append(Tracer(h, insn_path=ipath, sample_path=spath, meta=meta,
                                            func_ids=self.function_map.ids, window=window,
                                            sample_period=o.sample_period))

    # -- running ----------------------------------------------------------------------
    def run(self, max_cycles: int | None = None, runner=None):
        """`runner(max_cycles=...)`: runs the cluster and returns its Result in place
        of `cluster.run` (e.g. under a debugger)."""
        from .progress import ProgressLine
        bar = ProgressLine(self.cluster) if self.options.progress else None
        self._attach()
        try:
            self.result = (runner or self.cluster.run)(max_cycles=max_cycles)
        finally:
            if bar is not None:
                bar.close()
            self._finish()
        return self.result

    def _finish(self) -> None:
        c, o = self.cluster, self.options
        end = max((h.native.cycles for h in c.harts), default=0)
        errors = []
        for t in self._tracers:
            try:
                t.finish()
            except OSError as e:
                errors.append(e)
        if self.sleep is not None:
            self.sleep.close(end)
        try:
            if self._tmp:
                ins = sorted(Path(self._tmp).glob("insn*.bin"))
                if o.trace:
                    self.trace_lines = self._write_trace(ins)
                if (o.profile or o.profile_json) and not hasattr(c, "profile_data"):
                    self._records = insn_text.merge([r for r in (read_insn(p) for p in ins) if len(r)]) \
                        if ins else None
                for t in self._tracers:
                    if t.sample_path:
                        self.samples[t.hart.id] = read_samples(t.sample_path)
            if o.profile or o.profile_json:
                self.profile = self._build_profile()
                if o.profile_json:
                    prof.write_json(self.profile, o.profile_json)
            if o.timeline:
                from . import timeline
                tl = timeline.Timeline.from_session(self, end)
                if o.perfetto:
                    timeline.write_perfetto(tl, o.perfetto)
                if o.vcd:
                    timeline.write_vcd(tl, o.vcd)
                if o.plot:
                    timeline.write_plot(tl, o.plot)
        finally:
            if self._tmp:
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._tmp = None
        if errors:
            raise errors[0]

    def _write_trace(self, paths) -> int:
        o, c = self.options, self.cluster
        if o.trace_cores is None and o.trace_window == (0, None):
            return insn_text.write_text(paths, c.program, c.code, Path(o.trace))
        # The records cover more than asked (a profile needed all of them): filter here.
        parts = []
        start, stop = o.trace_window
        for p in paths:
            r = read_insn(p)
            keep = r["cycle"] >= start
            if stop is not None:
                keep &= r["cycle"] < stop
            if o.trace_cores is not None:
                keep &= np.isin(r["hart"], list(o.trace_cores))
            sel = r[keep]
            if len(sel):
                fp = p.with_suffix(".sel")
                sel.tofile(fp)
                parts.append(fp)
        return insn_text.write_text(parts, c.program, c.code, Path(o.trace))

    def _build_profile(self) -> dict:
        c = self.cluster
        if hasattr(c, "profile_data"):
            data = c.profile_data()
        else:
            recs = self._records if self._records is not None else np.zeros(0, dtype=np.dtype([]))
            data = prof.profile_data_from_trace(
                c.code, recs, [(h.id, h.native.cycles, h.native.instret) for h in c.harts],
                self.sleep.spans if self.sleep else {})
        return prof.build_profile(c.program, data, clock_mhz=c.config.cluster.clock_mhz,
                                  cycles=max((h.native.cycles for h in c.harts), default=0),
                                  exit_code=c.exit_code, elf=str(c.program.path))
