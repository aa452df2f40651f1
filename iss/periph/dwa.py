"""The digital depthwise accelerator (DWA): 3x3 depthwise convolution with
per-channel requantization, int8 in and out, behind an HWPE-style register file.

The paper does not publish its interface; this one is ours, shaped like the IMA's
(same control block at 0x00-0x14). One instance at ``ACCEL_BASE`` (0x1021_0000,
slot 0 of the accelerator area; IMA i >= 1 use slots i). Register map:
``REGISTERS`` (firmware/runtime/include/dwa.h is checked against it)::

    0x00 TRIGGER        write: start the job (stalls the core while busy)
    0x04 ACQUIRE        read: 0 (and locked for the caller) when idle or the caller's, -1 otherwise
    0x08 FINISHED_JOBS  jobs finished since the last read (clears on read)
    0x0C STATUS         1 while a job runs
    0x10 RUNNING_TASK   0 while locked or busy, -1 when free
    0x14 SOFT_CLEAR     write: abort the job, release the lock
    0x20 IN_ADDR        input  int8 [H][W][C] (HWC), row h at IN_ADDR + h*IN_ROW_STRIDE
    0x24 OUT_ADDR       output int8 [Ho][Wo][C], row i at OUT_ADDR + i*OUT_ROW_STRIDE
    0x28 WEIGHT_ADDR    int8  [3][3][C]  (w[kh][kw][c], iss.nn.layers' depthwise layout)
    0x2C BIAS_ADDR      int32 [C]        accumulator start value
    0x30 MULT_ADDR      int32 [C]        requant multiplier, 0 <= mult < 2^31
    0x34 SHIFT_ADDR     uint8 [C]        requant shift, 0..31
    0x38 DIM_H, 0x3C DIM_W, 0x40 DIM_C   input height, width, channels (>= 1)
    0x44 STRIDE         1 or 2
    0x48 PADDING        one zero row/column per set bit: bit 0 top, 1 bottom, 2 left,
                        3 right (0xF: "same" padding 1; asymmetric for tiles)
    0x4C CLAMP_LO, 0x50 CLAMP_HI   output clamp, signed (ReLU6: 0, 127; linear: -128, 127)
    0x54 IN_ROW_STRIDE, 0x58 OUT_ROW_STRIDE   bytes between rows (0: dense, W*C / Wo*C)

All arrays in TCDM. Arithmetic (identical to iss.nn.layers.depthwise followed by
iss.nn.quant.requantize; see iss/nn/quant.py)::

    Ho = (H + top + bottom - 3) // STRIDE + 1,  Wo likewise
    acc[i][j][c] = bias[c] + sum_{kh,kw} x_pad[i*S + kh][j*S + kw][c] * w[kh][kw][c]
    out[i][j][c] = clamp((acc*mult[c] + (shift[c] ? 1 << (shift[c]-1) : 0)) >> shift[c],
                         CLAMP_LO, CLAMP_HI)          (>> arithmetic, exact 64-bit product)

Timing (``[dwa]`` configuration)::

    MACs   = Ho*Wo*C*9
    bytes  = H*W*C + Ho*Wo*C + 9*C + 9*C          (input once, output, weights, bias+mult+shift)
    cycles = setup_cycles + max(ceil(MACs / macs_per_cycle), ceil(bytes / port_bytes))

The job reads its operands at TRIGGER and writes its output when it ends; then it
raises event line ``[dwa] event_line`` (13) for all cores.
"""
from __future__ import annotations

import numpy as np

from ..memory import ACCEL_BASE
from .hwpe import ACQUIRE, FINISHED_JOBS, READ_ONLY, RUNNING_TASK, SOFT_CLEAR, STATUS, TRIGGER, Hwpe  # noqa: F401

# TRIGGER .. SOFT_CLEAR: the HWPE control block (hwpe.py)
IN_ADDR = 0x20
OUT_ADDR = 0x24
WEIGHT_ADDR = 0x28
BIAS_ADDR = 0x2C
MULT_ADDR = 0x30
SHIFT_ADDR = 0x34
DIM_H = 0x38
DIM_W = 0x3C
DIM_C = 0x40
STRIDE = 0x44
PADDING = 0x48
CLAMP_LO = 0x4C
CLAMP_HI = 0x50
IN_ROW_STRIDE = 0x54
OUT_ROW_STRIDE = 0x58

