"""One register map per peripheral: the Python models are the source; the
firmware driver headers must define the same offsets (and DMA command bits)."""
import re
from pathlib import Path

import pytest

from iss.memory import ACCEL_BASE, CLUSTER_PERIPH_BASE, HWPE_OFFSET
from iss.periph import dma, dwa, ima

INCLUDE = Path(__file__).resolve().parents[2] / "firmware" / "runtime" / "include"


def defines(name):
    text = (INCLUDE / name).read_text()
    return {m.group(1): int(m.group(2), 0)
            for m in re.finditer(r"^#define\s+(\w+)\s+(0x[0-9A-Fa-f]+|\d+)\s*(?:/\*.*)?$", text, re.M)}


@pytest.mark.parametrize("header,prefix,module", [("ima.h", "IMA_", ima), ("dwa.h", "DWA_", dwa),
                                                  ("dma.h", "DMA_", dma)])
def test_register_offsets_agree(header, prefix, module):
    d = defines(header)
    for offset, name in module.REGISTERS.items():
        assert d.get(prefix + name) == offset, f"{header}: {prefix}{name}"
    # and no register in the header that the model does not know
    regs = {k[len(prefix):]: v for k, v in d.items() if k.startswith(prefix)}
    known = set(module.REGISTERS.values())
    extra = {k for k, v in regs.items() if k not in known and v < 0x100
             and not k.startswith(("CMD_", "PAD_", "NB_", "XBAR", "WINDOW"))}
    assert not extra, f"{header} defines registers the model lacks: {extra}"


def test_dma_command_bits_agree():
    d = defines("dma.h")
    assert d["DMA_CMD_LEN_MASK"] == dma.LEN_MASK
    for name in ("TYPE", "INC", "TWD_EXT", "ELE", "ILE", "BLE", "TWD_TCDM"):
        assert d[f"DMA_CMD_{name}_BIT"] == getattr(dma, f"{name}_BIT"), name
    assert d["DMA_NB_TID"] == dma.NB_TID


def test_dwa_padding_bits_and_bases_agree():
    d = defines("dwa.h")
    assert (d["DWA_PAD_TOP"], d["DWA_PAD_BOTTOM"], d["DWA_PAD_LEFT"], d["DWA_PAD_RIGHT"]) == (
        dwa.PAD_TOP, dwa.PAD_BOTTOM, dwa.PAD_LEFT, dwa.PAD_RIGHT)
    a = defines("archi.h")
    assert a["ARCHI_ACCEL_BASE"] == ACCEL_BASE == dwa.BASE
    assert ima.base_address(0) == CLUSTER_PERIPH_BASE + HWPE_OFFSET
    assert defines("ima.h")["IMA_WINDOW_SIZE"] == ima.WINDOW_SIZE


def test_timer_registers_and_bits_agree():
    from iss.periph import timer
    a = defines("archi.h")
    for offset, name in timer.REGISTERS.items():
        assert a[f"TIMER_{name}"] == offset, name
    for name in ("ENABLE", "RESET", "IRQEN", "IEM", "MODE", "ONE_S", "PEN", "CCFG", "CASC"):
        assert a[f"TIMER_CFG_{name}"] == getattr(timer, f"CFG_{name}"), name
    assert (a["EVT_TIMER0"], a["EVT_TIMER1"]) == (timer.EVT_TIMER0, timer.EVT_TIMER1)
