"""Why a core is clock-gated: one kind per wait, given by the model that puts the
core to sleep (the event unit, the DMA, the accelerators) and used as is by the
hart's counters, the profile, the timelines, the GDB stub and the pytest plugin."""
from __future__ import annotations

from enum import StrEnum


class SleepKind(StrEnum):
    BARRIER = "barrier"            # a cluster barrier
    EVENT = "event"                # any other wait for events
    MUTEX = "mutex"                # a mutex another core holds
    DISPATCH = "dispatch"          # a team worker waiting for work (DISPATCH_FIFO)
    DMA = "dma"                    # the DMA: its queue, or waiting for its events only
    ACCELERATOR = "accelerator"    # an IMA/DWA busy, or waiting for their events only
    WFI = "wfi"                    # wfi


#: The kinds in the profile's column order, and their column labels.
SLEEP_KINDS = tuple(k.value for k in SleepKind)
SLEEP_LABELS = {k: ("accel" if k == SleepKind.ACCELERATOR else k) for k in SLEEP_KINDS}
