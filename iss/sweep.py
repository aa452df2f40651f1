"""Design-space sweeps on Dask: a spec -> points -> independent runs -> one table.

A spec (TOML) names workloads and the configurations to run them on::

    out = "build/sweeps/ima_count.parquet"   # optional (--out wins)

    [workloads.paper_block]
    kind = "bottleneck"            # the bottleneck study (iss.study.bottleneck)
    shape = [28, 28, 32, 6, 32, 1] # H, W, CIN, T, COUT, STRIDE (default: the paper's)
    variant = "hetero"             # cores | ima_cores | hetero (default)

    [workloads.net]
    kind = "mobilenetv2"           # end to end (iss.study.mobilenetv2)
    input_hw = 64

    [workloads.mine]
    kind = "elf"                   # any firmware: elf = "app.elf", or sources = ["app.c"]
    sources = ["app.c"]
    inputs = { samples = "x.npy" } # globals written before the run (.npy, or a list of int32)
    check = { result = "y.npy" }   # globals compared after it (and exit code 0)

    [config]                       # every point: configuration fields (iss/config.py)
    cluster.clock_mhz = 400

    [grid]                         # the cartesian product of these lists ...
    ima.count = [1, 2, 4]
    ima.stream_ports = [4, 16]

    [[points]]                     # ... and/or explicit points (each crossed with the grid)
    "memory.tcdm_banks" = 16

    [[plots]]                      # PNGs drawn beside the table after the run
    x = "ima.count"
    y = "latency_ms"
    color = "ima.stream_ports"

Every workload runs at every point. The whole spec is checked before anything
runs (an unknown field or a bad value is one error naming it). Firmware is
built once per distinct build on the client and shipped to the workers by
content (Dask keys them by digest); workers only need ``pip install iss``.
Each point runs in a worker process; its result is one row of the table:
the workload, the configuration fields given, cycles, latency, energy by
unit, utilisation, verified, wall time and the error, if any (a failing point
records its one-line error; the others go on).

Results are cached by (ELF content, configuration, workload, iss version and
a digest of its code; every worker must run the same) in a directory beside
the table: a rerun skips the finished points (failed ones run
again), so an interrupted sweep resumes where it stopped.

Metrics (one row per point and workload):

* ``cycles``: the workload's own count (the studies: the firmware's timed
  part; an ELF: the whole run); ``latency_ms`` at ``cluster.clock_mhz``.
* ``energy_uj`` and ``energy_<unit>_uj`` (cores, memory, cluster, dma, ima,
  dwa; iss/energy.py) of the same part (MobileNetV2: weight programming
  excluded).
* ``util_cores``: instructions retired per core-cycle; ``util_ima``: MVM time
  over the configured arrays' time (``ima.count`` x cycles); ``util_dwa``:
  MACs over the DWA's peak; ``util_dma``: bytes over the DMA's peak.
* ``verified``: every output equals the golden model (studies) or the
  expected values and exit code 0 (ELF); ``mismatch_frac``: the fraction of
  the final output's values that differ (analog noise makes it non-zero).
"""
from __future__ import annotations

import functools
import gc
import hashlib
import itertools
import json
import math
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__
from .config import Config, read_toml
from .errors import ConfigError, IssError

KINDS = ("bottleneck", "mobilenetv2", "elf")
#: parameters of each workload kind and their defaults (None: required or derived)
PARAMS = {
    "bottleneck": {"shape": None, "variant": "hetero", "seed": 3, "energy": True},
    "mobilenetv2": {"input_hw": 224, "variant": "hetero", "seed": 0, "program": "preload", "fc_on_ima": False},
    "elf": {"elf": None, "sources": None, "opt": "2", "include": [], "defines": [], "inputs": {}, "check": {},
            "exit_code": 0},
}
UNITS = ("cores", "memory", "cluster", "dma", "ima", "dwa")
METRICS = (["cycles", "latency_ms", "energy_uj"] + [f"energy_{u}_uj" for u in UNITS]
           + ["util_cores", "util_ima", "util_dwa", "util_dma", "verified", "mismatch_frac"])
TAIL = ["wall_s", "error", "worker", "cached", "key"]


class SpecError(ConfigError):
    """The sweep spec is invalid (names the file and the field)."""


# ----------------------------------------------------------------------------
# the spec
# ----------------------------------------------------------------------------
@dataclass
class Workload:
    name: str
    kind: str
    params: dict


@dataclass
class Spec:
    path: Path | None
    workloads: list
    points: list                    #: [{"ima.count": 2, ...}] (dotted field -> value)
    base: dict                      #: [config] fields on every point (dotted)
    out: Path | None = None
    plots: list = field(default_factory=list)

    @property
    def fields(self) -> list:
        """The configuration fields the table has a column for, in spec order."""
        out = list(self.base)
        for p in self.points:
            out += [k for k in p if k not in out]
        return out


