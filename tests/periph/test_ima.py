"""IMA: bit-exact MVMs against iss.nn.ima_model (noise off), noise statistics,
cycle counts against the documented formula, read-back, misconfiguration errors."""
import numpy as np
import pytest

from iss.errors import PeripheralError, SimulationError
from iss.nn import ima_model
from iss.periph import ima

from accel_cluster import make_cluster

B0 = 0x1020_1000
PW = 501          # plot write: floor(1000 ns * 0.5 GHz) + 1


def wr(c, reg, value, inst=0):
    c.bus_write(ima.base_address(inst) + reg, value & 0xFFFFFFFF)


def rd(c, reg, inst=0):
    return c.bus_read(ima.base_address(inst) + reg)


def program(c, weights, x0, y0, inst=0):
    rows, cols = weights.shape
    wr(c, ima.P_START_X, x0, inst)
    wr(c, ima.P_START_Y, y0, inst)
    wr(c, ima.P_WIDTH, cols, inst)
    wr(c, ima.P_HEIGHT, rows, inst)
    for word in ima_model.pack_plot_words(weights).reshape(-1):
        wr(c, ima.SUBMIT_PLOT, int(word), inst)
        c.advance(PW)


def job(c, inst=0, **regs):
    for name, value in regs.items():
        wr(c, getattr(ima, name.upper()), value, inst)


def run_jobs(c, inst=0, limit=10_000_000):
    t0 = c.now
    wr(c, ima.TRIGGER, 0, inst)
    step = 64
    while rd(c, ima.STATUS, inst):
        c.advance(step)
        assert c.now - t0 < limit
    return c.activity[-1]


@pytest.fixture
def cl():
    return make_cluster(ima={"count": 2})


def test_single_job_exact_and_cycles(cl):
    c = cl
    rng = np.random.default_rng(0)
    w = rng.integers(-7, 8, (64, 40))
    program(c, w, 8, 16)
    assert c.activity[-1][:2] == ("IMA0", "program weights")
    assert c.activity[-1][3] - c.activity[-1][2] == 64 * 5 * PW
    x = rng.integers(-128, 128, 64).astype(np.int8)
    T = c.memory.tcdm_base
    c.memory.tcdm[0x100:0x140] = x.view(np.uint8)
    job(c, j_start_x=8, j_start_y=16, j_width=40, j_height=64, j_src_addr=T + 0x100, j_dst_addr=T + 0x400,
        adc_low=5000, adc_high=4000, num_jobs=1)
    t0 = c.now
    wr(c, ima.TRIGGER, 0)
    # S_in = 1*(ceil(16/16)+1)+2 = 4, C = floor(130*0.5)+1 = 66, S_out = ceil(10/16)+1+2 = 4, idle 2
    t1 = 2 + 4 + 66 + 4
    c.advance(t1 - 1)
    assert rd(c, ima.STATUS) == 1 and rd(c, ima.FINISHED_JOBS) == 0
    c.advance(1)
    assert rd(c, ima.STATUS) == 0
    assert rd(c, ima.FINISHED_JOBS) == 1 and rd(c, ima.FINISHED_JOBS) == 0     # clears on read
    assert c.activity[-1][2:] == (t0, t0 + t1)
    assert c.event_unit.buffer[5] & (1 << 12)
    out = c.memory.tcdm[0x400:0x428].view(np.int8)
    assert np.array_equal(out, ima_model.mvm(x, w, 5000, 4000))


