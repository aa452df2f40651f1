"""Studies: experiments of the seed paper reproduced from compiled firmware on
the simulator (`iss bench NAME`).

- :mod:`iss.study.bottleneck`: one MobileNetV2 bottleneck on the 8 cores, on
  IMA + cores, and on IMA + DWA + cores (paper: 11.5x, 2.6x, 9.5x energy).
- :mod:`iss.study.packing`: the kernels' weight layouts (PW4, DW4) from numpy.
"""