def _flatten(table: dict, origin: str, prefix: str = "") -> dict:
    """{"ima": {"count": [..]}} and {"ima.count": [..]} -> {"ima.count": [..]}."""
    out = {}
    for k, v in table.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, origin, name + "."))
        else:
            out[name] = v
    for name in out:
        if name.count(".") != 1:
            raise SpecError(f"{origin}: '{name}' is not a configuration field (SECTION.FIELD, e.g. ima.count)")
    return out


def _sections(values: dict) -> dict:
    out: dict = {}
    for name, v in values.items():
        sec, key = name.split(".")
        out.setdefault(sec, {})[key] = v
    return out


def point_config(spec: Spec, point: dict, origin: str = "point") -> Config:
    """The validated Config of one point (ConfigError naming the field)."""
    return Config().override(_sections({**spec.base, **point}), origin)


def _check(values: dict, origin: str, names_only: bool = False) -> None:
    """Raise SpecError if `values` name an unknown field or a value of the wrong
    type or (unless `names_only`) make an invalid configuration."""
    try:
        Config().override(_sections(values), origin)
    except ConfigError as e:
        text = str(e)
        if text.startswith(origin):          # a field's name or type
            raise SpecError(text) from None
        if not names_only:                   # Config.validate: values that do not go together
            raise SpecError(f"{origin}: {text}") from None


def load_spec(source, base_dir: Path | None = None) -> Spec:
    """Read and check a spec: a TOML path or the dict it parses to. Raises
    SpecError naming the field at the first problem; nothing has run yet."""
    if isinstance(source, dict):
        data, path, where = source, None, "spec"
        base_dir = Path(base_dir or ".")
    else:
        path = Path(source)
        where = str(path)
        data = read_toml(path, "sweep spec", SpecError)
        base_dir = Path(base_dir or path.parent)
    unknown = set(data) - {"out", "workloads", "config", "grid", "points", "plots"}
    if unknown:
        raise SpecError(f"{where}: unknown key '{sorted(unknown)[0]}' (expected out, workloads, config, grid, "
                        f"points, plots)")
    workloads = [_workload(name, w, f"{where}: [workloads.{name}]", base_dir)
                 for name, w in _table(data.get("workloads"), f"{where}: workloads", required=True).items()]
    if not workloads:
        raise SpecError(f"{where}: no [workloads.NAME] table")
    base = _flatten(_table(data.get("config", {}), f"{where}: [config]"), f"{where}: [config]")
    grid = _flatten(_table(data.get("grid", {}), f"{where}: [grid]"), f"{where}: [grid]")
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise SpecError(f"{where}: [grid] {name} must be a non-empty list of values, got {values!r}")
    listed = data.get("points", [{}])
    if not isinstance(listed, list) or not all(isinstance(p, dict) for p in listed):
        raise SpecError(f"{where}: points must be an array of tables ([[points]])")
    listed = [_flatten(p, f"{where}: [[points]] {i + 1}") for i, p in enumerate(listed)] or [{}]
    # One error naming the field, before anything runs: names and types where they are written ...
    _check(base, f"{where}: [config]", names_only=True)
    for name, values in grid.items():
        for v in values:
            _check({name: v}, f"{where}: [grid]", names_only=True)
    for i, p in enumerate(listed):
        _check(p, f"{where}: [[points]] {i + 1}", names_only=True)
    combos = [dict(zip(grid, values)) for values in itertools.product(*grid.values())]
    points = [{**p, **g} for p in listed for g in combos]
    spec = Spec(path, workloads, points, base, None, [])
    for i, p in enumerate(points):
        # ... then every point's whole configuration (fields that constrain each other)
        _check({**base, **p}, f"{where}: point {i + 1} ({_describe(p) or 'defaults'})")
    if "out" in data:
        if not isinstance(data["out"], str):
            raise SpecError(f"{where}: out must be a path string")
        spec.out = Path(data["out"])       # like --out: relative to the current directory
    columns = set(spec.fields) | set(METRICS) | {"workload", "wall_s"}
    for i, p in enumerate(data.get("plots", [])):
        extra = set(p) - {"x", "y", "color", "out", "pareto"}
        if extra or "x" not in p or "y" not in p:
            raise SpecError(f"{where}: [[plots]] {i + 1} takes x, y and optionally color, out, pareto")
        for k in ("x", "y", "color"):
            if k in p and p[k] not in columns:
                raise SpecError(f"{where}: [[plots]] {i + 1}: {k} = '{p[k]}' is not a column "
                                f"(a swept field or one of {', '.join(METRICS)})")
        spec.plots.append(dict(p))
    return spec


def _table(v, where, required=False) -> dict:
    if v is None and required:
        raise SpecError(f"{where}: missing")
    if not isinstance(v, dict):
        raise SpecError(f"{where}: must be a table")
    return v


