"""pytest plugin: unit-test firmware functions on the simulated cluster.

Installed with the package (entry point `pytest11`), so a firmware repository
only needs `pip install iss`. A complete example is `examples/dot_product/`:

    import numpy as np, pytest

    pytestmark = pytest.mark.firmware("dot.c", opt="-O3")     # paths relative to the test file

    def test_dot(firmware):
        a, b = np.arange(64, dtype=np.int8), np.ones(64, dtype=np.int8)
        r = firmware.call("dot_int8_parallel", a, b, 64, cores=8)
        assert r.value == int(a.astype(int) @ b)
        r.assert_cycles(400)                  # on failure: per-core profile + dump file

Fixtures
--------
- `iss_build(sources, name=None, keep_globals=False, **options) -> Path`: compile
  C/assembly sources with the runtime into an ELF (`options` as
  `iss.toolchain.compile`: opt, defines, include_dirs, cores, extra_flags, ...).
  Cached by content (sources, headers, runtime, flags) in `build/iss-cache/` (or
  `--iss-build-dir`): an `iss.build_cache.BuildCache`, safe under pytest-xdist.
  `keep_globals=True` keeps every global function and variable of the sources
  in the image although nothing references it.
- `iss_config(path=None, **sections) -> Config`.
- `cluster`: a `ClusterFactory` (`.config`, `.cores`, `cluster(elf=None) ->
  Cluster`). Configure it with `@pytest.mark.iss_cluster(cores=4, tcdm_size=65536)`
  or indirect parametrization:
  `@pytest.mark.parametrize("cluster", [dict(cores=2), dict(cores=8)], indirect=True)`.
  Keys are config fields, flat (`cores`, `tcdm_size`, `tcdm_banks`, `l2_size`,
  `ima` = `ima.count`, ... any field whose name is unique) or as sections
  (`memory={"tcdm_banks": 16}`); a `Config` is accepted too.
- `firmware`: a `Firmware` built from `@pytest.mark.firmware(*sources,
  **build_options)` (module-level `pytestmark = ...` works) or indirect
  parametrization (a source path, or a dict with `sources` and build options),
  loaded on the `cluster` fixture's configuration. Sources are built with
  `keep_globals=True`; a `.elf` path is loaded as is.
- `load_firmware(*sources, config=None, **build_options) -> Firmware`: the same by
  hand, any number of times per test.

`Firmware` and `CallResult` (`fw.call`, `fw.symbol`, `fw.alloc`, `fw.run`,
`assert_cycles`, `assert_matches`, failure notes and dumps) are iss.firmware's,
documented there and usable from plain Python without pytest; this module only
turns them into fixtures. Under pytest a cycle limit also advises
`@pytest.mark.iss_cluster(max_cycles=N)`, and dumps go to
`--iss-artifacts DIR/<test>/` if given, else to the test's own directory under
pytest's basetemp (`tmp_path_factory`, per xdist worker); the path is also added
to the test's `user_properties` (JUnit XML).


xdist: fixtures are function-scoped and share no mutable state; `iss_build` is
session-scoped and only touches its content-addressed cache atomically.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable

import pytest

from . import firmware as _fw
from .build_cache import BuildCache
from .config import Config
from .firmware import (CallResult, CoreStats, Firmware, FirmwareExit, assert_matches,  # noqa: F401 (re-exported)
                       cluster_config)

PLUGIN_LIMIT_ADVICE = (_fw.CALL_LIMIT_ADVICE + ", or for every run with "
                       "@pytest.mark.iss_cluster(max_cycles=N)")


# -- command line and markers --------------------------------------------------------
def pytest_addoption(parser):
    group = parser.getgroup("iss", "cluster simulator")
    group.addoption("--iss-build-dir", default=None,
                    help="where iss_build caches ELFs (default: build/iss-cache under the rootdir)")
    group.addoption("--iss-artifacts", default=None,
                    help="where failing firmware tests write their dumps (default: the test's directory "
                         "under pytest's basetemp)")


def pytest_configure(config):
    config.addinivalue_line("markers", "firmware(*sources, **build_options): sources of the `firmware` fixture "
                                       "(relative to the test file)")
    config.addinivalue_line("markers", "iss_cluster(**fields): configuration of the `cluster` fixture "
                                       "(cores=, tcdm_size=, tcdm_banks=, ima=, ... or sections)")


# -- the cluster fixture -----------------------------------------------------------------
class ClusterFactory:
    """What the `cluster` fixture gives: a configuration and fresh clusters from it."""

    def __init__(self, config: Config):
        self.config = config

    @property
    def cores(self) -> int:
        return self.config.cluster.cores

    def __call__(self, program=None, echo: bool = False):
        from .cluster import Cluster
        return Cluster(program, self.config, echo=echo)

    def __repr__(self) -> str:
        m = self.config.memory
        return (f"ClusterFactory(cores={self.cores}, tcdm_size={m.tcdm_size}, tcdm_banks={m.tcdm_banks}, "
                f"ima={self.config.ima.count})")


# -- fixtures --------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def iss_build(request) -> BuildCache:
    opt = request.config.getoption("--iss-build-dir")
    cache = Path(opt) if opt else Path(request.config.rootpath) / "build" / "iss-cache"
    return BuildCache(cache)


@pytest.fixture
def iss_config():
    def make(path=None, **sections) -> Config:
        return Config.load(path, **sections)
    return make


@pytest.fixture
def cluster(request) -> ClusterFactory:
    """A cluster configuration and factory: `@pytest.mark.iss_cluster(cores=4)` or
    indirect parametrization with a dict of fields (or a Config)."""
    spec: dict = {}
    marker = request.node.get_closest_marker("iss_cluster")
    if marker is not None:
        if marker.args:
            return ClusterFactory(cluster_config(marker.args[0], **marker.kwargs))
        spec.update(marker.kwargs)
    param = getattr(request, "param", None)
    if isinstance(param, (Config, str, os.PathLike)):
        return ClusterFactory(cluster_config(param, **spec))
    return ClusterFactory(cluster_config(dict(spec, **(param or {}))))


def _artifacts_for(request, tmp_path_factory) -> Callable[[], Path]:
    made: list[Path] = []

    def directory() -> Path:
        if not made:
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:60]
            opt = request.config.getoption("--iss-artifacts")
            if opt:
                node = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-120:]
                made.append(Path(opt) / node)
            else:
                made.append(tmp_path_factory.mktemp(f"iss-{name}", numbered=True))
            request.node.user_properties.append(("iss_dumps", str(made[0])))
        return made[0]
    return directory


@pytest.fixture
def load_firmware(request, iss_build, cluster, tmp_path_factory):
    """load_firmware(*sources_or_elf, config=None, **build_options) -> Firmware."""
    base = Path(request.path).parent
    artifacts = _artifacts_for(request, tmp_path_factory)

    def load(*sources, config: Config | None = None, **build_options) -> Firmware:
        if len(sources) == 1 and isinstance(sources[0], (list, tuple)):
            sources = tuple(sources[0])
        if not sources:
            raise ValueError("load_firmware needs at least one source (or an .elf)")
        paths = [p if p.is_absolute() else base / p for p in map(Path, sources)]
        if "include_dirs" in build_options:
            build_options["include_dirs"] = [d if Path(d).is_absolute() else base / d
                                             for d in build_options["include_dirs"]]
        fw = _fw.load(*paths, config=config or cluster.config, cache_dir=iss_build, artifacts=artifacts,
                      **build_options)
        fw.limit_advice = PLUGIN_LIMIT_ADVICE
        return fw
    return load


@pytest.fixture
def firmware(request, load_firmware) -> Firmware:
    """The firmware of `@pytest.mark.firmware(*sources, **build_options)` (or an
    indirect parameter: a path, or a dict with `sources` and build options)."""
    param = getattr(request, "param", None)
    if param is not None:
        if isinstance(param, dict):
            opts = dict(param)
            sources = opts.pop("sources")
            sources = [sources] if isinstance(sources, (str, os.PathLike)) else list(sources)
            return load_firmware(*sources, **opts)
        return load_firmware(*([param] if isinstance(param, (str, os.PathLike)) else list(param)))
    marker = request.node.get_closest_marker("firmware")
    if marker is None:
        pytest.fail("the `firmware` fixture needs @pytest.mark.firmware('src.c', ...) (or "
                    "pytestmark = pytest.mark.firmware(...)) or indirect parametrization; "
                    "load_firmware(...) loads one by hand", pytrace=False)
    return load_firmware(*marker.args, **marker.kwargs)
