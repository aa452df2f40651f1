"""End-to-end MobileNetV2 on the heterogeneous cluster.

Python side of ``firmware/apps/mobilenetv2.c``: the weight mapping (Tile&Pack
of every IMA layer, :mod:`iss.nn.mapping`), the L2 image the firmware
interprets, the run, and the bit-exact check against the golden model
(:func:`iss.nn.mobilenetv2.forward`).

The firmware is a layer-table interpreter.  Everything it needs is one image
placed by the host at the start of the L2 heap (``__l2_heap_start``) before the
run: a header, the op table (one :data:`OP` record per layer), the IMA layer
table exactly as :meth:`iss.nn.mapping.Mapping.to_blob` emits it, per op the
order in which its tiles are issued, the SUBMIT_PLOT words of every tile,
every core layer's packed weights and requantization parameters, and every
activation buffer.  The firmware writes the per-op cycle counts back into the
image; the host reads the activations from it.

Units: first conv, residual adds, average pool, the partial-sum
requantization of row-split IMA layers and (unless ``fc_on_ima``) the
classifier on the 8 cores; pointwise layers on the IMAs; depthwise on the DWA.
``mapping="cores"`` is the programmable baseline: the same interpreter with
every layer on the cores (int8 weights), built with ``-DMNV2_CORES_ONLY``
(no accelerator code in the ELF).

Activations live in L2; each layer streams them through the TCDM with the
DMA: pointwise layers in blocks of pixels (IMA: double-buffered, the next
block's input and the previous block's output move while the IMAs compute),
3x3 layers in bands of output rows with their halo rows, the add in chunks.

Overlap (``overlap=True``, the default; the paper's schedule): consecutive
layers form chains (:func:`plan_chains`) that run in steps over row bands, the
members working on different bands at once (first conv and adds on the cores,
depthwise on the DWA, pointwise on the IMAs) while the DMA loads the next
step's bands and stores the last step's; every band still goes through L2, so
each layer's output is there for the bit-exact check.

Weights are programmed before the timed part, by the firmware through
SUBMIT_PLOT (``program="plot"``, the real path, ~1 us of simulated time per 8
weights), or, labelled ``program="preload"``, written by the host straight
into the crossbars (a deployed system's PCM is already programmed); the
timed inference is the same either way.

``fc_on_ima=False`` is the default: the paper's 34 arrays match the pointwise
layers only (Tile&Pack needs 33; with the 1280x1000 classifier 53).
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..nn import ima_model
from ..nn import mobilenetv2 as mnv2
from ..nn.mapping import Mapping, MappingError, map_mobilenetv2
from . import APPS, KERNELS

APP = APPS / "mobilenetv2.c"

# The image's records: (C field, struct code) in order, the C structs of
# firmware/apps/mobilenetv2_image.h (tests/test_mnv2_image_layout.py checks
# every field's offset, size and signedness against them).
MAGIC = 0x32564E4D  #: "MNV2"
VERSION = 1
#: header; total_cycles, prog_cycles and status are written by the firmware
HEADER_LAYOUT = tuple((n, "I") for n in ("magic", "version", "n_ops", "ops", "n_prog", "prog", "map_blob",
                                         "order", "cycles", "l1_size", "total_cycles", "prog_cycles", "status",
                                         "n_arrays", "spare[0]", "spare[1]"))
#: one layer; in, out, in2, wgt, bias, mult_p, shift_p are L2 addresses
OP_LAYOUT = (*((n, "i") for n in ("kind", "unit", "h", "w", "cin", "cout", "stride", "relu")),
             *((n, "I") for n in ("in", "out", "in2", "wgt", "bias", "mult_p", "shift_p")),
             *((n, "i") for n in ("mult", "shift", "mult_b", "lo", "hi", "adc_low", "adc_high",
                                  "tile_first", "tile_count", "n_row_tiles", "tile", "n_arrays_used", "chain",
                                  "lag", "spare[0]", "spare[1]", "spare[2]")))
#: one SUBMIT_PLOT run: a tile's weights (at L2 address words) into its array's window
PROG_LAYOUT = tuple((n, "I") for n in ("array", "x", "y", "width", "height", "words"))


def _record(layout) -> struct.Struct:
    return struct.Struct("<" + "".join(code for _, code in layout))


HEADER_FIELDS = tuple(n for n, _ in HEADER_LAYOUT)
HEADER = _record(HEADER_LAYOUT)
OP_FIELDS = tuple(n for n, _ in OP_LAYOUT)
OP = _record(OP_LAYOUT)
PROG = _record(PROG_LAYOUT)

KIND_CONV, KIND_PW, KIND_DW, KIND_ADD, KIND_POOL, KIND_FC = 1, 2, 3, 4, 5, 6
UNIT_CORES, UNIT_IMA, UNIT_DWA = 0, 1, 2
UNIT_NAMES = {UNIT_CORES: "cores", UNIT_IMA: "IMA", UNIT_DWA: "DWA"}

DEFAULT_IMAS = 34  #: the paper's array count
L1_MARGIN = 256  #: bytes of the TCDM heap left unused by the planner


def r4(n):
    return (int(n) + 3) & ~3


def pw4_size(k, n):
    return r4(k) * r4(n)


from .packing import pack_dw4, pack_pw4  # kernels.h layouts (PW4, DW4)


# ----------------------------------------------------------------------------
# Weight mapping
# ----------------------------------------------------------------------------
def weight_mapping(n_arrays=DEFAULT_IMAS, fc_on_ima=False) -> Mapping:
    """Tile&Pack of every IMA-mapped layer onto at most ``n_arrays`` crossbars.

    Raises :class:`iss.nn.mapping.MappingError` (naming the arrays needed) when
    the network does not fit.  The array count does not depend on the input
    size (the weights do not), so the reduced networks map the same way.
    """
    return map_mobilenetv2(n_arrays, fc_on_ima=fc_on_ima)


def ima_weights(net: mnv2.Network) -> dict:
    """name -> 4-bit weight matrix of every IMA-mapped layer of ``net``."""
    out = {}
    for b, bp in enumerate(net.blocks):
        if isinstance(bp.expand, mnv2.ImaLinear):
            out[f"b{b}.expand"] = bp.expand.w4
        if isinstance(bp.project, mnv2.ImaLinear):
            out[f"b{b}.project"] = bp.project.w4
    if isinstance(net.last, mnv2.ImaLinear):
        out["conv_last"] = net.last.w4
    if isinstance(net.fc, mnv2.ImaLinear):
        out["fc"] = net.fc.w4
    return out


# ----------------------------------------------------------------------------
# L2 image
# ----------------------------------------------------------------------------
class _Arena:
    def __init__(self, base):
        self.base = base
        self.buf = bytearray()

    def alloc(self, size, align=16):
        pad = (-len(self.buf)) % align
        self.buf += bytes(pad)
        addr = self.base + len(self.buf)
        self.buf += bytes(int(size))
        return addr

    def put(self, data, align=16):
        data = np.ascontiguousarray(data).tobytes() if not isinstance(data, (bytes, bytearray)) else data
        addr = self.alloc(len(data), align)
        off = addr - self.base
        self.buf[off:off + len(data)] = data
        return addr

    def write(self, addr, data):
        off = addr - self.base
        self.buf[off:off + len(data)] = data

    @property
    def end(self):
        return self.base + len(self.buf)


@dataclass
class OpInfo:
    name: str
    kind: int
    unit: int
    spec: mnv2.LayerSpec
    fields: dict
    out_addr: int
    out_shape: tuple


@dataclass
class Plan:
    """The L2 image of one network and where everything is in it."""

    net: mnv2.Network
    mapping: Mapping | None
    base: int
    image: bytes
    ops: list
    header_addr: int
    cycles_addr: int
    input_addr: int
    l1_size: int
    program: str
    n_prog: int
    words_programmed: int = 0
    act: dict = field(default_factory=dict)  #: name -> (addr, shape)

    @property
    def end(self):
        return self.base + len(self.image)


def _fit(limit, need, what, lo=1, hi=None):
    """Largest t in [lo, hi] with need(t) <= limit (need increasing)."""
    if need(lo) > limit:
        raise MappingError(f"{what}: needs {need(lo)} bytes of TCDM even with the smallest tile; "
                           f"{limit} available")
    t = lo
    step = 1
    while hi is None or t < hi:
        nt = t + step if hi is None else min(hi, t + step)
        if need(nt) > limit:
            if step == 1:
                break
            step = 1
            continue
        t = nt
        step *= 2
    return t


def build_plan(net: mnv2.Network, base: int, l1_size: int, mapping: Mapping | None = None,
               n_arrays=DEFAULT_IMAS, cores=8, program="plot", x=None, max_tile=None, overlap=True) -> Plan:
    """Lay out the L2 image of ``net`` at address ``base``.

    ``l1_size``: TCDM bytes the firmware may use (from ``__l1_heap_start``);
    ``max_tile``: optional cap of every tile (pixels / rows / bytes), to
    exercise the tiling on small networks.  ``x``: the input image (default
    the calibration image).  ``overlap``: group consecutive layers into
    chains that run overlapped over row bands (:func:`plan_chains`); False
    runs every layer on its own, one after another.
    """
    if program not in ("plot", "preload"):
        raise ValueError(f"program must be 'plot' or 'preload', got {program!r}")
    on_ima = net.mapping != "cores"
    if net.mapping == "ima_cores":
        raise ValueError("the firmware runs the 'hetero' (IMA + DWA) and 'cores' mappings")
    if on_ima and mapping is None:
        mapping = weight_mapping(n_arrays, net.fc_on_ima)
    if on_ima and mapping.n_arrays > n_arrays:
        raise MappingError(f"the mapping uses {mapping.n_arrays} arrays, {n_arrays} configured")
    L = l1_size - L1_MARGIN
    cap = (lambda v: v) if max_tile is None else (lambda v: max(1, min(v, max_tile)))
    A = _Arena(base)
    hdr_addr = A.alloc(HEADER.size)
    layers = mnv2.mobilenetv2_layers(net.input_hw)
    ima_names = mapping.layer_names if on_ima else []

    # IMA layer table (Mapping.to_blob) and the tiles' plot words
    map_addr = order_addr = prog_addr = 0
    prog_recs = []
    words_total = 0
    if on_ima:
        map_addr = A.put(mapping.to_blob(), 4)
        if program == "plot":
            weights = ima_weights(net)
            for p in sorted(mapping.placements, key=lambda p: (p.array, p.y, p.x)):
                t = p.tile
                w = weights[t.name][t.row_off:t.row_off + t.height, t.col_off:t.col_off + t.width]
                words = ima_model.pack_plot_words(w)
                words_total += words.size
                prog_recs.append((p.array, p.x, p.y, t.width, t.height, A.put(words, 4)))
            prog_addr = A.put(b"".join(PROG.pack(*r) for r in prog_recs), 4)

    xin = net.calib_input if x is None else np.asarray(x, dtype=np.int8)
    act = {}

    def act_buf(name, shape):
        addr = A.alloc(int(np.prod(shape)))
        act[name] = (addr, tuple(shape))
        return addr

    in_addr = A.put(xin.astype(np.int8), 16)
    act["input"] = (in_addr, xin.shape)
    ops = []
    order = []
    prev = in_addr
    block_in = {}
    params = {"conv0": net.conv0, "conv_last": net.last, "fc": net.fc}
    for b, bp in enumerate(net.blocks):
        params[f"b{b}.expand"] = bp.expand
        params[f"b{b}.dw"] = bp.dw
        params[f"b{b}.project"] = bp.project
        params[f"b{b}.add"] = bp.add

    for spec in layers:
        f = dict.fromkeys(OP_FIELDS, 0)
        name = spec.name
        p = params.get(name)
        hi_, wi_, ci = spec.in_shape
        ho, wo, co = spec.out_shape
        f.update(h=hi_, w=wi_, cin=ci, cout=co, stride=spec.stride, relu=int(spec.relu), **{"in": prev})
        if spec.block >= 0:
            block_in.setdefault(spec.block, prev)   # the block's input: before its first layer
        if spec.kind == "conv":
            kind, unit = KIND_CONV, UNIT_CORES
            f.update(wgt=A.put(pack_pw4(p.w.reshape(9 * ci, co)), 4), bias=A.put(p.bias.astype("<i4"), 4),
                     mult=int(p.rq.mult), shift=int(p.rq.shift))
            fixed = pw4_size(9 * ci, co) + 4 * r4(co) + cores * 2 * r4(9 * ci) + 64

            def need(R, wi_=wi_, ci=ci, wo=wo, co=co, fixed=fixed):
                return fixed + r4((2 * R + 2) * wi_ * ci) + r4((R + 2) * wo * co) + 32
            f["tile"] = cap(_fit(L, need, name, 1, ho))
        elif spec.kind == "dw":
            kind = KIND_DW
            unit = UNIT_DWA if on_ima else UNIT_CORES
            s = spec.stride
            if unit == UNIT_DWA:
                f.update(wgt=A.put(p.w.astype(np.int8), 4))
                fixed = r4(9 * ci) + 8 * ci + r4(ci) + 64
                scratch = lambda R: 0  # noqa: E731
            else:
                f.update(wgt=A.put(pack_dw4(p.w), 4))
                fixed = 12 * ci + 8 * ci + r4(ci) + 64
                scratch = lambda R, s=s, wi_=wi_: cores * (R * s + 2 + 2) * r4(wi_ + 3)  # noqa: E731
            mult = np.broadcast_to(p.rq.mult, (ci,)).astype("<i4")
            shift = np.broadcast_to(p.rq.shift, (ci,)).astype(np.uint8)
            f.update(bias=A.put(p.bias.astype("<i4"), 4), mult_p=A.put(mult, 4), shift_p=A.put(shift, 4))

            def need(R, s=s, wi_=wi_, ci=ci, wo=wo, fixed=fixed, scratch=scratch):
                return fixed + r4((R * s + 2) * wi_ * ci) + r4((R + 2) * wo * ci) + scratch(R) + 32
            f["tile"] = cap(_fit(L, need, name, 1, ho))
        elif spec.kind in ("pw", "fc"):
            kind = KIND_PW if spec.kind == "pw" else KIND_FC
            n_pix = ho * wo
            if isinstance(p, mnv2.ImaLinear):
                unit = UNIT_IMA
                li = ima_names.index(name)
                tiles = mapping.tiles_of(li)
                idx = {id(pl): i for i, pl in enumerate(mapping.placements)}
                # issue order: round robin over arrays so that different arrays start together
                by_arr = {}
                for pl in tiles:
                    by_arr.setdefault(pl.array, []).append(pl)
                seq = []
                while any(by_arr.values()):
                    for a in list(by_arr):
                        if by_arr[a]:
                            seq.append(by_arr[a].pop(0))
                f.update(tile_first=len(order), tile_count=len(seq), n_row_tiles=tiles[0].tile.n_row_tiles,
                         adc_low=int(p.adc_low), adc_high=int(p.adc_high),
                         n_arrays_used=len({pl.array for pl in tiles}))
                order.extend(idx[id(pl)] for pl in seq)
                nrt = f["n_row_tiles"]
                if nrt > 1:
                    if (int(p.psum_rq.lo), int(p.psum_rq.hi)) not in ((0, 127), (-128, 127)):
                        raise ValueError(f"{name}: partial-sum clamp [{p.psum_rq.lo}, {p.psum_rq.hi}] "
                                         "is neither ReLU6 [0, 127] nor linear [-128, 127]")
                    f.update(mult=int(p.psum_rq.mult), shift=int(p.psum_rq.shift), lo=int(p.psum_rq.lo),
                             hi=int(p.psum_rq.hi))

                def need(t, ci=ci, co=co, nrt=nrt):
                    return 2 * r4(t * ci) + 2 * r4(t * co) + (nrt * r4(t * co) if nrt > 1 else 0) + 64
                f["tile"] = cap(_fit(L, need, name, 1, n_pix))
            else:
                unit = UNIT_CORES
                f.update(wgt=A.put(pack_pw4(p.w), 4), bias=A.put(p.bias.astype("<i4"), 4),
                         mult=int(p.rq.mult), shift=int(p.rq.shift))
                if n_pix == 1:   # classifier-like: chunks of output channels
                    def need(c, ci=ci, co=co):
                        c4 = 4 * c
                        return 2 * (pw4_size(ci, c4) + 4 * c4) + r4(ci) + r4(co) + 64
                    f["tile"] = 4 * cap(_fit(L, need, name, 1, r4(co) // 4))
                    kind = KIND_FC
                else:
                    def need(t, ci=ci, co=co):
                        return pw4_size(ci, co) + 4 * r4(co) + 2 * r4(t * ci) + 2 * r4(t * co) + 32
                    f["tile"] = cap(_fit(L, need, name, 1, n_pix))
        elif spec.kind == "add":
            kind, unit = KIND_ADD, UNIT_CORES
            f.update({"in": block_in[spec.block]}, in2=prev, mult=int(p.mult_a), mult_b=int(p.mult_b),
                     shift=int(p.shift))
            n = ho * wo * co
            f["tile"] = 4 * cap(_fit(L, lambda c: 3 * 4 * c + 64, name, 1, r4(n) // 4))
        elif spec.kind == "avgpool":
            kind, unit = KIND_POOL, UNIT_CORES
            f.update(mult=int(net.pool_mult), shift=int(net.pool_shift))
            if hi_ * wi_ * ci + r4(ci) + 64 > L:
                raise MappingError(f"avgpool input {spec.in_shape} does not fit the TCDM")
        else:
            raise ValueError(f"unknown layer kind {spec.kind}")
        f.update(kind=kind, unit=unit)
        if kind == KIND_FC or spec.kind == "avgpool":
            out_shape = (co,)
        else:
            out_shape = (ho, wo, co)
        f["out"] = act_buf(name, out_shape)
        ops.append(OpInfo(name, kind, unit, spec, f, f["out"], out_shape))
        prev = f["out"]

    if on_ima and overlap:
        plan_chains(ops, L, cores, max_rows=max_tile)
    ops_addr = A.put(b"".join(OP.pack(*[int(o.fields[k]) for k in OP_FIELDS]) for o in ops), 4)
    if on_ima:
        order_addr = A.put(np.array(order, dtype="<u2"), 4)
    cycles_addr = A.alloc(12 * len(ops), 4)  # per op: cycles, chain cycles, start
    A.alloc(0, 64)
    hdr = dict.fromkeys(HEADER_FIELDS, 0)
    hdr.update(magic=MAGIC, version=VERSION, n_ops=len(ops), ops=ops_addr, n_prog=len(prog_recs), prog=prog_addr,
               map_blob=map_addr, order=order_addr, cycles=cycles_addr, l1_size=l1_size,
               n_arrays=mapping.n_arrays if on_ima else 0)
    hdr = HEADER.pack(*(hdr[k] for k in HEADER_FIELDS))
    A.write(hdr_addr, hdr)
    return Plan(net, mapping if on_ima else None, base, bytes(A.buf), ops, hdr_addr, cycles_addr, in_addr,
                l1_size, program, len(prog_recs), words_total, act)


# ----------------------------------------------------------------------------
# Chains: consecutive layers overlapped over row bands (the paper's schedule)
# ----------------------------------------------------------------------------
MAX_CHAIN = 8  #: most layers in one chain (firmware/apps/mobilenetv2_image.h)


def chainable(o: OpInfo) -> bool:
    f = o.fields
    return (o.kind == KIND_CONV or o.kind == KIND_ADD or (o.kind == KIND_DW and o.unit == UNIT_DWA)
            or (o.kind == KIND_PW and o.unit == UNIT_IMA and f["n_row_tiles"] == 1))


def _stride(o: OpInfo) -> int:
    return 2 if o.kind == KIND_CONV else o.fields["stride"] if o.kind == KIND_DW else 1


def _band_rows(o: OpInfo, R: int, b: int):
    """Input rows [a, e) of output band b (R rows), as op_chain's band_in_rows."""
    f = o.fields
    H, s = f["h"], _stride(o)
    ho = (H - 1) // s + 1
    o0, o1 = b * R, min(ho, (b + 1) * R)
    if o.kind in (KIND_CONV, KIND_DW):
        return max(0, o0 * s - 1), min(H, (o1 - 1) * s + 2)
    return o0, o1


