"""C and Python agree on the native helper's shared structures and constants: the C
headers (iss/native/*.h) compiled with one static assertion per field (offset and
size), structure size and constant, written from the Python mirrors (ctypes
structures, numpy record dtypes, module constants)."""
from __future__ import annotations

import ctypes
import os
import subprocess
import sys

import numpy as np

from iss import isa, native
from iss.timing import core as timing_core
from iss.trace import native as trace_native

# (C struct, Python mirror: a ctypes Structure or a numpy record dtype)
STRUCTS = [
    ("iss_hart", native.HartState),
    ("iss_sched", native.SchedState),
    ("iss_code_map", native.CodeMap),
    ("iss_code_region", native.CodeRegion),
    ("iss_isa", isa.IsaState),
    ("iss_insn", isa.PREDECODE_DTYPE),
    ("iss_trace_rec", trace_native.INSN_DTYPE),
    ("iss_trace_meta", trace_native.META_DTYPE),
    ("iss_sample_rec", trace_native.SAMPLE_DTYPE),
]

# (C expression, the Python value written beside it)
CONSTANTS = [
    *((f"ISS_STOP_{n}", getattr(native, f"STOP_{n}"))
      for n in ("NONE", "BUDGET", "ILLEGAL", "ECALL", "EBREAK", "SLOW", "TRAP", "FAULT", "CODE", "EXIT")),
    ("ISS_RECENT", native.RECENT),
    ("ISS_SCHED_HARTS", native.SCHED_HARTS),
    ("ISS_SCHED_PYTHON", native.SCHED_PYTHON),
    ("ISS_SCHED_FINISH", native.SCHED_FINISH),
    ("ISS_CODE_REGIONS", native.CODE_REGIONS),
    *((f"ISS_SLOW_{n}", getattr(isa, f"SLOW_{n}")) for n in ("NONE", "ELW", "HWLOOP", "DECODE")),
    ("ISS_CODE_PAGE_SLOTS_SHIFT", native.CODE_PAGE_SLOTS_SHIFT),
    ("ISS_END_BRANCH", timing_core.END_BRANCH),
    ("ISS_END_JUMP", timing_core.END_JUMP),
    ("ISS_START_32", timing_core.START_32),
    ("ISS_END_LEN4", timing_core.END_LEN4),
    *((f"ISS_I_{n}", getattr(timing_core, f"I_{n}")) for n in ("32", "LINEAR", "ACC1", "ACC2", "SC", "BRANCH", "JUMP", "BAD")),
    *((f"ISS_TF_{n}", getattr(trace_native, f"F_{n}")) for n in ("MEM", "STORE", "VALUE", "RETRY", "UNRETIRED")),
    *((f"ISS_TM_{n}", getattr(trace_native, f"TM_{n}")) for n in ("BASE", "RR", "IMM", "ACCESS", "STORE")),
    ("ISS_TRACE_BUF", trace_native.BUF_RECORDS),
]


def _fields(mirror):
    """[(name, offset, size)] of a ctypes Structure or a numpy record dtype."""
    if isinstance(mirror, np.dtype):
        return [(n, mirror.fields[n][1], mirror.fields[n][0].itemsize) for n in mirror.names]
    return [(n, getattr(mirror, n).offset, getattr(mirror, n).size) for n, *_ in mirror._fields_]


def _size(mirror) -> int:
    return mirror.itemsize if isinstance(mirror, np.dtype) else ctypes.sizeof(mirror)


def _assertions() -> list[str]:
    """One C11 static assertion per field (offset and size), struct size and constant."""
    out = []
    for ctype, mirror in STRUCTS:
        for name, offset, size in _fields(mirror):
            out.append(f'_Static_assert(offsetof({ctype}, {name}) == {offset} && sizeof((({ctype} *)0)->{name}) '
                       f'== {size}, "{ctype}.{name}: Python says offset {offset}, size {size}");')
        # the same size: no C field the mirror lacks (one missing in the middle
        # would already have shifted the offsets)
        out.append(f'_Static_assert(sizeof({ctype}) == {_size(mirror)}, "sizeof {ctype}: Python says {_size(mirror)}");')
    for expr, value in CONSTANTS:
        out.append(f'_Static_assert(({expr}) == {value}, "{expr}: Python says {value}");')
    return out


CANARY = "offsetof(iss_hart, budget) == 17"     # wrong on purpose: the check can fail


def test_c_and_python_agree_field_by_field(tmp_path):
    """The headers compiled (for the host, as the helper is) with one static
    assertion per field, struct size and constant, and one wrong on purpose:
    that one, and only that one, fails."""
    asserts = _assertions()
    assert len(asserts) > 100
    canary = f'_Static_assert({CANARY}, "canary");'
    src = tmp_path / "layout.c"
    src.write_text('#include <stddef.h>\n#include "hart.h"\n#include "corev.h"\n#include "trace.h"\n#include "sched.h"\n'
                   + "\n".join(asserts + [canary]) + "\n")
    cache = native.HERE / ".zig-cache"       # the helper's own: the host's headers are there already
    proc = subprocess.run([sys.executable, "-m", "ziglang", "cc", "-target", native.zig_target(), "-fsyntax-only",
                           "-std=c11", f"-I{native.HERE}", f"-I{native.UNICORN_INCLUDE}", str(src)],
                          capture_output=True, text=True,
                          env=dict(os.environ, ZIG_GLOBAL_CACHE_DIR=str(cache), ZIG_LOCAL_CACHE_DIR=str(cache)))
    failed = [ln for ln in proc.stderr.splitlines() if "error:" in ln]
    assert proc.returncode != 0 and len(failed) == 1 and "canary" in failed[0], "\n".join(failed or [proc.stderr])