#: The one register map (offset -> name); dwa.h's DWA_<name> defines are checked against it.
REGISTERS = {globals()[name]: name for name in (
    "TRIGGER", "ACQUIRE", "FINISHED_JOBS", "STATUS", "RUNNING_TASK", "SOFT_CLEAR",
    "IN_ADDR", "OUT_ADDR", "WEIGHT_ADDR", "BIAS_ADDR", "MULT_ADDR", "SHIFT_ADDR",
    "DIM_H", "DIM_W", "DIM_C", "STRIDE", "PADDING", "CLAMP_LO", "CLAMP_HI",
    "IN_ROW_STRIDE", "OUT_ROW_STRIDE")}

BASE = ACCEL_BASE
WINDOW_SIZE = 0x100
PAD_TOP, PAD_BOTTOM, PAD_LEFT, PAD_RIGHT = 1, 2, 4, 8


def _s32(v: int) -> int:
    return v - (1 << 32) if v & 0x80000000 else v


def output_size(h: int, w: int, stride: int, padding: int) -> tuple[int, int]:
    top, bottom = padding & PAD_TOP and 1, padding & PAD_BOTTOM and 1
    left, right = padding & PAD_LEFT and 1, padding & PAD_RIGHT and 1
    return (h + top + bottom - 3) // stride + 1, (w + left + right - 3) // stride + 1


