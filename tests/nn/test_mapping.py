"""Tile&Pack mapping: placement validity, utilization, errors, emitted tables."""
import re

import numpy as np
import pytest

from iss.nn import ima_model as I
from iss.nn import mapping as MP
from iss.nn.mobilenetv2 import ima_layers
from iss.nn.quant import Requant


def check_mapping(m, layers):
    """Every tile placed once, within bounds, no overlaps; util from a painted grid."""
    grid = np.zeros((m.n_arrays, 256, 256), dtype=np.int32)
    cover = {name: np.zeros((r, c), np.int32) for name, r, c in layers}
    for p in m.placements:
        t = p.tile
        assert 0 <= p.array < m.n_arrays
        assert 0 <= p.x and p.x + t.width <= 256 and 0 <= p.y and p.y + t.height <= 256
        assert t.width <= 256 and t.height <= 256
        assert p.x % 8 == 0
        # reserved (plot-padded) width must not overlap either
        grid[p.array, p.y:p.y + t.height, p.x:p.x + t.reserved_width] += 1
        cover[t.name][t.row_off:t.row_off + t.height, t.col_off:t.col_off + t.width] += 1
    assert grid.max() == 1, "overlapping tiles"
    for name, c in cover.items():
        assert c.min() == 1 and c.max() == 1, f"{name} not covered exactly once"
    used = sum(r * c for _, r, c in layers)
    assert m.used_cells == used
    assert m.utilization == pytest.approx(used / (m.n_arrays * 65536))
    per = np.array(m.array_utilization())
    assert per.sum() * 65536 == pytest.approx(used)
    assert m.n_arrays >= m.lower_bound


@pytest.mark.parametrize("fc", [False, True])
def test_mobilenetv2_mapping(fc):
    layers = ima_layers(224, fc_on_ima=fc)
    m = MP.map_mobilenetv2(fc_on_ima=fc)
    check_mapping(m, layers)
    # regression guard on the packing quality (paper: 34 arrays without FC)
    assert m.n_arrays <= (33 if not fc else 53)
    assert m.utilization > 0.9
    assert "arrays" in m.report()


def test_random_layers_mapping():
    rng = np.random.default_rng(0)
    layers = [(f"l{i}", int(rng.integers(1, 700)), int(rng.integers(1, 90)) * 8) for i in range(25)]
    check_mapping(MP.map_layers(layers), layers)


def test_too_few_arrays_errors():
    layers = ima_layers(224, fc_on_ima=False)
    need = MP.map_layers(layers).n_arrays
    assert MP.map_layers(layers, n_arrays=need).n_arrays == need
    with pytest.raises(MP.MappingError, match=rf"needs {need} arrays.*only {need - 1} are configured"):
        MP.map_layers(layers, n_arrays=need - 1)


def test_c_source_and_blob():
    m = MP.map_mobilenetv2(fc_on_ima=True)
    src = m.to_c()
    recs = re.findall(r"^\s+\{([\d, ]+)\}, /\* (\S+) \*/$", src, re.M)
    assert len(recs) == len(m.placements)
    assert f"#define IMA_MAP_N_ARRAYS {m.n_arrays}" in src
    assert "typedef struct" in src and "const ima_tile_t ima_map_tiles[IMA_MAP_N_TILES]" in src
    for (vals, name), r, p in zip(recs, m.records(), m.placements):
        assert tuple(int(v) for v in vals.split(",")) == r and name == p.tile.name
    head, blob_recs = MP.parse_blob(m.to_blob())
    assert head == {"n_tiles": len(m.placements), "n_arrays": m.n_arrays,
                    "n_layers": len(m.layer_names)}
    assert [tuple(r[f] for f in MP.TILE_FIELDS) for r in blob_recs] == m.records()
    assert len(m.to_blob()) == MP.BLOB_HEADER.size + len(m.placements) * MP.BLOB_RECORD.size
    # tiles grouped by layer, in order, matching the per-layer index
    layers = [p.tile.layer for p in m.placements]
    assert layers == sorted(layers)


def test_packed_crossbars_compute_the_layers():
    layers = [("a", 600, 96), ("b", 96, 520), ("c", 40, 40), ("d", 300, 300)]
    m = MP.map_layers(layers)
    rng = np.random.default_rng(1)
    ws = {n: rng.integers(-7, 8, (r, c)).astype(np.int8) for n, r, c in layers}
    img = m.crossbar_images(ws)
    rq = Requant(np.int64(5), np.int64(2), -128, 127)
    for n, r, c in layers:
        x = rng.integers(-128, 128, (6, r)).astype(np.int8)
        psum = rq if r > 256 else None
        got = MP.mapped_layer_forward(m, img, n, x, 2000, 2000, psum)
        assert np.array_equal(got, I.mvm_tiled(x, ws[n], 2000, 2000, psum))
