"""Compiled firmware drives the DMA, IMA and DWA through dma.h/ima.h/dwa.h;
results checked against the numpy golden models."""
import numpy as np
import pytest

from iss.cluster import Cluster
from iss.config import Config
from iss.errors import PeripheralError
from iss.nn import ima_model, layers
from iss.nn.quant import Requant


def sym(c, name, dtype=np.uint8, shape=None):
    s = c.program.symbol(name)
    a = c.memory.view(s.addr, s.size).view(dtype)
    return a.reshape(shape) if shape else a


def test_drivers_end_to_end(fw):
    c = Cluster(fw("accel_drivers"), Config.load())
    res = c.run()
    assert res.stdout == ["dma ok", "ima done", "dwa done"] and res.exit_code == 0
    w4 = sym(c, "w4", np.int8, (48, 24))
    words = sym(c, "words", np.uint32, (48, 3))
    assert np.array_equal(words, ima_model.pack_plot_words(w4))
    x = sym(c, "l2_ima_in", np.int8, (6, 48))
    assert np.array_equal(sym(c, "l2_ima_out", np.int8, (6, 24)), ima_model.mvm(x, w4, 3000, 2500))
    assert int(sym(c, "readback", np.uint32)[0]) == int(ima_model.pack_plot_words(w4[1:2, :8])[0, 0])
    dw_in = sym(c, "dw_in", np.int8, (10, 10, 8))
    want = layers.depthwise(dw_in, sym(c, "dw_w", np.int8, (3, 3, 8)), sym(c, "dw_bias", np.int32),
                            Requant(sym(c, "dw_mult", np.int32).astype(np.int64),
                                    sym(c, "dw_shift", np.uint8).astype(np.int64), 0, 127), stride=2, pad=1)
    assert np.array_equal(sym(c, "dw_out", np.int8, (5, 5, 8)), want)
    units = {a[0] for a in c.activity}
    assert {"dma", "IMA0", "DWA"} <= units
    # weights take 48*3 words * 501 cycles; the core waited for them
    assert res.cycles > 48 * 3 * 501


def test_error_names_accelerator_register_and_pc(fw):
    c = Cluster(fw("accel_drivers", defines=["BAD_ADC"]), Config.load())
    with pytest.raises(PeripheralError) as e:
        c.run()
    msg = str(e.value)
    assert "IMA0 ADC_HIGH: ADC range is 0" in msg and "pc 0x" in msg
