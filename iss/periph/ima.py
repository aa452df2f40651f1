"""The in-memory accelerator (IMA): a 256x256 PCM crossbar behind an HWPE
register file, after GVSoC's ``ima_v1`` model.

Instances (``[ima] count``): IMA 0 answers at the cluster's HWPE slot
(0x1020_1000); IMA i >= 1 at ``ACCEL_BASE + 0x100*i`` (0x1021_0000 + 0x100*i).
Slot 0 of ACCEL_BASE holds the depthwise accelerator (iss/periph/dwa.py).
Every IMA raises event line ``[ima] event_line`` (12) for all cores when its last
job ends: with 34 IMAs and four accelerator lines, lines cannot be per instance;
a waiting core re-reads STATUS of the IMA it waits for.

Register map: ``REGISTERS`` below (offsets of GVSoC's ``ima_v1.h``; GVSoC spells
P_HIGHT, J_HIGHT, J_SRC_STRID, J_DST_STRID: firmware/runtime/include/ima.h keeps
those spellings as aliases). Registers reset to 0; the crossbar resets to the
identity (as GVSoC), but a job may only use cells that were programmed.

Control:

* ``ACQUIRE`` (read): 0 and the IMA is locked for the caller when it is idle (or
  already locked by the caller: a deviation, so nested driver calls cannot
  deadlock), 0xFFFFFFFF (-1) otherwise. ``RUNNING_TASK`` reads 0 while locked or busy, -1
  when free; the lock is released when a job sequence, a plot window or a
  read-back ends (GVSoC). Deviation: jobs and plots are accepted without a prior
  ACQUIRE (GVSoC rejects them); firmware that acquires runs on both.
* ``STATUS``: 1 while a job sequence runs or a plot word is being written.
* ``FINISHED_JOBS``: jobs completed (stream-out done) since the last read; reading
  clears it. (GVSoC's counter is jobs computed minus jobs streamed out.)
* ``CHECK_STATE``: 0 idle, 1 acquired, 2 programming (a plot word in flight),
  3 running jobs.
* ``SOFT_CLEAR`` (write): abort the running job sequence or plot word, release the
  lock; registers and crossbar keep their values.
* A ``TRIGGER``, ``SUBMIT_PLOT`` or ``PR_VAL`` access while the IMA is busy stalls
  the core (clock-gated, no event consumed) until the IMA is free. Writing any other
  register while jobs run is an error (it would corrupt the running jobs); while a
  plot word is being written it stalls.

Weight programming (plot): P_START_X (column), P_START_Y (row), P_WIDTH, P_HEIGHT
set a window and rewind the write pointer to its top-left cell. Each
``SUBMIT_PLOT`` word writes 8 signed 4-bit weights (two's complement, low nibble
first) into row ``y``, columns ``x..x+7``, then advances ``x`` by 8, wrapping to
the next row at the window's right edge (``iss.nn.ima_model.pack_plot_words``
produces these words). Programming a word takes ``plot_write_ns`` (8 cells in
parallel); the store is posted and the next SUBMIT_PLOT (or any access that needs
the IMA idle) stalls until the previous word is written, so a window of n words
keeps the core n * plot_write_ns, as GVSoC's blocking store does, less the last word. Deviation: nibbles beyond the window's right edge
are ignored (GVSoC writes all 8 columns, clobbering the neighbouring cells).
After the window's last word the IMA is idle and unlocked and raises its event. Read-back: write
PR_ADDR_X/PR_ADDR_Y, read PR_VAL: the 8 cells of row PR_ADDR_Y from column
PR_ADDR_X packed the same way (cells past column 255 read 0; read time not charged).

Jobs (``TRIGGER`` runs NUM_JOBS jobs): per job

* stream-in: JOB_FEAT_LENGTH lines of JOB_LINE_LENGTH int8 bytes, line f at
  ``J_SRC_ADDR + f*J_SRC_STRIDE``, concatenated into the crossbar rows
  ``J_START_Y ..`` (J_HEIGHT rows; LINE_LENGTH * FEAT_LENGTH must equal J_HEIGHT;
  both 0 means one line of J_HEIGHT bytes);
* compute: the exact integer MVM (``crossbar_mvm``: bit-serial inputs, integer
  ADC; an implementation of its own, checked against ``iss.nn.ima_model.mvm``) on the window rows
  J_START_Y.., columns J_START_X.. (J_WIDTH), ADC range ADC_LOW/ADC_HIGH **in
  accumulator units** (see ima_model: GVSoC register value R is 889*R here);
* stream-out: J_WIDTH int8 results to ``J_DST_ADDR`` contiguously. Deviation:
  GVSoC's store streamer walks the input line geometry (only differs when
  J_WIDTH > JOB_LINE_LENGTH); J_DST_STRIDE is kept but unused.
* between jobs (not before the first) the addresses step as in GVSoC: while
  alpha count < ALPHA_*_LENGTH add ALPHA_*_STRIDE, else add BETA_*_STRIDE, reset
  alpha and count beta (wrapping at BETA_*_LENGTH); nothing when BETA_*_LENGTH is
  0. J_SRC_ADDR/J_DST_ADDR read back the address of the job in progress.
  FETCH_LENGTH, STORE_LENGTH, JOB_FEAT_STRIDE, JOB_LL_MEMT, JOB_FEAT_ROLL and
  DW_MODE are stored and ignored (as in GVSoC).

Inputs are latched at the end of each job's stream-in and outputs written at the
end of its stream-out (so cores and the DMA see the data at those cycles).

Timing (cycles; P = ``stream_ports`` 32-bit ports, L = JOB_LINE_LENGTH,
F = JOB_FEAT_LENGTH, W = J_WIDTH, ``ceil4(n) = ceil(n/4)``)::

    S_in  = F * (ceil(ceil4(L) / P) + 1) + fifo_cycles     (+1 cycle per new line)
    S_out = ceil(ceil4(W) / P) + 1 + fifo_cycles
    C     = floor(eval_ns / clock period) + 1              (130 ns at 500 MHz: 66)
    T_1   = idle_cycles + S_in + C + S_out                 (one job, TRIGGER -> event)

``pipeline = false``: jobs run back to back (GVSoC): T_N = N * T_1.
``pipeline = true`` (default): the DAC latches a job's inputs when its MVM starts,
so the stream-in of job k+1 overlaps the MVM of job k; the streamer ports serve
one stream at a time in the order in_0, in_1, out_0, in_2, out_1, ...
Recurrence (t0 = TRIGGER cycle, c_e[-1] = t0, port = t0)::

    in_s[k]  = max(port, c_s[k-1]) + idle_cycles ;  in_e[k] = in_s[k] + S_in ; port = in_e[k]
    c_s[k]   = max(in_e[k], c_e[k-1])            ;  c_e[k]  = c_s[k] + C
    out_s[k-1] = max(port, c_e[k-1]) ; port = out_e[k-1] = out_s[k-1] + S_out
    (after the last job: out_s[N-1] = max(port, c_e[N-1]))

In steady state a job starts every max(C, idle_cycles + S_in + S_out) cycles;
when compute-bound (idle_cycles + S_in + S_out <= C) exactly
T_N = idle_cycles + S_in + N*C + S_out.

Noise (off by default, seeded with ``seed + instance``): programming noise drawn
once per programmed cell (``iss.nn.ima_model.program_conductances``), read noise
drawn per MVM (``mvm_conductances``); with both sigmas 0 the exact integer MVM runs.

Errors (the hart adds its PC) name the IMA instance and the register: window
outside the crossbar, a job window with unprogrammed cells, ADC range 0, stream
addresses outside TCDM, NUM_JOBS 0, line geometry not matching J_HEIGHT.
"""
from __future__ import annotations

