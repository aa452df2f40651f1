"""iss.firmware from plain Python: a script with no pytest in the process builds
a real C source, calls its functions and reads the results and failures."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SOURCE = r"""
#include "pmsis.h"
#include <stdint.h>

int32_t total;

int dot(const int8_t *a, const int8_t *b, int n)
{
    int s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    total += s;
    return s;
}

/* each core of the team squares its share of x in place */
void square(int16_t *x, int n)
{
    for (int i = pi_core_id(); i < n; i += pi_cl_team_nb_cores())
        x[i] = x[i] * x[i];
    pi_cl_team_barrier();
}

int spin(volatile int *flag) { while (!*flag) {} return 1; }
"""

SCRIPT = r"""
import json, sys
import numpy as np
from iss import firmware
from iss.errors import CycleLimit

src, cache, dumps = sys.argv[1:4]
fw = firmware.load(src, opt="-O2", config={"cores": 4}, cache_dir=cache, artifacts=dumps, echo=False)
a = np.arange(-50, 50, dtype=np.int8)
b = np.arange(100, dtype=np.int8)[::-1].copy()
r = fw.call("dot", a, b, a.size)
again = fw.call("dot", a, b, a.size)
x = np.arange(-20, 20, dtype=np.int16)
fw.call("square", x, x.size, cores=4, restype=None)
out = {"value": r.value, "cycles": r.cycles, "per_core": len(r.per_core), "total": int(fw.symbol("total", "int32")[0]),
       "square": x.tolist(), "cores": fw.cores}
flag = fw.alloc(1, np.int32)
try:
    fw.call("spin", flag, max_cycles=5_000)
except CycleLimit as e:
    out["limit"] = str(e)
    out["note"] = "\n".join(e.__notes__)
out["pytest_loaded"] = "pytest" in sys.modules or "_pytest" in sys.modules
print(json.dumps(out))
"""


def test_firmware_api_without_pytest(tmp_path):
    src = tmp_path / "kern.c"
    src.write_text(SOURCE)
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(src), str(REPO / "build" / "iss-cache"),
                           str(tmp_path / "dumps")], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    a = list(range(-50, 50))
    b = list(range(99, -1, -1))
    expected = sum(p * q for p, q in zip(a, b))     # by hand, not by the firmware
    assert out["value"] == expected
    assert out["total"] == 2 * expected             # the global kept its value between calls
    assert out["cycles"] > 100 and out["per_core"] == 1 and out["cores"] == 4
    assert out["square"] == [v * v for v in range(-20, 20)]
    # plain Python advice: the call's knob, not the command line's nor the plugin's marker
    assert "raise it with max_cycles= of fw.call/fw.run)" in out["limit"]
    assert "--max-cycles" not in out["limit"] and "pytest" not in out["limit"]
    assert "while running spin(int32" in out["note"]
    dump = Path(out["note"].split("dump: ")[1].split()[0])
    assert dump.parent == tmp_path / "dumps" and "CycleLimit" in dump.read_text()
    assert out["pytest_loaded"] is False
