"""Errors the simulator reports to users: each renders as one clear line."""
from __future__ import annotations


class IssError(Exception):
    """Base of every error a user can cause; the CLI prints str(e) and exits non-zero."""

    exit_code = 2


class ConfigError(IssError):
    """A configuration value or file is invalid."""


class ElfError(IssError):
    """The firmware file is not a loadable 32-bit RISC-V ELF."""


class OutputError(IssError):
    """An output file (trace, profile, timeline, results) cannot be written where asked."""


class BuildError(IssError):
    """Compiling firmware failed."""


class SimulationError(IssError):
    """The simulated program did something the platform cannot do.

    `where` is filled in by the hart that was running ("hart 3 pc 0x1c0001f4
    conv+0x1c (conv.c:42)") so the message names the place in the firmware.
    """

    exit_code = 3

    def __init__(self, message: str, where: str = ""):
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class IllegalInstruction(SimulationError):
    pass


class MemoryFault(SimulationError):
    pass


class PeripheralError(SimulationError):
    """A peripheral was misprogrammed (names the peripheral and register)."""


class Deadlock(SimulationError):
    pass


class CycleLimit(SimulationError):
    exit_code = 4


def file_error(path, e: OSError, what: str = "") -> str:
    """The one line for an OSError opening or reading the file at `path` (as
    `<what> <path>: no such file / is a directory / cannot read (<reason>)`)."""
    where = f"{what} {path}" if what else f"{path}"
    if isinstance(e, FileNotFoundError):
        return f"{where}: no such file"
    if isinstance(e, IsADirectoryError):
        return f"{where}: is a directory"
    return f"{where}: cannot read ({e.strerror or e})"
