"""A content-addressed cache of firmware builds, safe for concurrent processes.

`BuildCache(dir)(sources, name=None, keep_globals=False, **options) -> Path`
compiles C/assembly sources with the runtime into `dir/NAME-KEY.elf` (options as
`toolchain.compile`: opt, defines, include_dirs, cores, extra_flags, ...), KEY
the digest of the sources, headers, runtime and flags; an existing ELF is
reused. Each build lands with an atomic rename, so pytest-xdist workers and
parallel scripts never see half an ELF. `keep_globals=True` keeps every global
function and variable of the sources in the image although nothing references
it (the link drops unused sections; `-Wl,-u,<symbol>` for each global, read from
the compiled objects), as unit calls into a firmware need.
"""
from __future__ import annotations

import os
import tempfile
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
        key_options = dict(options, keep_globals=True) if keep_globals else options
        key = toolchain.content_key(sources, **key_options)
        name = name or sources[0].stem
        out = self.cache_dir / f"{name}-{key}.elf"
        if out.exists():
            return out
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        zig_cache = self.cache_dir / ".zig-cache"
        with tempfile.TemporaryDirectory(dir=self.cache_dir, prefix=".build-") as tmp:
            if keep_globals:
                keep = _global_symbols(sources, Path(tmp), zig_cache, options)
                options = dict(options, extra_flags=[*options.get("extra_flags", ()),
                                                     *(f"-Wl,-u,{s}" for s in keep)])
            tmp_out = Path(tmp) / out.name
            toolchain.compile(sources, tmp_out, cache_dir=zig_cache, **options)
            os.replace(tmp_out, out)
        return out


def _global_symbols(sources, tmp: Path, zig_cache: Path, options: dict) -> list[str]:
    """Global functions and variables the sources define (compiled one by one)."""
    from elftools.elf.elffile import ELFFile

    names: set[str] = set()
    for i, src in enumerate(sources):
        obj = tmp / f"{i}-{src.stem}.o"
        toolchain.compile([src], obj, cache_dir=zig_cache, link=False, **options)
        with open(obj, "rb") as f:
            tab = ELFFile(f).get_section_by_name(".symtab")
            for s in tab.iter_symbols() if tab is not None else ():
                if (s["st_info"]["bind"] == "STB_GLOBAL" and s["st_shndx"] != "SHN_UNDEF"
                        and s["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT") and s.name):
                    names.add(s.name)
    return sorted(names)
