"""Tile&Pack: map every IMA layer's 4-bit weight matrix onto 256x256 crossbars.

Conventions
-----------
* A layer's weight matrix is ``w4[rows = Cin, cols = Cout]``; on a crossbar,
  rows are the inputs (``y``, GVSoC ``START_Y``/``HEIGHT``) and columns the
  outputs (``x``, ``START_X``/``WIDTH``).
* Tiling: :func:`iss.nn.ima_model.tile_ranges` splits rows and columns into
  tiles of at most 256 (full tiles first, remainder last).  Row tiles of one
  layer are ADC-converted separately and summed on the cores
  (:func:`iss.nn.ima_model.mvm_tiled`).
* Packing: the tiles are 2-D bin-packed (no rotation: inputs must stay on
  rows) into 256x256 arrays with MaxRects (best-short-side-fit), trying a few
  orderings (area / height / width decreasing) plus seeded random
  perturbations, keeping the one with the fewest arrays (stops at the area
  lower bound).  A job reads only its window's rows and columns (GVSoC
  ``exec_job``), so tiles sharing an array only need disjoint rectangles.
* Plot granularity: a SUBMIT_PLOT word always writes 8 columns, so each tile
  *reserves* a width rounded up to a multiple of 8 and every tile starts on a
  column multiple of 8 (MobileNetV2's channel counts are all multiples of 8,
  so nothing is lost there).
* Utilization = weight cells actually used / (arrays * 256 * 256).

Outputs for the firmware: :meth:`Mapping.to_c` (a ``const ima_tile_t`` array)
and :meth:`Mapping.to_blob` (little-endian binary, see :data:`BLOB_HEADER`).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from .ima_model import XBAR_COLS, XBAR_ROWS, tile_ranges

PLOT_COLS = 8  #: columns written by one SUBMIT_PLOT word
BLOB_MAGIC = b"IMAP"
BLOB_VERSION = 1
#: header: magic, u16 version, u16 record size, u32 n_tiles, u32 n_arrays, u32 n_layers
BLOB_HEADER = struct.Struct("<4sHHIII")
#: record: u16 layer, array, x, y, width, height, row_off, col_off, row_tile, n_row_tiles
BLOB_RECORD = struct.Struct("<10H")
TILE_FIELDS = ("layer", "array", "x", "y", "width", "height", "row_off", "col_off",
               "row_tile", "n_row_tiles")


class MappingError(ValueError):
    """The network's IMA weights do not fit the configured arrays."""