def _workload(name, w, where, base_dir: Path) -> Workload:
    w = dict(_table(w, where))
    kind = w.pop("kind", None)
    if kind not in KINDS:
        raise SpecError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    known = PARAMS[kind]
    for k in w:
        if k not in known:
            raise SpecError(f"{where}: unknown field '{k}' for kind {kind} (known: {', '.join(known)})")
    p = {**{k: v for k, v in known.items()}, **w}
    if kind == "bottleneck":
        from .study.bottleneck import VARIANTS
        if p["variant"] not in VARIANTS:
            raise SpecError(f"{where}: variant must be one of {', '.join(VARIANTS)}, got {p['variant']!r}")
        if p["shape"] is None:
            from .study.bottleneck import paper_shape
            s = paper_shape()
            p["shape"] = [s.h, s.w, s.c_in, s.t, s.c_out, s.stride]
        if not (isinstance(p["shape"], list) and len(p["shape"]) == 6
                and all(isinstance(v, int) and v > 0 for v in p["shape"]) and p["shape"][5] in (1, 2)):
            raise SpecError(f"{where}: shape must be [H, W, CIN, T, COUT, STRIDE] (positive integers, stride 1 or "
                            f"2), got {p['shape']!r}")
    elif kind == "mobilenetv2":
        if p["variant"] not in ("hetero", "cores"):
            raise SpecError(f"{where}: variant must be hetero or cores, got {p['variant']!r}")
        if p["program"] not in ("preload", "plot"):
            raise SpecError(f"{where}: program must be preload or plot, got {p['program']!r}")
        if not isinstance(p["input_hw"], int) or p["input_hw"] < 32 or p["input_hw"] % 32:
            raise SpecError(f"{where}: input_hw must be a multiple of 32, got {p['input_hw']!r}")
    else:
        _elf_workload(p, where, base_dir)
    for k in ("seed",):
        if k in p and not isinstance(p[k], int):
            raise SpecError(f"{where}: {k} must be an integer, got {p[k]!r}")
    return Workload(name, kind, p)


def _elf_workload(p, where, base_dir: Path) -> None:
    """Resolves paths against the spec's directory and loads inputs and expected values."""
    if (p["elf"] is None) == (p["sources"] is None):
        raise SpecError(f"{where}: give either elf = \"app.elf\" or sources = [\"app.c\", ...]")
    if p["elf"] is not None:
        p["elf"] = base_dir / p["elf"]
        if not p["elf"].is_file():
            raise SpecError(f"{where}: elf: no such file {p['elf']}")
    else:
        if not isinstance(p["sources"], list) or not p["sources"]:
            raise SpecError(f"{where}: sources must be a list of C/assembly files")
        p["sources"] = [base_dir / s for s in p["sources"]]
        for s in p["sources"]:
            if not s.is_file():
                raise SpecError(f"{where}: sources: no such file {s}")
        p["include"] = [base_dir / d for d in p["include"]]
        if str(p["opt"]) not in ("0", "1", "2", "3", "s", "z"):
            raise SpecError(f"{where}: opt must be one of 0 1 2 3 s z, got {p['opt']!r}")
    for what in ("inputs", "check"):
        table = p[what]
        if not isinstance(table, dict):
            raise SpecError(f"{where}: {what} must be a table of global -> .npy file or list of integers")
        p[what] = {sym: _array(v, f"{where}: {what}.{sym}", base_dir) for sym, v in table.items()}
    if not isinstance(p["exit_code"], int):
        raise SpecError(f"{where}: exit_code must be an integer")


def _array(v, where, base_dir: Path) -> np.ndarray:
    if isinstance(v, str):
        f = base_dir / v
        try:
            return np.load(f, allow_pickle=False)
        except FileNotFoundError:
            raise SpecError(f"{where}: no such file {f}") from None
        except ValueError as e:
            raise SpecError(f"{where}: {f} is not a .npy array ({e})") from None
    if isinstance(v, int) or (isinstance(v, list) and all(isinstance(x, int) for x in v)):
        return np.asarray(v, dtype=np.int32).reshape(-1)
    raise SpecError(f"{where}: expected a .npy path or a list of integers, got {v!r}")


def _describe(point: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items())


# ----------------------------------------------------------------------------
# builds (client side), once per distinct build
# ----------------------------------------------------------------------------
def build_dir() -> Path:
    from .study.bottleneck import cache_dir
    return cache_dir()