def test_random_windows_and_multi_job_stepping_bit_exact(cl):
    """Pointwise layers over image tiles: one trigger per tile, alpha steps pixels
    along a row, beta jumps to the next row of a larger pitched image."""
    c = cl
    rng = np.random.default_rng(1)
    T = c.memory.tcdm_base
    for trial in range(6):
        rows, cols = int(rng.integers(1, 97)), int(rng.integers(1, 81))
        y0, x0 = int(rng.integers(0, 257 - rows)), int(rng.integers(0, 257 - cols))
        w = rng.integers(-7, 8, (rows, cols))
        program(c, w, x0, y0)
        th, tw = int(rng.integers(1, 5)), int(rng.integers(1, 6))      # tile of pixels
        pitch_in = tw * rows + int(rng.integers(0, 40))                 # bytes per image row
        pitch_out = tw * cols + int(rng.integers(0, 40))
        img = rng.integers(-128, 128, (th, pitch_in)).astype(np.int8)
        src, dst = 0x2000, 0x20000
        c.memory.tcdm[src:src + img.size] = img.view(np.uint8).reshape(-1)
        c.memory.tcdm[dst:dst + th * pitch_out] = 0
        lo, hi = int(rng.integers(0, 20000)), int(rng.integers(1, 20000))
        job(c, j_start_x=x0, j_start_y=y0, j_width=cols, j_height=rows, j_src_addr=T + src,
            j_dst_addr=T + dst, adc_low=lo, adc_high=hi, num_jobs=th * tw,
            alpha_in_length=tw - 1, alpha_in_stride=rows, beta_in_length=th,
            beta_in_stride=pitch_in - (tw - 1) * rows,
            alpha_out_length=tw - 1, alpha_out_stride=cols, beta_out_length=th,
            beta_out_stride=pitch_out - (tw - 1) * cols)
        run_jobs(c)
        x = img[:, :tw * rows].reshape(th, tw, rows)
        want = ima_model.mvm(x, w, lo, hi)
        got = c.memory.tcdm[dst:dst + th * pitch_out].view(np.int8).reshape(th, pitch_out)[:, :tw * cols]
        assert np.array_equal(got.reshape(th, tw, cols), want), trial


def test_streamer_lines_and_strides(cl):
    """im2col-style stream-in: 3 lines of 24 bytes, 100 bytes apart, per job."""
    c = cl
    rng = np.random.default_rng(2)
    T = c.memory.tcdm_base
    w = rng.integers(-7, 8, (72, 16))
    program(c, w, 0, 0)
    buf = rng.integers(-128, 128, 2000).astype(np.int8)
    c.memory.tcdm[0x1000:0x1000 + 2000] = buf.view(np.uint8)
    job(c, j_start_x=0, j_start_y=0, j_width=16, j_height=72, j_src_addr=T + 0x1000, j_src_stride=100,
        job_line_length=24, job_feat_length=3, j_dst_addr=T + 0x3000, adc_low=889, adc_high=889, num_jobs=4,
        alpha_in_length=10, alpha_in_stride=24, beta_in_length=1, beta_in_stride=0,
        alpha_out_length=10, alpha_out_stride=16, beta_out_length=1)
    run_jobs(c)
    for k in range(4):
        x = np.concatenate([buf[24 * k + 100 * f:24 * k + 100 * f + 24] for f in range(3)])
        got = c.memory.tcdm[0x3000 + 16 * k:0x3000 + 16 * k + 16].view(np.int8)
        assert np.array_equal(got, ima_model.mvm(x, w, 889, 889)), k


def _timed(c, n, line, feat, width):
    T = c.memory.tcdm_base
    job(c, j_start_x=0, j_start_y=0, j_width=width, j_height=line * feat, j_src_addr=T, j_src_stride=line,
        job_line_length=line, job_feat_length=feat, j_dst_addr=T + 0x10000, adc_low=1000, adc_high=1000,
        num_jobs=n)
    t0 = c.now
    span = run_jobs(c)
    assert span[2] == t0
    return span[3] - t0


@pytest.mark.parametrize("pipeline", [True, False])
def test_compute_bound_job_sequence_cycles(pipeline):
    c = make_cluster(ima={"pipeline": pipeline})
    program(c, np.ones((64, 40), dtype=np.int64), 0, 0)
    s_in, C, s_out, idle = 4, 66, 4, 2
    for n in (1, 2, 5):
        want = idle + s_in + n * C + s_out if pipeline else n * (idle + s_in + C + s_out)
        assert _timed(c, n, 64, 1, 40) == want


def test_port_bound_pipeline_period():
    c = make_cluster(ima={"eval_ns": 10.0})          # C = floor(10*0.5)+1 = 6
    program(c, np.ones((256, 256), dtype=np.int64), 0, 0)
    # L=64, F=4: S_in = 4*(ceil(16/16)+1)+2 = 10; W=256: S_out = ceil(64/16)+1+2 = 7; idle 2
    t = [_timed(c, n, 64, 4, 256) for n in (1, 2, 3, 4, 5)]
    assert t[0] == 2 + 10 + 6 + 7
    assert t[4] - t[3] == t[3] - t[2] == 2 + 10 + 7


