"""What every memory-mapped peripheral model is, and what it is connected to.

A peripheral owns one register window. Harts call `read`/`write` with the offset
inside that window; the cluster decides which peripheral an address belongs to
(iss/memory.py). A peripheral never touches another peripheral's state, nor the
cluster: it is given what it is connected to when it is built (`Wiring`, as
GVSoC binds a component's ports): the clock, its event lines into the event
unit, a TCDM port, the memories it moves data in, the activity record. A
model's module has `install(wiring)`, which builds it, places its register
window(s) and returns it; the cluster calls it once and keeps the reference
(`cluster.dma`, `cluster.imas`, ...).

Time: `hart.now` is the accessing hart's clock in cycles; `clock.now` the
cluster's; `clock.schedule(t, fn)` calls `fn()` when cluster time reaches cycle
`t`. Harts are kept within one scheduler quantum of each other, and every hart
that can observe an event runs behind it, so an event at `t` is seen by a hart
at its cycle `t` or later.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Protocol

from ..errors import PeripheralError
from ..memory import WAIT, Memory  # noqa: F401  (WAIT: what read/write return to put the hart to sleep)

if TYPE_CHECKING:  # pragma: no cover
    from ..config import Config
    from ..hart import Hart
    from ..timing.tcdm import TcdmArbiter, TcdmPort

#: An event line into the event unit: `line(at, core_mask=None)` raises it at
#: cycle `at` on the cores of `core_mask` (None: every core).
EventLine = Callable[..., None]


class Clock(Protocol):
    """The cluster's clock as a model sees it."""

    @property
    def now(self) -> int: ...

    def schedule(self, at: int, fn: Callable[[], None]) -> None: ...


class Wiring:
    """What the cluster connects its models to; each model's `install(wiring)`
    takes the connections it needs from here when it is built."""

    def __init__(self, config: "Config", clock: Clock, memory: Memory, tcdm: "TcdmArbiter", event_unit,
                 activity: Callable[[str, str, int, int], None]):
        self.config = config
        self.clock = clock
        self.memory = memory
        self.activity = activity          # activity(unit, label, start, end): spans the views draw
        self._tcdm = tcdm
        self._event_unit = event_unit

    def event_line(self, line: int) -> EventLine:
        """Event line `line` of the event unit."""
        return self._event_unit.line(line)

    def tcdm_port(self, name: str) -> "TcdmPort":
        """A new port into the TCDM's bank arbitration (after the cores and the
        ports opened before it in round-robin order)."""
        from ..timing.tcdm import TcdmPort
        return TcdmPort(self._tcdm, name)

    def attach(self, base: int, periph: "Peripheral") -> None:
        """Place a register window in the shared address map."""
        self.memory.attach(base, periph)

    def attach_private(self, offset: int, periph: "Peripheral") -> None:
        """Place a register window in every core's private (demux) view."""
        self.memory.attach_private(offset, periph)


class Peripheral:
    #: Name used in error messages, traces and profiles.
    name = "peripheral"
    #: Size of the register window in bytes.
    size = 0x400
    #: Register offsets -> names, for error messages and traces.
    registers: dict[int, str] = {}

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
