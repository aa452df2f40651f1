"""The bottleneck study of the seed paper: one MobileNetV2 inverted
residual block run three ways from compiled firmware, every output checked bit
for bit against the golden model (iss.nn.mobilenetv2.bottleneck_forward):

* ``cores``: every layer on the 8 cores (firmware/apps/bottleneck_cores.c,
  int8 weights, golden mapping "cores");
* ``ima_cores``: pointwise expand/project on the IMA (4-bit weights programmed
  before the timed part), depthwise and residual on the cores
  (firmware/apps/bottleneck_ima_cores.c, golden mapping "ima_cores");
* ``hetero``: pointwise on the IMA, depthwise on the DWA, residual on the cores
  (firmware/apps/bottleneck_hetero.c, golden mapping "hetero").

Paper (Garofalo et al., JETCAS 2022): hetero is 11.5x faster and 9.5x more
energy efficient than the cores, and 2.6x faster than IMA + cores.

Which bottleneck. The paper's text available to us names "the Bottleneck layer
from a MobileNetV2" without its dimensions; its predecessor (Ottavi et al.,
"End-to-end 100-TOPS/W inference with analog in-memory computing: are we there
yet?", AICAS 2021) studies the same experiment on one 256x256 crossbar holding
both pointwise layers. We run MobileNetV2 blocks 4/5 (``PAPER_SHAPE_INDEX``):
28x28x32, expansion 6 (192 hidden), 32 out, stride 1, with the residual add.
It is the largest bottleneck whose activations fit the 512 KiB TCDM (so no
layer needs L2 tiling, as in the paper's single-cluster experiment), it has all
four layers, and its two pointwise weight matrices (32x192 and 192x32) fit one
256x256 crossbar together, as the paper's single-IMA heterogeneous run needs.

Measured (default configuration, seed 3): 996595 / 445496 / 136356 cycles,
7.3x vs cores (paper 11.5x), 3.3x vs IMA + cores (paper 2.6x), energy ratio
7.2x (paper 9.5x). Where we differ: the residual add (22k cycles on the cores)
and the DWA-less depthwise dominate differently than in the paper; our cores'
pointwise kernels reach 13-17 MAC/cycle.

``--all-shapes`` runs every bottleneck of MobileNetV2 (224x224 input) that fits:
a shape is skipped when one variant's tensors do not fit the TCDM (the block
would need L2 tiling with DMA, which these apps do not do) -- the reason is
printed. Shapes whose pointwise layers exceed one crossbar are mapped with
Tile&Pack (iss.nn.mapping) onto as many IMA instances as needed (the cluster is
configured with that many), row-split layers sum their tiles' int8 partial
outputs on the cores.

Cycles are the firmware's own mcycle counts of the timed part (core 0). Energy
(iss/energy.py) is that of the timed part: for the offloaded variants the
counts of a build without the bottleneck (start-up, weight programming, report)
are subtracted from the full run's: -DBN_SKIP_BOTTLENECK for the offloaded
apps; for bottleneck_cores.c, which has no such option, the same sources linked
with iss/study/skip_fork.c and -Wl,--wrap=pi_cl_team_fork (its only fork is the
bottleneck).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import BuildError, ElfError, IssError
from . import APPS, KERNELS, cache_dir

SKIP_FORK = Path(__file__).resolve().parent / "skip_fork.c"
VARIANTS = ("cores", "ima_cores", "hetero")
APP = {"cores": "bottleneck_cores.c", "ima_cores": "bottleneck_ima_cores.c", "hetero": "bottleneck_hetero.c"}
LAYERS = ("expand", "dw", "project", "add")
UNITS = {
    "cores": {"expand": "cores", "dw": "cores", "project": "cores", "add": "cores"},
    "ima_cores": {"expand": "IMA", "dw": "cores", "project": "IMA", "add": "cores"},
    "hetero": {"expand": "IMA", "dw": "DWA", "project": "IMA", "add": "cores"},
}
OUTPUT_SYMBOLS = {"expand": "bn_expand", "dw": "bn_dw", "project": "bn_project", "add": "bn_output"}
#: the paper's figures (hetero vs cores, hetero vs IMA + cores, energy efficiency vs cores)
PAPER = {"speedup_vs_cores": 11.5, "speedup_vs_ima_cores": 2.6, "energy_vs_cores": 9.5}
#: PULP-NN's published int8 throughput on an 8-core RI5CY cluster (GAP-8): "up to
#: 15.5 MACs/cycle on INT-8" (Garofalo et al., PULP-NN, Phil. Trans. R. Soc. A 378,
#: 2020, arXiv:1908.11263, abstract); its README and abstract give no separate
#: depthwise figure. The yardstick of our cores-only baseline's quality.
PULP_NN_MAC_PER_CYCLE = 15.5
PAPER_SHAPE_INDEX = 4
SEED = 3


class StudyError(IssError):
    """A study failed: an output differs from the golden model, or a build/run broke."""


class DoesNotFit(StudyError):
    """The shape's tensors do not fit the cluster's TCDM."""


def activation_bytes(s) -> int:
    """TCDM bytes of the block's int8 activations, which every variant keeps in
    L1 (firmware/apps/bottleneck_common.h): input, expand output, depthwise
    output, project output and block output. A lower bound of its L1 data."""
    hidden = s.h * s.w * s.hidden if s.has_expand else 0
    return s.h * s.w * s.c_in + hidden + s.h_out * s.w_out * (s.hidden + 2 * s.c_out)


def check_shape(s, tcdm_size: int | None = None) -> None:
    """Refuse a shape that cannot run before anything is built or computed (the
    golden model of a shape far too large for the TCDM would fill the host's
    memory): every dimension >= 1, and the activations within the TCDM."""
    for name in ("h", "w", "c_in", "t", "c_out", "stride"):
        if getattr(s, name) < 1:
            raise StudyError(f"shape {s.h},{s.w},{s.c_in},{s.t},{s.c_out},{s.stride}: {name.upper()} must be "
                             f">= 1, got {getattr(s, name)}")
    if tcdm_size is None:
        from ..config import Config
        tcdm_size = Config().memory.tcdm_size
    need = activation_bytes(s)
    if need > tcdm_size:
        raise DoesNotFit(f"{shape_name(s)}: its activations alone take {need // 1024} KiB, more than the "
                         f"{tcdm_size // 1024} KiB TCDM (would need L2 tiling with DMA)")


def shape_defines(s) -> list[str]:
    return [f"BN_H={s.h}", f"BN_W={s.w}", f"BN_CIN={s.c_in}", f"BN_T={s.t}", f"BN_COUT={s.c_out}",
            f"BN_STRIDE={s.stride}"]


def shape_name(s) -> str:
    return f"{s.h}x{s.w}x{s.c_in} t{s.t} -> {s.h_out}x{s.w_out}x{s.c_out} s{s.stride}"


# ----------------------------------------------------------------------------
# building
# ----------------------------------------------------------------------------
def ima_mapping(params):
    """Tile&Pack of the block's IMA layers (expand when present, then project)."""
    from ..nn.mapping import map_layers
    s = params.shape
    layers = ([("expand", s.c_in, s.hidden)] if params.expand is not None else []) + [
        ("project", s.hidden, s.c_out)]
    return map_layers(layers, restarts=20, seed=0)


