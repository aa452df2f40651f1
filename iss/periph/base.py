"""What every memory-mapped peripheral model is, and what it may ask of the cluster.

A peripheral owns one register window. Harts call `read`/`write` with the offset
inside that window; the cluster decides which peripheral an address belongs to
(iss/memory.py). A peripheral never touches another peripheral's state: it raises
events through the event unit and schedules its own future work on the cluster's
clock (`cluster.schedule`).

Time: `hart.now` is the accessing hart's clock in cycles; `cluster.schedule(t, fn)`
calls `fn()` when cluster time reaches cycle `t`. Harts are kept within one
scheduler quantum of each other, and every hart that can observe an event runs
behind it, so an event at `t` is seen by a hart at its cycle `t` or later.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import PeripheralError
from ..memory import WAIT  # noqa: F401  (what read/write return to put the hart to sleep)

if TYPE_CHECKING:  # pragma: no cover
    from ..cluster import Cluster
    from ..hart import Hart


class Peripheral:
    #: Name used in error messages, traces and profiles.
    name = "peripheral"
    #: Size of the register window in bytes.
    size = 0x400
    #: Register offsets -> names, for error messages and traces.
    registers: dict[int, str] = {}

    def __init__(self, cluster: "Cluster"):
        self.cluster = cluster

    def read(self, hart: "Hart", offset: int, size: int):
        raise self.error(offset, "register is not readable")

    def write(self, hart: "Hart", offset: int, size: int, value: int):
        raise self.error(offset, "register is not writable")

    def peek(self, core: int, offset: int, size: int) -> int | None:
        """What core `core` would read at `offset`, for a debugger, when reading
        has no side effect; None when it has one (or the model does not say)."""
        return None

    def check_access(self, offset: int, size: int) -> None:
        """A 32-bit access to a register of the map (`registers`), or an error."""
        if offset not in self.registers:
            raise self.error(offset, "no such register")
        if size != 4:
            raise self.error(offset, f"{size}-byte access (registers are 32-bit)")

    def register_name(self, offset: int) -> str:
        return self.registers.get(offset, f"offset 0x{offset:x}")

    def error(self, offset: int, message: str) -> PeripheralError:
        """An error naming this peripheral and register; the hart adds its PC."""
        return PeripheralError(f"{self.name} {self.register_name(offset)}: {message}")
