"""Weight layouts of the int8 core kernels (firmware/kernels/kernels.h), from
the numpy golden models' layouts (iss/nn/layers.py)."""
from __future__ import annotations

import numpy as np


def r4(n: int) -> int:
    return (n + 3) & ~3


def pack_pw4(w) -> np.ndarray:
    """w[K, N] int8 -> PW4 bytes: groups of 4 outputs, K4/4 words x 4 channels:
    ``packed[((g*(K4/4) + k)*4 + j)*4 + b] = w[4k+b][4g+j]`` (0 outside w)."""
    w = np.asarray(w, np.int8)
    k, n = w.shape
    k4, n4 = r4(k), r4(n)
    wp = np.zeros((n4, k4), np.int8)
    wp[:n, :k] = w.T
    return wp.reshape(n4 // 4, 4, k4 // 4, 4).transpose(0, 2, 1, 3).reshape(-1).copy()


def pack_dw4(w) -> np.ndarray:
    """w[3, 3, C] int8 -> DW4 bytes: per channel 3 words {w[kh,0], w[kh,1], w[kh,2], 0}."""
    w = np.asarray(w, np.int8)
    c = w.shape[2]
    p = np.zeros((c, 3, 4), np.int8)
    p[:, :, :3] = w.transpose(2, 0, 1)
    return p.reshape(-1)


__all__ = ["r4", "pack_pw4", "pack_dw4"]