def _psum_bytes(params, mapping) -> int:
    s = params.shape
    n = 0
    for li, (rows, cols) in enumerate(mapping.layer_shapes):
        tiles = mapping.tiles_of(li)
        n_rt = tiles[0].tile.n_row_tiles
        if n_rt > 1:
            pix = s.h * s.w if mapping.layer_names[li] == "expand" else s.h_out * s.w_out
            n = max(n, n_rt * pix * cols)
    return n


def _plot_words(mapping) -> int:
    return sum(p.tile.height * -(-p.tile.width // 8) for p in mapping.placements)


def build(variant: str, shape, mapping=None, params=None, skip: bool = False, cores: int = 8) -> Path:
    """Compile one variant for `shape` and `cores` harts (cached by content in build/study/)."""
    from .. import toolchain
    if variant not in VARIANTS:
        raise StudyError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
    defines = ["KERNELS_LINKED", *shape_defines(shape)]
    if variant != "cores":
        defines += [f"BN_NTILES={len(mapping.placements)}", f"BN_PLOT_WORDS={_plot_words(mapping)}",
                    f"BN_PSUM_BYTES={_psum_bytes(params, mapping)}"]
    sources = [APPS / APP[variant], *sorted(KERNELS.glob("*.c"))]
    extra = []
    if skip and variant == "cores":
        sources.append(SKIP_FORK)          # bottleneck_cores.c has no skip option
        extra = ["-Wl,--wrap=pi_cl_team_fork"]
    elif skip:
        defines.append("BN_SKIP_BOTTLENECK")
    options = dict(opt="-O3", include_dirs=[KERNELS, APPS], defines=defines, extra_flags=extra)
    if cores != 8:
        options["cores"] = cores
    try:
        return toolchain.compile_cached(sources, cache_dir(), f"bottleneck_{variant}{'_skip' if skip else ''}",
                                        **options)
    except BuildError as e:
        text = f"{e} {e.__cause__ or ''}"
        if "overflow" in text or "will not fit" in text or "does not fit" in text:
            raise DoesNotFit(f"{variant}: the tensors do not fit the TCDM (link: {str(e)[:120]})") from None
        raise


# ----------------------------------------------------------------------------
# running
# ----------------------------------------------------------------------------
@dataclass
class LayerResult:
    name: str
    unit: str
    cycles: int
    macs: int


@dataclass
class VariantResult:
    variant: str
    cycles: int
    layers: list
    energy: object = None          # iss.energy.EnergyReport of the timed part
    n_ima: int = 0
    wall_seconds: float = 0.0
    stdout: list = field(default_factory=list)
    mismatch: dict = field(default_factory=dict)   #: layer -> (values differing, values), strict=False only
    config: object = None                          #: the iss.config.Config it ran on
    verified: tuple = (0, 0)       # (layers, bytes) checked equal to the golden model


@dataclass
class ShapeResult:
    index: list
    shape: object
    variants: dict

    def speedup(self, slow: str, fast: str = "hetero") -> float:
        return self.variants[slow].cycles / self.variants[fast].cycles

    def energy_ratio(self, other: str = "cores", base: str = "hetero") -> float | None:
        a, b = self.variants[other].energy, self.variants[base].energy
        if a is None or b is None:
            return None
        return a.total_pj / b.total_pj


def _layer_macs(s) -> dict:
    return {"expand": s.h * s.w * s.c_in * s.hidden if s.has_expand else 0,
            "dw": s.h_out * s.w_out * s.hidden * 9,
            "project": s.h_out * s.w_out * s.hidden * s.c_out, "add": 0}


class _Runner:
    def __init__(self, cluster):
        self.c = cluster

    def put(self, name, a):
        a = np.ascontiguousarray(a)
        sym = self.c.program.symbol(name)
        if sym.size != a.nbytes:
            raise StudyError(f"{name}: firmware has {sym.size} bytes, host data {a.nbytes}")
        self.c.memory.write(sym.addr, a.tobytes())

    def get(self, name, shape, dtype=np.int8):
        n = int(np.prod(shape)) * np.dtype(dtype).itemsize
        return np.frombuffer(self.c.memory.read(self.c.program.symbol(name).addr, n), dtype).reshape(shape)


def fill_inputs(cluster, variant, params, x, mapping=None) -> None:
    """Write a variant's input, weights and (with the IMA) its array plan into the
    firmware's globals of `cluster`, before it runs."""
    _fill(_Runner(cluster), variant, params, x, mapping)


def _fill(r: _Runner, variant, params, x, mapping):
    from ..nn import ima_model
    from .packing import pack_dw4, pack_pw4
    r.put("bn_input", x)
    add = [params.add.mult_a, params.add.mult_b, params.add.shift] if params.add is not None else [0, 0, 0]
    r.put("bn_b_dw", params.dw.bias.astype(np.int32))
    r.put("bn_m_dw", params.dw.rq.mult.astype(np.int32))
    r.put("bn_s_dw", params.dw.rq.shift.astype(np.uint8))
    if variant == "cores":
        scalars = [0, 0]
        if params.expand is not None:
            r.put("bn_w_expand", pack_pw4(params.expand.w))
            r.put("bn_b_expand", params.expand.bias.astype(np.int32))
            scalars = [int(params.expand.rq.mult), int(params.expand.rq.shift)]
        r.put("bn_w_dw", pack_dw4(params.dw.w))
        r.put("bn_w_project", pack_pw4(params.project.w))
        r.put("bn_b_project", params.project.bias.astype(np.int32))
        scalars += [int(params.project.rq.mult), int(params.project.rq.shift)] + add
        r.put("bn_scalars", np.array(scalars, np.int32))
        return
    if variant == "hetero":
        r.put("bn_w_dw9", params.dw.w.astype(np.int8).ravel())
    else:
        r.put("bn_w_dw", pack_dw4(params.dw.w))
    r.put("bn_scalars", np.array(add, np.int32))
    ima_layers = ([params.expand] if params.expand is not None else []) + [params.project]
    table = np.zeros((2, 6), np.int32)
    for i, p in enumerate(ima_layers):
        table[i, :2] = (p.adc_low, p.adc_high)
        if p.psum_rq is not None:
            table[i, 2:] = (int(p.psum_rq.mult), int(p.psum_rq.shift), p.psum_rq.lo, p.psum_rq.hi)
    r.put("bn_ima", table)
    r.put("bn_tiles", np.array(mapping.records(), np.uint16).ravel())
    words = [ima_model.pack_plot_words(ima_layers[pl.tile.layer].w4[
        pl.tile.row_off:pl.tile.row_off + pl.tile.height, pl.tile.col_off:pl.tile.col_off + pl.tile.width]).ravel()
        for pl in mapping.placements]
    r.put("bn_plot", np.concatenate(words).astype(np.uint32))


def _config(n_ima, sections=None):
    """The default configuration with `sections` over it; ima.count defaults to
    the arrays the mapping needs."""
    from ..config import Config
    sections = {k: dict(v) for k, v in (sections or {}).items()}
    count = sections.setdefault("ima", {}).setdefault("count", max(n_ima, 1))
    if count < n_ima:
        raise StudyError(f"the IMA layers need {n_ima} IMA array{'s' if n_ima > 1 else ''} (Tile&Pack); "
                         f"ima.count is {count}")
    return Config.load(**sections)


def firmware(variant, shape, energy=True, cores=8) -> dict:
    """The ELFs run_variant(variant, shape, energy=energy) runs, built (cached):
    ``{"run": elf}`` and, with energy, ``"skip"``: the set-up-only build."""
    from ..nn import mobilenetv2 as mnv2
    params = mapping = None
    if variant != "cores":   # the mapping and the sizes depend on the shape only, not on the seed
        params, _ = mnv2.make_bottleneck(shape, "hetero", seed=SEED)
        mapping = ima_mapping(params)
    out = {"run": build(variant, shape, mapping, params, cores=cores)}
    if energy:
        out["skip"] = build(variant, shape, mapping, params, skip=True, cores=cores)
    return out


def run_variant(variant, shape, seed=SEED, energy=True, perfetto=None, plot=None, config=None, programs=None,
                strict=True, plot_whole_run=False) -> VariantResult:
    """Build, fill, run and check one variant; raises StudyError on a mismatch.

    ``config``: configuration sections over the defaults (a dict, as
    ``Config.load`` takes them). ``programs``: the ELFs (paths or loaded
    ``Program``) of :func:`firmware`, instead of building them here.
    ``strict=False``: a mismatch is recorded in ``VariantResult.mismatch``
    instead of raised (analog noise makes outputs differ on purpose)."""
    from .. import energy as en
    from ..cluster import Cluster
    from ..nn import mobilenetv2 as mnv2
    check_shape(shape, _config(1).memory.tcdm_size)
    params, _ = mnv2.make_bottleneck(shape, "cores" if variant == "cores" else "hetero", seed=seed)
    x = mnv2.random_input((shape.h, shape.w, shape.c_in), seed=seed + 7)
    mapping = ima_mapping(params) if variant != "cores" else None
    n_ima = mapping.n_arrays if mapping else 0
    cfg = _config(n_ima, config)
    programs = programs or firmware(variant, shape, energy, cfg.cluster.cores)
    try:
        cluster = Cluster(programs["run"], cfg)
    except ElfError as e:
        m = re.search(r"\((\d+) bytes\) is outside TCDM \(0x[0-9a-f]+, (\d+) bytes\)", str(e))
        if not m:
            raise
        raise DoesNotFit(f"the {variant} variant's TCDM data ({int(m.group(1)) // 1024} KiB) exceeds the "
                         f"{int(m.group(2)) // 1024} KiB TCDM (would need L2 tiling with DMA)") from None
    r = _Runner(cluster)
    _fill(r, variant, params, x, mapping)
    if perfetto or plot:
        from ..trace import Session, ViewOptions

        def timed(c):  # the timed part, as the firmware measured it (core 0's mcycle)
            t0 = int(r.get("bn_t0", (1,), np.uint32)[0])
            return t0, t0 + int(r.get("bn_total", (1,), np.uint32)[0])
        window = None if plot_whole_run or variant == "cores" else timed
        res = Session(cluster, ViewOptions(perfetto=perfetto, plot=plot, plot_window=window)).run()
    else:
        res = cluster.run()
    if res.exit_code != 0:
        raise StudyError(f"{variant} {shape_name(shape)}: firmware exit code {res.exit_code}")
    want = mnv2.bottleneck_forward(params, x)
    mismatch = {}
    for layer, ref in want.items():
        got = r.get(OUTPUT_SYMBOLS[layer], ref.shape)
        if not strict:
            mismatch[layer] = (int((got != ref).sum()), ref.size)
        elif not np.array_equal(got, ref):
            bad = int((got != ref).sum())
            idx = tuple(int(i) for i in np.argwhere(got != ref)[0])
            raise StudyError(f"{variant} {shape_name(shape)}: layer {layer} differs from the golden model in "
                             f"{bad} of {ref.size} values (first at {idx}: got {int(got[idx])}, "
                             f"want {int(ref[idx])})")
    exact = [ref for layer, ref in want.items() if not mismatch.get(layer, (0,))[0]]
    verified = (len(exact), sum(ref.nbytes for ref in exact))
    cyc = r.get("bn_cycles", (4,), np.uint32)
    if variant == "cores":
        m = re.search(r": (\d+) cycles", res.stdout[-1] if res.stdout else "")
        if not m:
            raise StudyError(f"cores: no total in the firmware's output {res.stdout[-1:]}")
        total = int(m.group(1))
    else:
        total = int(r.get("bn_total", (1,), np.uint32)[0])
    macs = _layer_macs(shape)
    units = dict(UNITS[variant])
    if mapping is not None:
        for li, name in enumerate(mapping.layer_names):
            if mapping.tiles_of(li)[0].tile.n_row_tiles > 1:
                units[name] = "IMA+cores"
    layers = [LayerResult(name, units[name], int(cyc[i]), macs[name]) for i, name in enumerate(LAYERS)
              if name in want]
    rep = None
    if energy:
        counts = en.count_events(cluster)
        base = Cluster(programs["skip"], cfg)
        fill_inputs(base, variant, params, x, mapping)
        if base.run().exit_code != 0:
            raise StudyError(f"{variant}: the set-up-only build failed")
        counts = counts.minus(en.count_events(base))
        rep = en.energy(counts, cluster.config)
    return VariantResult(variant, total, layers, rep, n_ima, res.wall_seconds, list(res.stdout),
                         {k: v for k, v in mismatch.items() if v[0]}, cfg, verified)


def run_shape(shape, index=None, seed=SEED, energy=True, perfetto=None, plot=None,
              plot_whole_run=False) -> ShapeResult:
    check_shape(shape, _config(1).memory.tcdm_size)
    out = {}
    for v in VARIANTS:
        out[v] = run_variant(v, shape, seed, energy, perfetto if v == "hetero" else None,
                             plot if v == "hetero" else None, plot_whole_run=plot_whole_run)
    return ShapeResult(list(index) if index is not None else [], shape, out)


def paper_shape():
    from ..nn.mobilenetv2 import bottleneck_shapes
    return bottleneck_shapes()[PAPER_SHAPE_INDEX]


def all_shapes(seed=SEED, energy=True, progress=None):
    """Every MobileNetV2 bottleneck shape: ``[(indices, shape, ShapeResult | reason)]``
    (identical shapes run once)."""
    from ..nn.mobilenetv2 import bottleneck_shapes
    groups: dict = {}
    for i, s in enumerate(bottleneck_shapes()):
        groups.setdefault(s, []).append(i)
    rows = []
    for s, idx in groups.items():
        if progress:
            progress(idx, s)
        try:
            rows.append((idx, s, run_shape(s, idx, seed, energy)))
        except DoesNotFit as e:
            rows.append((idx, s, str(e)))
    return rows


# ----------------------------------------------------------------------------
# formatting (used by `iss bench bottleneck`)
# ----------------------------------------------------------------------------
def format_shape(r: ShapeResult) -> str:
    s = r.shape
    v = r.variants
    where = (f"MobileNetV2 block{'s' if len(r.index) > 1 else ''} {'/'.join(map(str, r.index))}"
             if r.index else "custom shape")
    layers, nbytes = v["hetero"].verified
    lines = [f"bottleneck {shape_name(s)} ({where})",
             f"outputs bit-exact against the golden model: {layers} layers, {nbytes} bytes, in each of the "
             f"three variants",
             "", "per layer (cycles, unit):"]
    head = f"  {'layer':8s} {'MAC':>9s}" + "".join(f" {n:>20s}" for n in VARIANTS)
    lines.append(head)
    names = [l.name for l in v["cores"].layers]
    for i, name in enumerate(names):
        row = f"  {name:8s} {v['cores'].layers[i].macs:9d}"
        for n in VARIANTS:
            lay = v[n].layers[i]
            row += f" {lay.cycles:>10d} {lay.unit:>9s}"
        lines.append(row)
    lines.append(f"  {'total':8s} {'':9s}" + "".join(f" {v[n].cycles:>10d} {'':9s}" for n in VARIANTS))
    if v["hetero"].n_ima > 1:
        lines.append(f"  (IMA layers mapped on {v['hetero'].n_ima} IMA instances)")
    cores = v["cores"].layers
    lines += ["", "cores-only baseline, 8 cores (PULP-NN publishes up to "
              f"{PULP_NN_MAC_PER_CYCLE:g} MAC/cycle int8 on 8 cores, arXiv:1908.11263):"]
    for lay in cores:
        if lay.macs:
            lines.append(f"  {lay.name:8s} {lay.macs / max(lay.cycles, 1):5.1f} MAC/cycle "
                         f"({lay.macs / max(lay.cycles, 1) / PULP_NN_MAC_PER_CYCLE:.0%} of PULP-NN's best)")
    lines += ["", f"{'':32s} {'measured':>10s} {'paper':>8s}",
              f"  {'speedup hetero vs cores':30s} {r.speedup('cores'):9.1f}x {PAPER['speedup_vs_cores']:7.1f}x",
              f"  {'speedup hetero vs IMA+cores':30s} {r.speedup('ima_cores'):9.1f}x "
              f"{PAPER['speedup_vs_ima_cores']:7.1f}x"]
    e = r.energy_ratio()
    if e is not None:
        lines.append(f"  {'energy ratio cores / hetero':30s} {e:9.1f}x {PAPER['energy_vs_cores']:7.1f}x")
        lines += ["", "energy of the timed part (iss/energy.py, [energy] in iss/config.py):"]
        ops = 2 * sum(l.macs for l in v["cores"].layers)
        for n in VARIANTS:
            rep = v[n].energy
            g = ", ".join(f"{k} {x / 1e6:.2f}" for k, x in rep.groups().items() if abs(x) >= 5e3)
            lines.append(f"  {n:10s} {rep.total_uj:8.2f} uJ  {ops / rep.total_pj:6.2f} TOPS/W  "
                         f"{rep.average_mw:6.1f} mW   ({g} uJ)")
    return "\n".join(lines) + "\n"


def format_all(rows) -> str:
    lines = ["every MobileNetV2 bottleneck (224x224 input):",
             f"  {'blocks':8s} {'shape':32s} {'cores':>9s} {'IMA+cores':>9s} {'hetero':>9s} {'IMAs':>4s} "
             f"{'vs cores':>8s} {'vs I+C':>7s} {'energy':>7s}"]
    for idx, s, r in rows:
        b = "/".join(map(str, idx))
        if isinstance(r, str):
            lines.append(f"  {b:8s} {shape_name(s):32s} not run: {r}")
            continue
        v = r.variants
        e = r.energy_ratio()
        lines.append(f"  {b:8s} {shape_name(s):32s} {v['cores'].cycles:9d} {v['ima_cores'].cycles:9d} "
                     f"{v['hetero'].cycles:9d} {v['hetero'].n_ima:4d} {r.speedup('cores'):7.1f}x "
                     f"{r.speedup('ima_cores'):6.1f}x " + (f"{e:6.1f}x" if e is not None else ""))
    lines.append(f"  paper (one bottleneck): {PAPER['speedup_vs_cores']}x vs cores, "
                 f"{PAPER['speedup_vs_ima_cores']}x vs IMA+cores, {PAPER['energy_vs_cores']}x energy")
    return "\n".join(lines) + "\n"


def to_json(results) -> dict:
    """JSON-able summary of ShapeResults."""
    out = []
    for r in results:
        item = {"blocks": r.index, "shape": vars(r.shape), "variants": {}}
        for n, v in r.variants.items():
            item["variants"][n] = {
                "cycles": v.cycles, "n_ima": v.n_ima,
                "layers": [vars(l) for l in v.layers],
                "energy_pj": v.energy.components if v.energy else None,
                "energy_total_pj": v.energy.total_pj if v.energy else None}
        item["speedup_vs_cores"] = r.speedup("cores")
        item["speedup_vs_ima_cores"] = r.speedup("ima_cores")
        item["energy_vs_cores"] = r.energy_ratio()
        out.append(item)
    return {"paper": PAPER, "results": out}


__all__ = ["VARIANTS", "PAPER", "PAPER_SHAPE_INDEX", "StudyError", "DoesNotFit", "build", "firmware", "run_variant",
           "run_shape", "paper_shape", "all_shapes", "format_shape", "format_all", "to_json", "ima_mapping"]
