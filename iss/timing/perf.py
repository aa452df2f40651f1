"""The cores' performance counters, as firmware reads them.

Event e of the PULP runtime's numbering (pmsis `PI_PERF_*`, listed in pmsis.h)
is readable at CSR mhpmcounter(3 + e) = 0xB03 + e, from the cycle model of the
hart that reads it; `pi_perf_start/stop/read` in the runtime build on these.
Events the model has no notion of (instruction-cache misses) read 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .core import K_BRANCH, K_JUMP, K_LOAD, K_RVC, K_STORE

EVENTS = ["CYCLES", "ACTIVE_CYCLES", "INSTR", "LD_STALL", "JR_STALL", "IMISS", "LD", "ST", "JUMP", "BRANCH",
          "BTAKEN", "RVC", "LD_EXT", "ST_EXT", "LD_EXT_CYC", "ST_EXT_CYC", "TCDM_CONT"]
CSR_BASE = 0xB03
CSRS = range(CSR_BASE, CSR_BASE + len(EVENTS))


@dataclass(frozen=True)
class Stall:
    kind: str       # the key in profile_data()["stalls"] and the profile JSON
    label: str      # its column in the profile table
    counted: str    # where the cycle model counts it


#: The stall kinds, in the profile's column order: the one table the profile,
#: its JSON, its table header and Cluster.profile_data follow, and whose native
#: counters (`stall_<kind>` of struct iss_hart) tests/test_counters.py checks.
STALLS = (
    Stall("load_use", "load-use", "static: per instruction (CodeTiming.load_use) times its runs"),
    Stall("branch", "branch", "native stall_branch (taken branches) + static jump cycles times their runs"),
    Stall("tcdm", "tcdm", "native stall_tcdm (waiting for a TCDM bank)"),
    Stall("l2", "l2", "native stall_l2 (L2 latency)"),
    Stall("periph", "periph", "Hart.stall_periph (peripheral accesses beyond the first)"),
    Stall("misaligned", "misal", "native stall_misaligned (second transaction of a misaligned access)"),
)
STALL_KINDS = tuple(s.kind for s in STALLS)


def read(hart, event: int) -> int:
    """Event `event` of `hart` so far (as a 64-bit count)."""
    st, code = hart.native, hart.cluster.code
    name = EVENTS[event]
    if name == "CYCLES":
        return st.cycles
    if name == "ACTIVE_CYCLES":
        return st.cycles - hart.sleep_cycles
    if name == "INSTR":
        return st.instret
    if name == "BTAKEN":
        return st.branches_taken
    if name == "IMISS":
        return 0
    if name == "TCDM_CONT":
        return st.stall_tcdm
    l2_loads = st.l2_accesses - st.l2_stores
    if name == "LD_EXT":
        return l2_loads
    if name == "ST_EXT":
        return st.l2_stores
    if name == "LD_EXT_CYC":
        return l2_loads * st.l2_latency
    if name == "ST_EXT_CYC":
        return st.l2_stores * st.l2_latency
    # Per-instruction classes: how often each instruction ran, times its class.
    count = np.cumsum(hart.exec_diff[:-1], dtype=np.int64)
    t = code.timing
    if name == "LD_STALL":
        return int((count * t.load_use).sum())
    if name == "JR_STALL":
        return int((count * t.jump).sum()) + st.stall_branch
    mask = {"LD": K_LOAD, "ST": K_STORE, "JUMP": K_JUMP, "BRANCH": K_BRANCH, "RVC": K_RVC}[name]
    return int(count[(t.kind & mask) != 0].sum())