def _builds(w: Workload, cores: int) -> dict:
    """role -> ELF path of workload `w` built for `cores` harts."""
    p = w.params
    if w.kind == "bottleneck":
        from .nn.mobilenetv2 import BottleneckShape
        from .study import bottleneck as bn
        return bn.firmware(p["variant"], BottleneckShape(*p["shape"]), p["energy"], cores)
    if w.kind == "mobilenetv2":
        from .study import mobilenetv2 as mnv2
        return {"run": mnv2.firmware(cores_only=p["variant"] == "cores", cores=cores)}
    if p["elf"] is not None:
        return {"run": Path(p["elf"])}
    from . import toolchain
    options = dict(opt=f"-O{p['opt']}", include_dirs=p["include"], defines=list(p["defines"]))
    if cores != 8:
        options["cores"] = cores
    return {"run": toolchain.compile_cached(p["sources"], build_dir() / "sweep", Path(p["sources"][0]).stem,
                                            **options)}


# ----------------------------------------------------------------------------
# one point (worker side)
# ----------------------------------------------------------------------------
_PROGRAMS: dict = {}


def _program(digest: str, blob: bytes):
    """The parsed ELF of `blob`, written once per worker process under the
    temporary directory by content, parsed once (read-only, shared by points)."""
    if digest not in _PROGRAMS:
        from .elf import Program
        d = Path(tempfile.gettempdir()) / "iss-sweep-elf"
        path = d / f"{digest}.elf"
        if not path.exists():
            d.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=d, prefix=".elf-")
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
            os.replace(tmp, path)
        if len(_PROGRAMS) >= 16:
            _PROGRAMS.pop(next(iter(_PROGRAMS)))
        _PROGRAMS[digest] = Program(path)
    return _PROGRAMS[digest]


def run_point(task: dict, elfs: dict) -> dict:
    """Run one workload at one point: the row of the table (never raises: an
    error is the row's one-line `error`). `elfs`: role -> (digest, bytes)."""
    import socket
    row = {k: None for k in METRICS}
    row["verified"] = False
    t0 = time.perf_counter()
    try:
        programs = {role: _program(digest, blob) for role, (digest, blob) in elfs.items()}
        row.update(_RUNNERS[task["kind"]](task, programs))
        row["error"] = None
    except Exception as e:  # noqa: BLE001 -- a point's failure is data, the sweep goes on
        row["error"] = _one_line(e)
    if _collect_after_points:
        gc.collect()        # the point's clusters (see worker_ready): part of its cost
    row["wall_s"] = time.perf_counter() - t0
    row["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return row


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    if not isinstance(e, IssError):
        text = f"{type(e).__name__}: {text}"
    return text[:500]


def _metrics(counts, cfg, cycles: int, energy=None) -> dict:
    """The table's cycles, latency, energy and utilisation columns."""
    m = {"cycles": int(cycles), "latency_ms": cycles / (cfg.cluster.clock_mhz * 1e3)}
    if energy is not None:
        groups = {k.lower(): v for k, v in energy.groups().items()}
        m["energy_uj"] = energy.total_uj
        for u in UNITS:
            m[f"energy_{u}_uj"] = groups.get(u, 0.0) * 1e-6
    if counts is not None and counts.cycles > 0:
        n = counts.cycles
        m["util_cores"] = counts.instructions / (cfg.cluster.cores * n)
        m["util_ima"] = (counts.ima_mvms * cfg.ns_to_cycles(cfg.ima.eval_ns) / (cfg.ima.count * n)
                         if cfg.ima.count else 0.0)
        m["util_dwa"] = counts.dwa_macs / cfg.dwa.macs_per_cycle / n
        m["util_dma"] = counts.dma_bytes / cfg.dma.bytes_per_cycle / n
    return m


def _run_bottleneck(task, programs) -> dict:
    from .nn.mobilenetv2 import BottleneckShape
    from .study import bottleneck as bn
    p = task["params"]
    r = bn.run_variant(p["variant"], BottleneckShape(*p["shape"]), seed=p["seed"], energy=p["energy"],
                       config=task["config"], programs=programs, strict=False)
    out = _metrics(r.energy.counts if r.energy else None, r.config, r.cycles, r.energy)
    bad, total = r.mismatch.get("add") or r.mismatch.get("project") or (0, 1)
    out["mismatch_frac"] = bad / total
    out["verified"] = not r.mismatch
    return out


def _run_mobilenetv2(task, programs) -> dict:
    from .nn import mobilenetv2 as net_model
    from .study import mobilenetv2 as mnv2
    p = task["params"]
    hetero = p["variant"] == "hetero"
    net, golden = net_model.network_with_golden(p["variant"], seed=p["seed"], input_hw=p["input_hw"],
                                                fc_on_ima=p["fc_on_ima"], cache_dir=build_dir())
    count = task["config"].get("ima", {}).get("count", mnv2.DEFAULT_IMAS if hetero else 0)
    res = mnv2.run(net, programs["run"], n_arrays=count if hetero else 0, program=p["program"],
                   config=task["config"])
    bad = res.mismatches(golden)
    last = res.plan.ops[-1]
    ref = np.asarray(golden[last.name]).reshape(last.out_shape)
    e = mnv2.inference_energy(res)
    out = _metrics(e.counts, res.cluster.config, res.total_cycles, e)
    out["mismatch_frac"] = float((res.acts[last.name] != ref).mean())
    out["verified"] = not bad
    return out


def _run_elf(task, programs) -> dict:
    from .cluster import Cluster
    from .energy import count_events, energy
    p = task["params"]
    cluster = Cluster(programs["run"], Config().override(task["config"]))
    for sym, a in p["inputs"].items():
        cluster.write_symbol(sym, a)
    res = cluster.run()
    counts = count_events(cluster)
    out = _metrics(counts, cluster.config, res.cycles, energy(counts, cluster.config))
    if res.exit_code != p["exit_code"]:
        raise IssError(f"firmware exit code {res.exit_code}, expected {p['exit_code']}")
    differ = total = 0
    for sym, want in p["check"].items():
        got = cluster.read_symbol(sym, want.dtype, want.size)
        differ, total = differ + int((got != want.reshape(-1)).sum()), total + want.size
    out["mismatch_frac"] = differ / total if total else 0.0
    out["verified"] = differ == 0
    return out


_RUNNERS = {"bottleneck": _run_bottleneck, "mobilenetv2": _run_mobilenetv2, "elf": _run_elf}


# ----------------------------------------------------------------------------
# the sweep (client side)
# ----------------------------------------------------------------------------
@dataclass
class Task:
    key: str
    fields: dict            #: workload + configuration columns
    payload: dict           #: what run_point gets
    elfs: dict              #: role -> digest


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:24]


