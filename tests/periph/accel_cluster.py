"""Building a cluster with the DMA, IMAs and DWA attached (imported by the tests
of this directory; not a conftest). If iss.cluster.Cluster already attaches a
unit, the existing instance is used."""
from __future__ import annotations

from iss.cluster import Cluster
from iss.config import Config
from iss.periph import dma, dwa, ima


def with_accelerators(cluster: Cluster) -> Cluster:
    mem = cluster.memory
    w = mem.window_at(dma.SHARED_BASE)
    cluster.dma_unit = w.periph if w else dma.install(cluster)
    cluster.imas = []
    for i in range(cluster.config.ima.count):
        w = mem.window_at(ima.base_address(i))
        if w is None:
            inst = ima.Ima(cluster, i)
            cluster.attach(ima.base_address(i), inst)
        else:
            inst = w.periph
        cluster.imas.append(inst)
    w = mem.window_at(dwa.BASE)
    cluster.dwa_unit = w.periph if w else dwa.install(cluster)
    return cluster


def make_cluster(program=None, **sections) -> Cluster:
    return with_accelerators(Cluster(program, Config.load(**sections)))