import functools

import numpy as np

from ..memory import ACCEL_BASE, CLUSTER_PERIPH_BASE, HWPE_OFFSET
from ..nn import ima_model
from .hwpe import ACQUIRE, FINISHED_JOBS, READ_ONLY, RUNNING_TASK, SOFT_CLEAR, STATUS, TRIGGER, Hwpe  # noqa: F401

XBAR_ROWS = ima_model.XBAR_ROWS
XBAR_COLS = ima_model.XBAR_COLS

# Input bit weights of an int8 in two's complement: bit 7 counts -128.
_BIT_WEIGHTS = np.array([1, 2, 4, 8, 16, 32, 64, -128], dtype=np.float32)
# Bit b of each byte value (row: the byte), as the DAC of step b drives it.
_BITS = ((np.arange(256)[:, None] >> np.arange(8)) & 1).astype(np.float32)


def crossbar_mvm(x, weights, adc_low: int, adc_high: int) -> np.ndarray:
    """The macro's noise-free datapath, written apart from the golden model
    (iss.nn.ima_model.mvm) so that each checks the other (tests/periph/
    test_ima_datapath.py): the int8 inputs are applied bit-serially, one bit plane
    per step as the DACs drive the rows, each plane's column sums weighted by its
    bit (bit 7: -128); the ADC then clamps to [-ADC_LOW, ADC_HIGH] and scales by
    127/(ADC_LOW + ADC_HIGH) with an integer division whose remainder decides the
    rounding (half away from zero), saturating at +-127."""
    # Row r, column b: bit b of input r (bit 7 of an int8 is its sign bit).
    planes = _BITS[np.asarray(x, dtype=np.int8).view(np.uint8)]
    # Each step: the rows whose input bit is set drive the columns (all eight
    # bit planes in one product); the steps' sums weighted by their bits. All are
    # integers below 2^24 in magnitude (256 rows x 8 x 255): exact in float32,
    # whose products are cheaper than integer ones.
    wf = np.asarray(weights, dtype=np.float32)
    acc = (_BIT_WEIGHTS @ (planes.T @ wf)).astype(np.int64)
    lo, hi = int(adc_low), int(adc_high)
    # (np.maximum/minimum in place: np.clip costs more than the product here)
    np.maximum(acc, -lo, out=acc)
    np.minimum(acc, hi, out=acc)
    acc += lo
    return _adc_codes(lo, hi)[acc]