def _array_digest(a: np.ndarray) -> str:
    return _digest(str(a.dtype).encode() + str(a.shape).encode() + np.ascontiguousarray(a).tobytes())


def iss_identity() -> str:
    """The iss version and a digest of the package's code: results are cached by
    it, and every worker must run the same (a development checkout changes
    without a new version number)."""
    return f"{__version__}+{_code_digest()}"


@functools.lru_cache(maxsize=None)
def _code_digest() -> str:
    root = Path(__file__).resolve().parent
    files = []
    for d, dirs, names in os.walk(root):
        # (not into the compiler's cache: thousands of files, and a worker's
        # first sweep waits for this walk)
        dirs[:] = [x for x in dirs if x not in ("__pycache__", ".zig-cache")]
        files += [Path(d, n) for n in names if n.endswith((".py", ".c", ".h"))]
    h = hashlib.sha256()
    for f in sorted(files):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


#: Set in Dask workers (worker_ready): run_point frees its clusters before it returns.
_collect_after_points = False


def worker_ready() -> str:
    """Prepare this process for points: the imports and the native helper every
    point needs, done once (on every worker at once, before the first point, so
    no point pays them). Returns the iss identity the process runs.

    Also the worker's memory: a cluster's parts refer to each other, so only
    Python's cycle collector frees a finished point's clusters (about 60 MiB),
    and its full collections come seldom: a worker held 430-780 MiB over 48
    points of bottleneck_pareto.toml, 170 MiB when each point collects. A full
    collection walks every object of the process (47 ms with pandas and
    distributed loaded, 15% of a point), so what is here now (modules, the
    worker's own state) is frozen out of it first, once per process: the
    collection after a point then takes about 6 ms, and the 48 points took no
    longer than without it."""
    global _collect_after_points
    from . import cluster, native  # noqa: F401
    from .study import bottleneck, mobilenetv2  # noqa: F401
    native.lib()
    if not _collect_after_points:   # once per process: later sweeps' objects are not frozen
        gc.collect()
        gc.freeze()
        _collect_after_points = True
    return iss_identity()


def _check_workers(client) -> None:
    """Every worker is ready for points (worker_ready) and runs the iss this
    client runs (else its results would be cached under another version's key)."""
    mine = iss_identity()
    for worker, theirs in client.run(worker_ready).items():
        if theirs != mine:
            raise IssError(f"Dask worker {worker} runs iss {theirs}, this machine iss {mine}: install the same "
                           f"iss on every worker")


def _ident(v):
    """JSON-able identity of a parameter value (arrays by digest)."""
    if isinstance(v, np.ndarray):
        return _array_digest(v)
    if isinstance(v, dict):
        return {k: _ident(x) for k, x in v.items()}
    return v


