"""Wall time and peak memory of the end-to-end simulated MobileNetV2 inference:
224x224, the heterogeneous variant (34 IMAs + DWA + cores) and the cores-only
baseline, cycle model on, weights preloaded (the timed inference; `--program
plot` adds the firmware's SUBMIT_PLOT programming). Target: both variants in
< 10 s of wall time together on a 2-core machine (set-up, run and read-back;
the network's golden model is not timed), each the median of 3 inferences
(this machine's speed drifts by tens of percent between runs).

    python bench/bench_mobilenetv2.py [--input-hw 224] [--program preload|plot] [--repeat 3] [--variants hetero,cores]
"""
from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
from pathlib import Path

from iss.nn import mobilenetv2 as mnv2
from iss.study import mobilenetv2 as study

sys.path.insert(0, str(Path(__file__).resolve().parent))
from figures import figure  # noqa: E402

TARGET_S = 10.0
REPEAT = 3
VARIANTS = ("hetero", "cores")


def run_variant(variant: str, input_hw: int, program: str, repeat: int) -> tuple[float, bool]:
    """`repeat` inferences of `variant`; prints them; returns (the median wall
    seconds, all bit-exact)."""
    cores_only = variant == "cores"
    t0 = time.perf_counter()
    net = mnv2.make_network(variant, seed=0, input_hw=input_hw, fc_on_ima=False)
    golden = mnv2.forward(net)
    t_net = time.perf_counter() - t0
    elf = study.firmware(cores_only=cores_only)       # built once, kept by content (as `iss bench` does)
    walls, exact = [], True
    for _ in range(repeat):
        t1 = time.perf_counter()
        res = study.run(net, elf, n_arrays=0 if cores_only else 34, program=program)
        walls.append(time.perf_counter() - t1)
        bad = res.mismatches(golden)
        exact &= not bad
        instr = res.result.instructions
        print(f"MobileNetV2 {input_hw}x{input_hw} {variant} ({program}): "
              f"{res.total_cycles} cycles simulated ({res.total_cycles / 500e3:.2f} ms at 500 MHz), "
              f"bit-exact: {'yes' if not bad else 'NO ' + str(bad)}")
        print(f"  {res.verified_line()}")
        print(f"  simulation (set-up + run + read-back): {walls[-1]:.1f} s wall "
              f"(cluster.run {res.result.wall_seconds:.1f} s, {instr / max(res.result.wall_seconds, 1e-9) / 1e6:.1f} "
              f"MIPS over {instr} instructions)")
        # Before the next run, so the peak is one inference's: a cluster's parts
        # refer to each other (harts, hooks, peripherals), only the cycle
        # collector frees them.
        del res
        gc.collect()
    wall = statistics.median(walls)
    print(f"  network + golden model {t_net:.1f} s (once); median of {repeat}: {wall:.2f} s")
    figure(f"mobilenetv2.{variant}_seconds", wall, "s", better="lower")
    return wall, exact


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input-hw", type=int, default=224)
    ap.add_argument("--program", choices=("preload", "plot"), default="preload")
    ap.add_argument("--repeat", type=int, default=REPEAT, help=f"inferences per variant (default {REPEAT}: medians)")
    ap.add_argument("--variants", default=",".join(VARIANTS),
                    help="comma-separated, of: " + ", ".join(VARIANTS))
    args = ap.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    if not variants or set(variants) - set(VARIANTS):
        ap.error(f"--variants takes a comma-separated list of {', '.join(VARIANTS)}")
    total, exact = 0.0, True
    for v in variants:
        t, ok = run_variant(v, args.input_hw, args.program, max(1, args.repeat))
        total += t
        exact &= ok
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if set(variants) == set(VARIANTS) and args.input_hw == 224 and args.program == "preload":
        figure("mobilenetv2.both_variants_seconds", total, "s", better="lower", target=TARGET_S)
    figure("mobilenetv2.peak_mib", peak_mib, "MiB", better="lower")
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