@functools.lru_cache(maxsize=16)
def _adc_codes(lo: int, hi: int) -> np.ndarray:
    """The ADC's code for every clamped column sum -lo..hi (index: sum + lo):
    scaled by 127/(lo + hi) with an integer division whose remainder decides the
    rounding (half away from zero), saturating at +-127. A job converts many
    columns with one range, so the table is made once per range."""
    clamped = np.arange(-lo, hi + 1, dtype=np.int64)
    span = lo + hi
    quotient, remainder = np.divmod(np.abs(clamped) * 127, span)
    magnitude = np.minimum(quotient + (2 * remainder >= span), 127)
    codes = np.where(clamped < 0, -magnitude, magnitude).astype(np.int8)
    codes.flags.writeable = False
    return codes

# TRIGGER .. SOFT_CLEAR: the HWPE control block (hwpe.py)
CHECK_STATE = 0x18
P_START_X = 0x20
P_START_Y = 0x24
P_WIDTH = 0x28
P_HEIGHT = 0x2C
SUBMIT_PLOT = 0x30
J_START_X = 0x34
J_START_Y = 0x38
J_WIDTH = 0x3C
J_HEIGHT = 0x40
J_SRC_ADDR = 0x44
J_DST_ADDR = 0x48
J_SRC_STRIDE = 0x4C
J_DST_STRIDE = 0x50
ADC_LOW = 0x54
ADC_HIGH = 0x58
FETCH_LENGTH = 0x5C
STORE_LENGTH = 0x60
JOB_LINE_LENGTH = 0x64
JOB_FEAT_STRIDE = 0x68
JOB_FEAT_LENGTH = 0x6C
NUM_JOBS = 0x70
ALPHA_IN_LENGTH = 0x74
ALPHA_IN_STRIDE = 0x78
BETA_IN_LENGTH = 0x7C
BETA_IN_STRIDE = 0x80
ALPHA_OUT_LENGTH = 0x84
ALPHA_OUT_STRIDE = 0x88
BETA_OUT_LENGTH = 0x8C
BETA_OUT_STRIDE = 0x90
JOB_LL_MEMT = 0x94
JOB_FEAT_ROLL = 0x98
DW_MODE = 0x9C
PR_ADDR_X = 0xA0
PR_ADDR_Y = 0xA4
PR_VAL = 0xA8