def _chain_bytes(o: OpInfo, R: int, cores: int) -> int:
    """TCDM bytes op_chain takes for one member with R rows per band."""
    f = o.fields
    s = _stride(o)
    wo = (f["w"] - 1) // s + 1
    rows_in = (R - 1) * s + 3 if o.kind in (KIND_CONV, KIND_DW) else R
    n = 2 * (r4(rows_in * f["w"] * f["cin"]) + r4(R * wo * f["cout"]))
    if o.kind == KIND_ADD:
        n += 2 * r4(rows_in * f["w"] * f["cin"])
    elif o.kind == KIND_CONV:
        n += pw4_size(9 * f["cin"], f["cout"]) + 4 * r4(f["cout"]) + cores * 2 * r4(9 * f["cin"])
    elif o.kind == KIND_DW:
        n += r4(9 * f["cin"]) + 8 * f["cin"] + r4(f["cin"])
    return n


def chain_lags(chain: list, rows: list) -> list:
    """Each member's step offset: a band may start once every band it reads
    was computed two steps earlier (its store then precedes the load)."""
    lags = []
    for j, o in enumerate(chain):
        srcs = [o.fields["in"]] + ([o.fields["in2"]] if o.kind == KIND_ADD else [])
        lag = 0
        ho = (o.fields["h"] - 1) // _stride(o) + 1
        for i in range(j):
            if chain[i].out_addr not in srcs:
                continue
            for b in range(-(-ho // rows[j])):
                a, e = _band_rows(o, rows[j], b)
                lag = max(lag, lags[i] + (e - 1) // rows[i] - b + 2)
        lags.append(lag)
    return lags


def _chain_geometry(chain: list):
    """Rows per band of each member (every member has the same band count,
    the smallest output height of the chain) and the lags."""
    hos = [(o.fields["h"] - 1) // _stride(o) + 1 for o in chain]
    nb = min(hos)
    rows = [-(-ho // nb) for ho in hos]
    return rows, chain_lags(chain, rows), nb


def plan_chains(ops: list, limit: int, cores: int = 8, max_rows=None, lag_share=0.25, min_bands=16) -> list:
    """Group consecutive ops into chains (sets op.chain, op.lag, op.tile).

    A chain is a run of chainable ops (first conv and adds on the cores,
    depthwise on the DWA, pointwise on the IMAs unless split into row tiles),
    each reading a tensor made earlier in the run, whose TCDM buffers fit
    ``limit`` bytes.  It grows while its fill time (the last member's lag, in
    steps) stays within ``lag_share`` of its band count: each step costs about
    1/bands of the slowest unit's work, so the fill and drain add that share.
    Layers of fewer than ``min_bands`` output rows are not chained: their
    steps are too short to pay for the fill and each step's synchronisation
    (at 224x224 the 14x14 and 7x7 blocks measured 10-35% slower chained).
    Returns the chains (lists of OpInfo).
    """
    chains, cur = [], []

    def ok(c):
        if len(c) > MAX_CHAIN:
            return False
        rows, lags, nb = _chain_geometry(c)
        if nb < min_bands or (max_rows is not None and max(rows) > max_rows):
            return False
        if sum(_chain_bytes(o, r, cores) for o, r in zip(c, rows)) + 64 > limit:
            return False
        return len(c) == 1 or lags[-1] <= max(4, lag_share * nb)

    def close():
        if len(cur) > 1:
            rows, lags, _ = _chain_geometry(cur)
            cur[0].fields["chain"] = len(cur)
            for o, r, lag in zip(cur, rows, lags):
                o.fields.update(tile=r, lag=lag)
            chains.append(list(cur))
        cur.clear()

    for o in ops:
        linked = cur and (cur[-1].out_addr in (o.fields["in"], o.fields["in2"]))
        if chainable(o) and linked and ok(cur + [o]):
            cur.append(o)
            continue
        close()
        if chainable(o) and ok([o]):
            cur.append(o)
    close()
    return chains


# ----------------------------------------------------------------------------
# Build and run
# ----------------------------------------------------------------------------
def build_firmware(out, cores_only=False, defines=(), cache_dir=None) -> Path:
    """Compile firmware/apps/mobilenetv2.c (``cores_only``: -DMNV2_CORES_ONLY)."""
    from .. import toolchain
    d = list(defines) + (["MNV2_CORES_ONLY"] if cores_only else [])
    return toolchain.compile([APP], out, include_dirs=[str(KERNELS)], defines=d, opt="-O3",
                             cache_dir=cache_dir)


def firmware(cores_only=False, cores=None) -> Path:
    """The study's firmware, built once and kept by content (iss.study.cache_dir):
    a rerun, a sweep point or a bench reuses it while nothing it depends on
    changed."""
    from .. import toolchain
    from . import cache_dir
    options = dict(opt="-O3", include_dirs=[KERNELS], defines=["MNV2_CORES_ONLY"] if cores_only else [])
    if cores is not None and cores != 8:
        options["cores"] = cores
    return toolchain.compile_cached([APP], cache_dir(), f"mobilenetv2_{'cores' if cores_only else 'hetero'}",
                                    **options)


@dataclass
class RunResult:
    plan: Plan
    acts: dict  #: name -> int8 array read back from L2
    op_cycles: list
    total_cycles: int
    prog_cycles: int
    cluster: object
    result: object
    wall_seconds: float
    verified: tuple = (0, 0)  #: (layers, bytes) found equal to the golden model by mismatches()
    #: per op: the cycles of the chain that starts there (0 elsewhere); a
    #: chained op's op_cycles is its span, first band to last, and spans overlap
    chain_cycles: list = field(default_factory=list)
    op_starts: list = field(default_factory=list)  #: per op: core 0's mcycle when it started

    @property
    def chains(self):
        """(first op index, length, cycles) of every chain of the run."""
        return [(i, self.plan.ops[i].fields["chain"], c) for i, c in enumerate(self.chain_cycles) if c]

    def exclusive_cycles(self):
        """Cycles that add up to the run: unchained ops' own, plus each chain's."""
        inside = {j for i, n, _ in self.chains for j in range(i, i + n)}
        return sum(c for i, c in enumerate(self.op_cycles) if i not in inside) + sum(c for _, _, c in self.chains)

    def mismatches(self, golden: dict):
        """Names of the layers whose output differs from ``golden`` (forward());
        records in `verified` how many layers and bytes were equal."""
        bad, layers, nbytes = [], 0, 0
        for o in self.plan.ops:
            g = np.asarray(golden[o.name]).reshape(o.out_shape)
            if not np.array_equal(self.acts[o.name], g):
                bad.append(o.name)
            else:
                layers, nbytes = layers + 1, nbytes + g.nbytes
        self.verified = (layers, nbytes)
        return bad

    def verified_line(self) -> str:
        layers, nbytes = self.verified
        return f"outputs bit-exact against the golden model: {layers} layers, {nbytes} bytes"


def _l2_size_for(end):
    need = end - 0x1C000000
    return max(4 << 20, 1 << math.ceil(math.log2(need + (64 << 10))))


def run(net: mnv2.Network, elf, n_arrays=DEFAULT_IMAS, program="preload", x=None, config=None,
        max_tile=None, session_options=None, echo=False, overlap=True) -> RunResult:
    """Lay out ``net``, run the firmware ``elf`` (a path or a loaded Program) on
    a cluster with ``n_arrays`` IMAs, and read every activation back.

    ``config``: extra :meth:`iss.config.Config.load` sections (dict).
    ``session_options``: an :class:`iss.trace.ViewOptions` to run under a
    trace session (Perfetto etc.).
    """
    import time

    from ..cluster import Cluster
    from ..config import Config
    from ..elf import Program

    prog = elf if isinstance(elf, Program) else Program(elf)
    l2_base = prog.symbols["__l2_heap_start"].addr
    l1_heap = prog.symbols["__l1_heap_start"].addr
    sections = {k: dict(v) for k, v in (config or {}).items()}
    sections.setdefault("ima", {}).setdefault("count", n_arrays if net.mapping != "cores" else 0)
    cfg0 = Config.load(**sections)
    tcdm_end = 0x10000000 + cfg0.memory.tcdm_size
    plan = build_plan(net, l2_base, tcdm_end - l1_heap, n_arrays=max(n_arrays, 1), program=program, x=x,
                      cores=cfg0.cluster.cores, max_tile=max_tile, overlap=overlap)
    mem = sections.setdefault("memory", {})
    if "l2_size" not in mem or 0x1C000000 + mem["l2_size"] < plan.end:
        mem["l2_size"] = _l2_size_for(plan.end)
    cfg = Config.load(**sections)
    t0 = time.perf_counter()
    cluster = Cluster(prog, cfg, echo=echo)
    cluster.memory.write(plan.base, plan.image)
    if plan.mapping is not None and program == "preload":
        imas = cluster.imas
        images = plan.mapping.crossbar_images(ima_weights(net))
        for p in plan.mapping.placements:
            t = p.tile
            ima = imas[p.array]
            ima.weights[p.y:p.y + t.height, p.x:p.x + t.width] = images[p.array, p.y:p.y + t.height,
                                                                        p.x:p.x + t.width]
            ima.programmed[p.y:p.y + t.height, p.x:p.x + t.width] = True
            if ima.noisy:
                ima.conductance[p.y:p.y + t.height, p.x:p.x + t.width] = ima_model.program_conductances(
                    images[p.array, p.y:p.y + t.height, p.x:p.x + t.width], ima.cfg.sigma_prog, ima.rng)
    if session_options is not None:
        from ..trace import Session
        session = Session(cluster, session_options)
        result = session.run()
    else:
        result = cluster.run()
    wall = time.perf_counter() - t0
    if result.exit_code != 0:
        raise RuntimeError(f"mobilenetv2 firmware exited with {result.exit_code}: "
                           + "\n".join(result.stdout[-5:]))
    hdr = dict(zip(HEADER_FIELDS, HEADER.unpack(bytes(cluster.memory.view(plan.header_addr, HEADER.size)))))
    acts = {name: np.frombuffer(bytes(cluster.memory.view(a, int(np.prod(s)))), np.int8).reshape(s).copy()
            for name, (a, s) in plan.act.items()}
    n = len(plan.ops)
    cyc = np.frombuffer(bytes(cluster.memory.view(plan.cycles_addr, 12 * n)), "<u4").tolist()
    return RunResult(plan, acts, cyc[:n], hdr["total_cycles"], hdr["prog_cycles"], cluster, result, wall,
                     chain_cycles=cyc[n:2 * n],
                     op_starts=cyc[2 * n:])


# ----------------------------------------------------------------------------
# Reporting
# ----------------------------------------------------------------------------
def layer_table(res: RunResult):
    """Rows (name, unit, cycles, utilization, MACs) of the timed inference.

    Utilization: IMA layers, the fraction of the layer's time its arrays spend
    in MVMs (jobs x eval cycles / (arrays used x layer cycles)); DWA layers, the
    DWA's busy fraction; core layers, MACs / (cycles x 8 cores x 4 MAC/cycle,
    the SIMD peak), '-' for layers without MACs.
    """
    cfg = res.cluster.config
    c_eval = cfg.ns_to_cycles(cfg.ima.eval_ns)
    ncores = cfg.cluster.cores
    rows = []
    for o, cyc in zip(res.plan.ops, res.op_cycles):
        spec = o.spec
        macs = spec.macs
        util = None
        if o.unit == UNIT_IMA and cyc:
            n_pix = spec.out_shape[0] * spec.out_shape[1]
            util = n_pix * o.fields["tile_count"] * c_eval / (o.fields["n_arrays_used"] * cyc)
        elif o.unit == UNIT_DWA and cyc:
            dcfg = cfg.dwa
            util = min(1.0, macs / dcfg.macs_per_cycle / cyc)
        elif macs and cyc:
            util = macs / (cyc * ncores * 4)
        rows.append((o.name, UNIT_NAMES[o.unit], cyc, util, macs))
    return rows


def chain_label(res: RunResult) -> dict:
    """op index -> "c<k>" for the members of chain k (1-based)."""
    return {j: f"c{k}" for k, (i, n, _) in enumerate(res.chains, 1) for j in range(i, i + n)}


def format_report(res: RunResult, baseline: RunResult | None = None, energy=None,
                  serial: RunResult | None = None) -> str:
    cfg = res.cluster.config
    mhz = cfg.cluster.clock_mhz
    lines = []
    m = res.plan.mapping
    net = res.plan.net
    lines.append(f"MobileNetV2 {net.input_hw}x{net.input_hw}x3, mapping {net.mapping}"
                 + (f", classifier on {'IMA' if net.fc_on_ima else 'cores'}" if m else ""))
    if m is not None:
        lines.append(f"IMA arrays: {m.n_arrays} used of {cfg.ima.count} configured "
                     f"(paper: 34), utilization {100 * m.utilization:.1f}%; weights "
                     f"{'programmed by the firmware (SUBMIT_PLOT, ' + str(res.plan.words_programmed) + ' words, ' + str(res.prog_cycles) + ' cycles before the timed part)' if res.plan.program == 'plot' else 'preloaded by the host (crossbars already programmed)'}")
    chained = chain_label(res)
    if chained:
        lines.append("chains (cN): layers overlapped over row bands; a chained layer's cycles are its span, "
                     "first band to last" + ("; 'alone': the layer run by itself (no overlap)" if serial else ""))
    lines.append(f"{'layer':14s} {'unit':5s} {'chain':5s} {'cycles':>10s} {'util':>6s} {'MACs':>11s}"
                 + (f" {'alone':>10s}" if serial else ""))
    for i, (name, unit, cyc, util, macs) in enumerate(layer_table(res)):
        u = f"{100 * util:5.1f}%" if util is not None else "     -"
        lines.append(f"{name:14s} {unit:5s} {chained.get(i, '-'):5s} {cyc:10d} {u:>6s} {macs:11d}"
                     + (f" {serial.op_cycles[i]:10d}" if serial else ""))
    for k, (i, n, cyc) in enumerate(res.chains, 1):
        ops = res.plan.ops
        alone = f" ({sum(serial.op_cycles[i:i + n])} one after another)" if serial else ""
        lines.append(f"chain c{k} {ops[i].name}..{ops[i + n - 1].name} ({n} layers, "
                     f"{ops[i + n - 1].fields['lag']} steps of fill): {cyc} cycles{alone}")
    ms = res.total_cycles / (mhz * 1e3)
    lines.append(f"total: {res.total_cycles} cycles, {ms:.3f} ms at {mhz:g} MHz"
                 + (" (paper: 10.1 ms)" if net.input_hw == 224 and m is not None else ""))
    if serial is not None:
        sms = serial.total_cycles / (mhz * 1e3)
        lines.append(f"without overlap (every layer alone, one after another): {serial.total_cycles} cycles, "
                     f"{sms:.3f} ms; overlap saves {100 * (1 - res.total_cycles / serial.total_cycles):.1f}%")
    if energy is not None:
        lines.append(energy)
    if baseline is not None:
        bms = baseline.total_cycles / (mhz * 1e3)
        lines.append(f"cores-only baseline: {baseline.total_cycles} cycles, {bms:.3f} ms; "
                     f"heterogeneous speed-up {baseline.total_cycles / max(res.total_cycles, 1):.1f}x")
    if res.verified[0]:
        lines.append(res.verified_line() + (f" (cores-only baseline: {baseline.verified[0]} layers, "
                                            f"{baseline.verified[1]} bytes)" if baseline is not None else ""))
    lines.append(f"simulation wall time {res.wall_seconds:.1f} s")
    return "\n".join(lines)


def inference_energy(res: RunResult):
    """iss.energy.EnergyReport of one inference: the run's, without the
    crossbars' programming (done once, before; the preload path marks the cells
    programmed without plot words)."""
    import dataclasses

    from ..energy import count_events, energy
    c = dataclasses.replace(count_events(res.cluster), ima_cells_programmed=0)
    return energy(c, res.cluster.config)


# ----------------------------------------------------------------------------
# The study (`iss bench mobilenetv2`)
# ----------------------------------------------------------------------------
@dataclass
class StudyResult:
    hetero: RunResult
    cores: RunResult | None
    energy: object = None  #: iss.energy.EnergyReport of the heterogeneous run
    energy_cores: object = None
    text: str = ""
    serial: RunResult | None = None  #: the heterogeneous network without overlap


def run_study(input_hw=224, n_arrays=DEFAULT_IMAS, seed=0, program="preload", fc_on_ima=False,
              baseline=True, energy=True, perfetto=None, build_dir=None, log=None, overlap=True,
              compare_serial=True) -> StudyResult:
    """Both networks from compiled firmware, each checked bit for bit against
    :func:`iss.nn.mobilenetv2.forward` (every layer); RuntimeError on a mismatch.

    ``overlap``: the heterogeneous network runs in chains (:func:`plan_chains`);
    ``compare_serial``: also run it without overlap, every layer alone (the
    report gives both latencies).

    Energy (``iss.energy``) covers the whole run; with ``program="preload"``
    that is the timed inference plus a few hundred cycles of start-up.
    """

    from . import cache_dir

    log = log or (lambda msg: None)
    weight_mapping(n_arrays, fc_on_ima)  # fails early (MappingError) when the network does not fit
    results = {}
    variants = ["hetero"] + (["serial"] if overlap and compare_serial else []) + (["cores"] if baseline else [])
    for variant in variants:
        log(f"{variant}: building the network and the golden model")
        kind = "hetero" if variant == "serial" else variant
        net, golden = mnv2.network_with_golden(kind, seed=seed, input_hw=input_hw, fc_on_ima=fc_on_ima,
                                               cache_dir=cache_dir())
        elf = (build_firmware(Path(build_dir) / f"mobilenetv2_{kind}.elf", cores_only=variant == "cores")
               if build_dir else firmware(cores_only=variant == "cores"))
        opts = None
        if perfetto and variant == "hetero":
            from ..trace import ViewOptions
            opts = ViewOptions(perfetto=Path(perfetto))
        log(f"{variant}: running")
        if variant == "cores":
            res = run(net, elf, n_arrays=0)
        else:
            res = run(net, elf, n_arrays=n_arrays, program=program, session_options=opts,
                      overlap=overlap and variant == "hetero")
        bad = res.mismatches(golden)
        if bad:
            raise RuntimeError(f"{variant}: firmware output differs from the golden model in {bad}")
        results[variant] = res
    e_h = e_c = None
    etext = None
    if energy:
        e_h = inference_energy(results["hetero"])
        etext = f"energy: {e_h.total_uj:.1f} uJ per inference (paper: 482 uJ; weight programming excluded)"
        if "cores" in results:
            e_c = inference_energy(results["cores"])
            etext += (f"; cores-only {e_c.total_uj:.1f} uJ, "
                      f"{e_c.total_uj / max(e_h.total_uj, 1e-12):.1f}x more")
    text = format_report(results["hetero"], results.get("cores"), etext, serial=results.get("serial"))
    return StudyResult(results["hetero"], results.get("cores"), e_h, e_c, text + "\n", results.get("serial"))


__all__ = ["weight_mapping", "ima_weights", "build_plan", "plan_chains", "chain_lags", "chainable", "chain_label", "build_firmware", "firmware",
           "run", "layer_table", "inference_energy",
           "format_report", "run_study", "StudyResult", "Plan", "RunResult", "MappingError", "pack_pw4", "pack_dw4"]
