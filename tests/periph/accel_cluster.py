"""A cluster with no program for driving the accelerators' registers from tests
(imported by the tests of this directory; not a conftest): the DMA, IMAs and DWA
are `cluster.dma`, `cluster.imas` and `cluster.dwa`."""
from __future__ import annotations

from iss.cluster import Cluster
from iss.config import Config


def make_cluster(program=None, **sections) -> Cluster:
    return Cluster(program, Config.load(**sections))
