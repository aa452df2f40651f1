"""The stdout peripheral: each core writes characters to its own register, and
whole lines reach the user (so lines printed by different cores never mix).

The register of core c of cluster k is at SoC peripherals +0xF000 +
(k << 7 | c << 3), as in GVSoC's PULP platform. Any write size; the low byte is
the character.
"""
from __future__ import annotations

from .base import Peripheral


class Stdout(Peripheral):
    name = "stdout"
    size = 0x1000

    def __init__(self, sink):
        self.sink = sink                       # called with each complete line (str, no newline)
        self.partial: dict[int, bytearray] = {}

    def register_name(self, offset):
        return f"PUTC (cluster {offset >> 7}, core {(offset >> 3) & 15})"

    def write(self, hart, offset, size, value):
        if offset & 7:
            raise self.error(offset, "not a PUTC register (they are 8 bytes apart)")
        key = offset >> 3
        ch = value & 0xFF
        buf = self.partial.setdefault(key, bytearray())
        if ch == 0x0A:
            self.sink(buf.decode(errors="replace"))
            buf.clear()
        else:
            buf.append(ch)

    def read(self, hart, offset, size):
        return 0

    def flush(self):
        for buf in self.partial.values():
            if buf:
                self.sink(buf.decode(errors="replace"))
                buf.clear()
