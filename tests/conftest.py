"""Shared helpers for the project's own tests (the public fixtures come from
the iss pytest plugin: iss_build, iss_config)."""
from __future__ import annotations

from pathlib import Path

import pytest

FIRMWARE_SRC = Path(__file__).parent / "firmware_src"


@pytest.fixture(scope="session", autouse=True)
def shared_zig_cache(request):
    """Builds into temporary directories share one zig cache (its compiled
    runtime libraries take seconds to build afresh)."""
    cache = Path(request.config.rootpath) / "build" / "iss-cache" / ".zig-cache"
    mp = pytest.MonkeyPatch()
    mp.setenv("ISS_ZIG_CACHE", str(cache))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def fw(iss_build):
    """fw("spine_hello", defines=["X"]) -> ELF path of tests/firmware_src/<name>.c."""
    def build(name: str, **options) -> Path:
        tag = name + "".join(f"-{d}" for d in options.get("defines", ())) + \
            (f"-c{options['cores']}" if "cores" in options else "")
        return iss_build([FIRMWARE_SRC / f"{name}.c"], name=tag, **options)
    return build