@dataclass(frozen=True)
class Tile:
    """One <= 256x256 block of a layer's weight matrix (before placement)."""

    layer: int  #: index into Mapping.layer_names
    name: str
    row_off: int
    col_off: int
    height: int  #: rows (inputs)
    width: int  #: columns (outputs)
    row_tile: int
    n_row_tiles: int

    @property
    def reserved_width(self) -> int:
        return -(-self.width // PLOT_COLS) * PLOT_COLS


@dataclass(frozen=True)
class Placement:
    """A tile placed at window (x, y, width, height) of crossbar ``array``."""

    tile: Tile
    array: int
    x: int
    y: int

    def record(self):
        t = self.tile
        return (t.layer, self.array, self.x, self.y, t.width, t.height, t.row_off,
                t.col_off, t.row_tile, t.n_row_tiles)


def make_tiles(layers):
    """Split ``[(name, rows, cols), ...]`` into :class:`Tile` objects."""
    tiles = []
    for li, (name, rows, cols) in enumerate(layers):
        rr = tile_ranges(rows, XBAR_ROWS)
        for ri, (r0, r1) in enumerate(rr):
            for c0, c1 in tile_ranges(cols, XBAR_COLS):
                tiles.append(Tile(li, name, r0, c0, r1 - r0, c1 - c0, ri, len(rr)))
    return tiles


class _MaxRects:
    """MaxRects bin (best short side fit), rectangles as (x, y, w, h)."""

    def __init__(self, w, h):
        self.free = [(0, 0, w, h)]

    def find(self, w, h):
        """Best free position for a w x h rectangle: ``(key, x, y)`` or None."""
        best = None
        for fx, fy, fw, fh in self.free:
            if w <= fw and h <= fh:
                key = (min(fw - w, fh - h), max(fw - w, fh - h), fy, fx)
                if best is None or key < best[0]:
                    best = (key, fx, fy)
        return best

    def place(self, x, y, w, h):
        new = []
        for f in self.free:
            fx, fy, fw, fh = f
            if x >= fx + fw or x + w <= fx or y >= fy + fh or y + h <= fy:
                new.append(f)
                continue
            if x > fx:
                new.append((fx, fy, x - fx, fh))
            if x + w < fx + fw:
                new.append((x + w, fy, fx + fw - x - w, fh))
            if y > fy:
                new.append((fx, fy, fw, y - fy))
            if y + h < fy + fh:
                new.append((fx, y + h, fw, fy + fh - y - h))
        # prune rectangles contained in another
        pruned = []
        for i, a in enumerate(new):
            contained = False
            for j, b in enumerate(new):
                if i != j and b[0] <= a[0] and b[1] <= a[1] and \
                        a[0] + a[2] <= b[0] + b[2] and a[1] + a[3] <= b[1] + b[3] and \
                        (a != b or j < i):
                    contained = True
                    break
            if not contained:
                pruned.append(a)
        self.free = pruned


def _pack_order(tiles, order):
    bins = []
    placed = []
    for t in order:
        w, h = t.reserved_width, t.height
        best = None
        for bi, b in enumerate(bins):
            hit = b.find(w, h)
            if hit is not None and (best is None or (hit[0], bi) < best[0]):
                best = ((hit[0], bi), bi, hit[1], hit[2])
        if best is None:
            bins.append(_MaxRects(XBAR_COLS, XBAR_ROWS))
            bi, x, y = len(bins) - 1, 0, 0
        else:
            _, bi, x, y = best
        bins[bi].place(x, y, w, h)
        placed.append(Placement(t, bi, x, y))
    return placed, len(bins)


def pack_tiles(tiles, restarts=200, seed=0):
    """Best packing found: ``(placements, n_arrays)``.

    First-fit-decreasing MaxRects over four fixed orderings (area, height,
    width, longest side decreasing), then ``restarts`` seeded random
    perturbations of the area order (each tile's area scaled by U(0.7, 1.3)),
    stopping early at the area lower bound.  Deterministic for a given seed.
    """
    lb = -(-sum(t.reserved_width * t.height for t in tiles) // (XBAR_ROWS * XBAR_COLS))
    orders = [
        sorted(tiles, key=lambda t: (-t.height * t.reserved_width, -t.height, -t.width)),
        sorted(tiles, key=lambda t: (-t.height, -t.reserved_width)),
        sorted(tiles, key=lambda t: (-t.reserved_width, -t.height)),
        sorted(tiles, key=lambda t: (-max(t.height, t.reserved_width), -t.height * t.reserved_width)),
    ]
    best = None
    for o in orders:
        placed, n = _pack_order(tiles, o)
        if best is None or n < best[1]:
            best = (placed, n)
    rng = np.random.default_rng(seed)
    area = np.array([t.height * t.reserved_width for t in tiles], dtype=np.float64)
    for _ in range(restarts):
        if best[1] <= lb:
            break
        key = -area * rng.uniform(0.7, 1.3, len(tiles))
        placed, n = _pack_order(tiles, [tiles[j] for j in np.argsort(key, kind="stable")])
        if n < best[1]:
            best = (placed, n)
    return best


@dataclass
class Mapping:
    """Result of Tile&Pack: every tile's array and window."""

    layer_names: list
    layer_shapes: list  #: [(rows, cols)] per layer
    placements: list  #: sorted by (layer, row_off, col_off)
    n_arrays: int
    rows: int = XBAR_ROWS
    cols: int = XBAR_COLS
    lower_bound: int = field(default=0)

    @property
    def used_cells(self) -> int:
        return sum(p.tile.width * p.tile.height for p in self.placements)

    @property
    def utilization(self) -> float:
        """Used weight cells / (n_arrays * 256 * 256)."""
        return self.used_cells / (self.n_arrays * self.rows * self.cols) if self.n_arrays else 0.0

    def array_utilization(self):
        """Per-array fraction of cells used (list of n_arrays floats)."""
        used = np.zeros(self.n_arrays)
        for p in self.placements:
            used[p.array] += p.tile.width * p.tile.height
        return list(used / (self.rows * self.cols))

    def tiles_of(self, layer):
        """Placements of one layer (by index or name)."""
        if isinstance(layer, str):
            layer = self.layer_names.index(layer)
        return [p for p in self.placements if p.tile.layer == layer]

    def report(self) -> str:
        lines = [f"IMA mapping: {len(self.layer_names)} layers, {len(self.placements)} tiles "
                 f"on {self.n_arrays} arrays of {self.rows}x{self.cols} "
                 f"(lower bound {self.lower_bound}), utilization {100 * self.utilization:.1f}%"]
        for a, u in enumerate(self.array_utilization()):
            names = sorted({p.tile.name for p in self.placements if p.array == a})
            lines.append(f"  array {a:3d}: {100 * u:5.1f}%  {', '.join(names)}")
        return "\n".join(lines)

    def records(self):
        """Tuples in :data:`TILE_FIELDS` order, one per tile."""
        return [p.record() for p in self.placements]

    def to_c(self, prefix="ima_map") -> str:
        """The firmware's layer table as C source (a const struct array)."""
        P = prefix.upper()
        out = [
            f"/* Generated by iss.nn.mapping (Tile&Pack): {len(self.placements)} tiles on "
            f"{self.n_arrays} IMA arrays, utilization {100 * self.utilization:.1f}%. */",
            "/* Window: x = first column (output), y = first row (input); a layer's",
            "   row tiles (row_tile < n_row_tiles) are ADC-converted separately and",
            "   their int8 outputs summed in int16 on the cores, then requantized. */",
            "#include <stdint.h>",
            "#ifndef IMA_TILE_T_DEFINED",
            "#define IMA_TILE_T_DEFINED",
            "typedef struct {",
            "    uint16_t layer;       /* index into the layer list */",
            "    uint16_t array;       /* IMA instance */",
            "    uint16_t x, y;        /* window origin: column, row */",
            "    uint16_t width;       /* columns = output channels of this tile */",
            "    uint16_t height;      /* rows = input channels of this tile */",
            "    uint16_t row_off;     /* first input channel of the layer */",
            "    uint16_t col_off;     /* first output channel of the layer */",
            "    uint16_t row_tile;    /* index of this row tile */",
            "    uint16_t n_row_tiles; /* row tiles of the layer (1: no partial sums) */",
            "} ima_tile_t;",
            "#endif",
            f"#define {P}_N_TILES {len(self.placements)}",
            f"#define {P}_N_ARRAYS {self.n_arrays}",
            f"#define {P}_N_LAYERS {len(self.layer_names)}",
            f"const ima_tile_t {prefix}_tiles[{P}_N_TILES] = {{",
        ]
        for p in self.placements:
            r = p.record()
            out.append("    {" + ", ".join(str(v) for v in r) + f"}}, /* {p.tile.name} */")
        out.append("};")
        first, count = self._layer_index()
        out.append("/* first tile and tile count of each layer */")
        out.append(f"const uint16_t {prefix}_layer_first[{P}_N_LAYERS] = {{"
                   + ", ".join(map(str, first)) + "};")
        out.append(f"const uint16_t {prefix}_layer_count[{P}_N_LAYERS] = {{"
                   + ", ".join(map(str, count)) + "};")
        out.append(f"const char *const {prefix}_layer_names[{P}_N_LAYERS] = {{"
                   + ", ".join(f'"{n}"' for n in self.layer_names) + "};")
        return "\n".join(out) + "\n"

    def _layer_index(self):
        first = [0] * len(self.layer_names)
        count = [0] * len(self.layer_names)
        for i, p in enumerate(self.placements):
            if count[p.tile.layer] == 0:
                first[p.tile.layer] = i
            count[p.tile.layer] += 1
        return first, count

    def to_blob(self) -> bytes:
        """Binary layer table: :data:`BLOB_HEADER` then one :data:`BLOB_RECORD` per tile."""
        head = BLOB_HEADER.pack(BLOB_MAGIC, BLOB_VERSION, BLOB_RECORD.size,
                                len(self.placements), self.n_arrays, len(self.layer_names))
        return head + b"".join(BLOB_RECORD.pack(*r) for r in self.records())

    def crossbar_images(self, weights):
        """Per-array int8 256x256 weight images (unused cells 0).

        ``weights``: dict name -> ``w4[rows, cols]`` (or a list in layer order).
        """
        if not isinstance(weights, dict):
            weights = dict(zip(self.layer_names, weights))
        img = np.zeros((self.n_arrays, self.rows, self.cols), dtype=np.int8)
        for p in self.placements:
            t = p.tile
            w = np.asarray(weights[t.name])
            img[p.array, p.y:p.y + t.height, p.x:p.x + t.width] = \
                w[t.row_off:t.row_off + t.height, t.col_off:t.col_off + t.width]
        return img


def parse_blob(blob: bytes):
    """Decode :meth:`Mapping.to_blob`: ``(header dict, [record dict, ...])``."""
    magic, ver, rsize, n, arrays, layers = BLOB_HEADER.unpack_from(blob, 0)
    if magic != BLOB_MAGIC or ver != BLOB_VERSION or rsize != BLOB_RECORD.size:
        raise ValueError("not an IMA mapping blob of version 1")
    recs = [dict(zip(TILE_FIELDS, BLOB_RECORD.unpack_from(blob, BLOB_HEADER.size + i * rsize)))
            for i in range(n)]
    return {"n_tiles": n, "n_arrays": arrays, "n_layers": layers}, recs


def map_layers(layers, n_arrays=None, restarts=200, seed=0) -> Mapping:
    """Tile&Pack ``[(name, rows, cols), ...]``.

    ``n_arrays``: the configured IMA count; :class:`MappingError` if the packing
    needs more (None: no limit).  ``restarts``/``seed``: see :func:`pack_tiles`.
    """
    layers = list(layers)
    tiles = make_tiles(layers)
    placed, n = pack_tiles(tiles, restarts, seed)
    area = sum(t.reserved_width * t.height for t in tiles)
    lb = -(-area // (XBAR_ROWS * XBAR_COLS))
    if n_arrays is not None and n > n_arrays:
        raise MappingError(
            f"IMA weight mapping needs {n} arrays of {XBAR_ROWS}x{XBAR_COLS} for "
            f"{len(tiles)} tiles of {len(layers)} layers ({area} cells, at least {lb} "
            f"arrays), but only {n_arrays} are configured: raise the IMA count")
    placed.sort(key=lambda p: (p.tile.layer, p.tile.row_off, p.tile.col_off))
    return Mapping([l[0] for l in layers], [(l[1], l[2]) for l in layers], placed, n,
                   lower_bound=lb)


def map_mobilenetv2(n_arrays=None, fc_on_ima=True, input_hw=224) -> Mapping:
    """Tile&Pack of MobileNetV2's IMA layers (pointwise, and the FC if ``fc_on_ima``).

    Result (seed 0): pointwise only, 85 tiles on 33 arrays (= the area lower
    bound; the paper reports 34), 98.2% utilization; with the 1280x1000
    classifier too, 105 tiles on 53 arrays (lower bound 52), 98.0%.
    """
    from .mobilenetv2 import ima_layers
    return map_layers(ima_layers(input_hw, fc_on_ima), n_arrays)


def mapped_layer_forward(mapping: Mapping, images, layer, x, adc_low, adc_high, psum_rq=None):
    """Run one layer from the packed crossbar images, tile by tile.

    This is what the firmware does with the layer table: for each tile, an MVM
    on window (x, y, width, height) of its array, outputs written at
    ``col_off``; row tiles summed in int16 then requantized with ``psum_rq``.
    Equals :func:`iss.nn.ima_model.mvm_tiled` on the unpacked weights.
    """
    from .ima_model import mvm
    if isinstance(layer, str):
        layer = mapping.layer_names.index(layer)
    rows, cols = mapping.layer_shapes[layer]
    x = np.asarray(x)
    tiles = mapping.tiles_of(layer)
    n_rt = tiles[0].tile.n_row_tiles
    s = np.zeros(x.shape[:-1] + (cols,), dtype=np.int16)
    for p in tiles:
        t = p.tile
        win = images[p.array, p.y:p.y + t.height, p.x:p.x + t.width]
        part = mvm(x[..., t.row_off:t.row_off + t.height], win, adc_low, adc_high)
        s[..., t.col_off:t.col_off + t.width] += part.astype(np.int16)
    if n_rt == 1:
        return s.astype(np.int8)
    if psum_rq is None:
        raise ValueError(f"layer {mapping.layer_names[layer]} has {n_rt} row tiles: psum_rq needed")
    return psum_rq(s)