def job_cycles(config, h: int, w: int, c: int, stride: int, padding: int) -> int:
    """Cycles of one job (module docstring formula)."""
    s = config.dwa
    ho, wo = output_size(h, w, stride, padding)
    macs = ho * wo * c * 9
    nbytes = h * w * c + ho * wo * c + 18 * c
    return s.setup_cycles + max(-(-macs // s.macs_per_cycle), -(-nbytes // s.port_bytes))


def compute(x, weights, bias, mult, shift, stride, padding, lo, hi):
    """The DWA datapath on numpy arrays: x int8 [H, W, C] -> int8 [Ho, Wo, C]."""
    h, w, c = x.shape
    top, bottom = padding & PAD_TOP and 1, padding & PAD_BOTTOM and 1
    left, right = padding & PAD_LEFT and 1, padding & PAD_RIGHT and 1
    xp = np.zeros((h + top + bottom, w + left + right, c), dtype=np.int64)
    xp[top:top + h, left:left + w] = x
    ho, wo = output_size(h, w, stride, padding)
    # line-buffer view: every output pixel's 3x3 window, per channel
    win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(0, 1))[::stride, ::stride][:ho, :wo]
    acc = np.einsum("ijcab,abc->ijc", win, weights.astype(np.int64)) + bias.astype(np.int64)
    sh = shift.astype(np.int64)
    rnd = np.where(sh > 0, np.int64(1) << np.maximum(sh - 1, 0), 0)
    out = (acc * mult.astype(np.int64) + rnd) >> sh
    return np.clip(out, lo, hi).astype(np.int8)


class Dwa(Hwpe):
    name = "DWA"
    idle_text = "the running job ends"
    size = WINDOW_SIZE
    registers = REGISTERS

    def __init__(self, config, clock, memory, port, done_line, activity):
        """`done_line`: the event line of its end-of-job event; `port` its TCDM
        port; `memory` the TCDM it reads and writes."""
        super().__init__(clock, done_line)
        self.config, self.cfg = config, config.dwa
        self.memory, self.port, self.activity = memory, port, activity
        self.regs = dict.fromkeys(REGISTERS, 0)
        self.running = False         # a job runs
        self.macs = 0                # statistics (the energy model reads them)
        self.stream_words = 0

    def write_register(self, hart, offset, value):
        if self.busy:
            raise self.error(offset, "written while a job is running (wait for the end event)")
        self.regs[offset] = value
        return None

    def _array(self, reg, nbytes, dtype):
        mem = self.memory
        addr = self.regs[reg]
        if not (mem.tcdm_base <= addr and addr + nbytes <= mem.tcdm_end):
            raise self.error(reg, f"0x{addr:08x}-0x{addr + nbytes - 1:08x} is outside TCDM")
        if np.dtype(dtype).itemsize > 1 and addr % np.dtype(dtype).itemsize:
            raise self.error(reg, f"0x{addr:08x} is not {np.dtype(dtype).itemsize}-byte aligned")
        return mem.view(addr, nbytes).view(dtype)

    def _rows(self, reg, stride_reg, rows, row_bytes):
        """Byte offsets check and a [rows, row_bytes] uint8 strided view of TCDM."""
        mem = self.memory
        addr, stride = self.regs[reg], self.regs[stride_reg] or row_bytes
        if stride < row_bytes:
            raise self.error(stride_reg, f"row stride {stride} is shorter than a row ({row_bytes} bytes)")
        end = addr + (rows - 1) * stride + row_bytes
        if not (mem.tcdm_base <= addr and end <= mem.tcdm_end):
            raise self.error(reg, f"0x{addr:08x}-0x{end - 1:08x} is outside TCDM")
        base = mem.view(addr, end - addr)
        return np.lib.stride_tricks.as_strided(base, shape=(rows, row_bytes), strides=(stride, 1))

    def trigger(self, hart):
        r = self.regs
        h, w, c = r[DIM_H], r[DIM_W], r[DIM_C]
        for reg, v in ((DIM_H, h), (DIM_W, w), (DIM_C, c)):
            if not 1 <= v <= 0xFFFF:
                raise self.error(reg, f"dimension {v} must be 1-65535")
        stride = r[STRIDE]
        if stride not in (1, 2):
            raise self.error(STRIDE, f"stride {stride} must be 1 or 2")
        pad = r[PADDING]
        if pad > 0xF:
            raise self.error(PADDING, f"0x{pad:x}: only bits 0-3 (top, bottom, left, right) exist")
        lo, hi = _s32(r[CLAMP_LO]), _s32(r[CLAMP_HI])
        if not -128 <= lo <= hi <= 127:
            raise self.error(CLAMP_HI, f"clamp [{lo}, {hi}] is not an int8 range with CLAMP_LO <= CLAMP_HI")
        ho, wo = output_size(h, w, stride, pad)
        if ho < 1 or wo < 1:
            raise self.error(DIM_H if ho < 1 else DIM_W, f"input {h}x{w} with this padding gives no output")
        x = self._rows(IN_ADDR, IN_ROW_STRIDE, h, w * c).view(np.int8).reshape(h, w, c).copy()
        weights = self._array(WEIGHT_ADDR, 9 * c, np.int8).reshape(3, 3, c).copy()
        bias = self._array(BIAS_ADDR, 4 * c, np.int32).copy()
        mult = self._array(MULT_ADDR, 4 * c, np.int32).copy()
        shift = self._array(SHIFT_ADDR, c, np.uint8).copy()
        if (mult < 0).any():
            raise self.error(MULT_ADDR, f"channel {int(np.argmax(mult < 0))}: multiplier must be >= 0")
        if (shift > 31).any():
            raise self.error(SHIFT_ADDR, f"channel {int(np.argmax(shift > 31))}: shift must be 0-31")
        self._rows(OUT_ADDR, OUT_ROW_STRIDE, ho, wo * c)      # checks the output range now
        out = compute(x, weights, bias, mult, shift, stride, pad, lo, hi)
        start = hart.now
        end = start + job_cycles(self.config, h, w, c, stride, pad)
        # Its port streams the input in from the start and the output out by the end.
        port = self.cfg.port_bytes
        in_rows = self._rows(IN_ADDR, IN_ROW_STRIDE, h, w * c)
        out_rows = self._rows(OUT_ADDR, OUT_ROW_STRIDE, ho, wo * c)
        mem = self.memory
        for rows, t in ((in_rows, start), (out_rows, max(start, end - (out_rows.size + port - 1) // port))):
            offsets = (np.arange(rows.shape[0])[:, None] * rows.strides[0] + np.arange(rows.shape[1])[None, :])
            base = rows.__array_interface__["data"][0] - mem.tcdm.ctypes.data + mem.tcdm_base
            self.port.reserve_stream((base + offsets).ravel(), t, port)
        self.running = True
        if self.owner is None:
            self.owner = hart.id
        gen = self.gen
        label = f"dw3x3 s{stride} {h}x{w}x{c}"
        words = -(-(h * w * c + ho * wo * c + 18 * c) // 4)   # input, output, weights and requant
        self.clock.schedule(end, lambda: self._done(gen, out, start, end, label, words))

    def _done(self, gen, out, start, end, label, words):
        if gen != self.gen:
            return
        ho, wo, c = out.shape
        self.macs += ho * wo * c * 9
        self.stream_words += words
        self._rows(OUT_ADDR, OUT_ROW_STRIDE, ho, wo * c)[:] = out.reshape(ho, wo * c).view(np.uint8)
        self.finished += 1
        self.jobs_done += 1
        self.activity(self.name, label, start, end)
        self.end_job(end)

    @property
    def busy(self) -> bool:
        return self.running

    def release(self):
        self.running, self.owner = False, None


def install(wiring) -> Dwa:
    """Build the DWA, connected to its event line (`[dwa] event_line`) and a
    TCDM port, and place it on the bus at ACCEL_BASE."""
    cfg = wiring.config
    dwa = Dwa(cfg, wiring.clock, wiring.memory, wiring.tcdm_port("DWA"), wiring.event_line(cfg.dwa.event_line),
              wiring.activity)
    wiring.attach(BASE, dwa)
    return dwa