def plan(spec: Spec, log=None) -> tuple[list, dict]:
    """The tasks of a spec and the ELFs they need (digest -> bytes), each
    distinct build built once."""
    blobs: dict = {}
    built: dict = {}
    tasks = []
    for w in spec.workloads:
        for point in spec.points:
            cfg = point_config(spec, point)
            bkey = (w.name, cfg.cluster.cores)
            if bkey not in built:
                if log:
                    log(f"building {w.name} ({w.kind}) for {cfg.cluster.cores} cores")
                elfs = {}
                for role, path in _builds(w, cfg.cluster.cores).items():
                    data = Path(path).read_bytes()
                    digest = _digest(data)
                    blobs[digest] = data
                    elfs[role] = digest
                built[bkey] = elfs
            elfs = built[bkey]
            sections = _sections({**spec.base, **point})
            params = dict(w.params)
            if w.kind == "elf":
                for k in ("elf", "sources", "include", "opt", "defines"):
                    params.pop(k)       # the ELF itself travels by content
            ident = {"kind": w.kind, "elfs": elfs, "config": cfg.as_dict(), "iss": iss_identity(),
                     "params": _ident(params)}
            key = _digest(json.dumps(ident, sort_keys=True).encode())
            payload = {"kind": w.kind, "params": params, "config": sections}
            tasks.append(Task(key, {"workload": w.name, **{f: point.get(f, spec.base.get(f)) for f in spec.fields}},
                              payload, elfs))
    return tasks, blobs


class Progress:
    """Points done, failed, running and the ETA on one line (redrawn in place on a
    terminal, a line per change otherwise)."""

    def __init__(self, total: int = 0, stream=None, cached: int = 0):
        self.total, self.cached = total, cached
        self.stream = stream if stream is not None else sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.t0 = time.perf_counter()
        self.done = self.failed = self.running = 0
        self._last = None

    def update(self, done: int, failed: int, running: int) -> None:
        self.done, self.failed, self.running = done, failed, running
        text = self.line()
        if self.tty:
            self.stream.write("\r\033[K" + text)
            self.stream.flush()
        elif (done, failed) != self._last:
            self.stream.write(text + "\n")
        self._last = (done, failed)

    def line(self) -> str:
        left = self.total - self.done
        ran = self.done - self.cached
        elapsed = time.perf_counter() - self.t0
        eta = "-" if ran <= 0 else _clock(elapsed / ran * left)
        return (f"[iss] sweep: {self.done}/{self.total} done ({self.cached} cached), {self.failed} failed, "
                f"{self.running} running, ETA {eta if left else '0:00'}")

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _clock(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def default_out(spec: Spec) -> Path:
    if spec.out is not None:
        return Path(spec.out)
    stem = spec.path.stem if spec.path else "sweep"
    return Path("build") / "sweeps" / f"{stem}.parquet"


def cache_dir_for(out: Path) -> Path:
    return Path(out).with_suffix(".cache")


def local_client(workers: int | None = None, dashboard: str | None = ":8787"):
    """A Dask client on a new local cluster: one single-threaded worker process per
    core (or `workers`), nothing to start by hand."""
    import logging

    import dask
    from distributed import Client, LocalCluster
    n = workers or os.cpu_count() or 1
    # The workers' statistical profiler (a thread sampling the running task's
    # stack every 10 ms) costs a point about 10%: it contends for the GIL with the
    # simulator's calls into C. The dashboard's profile page stays empty.
    with dask.config.set({"distributed.nanny.pre-spawn-environ": worker_environ(),
                          "distributed.worker.profile.enabled": False}):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=dashboard,
                               silence_logs=logging.ERROR)
    client = Client(cluster)
    client.run(worker_ready)     # the workers' one-time preparation belongs to starting them
    return client


def worker_environ() -> dict:
    """What Dask's nannies set before starting a worker, less
    MALLOC_TRIM_THRESHOLD_: Dask sets it to 64 KiB so freed memory goes back to
    the OS at once, which also pins glibc's mmap threshold, and a point, which
    allocates and frees its memories and tables over and over, then faults in
    fresh pages each time and runs about a quarter slower (bench/bench_sweep.py).
    The thread caps (OMP/MKL/OpenBLAS at 1) stay: a point's numpy work is small
    and BLAS threads would only spin on the other workers' cores."""
    import dask
    env = dict(dask.config.get("distributed.nanny.pre-spawn-environ") or {})
    env.pop("MALLOC_TRIM_THRESHOLD_", None)
    return env