def test_plot_store_stalls_and_readback(cl):
    c = cl
    w = np.random.default_rng(3).integers(-7, 8, (3, 20))
    words = ima_model.pack_plot_words(w)
    job(c, p_start_x=100, p_start_y=200, p_width=20, p_height=3)
    wr(c, ima.SUBMIT_PLOT, int(words[0, 0]))
    assert rd(c, ima.STATUS) == 1 and rd(c, ima.CHECK_STATE) == 2
    with pytest.raises(SimulationError, match="would block"):
        wr(c, ima.SUBMIT_PLOT, int(words[0, 1]))
    c.advance(PW)
    for word in words.reshape(-1)[1:]:
        wr(c, ima.SUBMIT_PLOT, int(word))
        c.advance(PW)
    assert rd(c, ima.STATUS) == 0 and rd(c, ima.RUNNING_TASK) == 0xFFFFFFFF
    for r in range(3):
        for k in range(3):
            job(c, pr_addr_x=100 + 8 * k, pr_addr_y=200 + r)
            v = rd(c, ima.PR_VAL)
            n = min(8, 20 - 8 * k)
            want = ima_model.pack_plot_words(w[r:r + 1, 8 * k:8 * k + n])[0, 0]
            assert v & ((1 << (4 * n)) - 1) == want
    # outside the window: the reset identity, columns beyond the window untouched
    job(c, pr_addr_x=0, pr_addr_y=3)
    assert rd(c, ima.PR_VAL) == 1 << 12


def test_acquire_protocol(cl):
    c = cl
    assert rd(c, ima.RUNNING_TASK) == 0xFFFFFFFF
    assert c.bus_read(B0 + ima.ACQUIRE, core=2) == 0
    assert c.bus_read(B0 + ima.ACQUIRE, core=2) == 0          # the holder again
    assert c.bus_read(B0 + ima.ACQUIRE, core=3) == 0xFFFFFFFF
    assert rd(c, ima.RUNNING_TASK) == 0 and rd(c, ima.CHECK_STATE) == 1
    wr(c, ima.SOFT_CLEAR, 0)
    assert c.bus_read(B0 + ima.ACQUIRE, core=3) == 0


def test_second_instance_is_independent(cl):
    c = cl
    assert ima.base_address(1) == 0x1021_0100
    rng = np.random.default_rng(4)
    w = rng.integers(-7, 8, (16, 8))
    program(c, w, 0, 0, inst=1)
    assert not c.imas[0].programmed.any()
    x = rng.integers(-128, 128, 16).astype(np.int8)
    c.memory.tcdm[:16] = x.view(np.uint8)
    job(c, inst=1, j_width=8, j_height=16, j_src_addr=c.memory.tcdm_base, j_dst_addr=c.memory.tcdm_base + 64,
        adc_low=300, adc_high=300, num_jobs=1)
    assert run_jobs(c, inst=1)[0] == "IMA1"
    assert np.array_equal(c.memory.tcdm[64:72].view(np.int8), ima_model.mvm(x, w, 300, 300))


@pytest.mark.parametrize("which", ["read", "prog"])
def test_noise_statistics_match_sigma(which):
    sigma = 0.1
    c = make_cluster(ima={"sigma_read" if which == "read" else "sigma_prog": sigma, "seed": 7})
    rng = np.random.default_rng(5)
    rows, cols, n = 128, 128, 40
    w = rng.integers(-7, 8, (rows, cols))
    program(c, w, 0, 0)
    x = rng.integers(-128, 128, (n, rows)).astype(np.int8)
    T = c.memory.tcdm_base
    c.memory.tcdm[:x.size] = x.view(np.uint8).reshape(-1)
    big = 12_000                      # output LSB = 2*big/127 = 189 accumulator units
    job(c, j_width=cols, j_height=rows, j_src_addr=T, j_dst_addr=T + 0x10000, adc_low=big, adc_high=big,
        num_jobs=n, alpha_in_length=n, alpha_in_stride=rows, beta_in_length=1,
        alpha_out_length=n, alpha_out_stride=cols, beta_out_length=1)
    run_jobs(c)
    got = c.memory.tcdm[0x10000:0x10000 + n * cols].view(np.int8).reshape(n, cols).astype(np.float64)
    acc = ima_model.mvm_acc(x, w).astype(np.float64)
    norm = np.sqrt((x.astype(np.float64) ** 2).sum(axis=1, keepdims=True))
    noise_acc = 7 * sigma * norm                                    # std of the analog error, acc units
    keep = np.abs(acc) < big - 5 * noise_acc                        # far from the ADC clipping
    assert keep.mean() > 0.9
    scale = 127 / (2 * big)
    z = ((got - acc * scale) / (noise_acc * scale))[keep]           # standardised error
    # the output rounding adds uniform noise of variance 1/12 LSB^2
    expect_var = 1 + np.mean((1 / (noise_acc * scale)) ** 2) / 12
    assert abs(z.mean()) < 0.1
    assert abs(z.var() / expect_var - 1) < 0.12


