"""The MobileNetV2 image: the host packs its records with Python struct formats
(iss/study/mobilenetv2.py, iss/nn/mapping.py) that the firmware reads as the C
structs of firmware/apps/mobilenetv2_image.h. That header is compiled for the
cluster (the toolchain's target flags) with one static assertion per field of
every record (offset, size, signedness), per record size and per constant,
written from the Python side; plus assertions from deliberately broken copies
(two fields swapped, one field's signedness flipped), which must fail, and
nothing else may."""
from __future__ import annotations

import os
import re
import struct
import subprocess
import sys

from iss import toolchain
from iss.nn import mapping
from iss.study import APPS
from iss.study import mobilenetv2 as mnv2

# (C struct, Python field names in order, the struct.Struct that packs them)
RECORDS = [
    ("hdr_t", mnv2.HEADER_FIELDS, mnv2.HEADER),
    ("op_t", mnv2.OP_FIELDS, mnv2.OP),
    ("prog_t", [n for n, _ in mnv2.PROG_LAYOUT], mnv2.PROG),
    ("tile_rec_t", mapping.TILE_FIELDS, mapping.BLOB_RECORD),
]

CONSTANTS = [
    ("MNV2_MAGIC", mnv2.MAGIC),
    ("MNV2_VERSION", mnv2.VERSION),
    *((n, getattr(mnv2, n)) for n in ("KIND_CONV", "KIND_PW", "KIND_DW", "KIND_ADD", "KIND_POOL", "KIND_FC",
                                      "UNIT_CORES", "UNIT_IMA", "UNIT_DWA", "MAX_CHAIN")),
    ("MAP_BLOB_HEADER", mapping.BLOB_HEADER.size),
]


def _layout(names, record: struct.Struct) -> list[tuple[str, int, int, bool]]:
    """[(field, offset, size, signed)] of a little-endian, unpadded struct format."""
    fmt = record.format
    assert fmt[0] == "<", fmt
    codes = [c for count, c in re.findall(r"(\d*)([a-zA-Z])", fmt[1:]) for _ in range(int(count or 1))]
    assert len(codes) == len(names), f"{len(codes)} codes in {fmt}, {len(names)} names"
    out, offset = [], 0
    for name, code in zip(names, codes):
        size = struct.calcsize("<" + code)
        out.append((name, offset, size, code in "bhilq"))
        offset += size
    assert offset == record.size
    return out


def _assertions(ctype, layout, size, tag="") -> list[str]:
    out = []
    for name, offset, fsize, signed in layout:
        member = f"(({ctype} *)0)->{name}"
        out.append(f"_Static_assert(offsetof({ctype}, {name}) == {offset} && sizeof({member}) == {fsize} "
                   f"&& ((__typeof__({member}))-1 < 0) == {int(signed)}, "
                   f'"{tag}{ctype}.{name}: Python says offset {offset}, size {fsize}, '
                   f'{"signed" if signed else "unsigned"}");')
    # the same size: no C field the Python side lacks at the end
    out.append(f'_Static_assert(sizeof({ctype}) == {size}, "{tag}sizeof {ctype}: Python says {size}");')
    return out


def _broken_op_layouts():
    """op_t as the host would see it with lo and hi swapped, and with `in`
    packed signed: the check must name exactly these fields."""
    layout = _layout(mnv2.OP_FIELDS, mnv2.OP)
    i, j = mnv2.OP_FIELDS.index("lo"), mnv2.OP_FIELDS.index("hi")
    swapped = list(layout)
    swapped[i], swapped[j] = (layout[j][0], *layout[i][1:]), (layout[i][0], *layout[j][1:])
    k = mnv2.OP_FIELDS.index("in")
    signed = list(layout)
    signed[k] = (*layout[k][:3], True)
    return [(swapped, {"op_t.lo", "op_t.hi"}), ([signed[k]], {"op_t.in"})]


def test_image_records_agree_field_by_field(tmp_path):
    asserts = []
    for ctype, names, record in RECORDS:
        asserts += _assertions(ctype, _layout(names, record), record.size)
    asserts += [f'_Static_assert(({expr}) == {value}, "{expr}: Python says {value}");' for expr, value in CONSTANTS]
    assert len(asserts) > 60
    expected = set()
    for layout, fields in _broken_op_layouts():
        canaries = [a for a in _assertions("op_t", layout, mnv2.OP.size, tag="canary ")
                    if "sizeof op_t" not in a]
        asserts += canaries
        expected |= fields
    src = tmp_path / "image_layout.c"
    src.write_text('#include <stddef.h>\n#include "mobilenetv2_image.h"\n' + "\n".join(asserts) + "\n")
    proc = subprocess.run([sys.executable, "-m", "ziglang", "cc", *toolchain.target_flags(), "-std=gnu11",
                           "-fsyntax-only", "-ferror-limit=0", f"-I{APPS}", str(src)], capture_output=True,
                          text=True, env=toolchain.zig_env(os.environ["ISS_ZIG_CACHE"]))   # tests/conftest.py
    failed = [ln for ln in proc.stderr.splitlines() if "error:" in ln]
    canaries = {m.group(1) for ln in failed for m in [re.search(r"canary (\w+\.\w+)", ln)] if m}
    others = [ln for ln in failed if "canary" not in ln]
    assert proc.returncode != 0 and not others and canaries == expected, "\n".join(failed or [proc.stderr])
