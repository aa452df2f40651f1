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
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import OutputError
from . import insn as insn_text
from . import profile as prof
from .native import INSN_DTYPE, SAMPLE_DTYPE, FunctionMap, Tracer, build_meta, read_insn, read_samples


def check_outputs(outputs, inputs=()) -> None:
    """Refuse, before a run, output files it could not write or must not: in a
    directory that does not exist, a directory themselves, one of the run's
    inputs (the firmware, the configuration), or one file asked for twice.
    `outputs`, `inputs`: (what, path or None) pairs, e.g. ("--vcd", Path("run.vcd"))."""
    seen: dict[str, str] = {}
    ins = [(what, Path(p)) for what, p in inputs if p is not None]
    for what, path in outputs:
        if path is None:
            continue
        path = Path(path)
        if path.is_dir():
            raise OutputError(f"{what} {path}: is a directory")
        parent = path.resolve().parent
        if not parent.exists():
            raise OutputError(f"{what} {path}: directory {path.parent} does not exist")
        if not parent.is_dir():
            raise OutputError(f"{what} {path}: {path.parent} is not a directory")
        for in_what, in_path in ins:
            if path.resolve() == in_path.resolve() or (path.exists() and in_path.exists()
                                                       and os.path.samefile(path, in_path)):
                raise OutputError(f"{what} {path} is the {in_what}: refusing to overwrite it")
        key = str(path.resolve())
        if key in seen:
            raise OutputError(f"{seen[key]} and {what} both write {path}: give each its own file")
        seen[key] = what


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
    #: cycles (start, end) the plot shows, or a callable given the cluster after
    #: the run that returns them (a study's timed part); None: the whole run
    plot_window: tuple[int, int] | Callable | None = None
    progress: bool = False                       # progress line on stderr (the caller checks for a TTY)
    log: Callable[[str], None] | None = None     # told what is being written after an interrupt or a long run
    sample_period: int = 1000                    # timeline: cycles between samples at most

    @property
    def timeline(self) -> bool:
        return bool(self.perfetto or self.vcd or self.plot)

    def outputs(self) -> list[tuple[str, Path | None]]:
        """The files asked for, named by their `iss run` options."""
        return [("--trace", self.trace), ("--profile-json", self.profile_json), ("--perfetto", self.perfetto),
                ("--vcd", self.vcd), ("--plot", self.plot)]

    def check(self, inputs=()) -> None:
        """OutputError if a requested file cannot or must not be written (check_outputs)."""
        check_outputs(self.outputs(), inputs)


class SleepLog:
    """Clock-gated spans of each hart: (start, end, what it waited for, SleepKind), from the
    cluster's sleep listeners; harts still asleep at the end get a span to the end."""

    def __init__(self, cluster):
        self.spans: dict[int, list[tuple[int, int, str, str]]] = {h.id: [] for h in cluster.harts}
        self._cluster = cluster
        cluster.sleep_listeners.append(self._record)

    def _record(self, hart: int, start: int, end: int, waiting_for: str, kind) -> None:
        self.spans[hart].append((int(start), int(end), waiting_for, kind))

    def close(self, end: int) -> None:
        from ..hart import State
        if self._record in self._cluster.sleep_listeners:
            self._cluster.sleep_listeners.remove(self._record)
        for h in self._cluster.harts:
            if h.state is State.SLEEPING and end > h.native.cycles:
                self.spans[h.id].append((int(h.native.cycles), int(end), h.waiting_for, h.sleep_kind))


# The per-hart binary records of a run live in `.iss-trace-HOST-PID-*` beside the
# trace (same file system: no copy) until converted. A run killed outright (SIGKILL,
# OOM killer) cannot remove its directory; the next run in that directory does.
TMP_PREFIX = ".iss-trace-"
# Past this many records the conversion takes seconds: say what is being written.
LONG_CONVERSION = 2_000_000


def _tmp_prefix() -> str:
    return f"{TMP_PREFIX}{socket.gethostname()}-{os.getpid()}-"