#: The one register map (offset -> name); ima.h's IMA_<name> defines are checked against it.
REGISTERS = {globals()[name]: name for name in (
    "TRIGGER", "ACQUIRE", "FINISHED_JOBS", "STATUS", "RUNNING_TASK", "SOFT_CLEAR", "CHECK_STATE",
    "P_START_X", "P_START_Y", "P_WIDTH", "P_HEIGHT", "SUBMIT_PLOT",
    "J_START_X", "J_START_Y", "J_WIDTH", "J_HEIGHT", "J_SRC_ADDR", "J_DST_ADDR", "J_SRC_STRIDE",
    "J_DST_STRIDE", "ADC_LOW", "ADC_HIGH", "FETCH_LENGTH", "STORE_LENGTH", "JOB_LINE_LENGTH",
    "JOB_FEAT_STRIDE", "JOB_FEAT_LENGTH", "NUM_JOBS", "ALPHA_IN_LENGTH", "ALPHA_IN_STRIDE",
    "BETA_IN_LENGTH", "BETA_IN_STRIDE", "ALPHA_OUT_LENGTH", "ALPHA_OUT_STRIDE", "BETA_OUT_LENGTH",
    "BETA_OUT_STRIDE", "JOB_LL_MEMT", "JOB_FEAT_ROLL", "DW_MODE", "PR_ADDR_X", "PR_ADDR_Y", "PR_VAL")}

WINDOW_SIZE = 0x100
STATE_IDLE, STATE_ACQUIRED, STATE_PLOT, STATE_JOBS = 0, 1, 2, 3


def base_address(index: int) -> int:
    """Bus address of IMA instance `index`."""
    return CLUSTER_PERIPH_BASE + HWPE_OFFSET if index == 0 else ACCEL_BASE + WINDOW_SIZE * index


