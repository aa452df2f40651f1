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


def _archi_facts():
    """(C expression over archi.h, the value the models give it)."""
    from iss import memory as m
    from iss.cluster import FC_CLUSTER_ID
    from iss.config import Config
    from iss.periph import event_unit as eu
    from iss.periph import timer
    from iss.periph.cluster_ctrl import ClusterCtrl

    periph = m.CLUSTER_PERIPH_BASE
    cfg = Config()
    facts = [
        ("ARCHI_TCDM_BASE", m.TCDM_BASE), ("ARCHI_L2_BASE", m.L2_BASE), ("ARCHI_CLUSTER_PERIPH", periph),
        ("ARCHI_CLUSTER_CTRL", periph + m.CTRL_OFFSET), ("ARCHI_TIMER_BASE", periph + m.TIMER_OFFSET),
        ("ARCHI_EU_BASE", periph + m.EU_OFFSET), ("ARCHI_HWPE_BASE", ima.base_address(0)),
        ("ARCHI_DMA_BASE", dma.SHARED_BASE), ("ARCHI_ACCEL_BASE", dwa.BASE), ("EU_DEMUX_BASE", m.DEMUX_BASE),
        ("DMA_DEMUX_BASE", m.DEMUX_BASE + dma.PRIVATE_OFFSET),
        ("ARCHI_STDOUT_BASE", m.SOC_PERIPH_BASE + m.STDOUT_OFFSET),
        ("ARCHI_SOC_PERIPHERALS_ADDR", m.SOC_PERIPH_BASE),
        ("ARCHI_FC_CID", FC_CLUSTER_ID), ("EU_FC_MASK", 1 << eu.FC_MASK_BIT),
        # event lines
        ("EVT_DMA0", dma.EVT_DMA0), ("EVT_DMA1", dma.EVT_DMA1),
        ("EVT_TIMER0", timer.EVT_TIMER0), ("EVT_TIMER1", timer.EVT_TIMER1),
        ("EVT_ACC0", cfg.ima.event_line), ("EVT_ACC1", cfg.dwa.event_line),
        ("EVT_BARRIER", eu.EVT_BARRIER), ("EVT_MUTEX", eu.EVT_MUTEX), ("EVT_DISPATCH", eu.EVT_DISPATCH),
    ]
    # the four lines the event unit counts as accelerator waits in profiles
    facts += [(f"EVT_ACC{i}", line) for i, line in enumerate(b for b in range(32) if eu._ACCEL_LINES >> b & 1)]
    # cluster controller: its register map
    ctrl = {name: off for off, name in ClusterCtrl.registers.items()}
    facts += [(f"CTRL_{n}", ctrl[n]) for n in ("EOC", "FETCH_EN", "TRAP", "TCDM_SIZE", "L2_SIZE", "CLOCK_KHZ")]
    facts += [(f"CTRL_BOOT_ADDR({c})", ctrl[f"BOOT_ADDR{c}"]) for c in range(8)]
    # event unit: every register of its map, by archi.h's name for it
    for off, name in eu.REGISTERS.items():
        if name.startswith("MUTEX"):
            expr = f"EU_MUTEX({name[5:]})"
        elif name.startswith("SW_EVENT"):
            expr = f"EU_SW_EVENT({name[8:]})"
        elif name.startswith("BARRIER"):
            b, reg = name[7:].split("_", 1)
            expr = f"EU_BARRIER({b}) + EU_BARRIER_{reg}"
        else:
            expr = f"EU_{name}"
        facts.append((expr, off))
    return facts


def test_archi_addresses_registers_and_event_lines_agree(tmp_path):
    """archi.h evaluated by the compiler (its values are expressions and
    macros with arguments), one static assertion per fact and one wrong on
    purpose: that one, and only that one, fails."""
    import os
    import subprocess
    import sys

    from iss import toolchain

    facts = _archi_facts()
    assert len(facts) > 90
    lines = [f'_Static_assert(({expr}) == {value:#x}u, "{expr}: the model says {value:#x}");'
             for expr, value in facts]
    lines.append('_Static_assert(EVT_BARRIER == 17, "canary");')
    src = tmp_path / "archi_facts.c"
    src.write_text('#include "archi.h"\n' + "\n".join(lines) + "\n")
    proc = subprocess.run([sys.executable, "-m", "ziglang", "cc", *toolchain.target_flags(), "-fsyntax-only",
                           "-ferror-limit=0", f"-I{INCLUDE}", str(src)], capture_output=True, text=True,
                          env=toolchain.zig_env(os.environ["ISS_ZIG_CACHE"]))   # tests/conftest.py
    failed = [ln for ln in proc.stderr.splitlines() if "error:" in ln]
    assert proc.returncode != 0 and len(failed) == 1 and "canary" in failed[0], "\n".join(failed or [proc.stderr])
