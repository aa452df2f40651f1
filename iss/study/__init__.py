"""Studies: experiments of the seed paper reproduced from compiled firmware on
the simulator (`iss bench NAME`).

- :mod:`iss.study.bottleneck`: one MobileNetV2 bottleneck on the 8 cores, on
  IMA + cores, and on IMA + DWA + cores (paper: 11.5x, 2.6x, 9.5x energy).
- :mod:`iss.study.packing`: the kernels' weight layouts (PW4, DW4) from numpy.
"""

import importlib.util
import os
from pathlib import Path


def _package_dir(name: str) -> Path:
    # firmware/apps and firmware/kernels ship as the packages iss.apps and
    # iss.kernels (pyproject.toml), so the studies build the same sources from a
    # source checkout (editable install) and from an installed wheel.
    return Path(next(iter(importlib.util.find_spec(name).submodule_search_locations)))


APPS = _package_dir("iss.apps")
KERNELS = _package_dir("iss.kernels")
_CHECKOUT = Path(__file__).resolve().parents[2]


def cache_dir() -> Path:
    """Where built study firmware is kept: $ISS_STUDY_CACHE, else build/study in a
    source checkout, else the user's cache directory (an installed wheel)."""
    if "ISS_STUDY_CACHE" in os.environ:
        return Path(os.environ["ISS_STUDY_CACHE"])
    if (_CHECKOUT / "pyproject.toml").exists():
        return _CHECKOUT / "build" / "study"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "iss" / "study"
