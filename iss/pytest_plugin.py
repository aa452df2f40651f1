"""pytest plugin for firmware tests on the simulated cluster.

Installed with the package (entry point `pytest11`), so a firmware repository
only needs `pip install iss`. Fixtures:

- `iss_build(sources, **options) -> Path`: compile C sources with the project's
  toolchain into an ELF. Cached by content (sources, headers, runtime, flags) in
  `build/iss-cache/` (or `--iss-build-dir`); safe under pytest-xdist (each build
  lands with an atomic rename).
- `iss_config(**sections) -> Config`: a configuration with overrides.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from . import toolchain
from .config import Config


def pytest_addoption(parser):
    group = parser.getgroup("iss", "cluster simulator")
    group.addoption("--iss-build-dir", default=None,
                    help="where iss_build caches ELFs (default: build/iss-cache under the rootdir)")


class Builder:
    def __init__(self, cache_dir: Path):
        self.cache_dir = cache_dir

    def __call__(self, sources, name: str | None = None, **options) -> Path:
        if isinstance(sources, (str, os.PathLike)):
            sources = [sources]
        sources = [Path(s) for s in sources]
        key = toolchain.content_key(sources, **options)
        name = name or sources[0].stem
        out = self.cache_dir / f"{name}-{key}.elf"
        if out.exists():
            return out
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.cache_dir, prefix=".build-") as tmp:
            tmp_out = Path(tmp) / out.name
            toolchain.compile(sources, tmp_out, cache_dir=self.cache_dir / ".zig-cache", **options)
            os.replace(tmp_out, out)
        return out


@pytest.fixture(scope="session")
def iss_build(request) -> Builder:
    opt = request.config.getoption("--iss-build-dir")
    cache = Path(opt) if opt else Path(request.config.rootpath) / "build" / "iss-cache"
    return Builder(cache)


@pytest.fixture
def iss_config():
    def make(path=None, **sections) -> Config:
        return Config.load(path, **sections)
    return make
