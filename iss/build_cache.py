"""A content-addressed cache of firmware builds, safe for concurrent processes:
a directory for `toolchain.compile_cached`, which holds the logic.

`BuildCache(dir)(sources, name=None, keep_globals=False, **options) -> Path`
compiles C/assembly sources with the runtime into `dir/NAME-KEY.elf` (options as
`toolchain.compile`: opt, defines, include_dirs, cores, extra_flags, ...), KEY
the digest of the sources, headers, runtime and flags; an existing ELF is
reused. Each build lands with an atomic rename, so pytest-xdist workers and
parallel scripts never see half an ELF. `keep_globals=True` keeps every global
function and variable of the sources in the image although nothing references
it, as unit calls into a firmware need.
"""
from __future__ import annotations

import os
from pathlib import Path

from . import toolchain

DEFAULT_DIR = Path("build") / "iss-cache"


class BuildCache:
    def __init__(self, cache_dir=DEFAULT_DIR):
        self.cache_dir = Path(cache_dir)

    def __repr__(self) -> str:
        return f"BuildCache({str(self.cache_dir)!r})"

    def __call__(self, sources, name: str | None = None, keep_globals: bool = False, **options) -> Path:
        if isinstance(sources, (str, os.PathLike)):
            sources = [sources]
        sources = [Path(s) for s in sources]
        return toolchain.compile_cached(sources, self.cache_dir, name or sources[0].stem,
                                        keep_globals=keep_globals, **options)
