"""Cluster DMA in the style of PULP's mchan v7 (registers and command word as the PULP
runtime's archi/dma/mchan_v7.h and hal/dma/mchan_v7.h define them).

Windows: one model, seen at the shared window (cluster peripherals +0x1800) and
at every core's private demux view (0x1020_4000 + 0x400); a command's issuing
core is the accessing hart, whichever window it uses.

Registers (word accesses only; `REGISTERS` is the one register map, the firmware
header firmware/runtime/include/dma.h is checked against it by a test):

* ``CMD`` 0x0, read: allocate a transfer id (TID, the lowest free of 16) and make
  it the issuing core's current TID: later transfers of that core count on it.
  All 16 allocated: the core stalls (sleeps) until one is freed.
* ``CMD`` 0x0, write: a transfer is pushed as a sequence of words::

      command word   length bits 0-16 (bytes, < 128 KiB), direction bit 17
                     (1: external -> TCDM, 0: TCDM -> external), increment bit 18
                     (must be 1), 2-D on the external side bit 19, event on
                     completion bit 20 (ELE), "IRQ" bit 21 (ILE), broadcast
                     bit 22 (BLE), 2-D on the TCDM side bit 23
      TCDM address
      external address (L2 or TCDM)
      [2-D external:  line length (bytes), line stride (bytes)]
      [2-D TCDM:      line length (bytes), line stride (bytes)]

  (the order of the PULP HAL's ``plp_dma_cmd_push_2d``: length, then stride).
  The transfer is counted on the core's current TID. When ``queue_depth``
  transfers are queued or in flight, the command word stalls the core until
  one completes.
* ``STATUS`` 0x4, read: bits 0-15 = TIDs with transfers still in flight, bits
  16-31 = allocated TIDs. Write: each set bit i of 0-15 frees TID i (the HAL's
  ``plp_dma_counter_free``; ``plp_dma_barrier`` writes -1).

Completion: with ELE the DMA raises event line 8 (``EVT_DMA0``), with ILE line 9
(this cluster has no interrupts: the IRQ line is delivered as an event), to the
issuing core, or to every core with BLE. The copy itself happens at completion
time (the data are read and written at once then).

Timing (``[dma]`` configuration): one engine serves transfers in push order. A
transfer pushed at cycle t whose lines (one line for 1-D; for 2-D the side with
the shorter lines sets the bursts) are l_1..l_n bytes::

    start = max(t, engine_free)
    busy  = sum_i ceil(l_i / bytes_per_cycle)
    engine_free = start + busy
    done  = start + busy + latency          (completion event, copy, STATUS bit clear)

The TCDM side of a transfer takes its banks through the DMA's TCDM port
(iss/timing/tcdm.py), a word per bank request from `start`, so the cores and
the DMA contend for banks: a core that loses waits, a DMA word that loses moves
to the next cycle (the port's `wait`), but `done` stays as above. Busy spans are
recorded as activity "dma" for the profile. Not modelled: non-incremental
transfers (refused).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..memory import CLUSTER_PERIPH_BASE, DMA_OFFSET
from ..sleep import SleepKind
from .base import WAIT, Peripheral

CMD = 0x0
STATUS = 0x4
REGISTERS = {CMD: "CMD", STATUS: "STATUS"}

# command word fields (mchan v7)
LEN_MASK = 0x1FFFF
TYPE_BIT = 17        # 1: ext -> TCDM
INC_BIT = 18
TWD_EXT_BIT = 19
ELE_BIT = 20
ILE_BIT = 21
BLE_BIT = 22
TWD_TCDM_BIT = 23

NB_TID = 16
EVT_DMA0 = 8
EVT_DMA1 = 9


def line_lengths(size: int, count: int) -> list[int]:
    """Lengths of the lines of a 2-D side: full lines of `count`, then the rest."""
    full, rest = divmod(size, count)
    return [count] * full + ([rest] if rest else [])


def transfer_cycles(size: int, line_len: int | None, bytes_per_cycle: int) -> int:
    """Engine-busy cycles of a transfer of `size` bytes in lines of `line_len`
    (None: one line)."""
    if size == 0:
        return 0
    if line_len is None:
        return -(-size // bytes_per_cycle)
    full, rest = divmod(size, line_len)
    return full * -(-line_len // bytes_per_cycle) + (-(-rest // bytes_per_cycle) if rest else 0)


def pattern(base: int, size: int, count: int | None, stride: int | None) -> np.ndarray:
    """Addresses (int64) of the `size` bytes of one side of a transfer."""
    k = np.arange(size, dtype=np.int64)
    if count is None:
        return base + k
    return base + (k // count) * stride + (k % count)


@dataclass
class Transfer:
    tid: int
    core: int
    ext2loc: bool
    size: int
    tcdm: int
    ext: int
    ext_2d: tuple[int, int] | None      # (line length, stride)
    tcdm_2d: tuple[int, int] | None
    ele: bool
    ile: bool
    ble: bool
    start: int = 0
    end: int = 0


@dataclass
class _CoreState:
    tid: int | None = None              # current transfer id
    words: list[int] = field(default_factory=list)   # partial command


class Dma(Peripheral):
    name = "DMA"
    size = 0x400
    registers = REGISTERS

    def __init__(self, config, clock, memory, port, events, activity):
        """`events`: the DMA's two event lines (EVT_DMA0, EVT_DMA1); `port` its
        TCDM port; `memory` the TCDM and L2 it moves data between."""
        self.cfg = config.dma
        self.ncores = config.cluster.cores
        self.clock, self.memory, self.port, self.activity = clock, memory, port, activity
        self.events = events
        self.allocated = 0                  # bitmask of allocated TIDs
        self.pending = [0] * NB_TID         # transfers in flight per TID
        self.cores = [_CoreState() for _ in range(self.ncores)]
        self.outstanding = 0                # queued or in flight
        self.engine_free = 0
        self.stalled = []                   # harts stalled on a full queue or no free TID
        self.transfers_done = 0
        self.bytes_done = 0

    # -- registers ---------------------------------------------------------
    def read(self, hart, offset, size):
        self.check_access(offset, size)
        if offset == CMD:
            free = ~self.allocated & ((1 << NB_TID) - 1)
            if not free:
                return self._stall(hart, "a free transfer id (CMD read: all 16 allocated)")
            tid = (free & -free).bit_length() - 1
            self.allocated |= 1 << tid
            self.cores[hart.id].tid = tid
            return tid
        busy = 0
        for tid, n in enumerate(self.pending):
            if n:
                busy |= 1 << tid
        return busy | (self.allocated << 16)

    def write(self, hart, offset, size, value):
        self.check_access(offset, size)
        value &= 0xFFFFFFFF
        if offset == STATUS:
            self._free(value & 0xFFFF)
            return None
        st = self.cores[hart.id]
        if not st.words:
            if self.outstanding >= self.cfg.queue_depth:
                return self._stall(hart, f"room in the command queue ({self.cfg.queue_depth} transfers)")
            if st.tid is None:
                raise self.error(CMD, "transfer pushed before a transfer id was allocated "
                                      "(read CMD first, as plp_dma_counter_alloc does)")
            if not value >> INC_BIT & 1:
                raise self.error(CMD, f"command 0x{value:08x}: non-incremental transfers are not supported")
        st.words.append(value)
        cmd = st.words[0]
        need = 3 + 2 * (cmd >> TWD_EXT_BIT & 1) + 2 * (cmd >> TWD_TCDM_BIT & 1)
        if len(st.words) == need:
            words, st.words = st.words, []
            self._push(hart, st.tid, words)
        return None

    def _free(self, mask):
        self.allocated &= ~mask
        for st in self.cores:
            if st.tid is not None and mask >> st.tid & 1:
                st.tid = None
        if mask:
            self._wake_waiters()

    def _stall(self, hart, what):
        hart.sleep(f"DMA: {what}", SleepKind.DMA)
        if hart not in self.stalled:
            self.stalled.append(hart)
        return WAIT

    def _wake_waiters(self):
        stalled, self.stalled = self.stalled, []
        at = self.clock.now
        for h in stalled:
            h.wake(at)

    # -- transfers ---------------------------------------------------------
    def _push(self, hart, tid, words):
        cmd, tcdm, ext = words[0], words[1], words[2]
        size = cmd & LEN_MASK
        rest = words[3:]
        ext_2d = tcdm_2d = None
        if cmd >> TWD_EXT_BIT & 1:
            ext_2d, rest = (rest[0], rest[1]), rest[2:]
        if cmd >> TWD_TCDM_BIT & 1:
            tcdm_2d = (rest[0], rest[1])
        t = Transfer(tid=tid, core=hart.id, ext2loc=bool(cmd >> TYPE_BIT & 1), size=size,
                     tcdm=tcdm, ext=ext, ext_2d=ext_2d, tcdm_2d=tcdm_2d,
                     ele=bool(cmd >> ELE_BIT & 1), ile=bool(cmd >> ILE_BIT & 1),
                     ble=bool(cmd >> BLE_BIT & 1))
        self._check_transfer(t)
        lines = [side[0] for side in (ext_2d, tcdm_2d) if side is not None]
        busy = transfer_cycles(size, min(lines) if lines else None, self.cfg.bytes_per_cycle)
        t.start = max(hart.now, self.engine_free)
        self.engine_free = t.start + busy
        t.end = t.start + busy + self.cfg.latency
        if t.size:
            # The TCDM side takes its banks while the engine moves the data.
            self.port.reserve_stream(self._side(t.tcdm, t.size, t.tcdm_2d), t.start, self.cfg.bytes_per_cycle)
        self.pending[tid] += 1
        self.outstanding += 1
        self.clock.schedule(t.end, lambda: self._complete(t))

    def _side(self, base, size, two_d):
        if two_d is None:
            return pattern(base, size, None, None)
        return pattern(base, size, two_d[0], two_d[1])

    def _check_transfer(self, t: Transfer):
        mem = self.memory
        for what, two_d in (("external", t.ext_2d), ("TCDM", t.tcdm_2d)):
            if two_d is not None and two_d[0] == 0:
                raise self.error(CMD, f"2-D {what} line length is 0")
        if t.size == 0:
            return
        for what, base, two_d in (("TCDM", t.tcdm, t.tcdm_2d), ("external", t.ext, t.ext_2d)):
            addrs = self._side(base, t.size, two_d)
            lo, hi = int(addrs.min()), int(addrs.max())
            region = mem.region(lo, hi - lo + 1)
            if region is None or (what == "TCDM" and region[0] is not mem.tcdm):
                where = "TCDM" if what == "TCDM" else "TCDM or L2"
                raise self.error(CMD, f"{what} range 0x{lo & 0xFFFFFFFF:08x}-0x{hi & 0xFFFFFFFF:08x} "
                                      f"of a {t.size}-byte transfer is outside {where}")

    def _complete(self, t: Transfer):
        if t.size:
            mem = self.memory
            src = (t.ext, t.ext_2d) if t.ext2loc else (t.tcdm, t.tcdm_2d)
            dst = (t.tcdm, t.tcdm_2d) if t.ext2loc else (t.ext, t.ext_2d)
            sa = self._side(src[0], t.size, src[1])
            da = self._side(dst[0], t.size, dst[1])
            sbuf, soff = mem.region(int(sa.min()), int(sa.max() - sa.min()) + 1)
            dbuf, doff = mem.region(int(da.min()), int(da.max() - da.min()) + 1)
            data = sbuf[sa - sa.min() + soff]
            dbuf[da - da.min() + doff] = data
            mem.written(int(da.min()), int(da.max() - da.min()) + 1)    # (code loaded by DMA is redecoded)
        self.pending[t.tid] -= 1
        self.outstanding -= 1
        self.transfers_done += 1
        self.bytes_done += t.size
        direction = "L2->TCDM" if t.ext2loc else "TCDM->L2"
        self.activity("dma", f"{direction} {t.size}B tid{t.tid} core{t.core}", t.start, t.end)
        mask = ((1 << self.ncores) - 1) if t.ble else (1 << t.core)
        if t.ele:
            self.events[0](t.end, mask)
        if t.ile:
            self.events[1](t.end, mask)
        self._wake_waiters()


#: Where the DMA answers: the shared window and each core's private demux view.
SHARED_BASE = CLUSTER_PERIPH_BASE + DMA_OFFSET
PRIVATE_OFFSET = 0x400


def install(wiring) -> Dma:
    """Build the DMA, connected to its event lines and a TCDM port, and place it
    on the bus (shared and private views)."""
    dma = Dma(wiring.config, wiring.clock, wiring.memory, wiring.tcdm_port("DMA"),
              [wiring.event_line(EVT_DMA0), wiring.event_line(EVT_DMA1)], wiring.activity)
    wiring.attach(SHARED_BASE, dma)
    wiring.attach_private(PRIVATE_OFFSET, dma)
    return dma