def stream_cycles(config, line_length: int, feat_length: int, width: int) -> tuple[int, int, int]:
    """(S_in, C, S_out) of one job, per the module docstring."""
    s = config.ima
    ports = s.stream_ports
    s_in = feat_length * (-(-(-(-line_length // 4)) // ports) + 1) + s.fifo_cycles
    s_out = -(-(-(-width // 4)) // ports) + 1 + s.fifo_cycles
    return s_in, config.ns_to_cycles(s.eval_ns), s_out


def job_schedule(n: int, t0: int, s_in: int, c: int, s_out: int, idle: int, pipeline: bool):
    """Cycles of each job's phases: lists in_s, in_e, c_s, c_e, out_s, out_e
    (the recurrence of the module docstring)."""
    in_s, in_e, c_s, c_e, out_s, out_e = ([0] * n for _ in range(6))
    if not pipeline:
        t = t0
        for k in range(n):
            in_s[k] = t + idle
            in_e[k] = c_s[k] = in_s[k] + s_in
            c_e[k] = out_s[k] = c_s[k] + c
            out_e[k] = t = out_s[k] + s_out
        return in_s, in_e, c_s, c_e, out_s, out_e
    port = t0
    prev_cs = prev_ce = t0
    for k in range(n):
        in_s[k] = max(port, prev_cs) + idle
        in_e[k] = port = in_s[k] + s_in
        c_s[k] = max(in_e[k], prev_ce)
        c_e[k] = c_s[k] + c
        if k:
            out_s[k - 1] = max(port, prev_ce)
            out_e[k - 1] = port = out_s[k - 1] + s_out
        prev_cs, prev_ce = c_s[k], c_e[k]
    out_s[n - 1] = max(port, prev_ce)
    out_e[n - 1] = out_s[n - 1] + s_out
    return in_s, in_e, c_s, c_e, out_s, out_e


def step_addresses(base: int, n: int, alpha_len: int, alpha_stride: int, beta_len: int, beta_stride: int):
    """Addresses of jobs 0..n-1 under GVSoC's alpha/beta auto-increment."""
    out = [0] * n
    addr, alpha, beta = base, 0, 0
    for k in range(n):
        if k and beta < beta_len:
            if alpha < alpha_len:
                addr += alpha_stride
                alpha += 1
            else:
                addr += beta_stride
                alpha = 0
                beta += 1
                if beta == beta_len:
                    beta = 0
        out[k] = addr & 0xFFFFFFFF
    return out


def _s32(v: int) -> int:
    return v - (1 << 32) if v & 0x80000000 else v


class Ima(Hwpe):
    size = WINDOW_SIZE
    registers = REGISTERS

    def __init__(self, config, clock, memory, port, done_line, activity, index: int = 0):
        """`done_line`: the event line of its end-of-job event; `port` its TCDM
        port (the streamers); `memory` the TCDM it streams from and to."""
        super().__init__(clock, done_line)
        self.index = index
        self.name = f"IMA{index}"
        self.config, self.cfg = config, config.ima
        self.memory, self.port, self.activity = memory, port, activity
        self.regs = dict.fromkeys(REGISTERS, 0)
        self.weights = np.eye(XBAR_ROWS, XBAR_COLS, dtype=np.int8)     # crossbar[row][col]
        self.programmed = np.zeros((XBAR_ROWS, XBAR_COLS), dtype=bool)
        self.noisy = bool(self.cfg.sigma_prog or self.cfg.sigma_read)
        self.rng = np.random.default_rng(self.cfg.seed + index)
        self.conductance = self.weights.astype(np.float64) if self.noisy else None
        self.state = STATE_IDLE
        self.plot_x = self.plot_y = None     # next cell to program (None: no open window)
        self.plot_span_start = None
        self.mvms = 0
        self.ops = 0                 # 2 x rows x columns of each job's window
        self.stream_words = 0        # 32-bit words streamed in and out

    # -- bus ---------------------------------------------------------------
    read_only = READ_ONLY | {CHECK_STATE, PR_VAL}

    def read_register(self, hart, offset):
        if offset == CHECK_STATE:
            return self.state
        if offset == PR_VAL:
            if self.busy:
                return self.stall(hart, "PR_VAL")
            return self._read_back()
        return self.regs[offset]

    def peek(self, core, offset, size):
        # ACQUIRE locks, FINISHED_JOBS clears and PR_VAL may stall on read.
        if offset in (ACQUIRE, FINISHED_JOBS, PR_VAL) or offset not in self.registers or size != 4:
            return None
        return self.read(None, offset, size)

    def write_register(self, hart, offset, value):
        if offset == SUBMIT_PLOT:
            if self.busy:
                return self.stall(hart, "SUBMIT_PLOT")
            self._submit_plot(hart, value)
            return None
        if self.state == STATE_JOBS:
            raise self.error(offset, "written while jobs are running (wait for the end event)")
        if self.state == STATE_PLOT:
            return self.stall(hart, self.register_name(offset))
        self.regs[offset] = value
        if offset in (P_START_X, P_START_Y, P_WIDTH, P_HEIGHT):
            self.plot_x, self.plot_y = self.regs[P_START_X], self.regs[P_START_Y]
            self.plot_span_start = None
        return None

    @property
    def busy(self) -> bool:
        return self.state in (STATE_PLOT, STATE_JOBS)

    def acquired(self):
        self.state = STATE_ACQUIRED

    def release(self):
        self.state, self.owner = STATE_IDLE, None

    # -- weight programming ------------------------------------------------
    def _submit_plot(self, hart, value):
        r = self.regs
        x0, y0, w, h = r[P_START_X], r[P_START_Y], r[P_WIDTH], r[P_HEIGHT]
        if w == 0 or x0 + w > XBAR_COLS:
            raise self.error(P_WIDTH, f"plot window columns {x0}..{x0 + w - 1} (P_START_X={x0}, "
                                      f"P_WIDTH={w}) are not inside the {XBAR_COLS}-column crossbar")
        if h == 0 or y0 + h > XBAR_ROWS:
            raise self.error(P_HEIGHT, f"plot window rows {y0}..{y0 + h - 1} (P_START_Y={y0}, "
                                       f"P_HEIGHT={h}) are not inside the {XBAR_ROWS}-row crossbar")
        if self.plot_x is None:
            raise self.error(SUBMIT_PLOT, "plot window already complete: write P_START_X/P_START_Y/"
                                          "P_WIDTH/P_HEIGHT to program another")
        x, y = self.plot_x, self.plot_y
        n = min(8, x0 + w - x)
        if any((value >> (4 * k)) & 0xF == 8 for k in range(n)):
            raise self.error(SUBMIT_PLOT, f"word 0x{value:08x} holds weight -8 (4-bit weights are -7..7)")
        now = hart.now
        end = now + self.config.ns_to_cycles(self.cfg.plot_write_ns)
        if self.plot_span_start is None:
            self.plot_span_start = now
        self.state = STATE_PLOT
        if self.owner is None:
            self.owner = hart.id
        self.regs[SUBMIT_PLOT] = value
        # advance the write pointer now; the cells change when the word is written
        nx, ny = x + 8, y
        if nx >= x0 + w:
            nx, ny = x0, y + 1
        last = ny >= y0 + h
        self.plot_x, self.plot_y = (None, None) if last else (nx, ny)
        gen = self.gen
        self.clock.schedule(end, lambda: self._plot_done(gen, x, y, n, value, end, last))

    def _plot_done(self, gen, x, y, n, word, end, last):
        if gen != self.gen:
            return
        nib = np.array([(word >> (4 * k)) & 0xF for k in range(n)], dtype=np.int8)
        cells = np.where(nib >= 8, nib - 16, nib).astype(np.int8)
        self.weights[y, x:x + n] = cells
        self.programmed[y, x:x + n] = True
        if self.noisy:
            self.conductance[y, x:x + n] = ima_model.program_conductances(cells, self.cfg.sigma_prog, self.rng)
        if last:
            self.activity(self.name, "program weights", self.plot_span_start, end)
            self.plot_span_start = None
            self.end_job(end)
        else:
            self.state = STATE_ACQUIRED
            self.wake_stalled(end)

    def _read_back(self):
        x, y = self.regs[PR_ADDR_X], self.regs[PR_ADDR_Y]
        if x >= XBAR_COLS or y >= XBAR_ROWS:
            raise self.error(PR_VAL, f"read-back cell (PR_ADDR_X={x}, PR_ADDR_Y={y}) is outside the crossbar")
        word = 0
        for k in range(8):
            if x + k < XBAR_COLS:
                word |= (int(self.weights[y, x + k]) & 0xF) << (4 * k)
        self.release()
        return word

    # -- jobs --------------------------------------------------------------
    def trigger(self, hart):
        r = self.regs
        x0, y0, w, h = r[J_START_X], r[J_START_Y], r[J_WIDTH], r[J_HEIGHT]
        if w == 0 or x0 + w > XBAR_COLS:
            raise self.error(J_WIDTH, f"job columns {x0}..{x0 + w - 1} (J_START_X={x0}, J_WIDTH={w}) "
                                      f"are not inside the {XBAR_COLS}-column crossbar")
        if h == 0 or y0 + h > XBAR_ROWS:
            raise self.error(J_HEIGHT, f"job rows {y0}..{y0 + h - 1} (J_START_Y={y0}, J_HEIGHT={h}) "
                                       f"are not inside the {XBAR_ROWS}-row crossbar")
        window = self.programmed[y0:y0 + h, x0:x0 + w]
        if not window.all():
            if not self.programmed.any():
                raise self.error(TRIGGER, "job triggered but no weights were programmed (SUBMIT_PLOT)")
            r_, c_ = np.argwhere(~window)[0]
            raise self.error(TRIGGER, f"job window rows {y0}..{y0 + h - 1}, columns {x0}..{x0 + w - 1} "
                                      f"uses unprogrammed cells (first: row {y0 + r_}, column {x0 + c_})")
        lo, hi = r[ADC_LOW], r[ADC_HIGH]
        if lo >= 1 << 31 or hi >= 1 << 31:
            raise self.error(ADC_HIGH if hi >= 1 << 31 else ADC_LOW, "ADC bound must be below 2^31")
        if lo + hi == 0:
            raise self.error(ADC_HIGH, "ADC range is 0 (ADC_LOW = ADC_HIGH = 0): set the output range "
                                       "before triggering")
        n = r[NUM_JOBS]
        if n == 0:
            raise self.error(NUM_JOBS, "NUM_JOBS is 0")
        line, feat = r[JOB_LINE_LENGTH], r[JOB_FEAT_LENGTH]
        if line == 0 and feat == 0:
            line, feat = h, 1
        if line * feat != h:
            raise self.error(JOB_LINE_LENGTH, f"JOB_LINE_LENGTH {line} x JOB_FEAT_LENGTH {feat} "
                                              f"must equal J_HEIGHT {h}")
        srcs = step_addresses(r[J_SRC_ADDR], n, r[ALPHA_IN_LENGTH], _s32(r[ALPHA_IN_STRIDE]),
                              r[BETA_IN_LENGTH], _s32(r[BETA_IN_STRIDE]))
        dsts = step_addresses(r[J_DST_ADDR], n, r[ALPHA_OUT_LENGTH], _s32(r[ALPHA_OUT_STRIDE]),
                              r[BETA_OUT_LENGTH], _s32(r[BETA_OUT_STRIDE]))
        mem = self.memory
        stride = _s32(r[J_SRC_STRIDE])
        for k in range(n):
            first, last = srcs[k], srcs[k] + (feat - 1) * stride
            lo_a, hi_a = min(first, last), max(first, last) + line
            if not (mem.tcdm_base <= lo_a and hi_a <= mem.tcdm_end):
                raise self.error(J_SRC_ADDR, f"job {k}: input lines 0x{lo_a & 0xFFFFFFFF:08x}-"
                                             f"0x{(hi_a - 1) & 0xFFFFFFFF:08x} are outside TCDM")
            if not (mem.tcdm_base <= dsts[k] and dsts[k] + w <= mem.tcdm_end):
                raise self.error(J_DST_ADDR, f"job {k}: output 0x{dsts[k]:08x}-0x{dsts[k] + w - 1:08x} "
                                             f"is outside TCDM")
        s_in, c, s_out = stream_cycles(self.config, line, feat, w)
        sched = job_schedule(n, hart.now, s_in, c, s_out, self.cfg.idle_cycles, self.cfg.pipeline)
        self._reserve_ports(srcs, dsts, line, feat, stride, w, sched)
        self.state = STATE_JOBS
        if self.owner is None:
            self.owner = hart.id
        job = dict(gen=self.gen, n=n, x0=x0, y0=y0, w=w, h=h, lo=lo, hi=hi, line=line, feat=feat,
                   stride=stride, srcs=srcs, dsts=dsts, sched=sched, t0=hart.now,
                   outputs=[None] * n)
        self.clock.schedule(sched[1][0], lambda: self._stream_in_done(job, 0))

    def _reserve_ports(self, srcs, dsts, line, feat, stride, w, sched):
        """The streamers take their TCDM banks during each job's stream-in and
        stream-out phases (stream_ports words a cycle)."""
        per_cycle = 4 * self.cfg.stream_ports
        lines = (np.arange(feat, dtype=np.int64)[:, None] * stride + np.arange(line, dtype=np.int64)[None, :]).ravel()
        # job k's stream-in, then its stream-out, for every job in order
        self.port.reserve_streams([(np.asarray(srcs, dtype=np.int64)[:, None] + lines, sched[0]),
                                   (np.asarray(dsts, dtype=np.int64)[:, None] + np.arange(w, dtype=np.int64), sched[4])],
                                  per_cycle)

    def _stream_in_done(self, job, k):
        if job["gen"] != self.gen:
            return
        mem = self.memory
        src = job["srcs"][k]
        self.regs[J_SRC_ADDR] = src
        self.regs[J_DST_ADDR] = job["dsts"][k]
        line, feat, stride = job["line"], job["feat"], job["stride"]
        if feat == 1 or stride == line:
            x = mem.view(src, line * feat).view(np.int8)
        else:
            x = np.concatenate([mem.view(src + f * stride, line).view(np.int8) for f in range(feat)])
        y0, x0, h, w = job["y0"], job["x0"], job["h"], job["w"]
        if self.noisy:
            g = self.conductance[y0:y0 + h, x0:x0 + w]
            out = ima_model.mvm_conductances(x, g, job["lo"], job["hi"], self.cfg.sigma_read, self.rng)
        else:
            if "window" not in job:     # the job's cells, once (nothing reprograms them while it runs)
                job["window"] = self.weights[y0:y0 + h, x0:x0 + w].astype(np.float32)
            out = crossbar_mvm(x, job["window"], job["lo"], job["hi"])
        self.mvms += 1
        job["outputs"][k] = out
        sched = job["sched"]
        self.clock.schedule(sched[5][k], lambda: self._stream_out_done(job, k))
        if k + 1 < job["n"]:
            self.clock.schedule(sched[1][k + 1], lambda: self._stream_in_done(job, k + 1))

    def _stream_out_done(self, job, k):
        if job["gen"] != self.gen:
            return
        out = job["outputs"][k]
        job["outputs"][k] = None
        self.memory.view(job["dsts"][k], job["w"])[:] = out.view(np.uint8)
        self.finished += 1
        self.jobs_done += 1
        self.ops += 2 * job["h"] * job["w"]
        self.stream_words += -(-job["h"] // 4) + -(-job["w"] // 4)
        if k == job["n"] - 1:
            end = job["sched"][5][k]
            self.activity(self.name, f"{job['n']} jobs {job['h']}x{job['w']}", job["t0"], end)
            self.end_job(end)


def install(wiring) -> list[Ima]:
    """Build the configured IMA instances (`[ima] count`), each connected to the
    event line `[ima] event_line` and a TCDM port of its own, and place them on
    the bus."""
    cfg = wiring.config
    imas = []
    for i in range(cfg.ima.count):
        ima = Ima(cfg, wiring.clock, wiring.memory, wiring.tcdm_port(f"IMA{i}"),
                  wiring.event_line(cfg.ima.event_line), wiring.activity, i)
        wiring.attach(base_address(i), ima)
        imas.append(ima)
    return imas
