"""Wall time and peak memory of the end-to-end simulated MobileNetV2 inference
(issue 8, item 5): 224x224, 34 IMAs + DWA + cores, cycle model on, weights
preloaded (the timed inference; `--program plot` adds the firmware's
SUBMIT_PLOT programming). Target: < 60 s on a 2-core machine.

    python bench/bench_mobilenetv2.py [--input-hw 224] [--program preload|plot] [--cores-only]
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from iss.nn import mobilenetv2 as mnv2
from iss.study import mobilenetv2 as study


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input-hw", type=int, default=224)
    ap.add_argument("--program", choices=("preload", "plot"), default="preload")
    ap.add_argument("--cores-only", action="store_true")
    args = ap.parse_args(argv)
    variant = "cores" if args.cores_only else "hetero"
    t0 = time.perf_counter()
    net = mnv2.make_network(variant, seed=0, input_hw=args.input_hw, fc_on_ima=False)
    golden = mnv2.forward(net)
    t_net = time.perf_counter() - t0
    elf = study.build_firmware(Path(tempfile.mkdtemp()) / "mnv2.elf", cores_only=args.cores_only)
    t1 = time.perf_counter()
    res = study.run(net, elf, n_arrays=0 if args.cores_only else 34, program=args.program)
    t_run = time.perf_counter() - t1
    bad = res.mismatches(golden)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    instr = res.result.instructions
    print(f"MobileNetV2 {args.input_hw}x{args.input_hw} {variant} ({args.program}): "
          f"{res.total_cycles} cycles simulated ({res.total_cycles / 500e3:.2f} ms at 500 MHz), "
          f"bit-exact: {'yes' if not bad else 'NO ' + str(bad)}")
    print(f"  simulation (set-up + run + read-back): {t_run:.1f} s wall "
          f"(cluster.run {res.result.wall_seconds:.1f} s, {instr / max(res.result.wall_seconds, 1e-9) / 1e6:.1f} "
          f"MIPS over {instr} instructions); network + golden model {t_net:.1f} s")
    print(f"  peak memory (ru_maxrss): {peak_mib:.0f} MiB; target < 60 s: "
          f"{'met' if t_run < 60 else 'MISSED'}")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