def test_noise_is_seeded():
    outs = []
    for _ in range(2):
        c = make_cluster(ima={"sigma_read": 0.05, "sigma_prog": 0.05, "seed": 3})
        w = np.random.default_rng(6).integers(-7, 8, (32, 16))
        program(c, w, 0, 0)
        c.memory.tcdm[:32] = np.arange(32, dtype=np.uint8) * 4
        job(c, j_width=16, j_height=32, j_src_addr=c.memory.tcdm_base, j_dst_addr=c.memory.tcdm_base + 64,
            adc_low=2000, adc_high=2000, num_jobs=1)
        run_jobs(c)
        outs.append(c.memory.tcdm[64:80].copy())
    assert np.array_equal(outs[0], outs[1])


def _ready(c):
    program(c, np.ones((8, 8), dtype=np.int64), 0, 0)
    job(c, j_width=8, j_height=8, j_src_addr=c.memory.tcdm_base, j_dst_addr=c.memory.tcdm_base + 64,
        adc_low=100, adc_high=100, num_jobs=1)


@pytest.mark.parametrize("regs,match", [
    (dict(j_width=0), r"IMA0 J_WIDTH: job columns"),
    (dict(j_start_x=250), r"IMA0 J_WIDTH: job columns 250\.\.257 .* not inside the 256-column crossbar"),
    (dict(j_start_y=252), r"IMA0 J_HEIGHT: job rows 252\.\.259"),
    (dict(j_height=9), r"IMA0 TRIGGER: .*unprogrammed cells \(first: row 8, column 0\)"),
    (dict(adc_low=0, adc_high=0), r"IMA0 ADC_HIGH: ADC range is 0"),
    (dict(j_src_addr=0x1C00_0000), r"IMA0 J_SRC_ADDR: job 0: input lines 0x1c000000-0x1c000007 are outside TCDM"),
    (dict(num_jobs=3, alpha_out_length=5, alpha_out_stride=0x7FFFFFF0, beta_out_length=1),
     r"IMA0 J_DST_ADDR: job 1: output .* outside TCDM"),
    (dict(num_jobs=0), r"IMA0 NUM_JOBS: NUM_JOBS is 0"),
    (dict(job_line_length=3, job_feat_length=2), r"IMA0 JOB_LINE_LENGTH: .* must equal J_HEIGHT 8"),
])
def test_job_misconfiguration(cl, regs, match):
    c = cl
    _ready(c)
    job(c, **regs)
    with pytest.raises(PeripheralError, match=match):
        wr(c, ima.TRIGGER, 0)


def test_no_weights_and_plot_window_errors(cl):
    c = cl
    job(c, j_width=8, j_height=8, adc_low=1, adc_high=1, num_jobs=1)
    with pytest.raises(PeripheralError, match="IMA0 TRIGGER: job triggered but no weights were programmed"):
        wr(c, ima.TRIGGER, 0)
    job(c, p_start_x=200, p_width=64, p_height=1)
    with pytest.raises(PeripheralError, match=r"IMA0 P_WIDTH: plot window columns 200\.\.263"):
        wr(c, ima.SUBMIT_PLOT, 0)
    job(c, p_start_x=0, p_width=8, p_start_y=255, p_height=2)
    with pytest.raises(PeripheralError, match=r"IMA0 P_HEIGHT: plot window rows 255\.\.256"):
        wr(c, ima.SUBMIT_PLOT, 0)
    job(c, p_start_y=0, p_height=1)
    with pytest.raises(PeripheralError, match="weight -8"):
        wr(c, ima.SUBMIT_PLOT, 0x8)
    wr(c, ima.SUBMIT_PLOT, 0x11111111)
    c.advance(PW)
    with pytest.raises(PeripheralError, match="IMA0 SUBMIT_PLOT: plot window already complete"):
        wr(c, ima.SUBMIT_PLOT, 0)


def test_register_writes_while_running_are_errors(cl):
    c = cl
    _ready(c)
    wr(c, ima.TRIGGER, 0)
    with pytest.raises(PeripheralError, match="IMA0 J_SRC_ADDR: written while jobs are running"):
        wr(c, ima.J_SRC_ADDR, 0)
    with pytest.raises(SimulationError, match="would block"):
        wr(c, ima.TRIGGER, 0)
