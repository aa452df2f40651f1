"""Wall time of one cores-only MobileNetV2 bottleneck run (28x28x32, t=6, the
study's paper shape: firmware/apps/bottleneck_cores.c filled by
iss.study.bottleneck), median of 3 runs. Target: < 0.2 s (one point of a
design-space sweep). The build (cached) and the parameter generation are not
timed."""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

from iss import Cluster, Config
from iss.nn import mobilenetv2 as mnv2
from iss.study import bottleneck as bn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from figures import figure  # noqa: E402

TARGET_S = 0.2


def main() -> int:
    shape = bn.paper_shape()
    params, _ = mnv2.make_bottleneck(shape, "cores", seed=bn.SEED)
    x = mnv2.random_input((shape.h, shape.w, shape.c_in), seed=bn.SEED + 7)
    elf = bn.build("cores", shape)
    walls, cycles = [], 0
    for _ in range(3):
        c = Cluster(elf, Config.load())
        bn._fill(bn._Runner(c), "cores", params, x, None)
        t0 = time.perf_counter()
        res = c.run()
        walls.append(time.perf_counter() - t0)
        assert res.exit_code == 0
        cycles = res.cycles
        want = mnv2.bottleneck_forward(params, x)
        for layer, ref in want.items():
            got = np.frombuffer(c.memory.read(c.program.symbol(bn.OUTPUT_SYMBOLS[layer]).addr, ref.nbytes), np.int8)
            assert np.array_equal(got.reshape(ref.shape), ref), f"{layer} differs from the golden model"
    med = statistics.median(walls)
    print(f"outputs bit-exact against the golden model: {len(want)} layers, "
          f"{sum(ref.nbytes for ref in want.values())} bytes")
    print(f"cores-only bottleneck {bn.shape_name(shape)}: {cycles} cycles (whole run), wall {med:.2f} s "
          f"(median of 3: {', '.join(f'{w:.2f}' for w in walls)})")
    figure("bottleneck.cores_run_seconds", med, "s", better="lower", target=TARGET_S)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