def remove_stale_tmp(directory: Path) -> list[Path]:
    """Remove the record directories of runs on this host whose process is gone
    (killed before they could clean up); returns what was removed."""
    removed = []
    host = socket.gethostname()
    try:
        entries = list(Path(directory).glob(f"{TMP_PREFIX}{host}-*-*"))
    except OSError:
        return removed
    for d in entries:
        pid = d.name[len(TMP_PREFIX) + len(host) + 1:].split("-", 1)[0]
        if not pid.isdigit() or not d.is_dir() or _alive(int(pid)):
            continue
        shutil.rmtree(d, ignore_errors=True)
        removed.append(d)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True            # exists, owned by someone else
    return True


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
        self.tracers: list[Tracer] = []
        self._tmp: str | None = None
        self._interrupted = False
        self.kept_records: Path | None = None   # where the binary records were kept after a second interrupt

    # -- which hooks the options need ------------------------------------------------
    def _needs_insn(self) -> bool:
        o = self.options
        return bool(o.trace)

    def _attach(self) -> None:
        o, c = self.options, self.cluster
        code = c.code
        self.function_map = FunctionMap(c.program, code.pcs[:code.halfwords])
        need_insn = self._needs_insn()
        if need_insn or o.timeline or o.profile or o.profile_json:
            self.sleep = SleepLog(c)
        if not (need_insn or o.timeline):
            return
        out_dir = Path(o.trace).resolve().parent if o.trace else Path(tempfile.gettempdir())
        remove_stale_tmp(out_dir)
        try:
            self._tmp = tempfile.mkdtemp(prefix=_tmp_prefix(), dir=out_dir)
        except OSError as e:
            raise OutputError(f"cannot write the trace's records in {out_dir}: {e.strerror or e}") from None
        c.tcdm_arbiter.log_waits()
        meta = build_meta(code) if need_insn else None
        if meta is not None:
            code.keep_current(meta, build_meta)
        # A trace for the profile (no cycle model counters yet) covers every core and cycle.
        full = bool((o.profile or o.profile_json) and need_insn)
        cores = None if full else o.trace_cores
        window = (0, None) if full else o.trace_window
        for h in c.harts:
            ipath = os.path.join(self._tmp, f"insn{h.id}.bin") if need_insn and (
                cores is None or h.id in cores) else None
            spath = os.path.join(self._tmp, f"tl{h.id}.bin") if o.timeline else None
            if ipath or spath:
                self.tracers.append(Tracer(h, insn_path=ipath, sample_path=spath, meta=meta,
                                            func_ids=self.function_map.ids, window=window,
                                            sample_period=o.sample_period))

    # -- running ----------------------------------------------------------------------
    def run(self, max_cycles: int | None = None, runner=None):
        """`runner(max_cycles=...)`: runs the cluster and returns its Result in place
        of `cluster.run` (e.g. under a debugger)."""
        from .progress import ProgressLine
        self.options.check([("firmware", self.cluster.program.path)])
        bar = ProgressLine(self.cluster) if self.options.progress else None
        self._attach()
        try:
            self.result = (runner or self.cluster.run)(max_cycles=max_cycles)
        except KeyboardInterrupt:
            self._interrupted = True
            raise
        finally:
            if bar is not None:
                bar.close()
            self._finish()
        return self.result

    def _say(self, text: str) -> None:
        if self.options.log is not None:
            self.options.log(text)

    def _finish(self) -> None:
        c, o = self.cluster, self.options
        end = max((h.native.cycles for h in c.harts), default=0)
        errors = []
        for t in self.tracers:
            try:
                t.finish()
                self._exact_cycles(t)
            except OSError as e:
                errors.append(e)
        if self.sleep is not None:
            self.sleep.close(end)
        converted = False
        try:
            if self._tmp:
                ins = sorted(Path(self._tmp).glob("insn*.bin"))
                if o.trace:
                    n = sum(os.path.getsize(p) for p in ins) // INSN_DTYPE.itemsize
                    if self._interrupted or n >= LONG_CONVERSION:
                        again = "; Ctrl-C again stops it and keeps what is written" if self._interrupted else ""
                        self._say(f"[iss] {'interrupted: ' if self._interrupted else ''}writing the instruction "
                                  f"trace {o.trace} ({n:,} instructions{again})")
                    self.trace_lines = self._write_trace(ins)
                converted = True
                for t in self.tracers:
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
                    from .plot import activity_plot
                    win = o.plot_window(c) if callable(o.plot_window) else o.plot_window
                    activity_plot(tl, o.plot, window=win)
        except KeyboardInterrupt:
            if o.trace and not converted:
                self._keep_records()
            raise
        except OSError as e:
            errors.insert(0, e)
        finally:
            if self._tmp:
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._tmp = None
        if errors:
            e = errors[0]
            raise OutputError(f"cannot write {e.filename or 'an output file'}: {e.strerror or e}") from None

    def _keep_records(self) -> None:
        """Interrupted while converting: the text trace holds what was written
        so far; the binary records (the whole run) stay beside it, renamed so that
        no later run takes them for a killed run's leftovers."""
        keep = Path(f"{self.options.trace}.records")
        try:
            if keep.exists():
                shutil.rmtree(keep)
            os.replace(self._tmp, keep)
        except OSError:
            return
        self._tmp = None
        self.kept_records = keep
        self._say(f"[iss] interrupted again: {self.options.trace} is incomplete; the binary records of the whole "
                  f"run are kept in {keep}/ (one file per hart, records as iss/trace/native.py INSN_DTYPE)")

    def _exact_cycles(self, tracer) -> None:
        """The tracer recorded each instant without the TCDM waits not arbitrated
        yet (iss/timing/tcdm.py): now that all are, rewrite its files exactly."""
        arb = self.cluster.tcdm_arbiter
        for path, dtype in ((tracer.insn_path, INSN_DTYPE), (tracer.sample_path, SAMPLE_DTYPE)):
            if path and os.path.getsize(path):
                recs = np.fromfile(path, dtype)
                recs["cycle"] = arb.exact_cycles(tracer.hart.id, recs["cycle"])
                recs.tofile(path)

    def _write_trace(self, paths) -> int:
        o, c = self.options, self.cluster
        if o.trace_cores is None and o.trace_window == (0, None):
            return insn_text.write_text(paths, c.program, c.code, Path(o.trace), fc_hart=c.fc.id if getattr(c, "fc", None) else None)
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
        return insn_text.write_text(parts, c.program, c.code, Path(o.trace), fc_hart=c.fc.id if getattr(c, "fc", None) else None)

    def _build_profile(self) -> dict:
        c = self.cluster
        return prof.build_profile(c.program, c.profile_data(), clock_mhz=c.config.cluster.clock_mhz,
                                  cycles=max((h.native.cycles for h in c.harts), default=0),
                                  exit_code=c.exit_code, elf=str(c.program.path))
