"""Hardware loops from plain C: the plain-C kernels (firmware/kernels/plain, driven
by firmware/apps/plain_kernels.c) built at -O3 with and without `iss cc`'s
hardware-loop pass (toolchain/hwloops.py), run on 8 cores, every output checked
bit for bit against the numpy golden models (iss/nn).

    python bench/bench_hwloops.py [--seed N]

Per kernel: cycles (core 0, fork to the closing barrier), MAC/cycle on the
cluster, and the branch-stall share (PI_PERF_JR_STALL: jump and taken-branch
stall cycles over all cycles, summed over the cores). Target: the
3x3 convolution 16x16x32 -> 64 at >= 14 MAC/cycle and every branch-stall share
below 2% with the pass.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from figures import figure  # noqa: E402
from iss import Cluster, Config, toolchain  # noqa: E402
from iss.nn import layers, quant  # noqa: E402

APP = ROOT / "firmware" / "apps" / "plain_kernels.c"
CORES = 8
TARGET_CONV = 14.0
TARGET_STALL = 0.02


def _requant(acc, rng):
    """Per-layer (mult, shift) spreading the outputs over int8, and whether ReLU6."""
    bound = int(np.abs(acc).max())
    scale = 127.0 / max(3.0 * float(acc.std()), 1.0)
    mult, shift = quant.choose_mult_shift(scale, acc_bound=bound)
    relu = int(rng.integers(0, 2))
    return int(mult), int(shift), relu


def _golden(acc, mult, shift, relu):
    return quant.requantize(acc, mult, shift, 0 if relu else -128, 127)


def layers_of(seed: int) -> list[dict]:
    """Inputs, firmware weights and golden outputs of the four layers."""
    rng = np.random.default_rng(seed)

    def i8(*shape):
        return rng.integers(-128, 128, size=shape, dtype=np.int8)

    def bias(n):
        return rng.integers(-2000, 2000, size=n, dtype=np.int32)
    out = []
    x, w, b = i8(16, 16, 32), i8(3, 3, 32, 64), bias(64)               # conv3x3 16x16x32 -> 64
    acc = layers.conv2d_acc(x, w, b, stride=1, pad=1)
    rq = _requant(acc, rng)
    out.append(dict(name="conv3x3 16x16x32->64", sym="conv", macs=16 * 16 * 64 * 9 * 32, rq=rq,
                    data={"pk_conv_in": x, "pk_conv_w": w.transpose(3, 0, 1, 2).copy(), "pk_conv_b": b},
                    golden=_golden(acc, *rq)))
    x, w, b = i8(256, 64), i8(64, 64), bias(64)                       # pointwise 16x16x64 -> 64
    acc = layers.pointwise_acc(x, w, b)
    rq = _requant(acc, rng)
    out.append(dict(name="pointwise 16x16x64->64", sym="pw", macs=256 * 64 * 64, rq=rq,
                    data={"pk_pw_in": x, "pk_pw_w": w.T.copy(), "pk_pw_b": b}, golden=_golden(acc, *rq)))
    x, w, b = i8(16, 16, 64), i8(3, 3, 64), bias(64)                  # depthwise 16x16x64
    acc = layers.depthwise_acc(x, w, b, stride=1, pad=1)
    rq = _requant(acc, rng)
    wp = np.zeros((64, 3, 4), np.int8)
    wp[:, :, :3] = w.transpose(2, 0, 1)
    out.append(dict(name="depthwise 16x16x64 3x3", sym="dw", macs=16 * 16 * 64 * 9, rq=rq,
                    data={"pk_dw_in": x, "pk_dw_w": wp, "pk_dw_b": b}, golden=_golden(acc, *rq)))
    x, w, b = i8(1024), i8(1024, 64), bias(64)                        # linear 1024 -> 64
    acc = layers.fully_connected_acc(x, w, b)
    rq = _requant(acc, rng)
    out.append(dict(name="linear 1024->64", sym="fc", macs=1024 * 64, rq=rq,
                    data={"pk_fc_in": x, "pk_fc_w": w.T.copy(), "pk_fc_b": b}, golden=_golden(acc, *rq)))
    return out


def run(elf: Path, lays: list[dict]) -> list[dict]:
    cluster = Cluster(elf, Config.load(cluster={"cores": CORES}))
    for lay in lays:
        for name, arr in lay["data"].items():
            cluster.write_symbol(name, arr)
    cluster.write_symbol("pk_requant", np.array([lay["rq"] for lay in lays], np.int32))
    res = cluster.run()
    if res.exit_code != 0:
        raise SystemExit(f"{elf.name}: exit code {res.exit_code}")
    cycles = cluster.read_symbol("pk_cycles", np.uint32, 4 * 8).reshape(4, 8)[:, :CORES]
    stall = cluster.read_symbol("pk_branch_stall", np.uint32, 4 * 8).reshape(4, 8)[:, :CORES]
    rows = []
    for k, lay in enumerate(lays):
        want = lay["golden"]
        got = cluster.read_symbol(f"pk_{lay['sym']}_out", np.int8, want.size)
        rows.append(dict(cycles=int(cycles[k, 0]), stall=float(stall[k].sum()) / float(cycles[k].sum()),
                         exact=bool(np.array_equal(got, want.ravel()))))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=17)
    args = ap.parse_args()
    lays = layers_of(args.seed)
    with tempfile.TemporaryDirectory() as d:
        results = {}
        for tag, hw in (("before", False), ("after", True)):
            elf = toolchain.compile([APP], Path(d) / f"plain_{tag}.elf", opt="-O3", hwloops=hw)
            results[tag] = run(elf, lays)
    print(f"plain-C kernels on {CORES} cores, -O3, without / with the hardware-loop pass (iss cc --no-hwloops / default)")
    print(f"{'kernel':26} {'cycles':>17} {'MAC/cycle':>13} {'branch stalls':>15}  bit-exact")
    ok = True
    for k, lay in enumerate(lays):
        b, a = results["before"][k], results["after"][k]
        mb, ma = lay["macs"] / b["cycles"], lay["macs"] / a["cycles"]
        exact = b["exact"] and a["exact"]
        print(f"{lay['name']:26} {b['cycles']:>8} {a['cycles']:>8} {mb:>6.2f} {ma:>6.2f} "
              f"{100 * b['stall']:>6.1f}% {100 * a['stall']:>6.1f}%  {'yes' if exact else 'NO'}")
        ok &= exact and a["stall"] < TARGET_STALL
        if k == 0:
            ok &= ma >= TARGET_CONV
    for k, lay in enumerate(lays):
        b, a = results["before"][k], results["after"][k]
        tag = lay["name"].split()[0]
        figure(f"hwloops.{tag}_mac_per_cycle", lay["macs"] / a["cycles"], "MAC/cycle",
               target=TARGET_CONV if k == 0 else None, reference=lay["macs"] / b["cycles"],
               reference_name="without the pass")
        figure(f"hwloops.{tag}_branch_stall_share", a["stall"], "of cycles", better="lower", target=TARGET_STALL,
               note=f"{b['stall']:.1%} without the pass")
    print(f"targets: conv3x3 >= {TARGET_CONV} MAC/cycle, branch stalls < {100 * TARGET_STALL:.0f}% with the pass: "
          f"{'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