def run(spec, client=None, out=None, cache=True, workers=None, log=None, progress=None):
    """Run a sweep and return its table (a pandas DataFrame, one row per point and
    workload). `spec`: a Spec, a TOML path or its dict. `client`: a
    distributed.Client (default: a local cluster for the call). `out`: also
    write the table there as Parquet and CSV (and the spec's plots). `cache`:
    reuse and keep finished points in `<out>.cache/` (or this directory).
    `progress`: a callable (done, failed, running), or a Progress."""
    import pandas as pd
    from distributed import wait

    spec = spec if isinstance(spec, Spec) else load_spec(spec)
    log = log or (lambda msg: None)
    tasks, blobs = plan(spec, log)
    cache_path = None
    if cache:
        cache_path = Path(cache) if not isinstance(cache, bool) else cache_dir_for(out or default_out(spec))
    rows: dict = {}
    for t in tasks:
        row = _cached(cache_path, t.key)
        if row is not None:
            rows[t.key] = {**row, "cached": True}
    todo = [t for t in tasks if t.key not in rows]
    todo = list({t.key: t for t in todo}.values())   # identical points run once
    own = client is None and todo
    if own:
        client = local_client(workers)
        log(f"local Dask cluster: {len(client.scheduler_info()['workers'])} workers, dashboard "
            f"{client.dashboard_link}")
    report = progress if progress is not None else (lambda d, f, r: None)
    if isinstance(report, Progress):
        report.total, report.cached = len(tasks), len(tasks) - len(todo)
    failed = 0
    futures: dict = {}
    try:
        if todo:
            _check_workers(client)
            needed = {d for t in todo for d in t.elfs.values()}
            # Keys are this run's own: a key an interrupted run just cancelled and
            # released may still be being forgotten by the scheduler when a new run
            # reuses it, which then loses the new data ("lost dependencies").
            run_id = uuid.uuid4().hex[:12]
            # Shipped by content, once per run: every point of one build shares its ELF,
            # and a worker that has it is not sent it again.
            shipped = client.scatter({f"iss-elf-{d}-{run_id}": (d, blobs[d]) for d in needed}, hash=False)
            for t in todo:
                elfs = {role: shipped[f"iss-elf-{d}-{run_id}"] for role, d in t.elfs.items()}
                f = client.submit(run_point, t.payload, elfs, key=f"iss-point-{t.key}-{run_id}", pure=False,
                                  retries=0)
                futures[f] = t
            pending = set(futures)
            done = len(rows)
            report_update(report, done, failed, 0)
            while pending:
                try:
                    finished, pending = wait(pending, timeout=1.0, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    finished = ()
                for f in finished:
                    t = futures[f]
                    if f.status == "finished":
                        row = f.result()
                    else:   # the worker process died, or the task was lost: the point failed
                        row = {k: None for k in METRICS}
                        row.update(verified=False, error=_lost(f), wall_s=None, worker=None)
                    row["cached"] = False
                    rows[t.key] = row
                    if row["error"] is None and cache_path is not None:
                        _store(cache_path, t.key, row)
                    failed += row["error"] is not None
                    done += 1
                # (two scheduler round trips: only for a progress display)
                running = _running(client, pending, futures) if progress is not None else 0
                report_update(report, done, failed, running)
        else:
            report_update(report, len(rows), 0, 0)
    except BaseException:
        if todo:   # interrupted: finished points are in the cache already; stop the rest
            client.cancel([f for f in futures if not f.done()])
        raise
    finally:
        if own:
            cluster = client.cluster
            client.close()
            cluster.close()
    table = pd.DataFrame([{**t.fields, **rows[t.key], "key": t.key} for t in tasks],
                         columns=["workload", *spec.fields, *METRICS, *TAIL])
    table["verified"] = table["verified"].astype(bool)
    if out is not None:
        write_table(table, out)
        for p in spec.plots:
            png = Path(p.get("out") or Path(out).with_suffix(f".{p['y']}-{p['x']}.png"))
            if p.get("pareto"):
                pareto_plot(table, png, p["x"], p["y"], p.get("color"))
            else:
                plot(table, png, p["x"], p["y"], p.get("color"))
            log(f"plot {png}")
    return table


def _lost(future) -> str:
    try:
        return "the point's worker failed: " + _one_line(future.exception())
    except BaseException as e:  # noqa: BLE001 -- cancelled futures raise here
        return f"the point's task was {future.status} ({type(e).__name__})"


def report_update(report, done, failed, running):
    if isinstance(report, Progress):
        report.update(done, failed, running)
    else:
        report(done, failed, running)


def _running(client, pending, futures) -> int:
    """Points being computed now: our tasks the workers hold, at most one per thread."""
    try:
        keys = {f.key for f in pending}
        held = sum(1 for ks in client.processing().values() for k in ks if k in keys)
        return min(held, sum(client.nthreads().values()))
    except Exception:  # noqa: BLE001 -- only the progress line needs it
        return 0


def _cached(cache_path: Path | None, key: str):
    if cache_path is None:
        return None
    f = cache_path / f"{key}.json"
    try:
        return json.loads(f.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _store(cache_path: Path, key: str, row: dict) -> None:
    cache_path.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_path, prefix=".row-")
    with os.fdopen(fd, "w") as f:
        json.dump({k: v for k, v in row.items() if k != "cached"}, f, default=float)
    os.replace(tmp, cache_path / f"{key}.json")


# ----------------------------------------------------------------------------
# outputs
# ----------------------------------------------------------------------------
def write_table(table, out) -> tuple[Path, Path]:
    """The table as Parquet at `out` and as CSV beside it."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(out, index=False)
    csv = out.with_suffix(".csv")
    table.to_csv(csv, index=False)
    return out, csv


def read_table(path):
    import pandas as pd
    path = Path(path)
    try:
        return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    except FileNotFoundError:
        raise IssError(f"{path}: no such file") from None
    except Exception as e:  # noqa: BLE001 -- pyarrow's errors have no common base
        raise IssError(f"{path}: not a sweep table ({_one_line(e)})") from None


def _column(table, name, what):
    if name not in table.columns:
        raise IssError(f"--{what} {name}: no such column (columns: {', '.join(map(str, table.columns))})")
    return table[name]


def _figure():
    try:
        import matplotlib
    except ImportError:
        raise IssError("plots need matplotlib (pip install 'iss[plot]')") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot(table, png, x, y, color=None) -> Path:
    """`y` against `x` from the points that succeeded, one line per value of
    `color` (and per workload when there are several)."""
    plt = _figure()
    for name, what in ((x, "x"), (y, "y")) + (((color, "color"),) if color else ()):
        _column(table, name, what)
    ok = table[table["error"].isna()] if "error" in table else table
    groups = ["workload"] if "workload" in ok and ok["workload"].nunique() > 1 and color != "workload" else []
    if color:
        groups.append(color)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, g in (ok.groupby(groups, sort=True) if groups else [(None, ok)]):
        g = g.sort_values(x)
        if isinstance(label, tuple) and len(label) == 1:
            label = label[0]
        name = None if label is None else (", ".join(f"{k}={v}" for k, v in zip(groups, label))
                                          if isinstance(label, tuple) else f"{groups[0]}={label}")
        ax.plot(g[x], g[y], marker="o", label=name)
    if _integer_column(ok[x]):
        from matplotlib.ticker import MaxNLocator
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    failed = int(table["error"].notna().sum()) if "error" in table else 0
    ax.set_title(f"{y} vs {x}" + (f" ({failed} failed points not shown)" if failed else ""), fontsize=10)
    if groups:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, plt, png)


def _integer_column(column) -> bool:
    from pandas.api.types import is_integer_dtype
    return is_integer_dtype(column)


def pareto_front(table, x="latency_ms", y="energy_uj"):
    """The rows no other row beats in both `x` and `y` (lower is better), by `x`."""
    ok = table[table[x].notna() & table[y].notna()].sort_values([x, y])
    keep, best = [], math.inf
    for i, v in zip(ok.index, ok[y]):
        if v < best:
            keep.append(i)
            best = v
    return ok.loc[keep]


def pareto_plot(table, png, x="latency_ms", y="energy_uj", color=None) -> Path:
    """Every successful point, the Pareto front (lower `x` and `y` is better) drawn
    through the points no other point beats in both."""
    plt = _figure()
    for name, what in ((x, "x"), (y, "y")) + (((color, "color"),) if color else ()):
        _column(table, name, what)
    ok = table[table["error"].isna()] if "error" in table else table
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    if color:
        for v, g in ok.groupby(color, sort=True):
            ax.scatter(g[x], g[y], label=f"{color}={v}", s=22)
        ax.legend(fontsize=8)
    else:
        ax.scatter(ok[x], ok[y], s=22)
    front = pareto_front(ok, x, y)
    ax.plot(front[x], front[y], color="black", linewidth=1, drawstyle="steps-post", label="Pareto front")
    fields = [c for c in table.columns[:list(table.columns).index("cycles")] if c not in ("workload", x, y)] \
        if "cycles" in table.columns else []
    for _, r in front.iterrows():   # name the Pareto-optimal designs
        ax.annotate("\n".join(f"{f}={r[f]:g}" if isinstance(r[f], (int, float)) else f"{f}={r[f]}"
                              for f in fields), (r[x], r[y]), xytext=(4, 4), textcoords="offset points",
                    fontsize=6.5)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{y} vs {x}: {len(front)} Pareto-optimal of {len(ok)} points", fontsize=10)
    ax.grid(alpha=0.3)
    return _save(fig, plt, png)


def _save(fig, plt, png) -> Path:
    png = Path(png)
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png


def summary(table) -> str:
    """A short text form of the table for the terminal."""
    ok = table["error"].isna()
    lines = [f"{len(table)} points: {int(ok.sum())} ok, {int((~ok).sum())} failed, "
             f"{int(table['cached'].fillna(False).astype(bool).sum())} from the cache"]
    for _, r in table[~ok].iterrows():
        what = ", ".join(f"{c}={r[c]}" for c in table.columns[:table.columns.get_loc("cycles")])
        lines.append(f"  failed: {what}: {r['error']}")
    return "\n".join(lines) + "\n"


__all__ = ["Spec", "SpecError", "Workload", "load_spec", "point_config", "plan", "run", "run_point", "Progress",
           "iss_identity", "worker_ready",
           "local_client", "write_table", "read_table", "plot", "pareto_plot", "pareto_front", "summary",
           "METRICS"]
