"""iss: a simulator of a heterogeneous in-memory-computing PULP cluster."""
__version__ = "0.1.0"

from .config import Config  # noqa: E402
from .errors import IssError, SimulationError  # noqa: E402

__all__ = ["Cluster", "Config", "IssError", "Result", "SimulationError", "run"]


def __getattr__(name):
    # The cluster pulls in Unicorn and the native helper: import it on first use.
    if name in ("Cluster", "Result", "run"):
        from . import cluster
        return getattr(cluster, name)
    raise AttributeError(name)
