"""GDB remote serial protocol framing: `$data#cs` packets, acknowledgements, the
`}` escape and run-length encoding GDB may send, and the interrupt byte (0x03).

Reads from any byte source (`recv(n) -> bytes`) and yields protocol events; knows
nothing of the simulator.
"""
from __future__ import annotations

INTERRUPT = "\x03"
MAX_PACKET = 0x4000      # what we advertise as PacketSize (hex in qSupported)


class ProtocolError(Exception):
    """The byte stream is not the remote protocol (bad checksum, runaway packet)."""


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def frame(payload: str | bytes) -> bytes:
    """`$payload#cs`, with the characters the protocol reserves escaped."""
    raw = payload.encode("latin-1") if isinstance(payload, str) else payload
    out = bytearray()
    for b in raw:
        if b in b"$#}*":
            out += bytes((0x7D, b ^ 0x20))
        else:
            out.append(b)
    return b"$" + bytes(out) + b"#%02x" % checksum(bytes(out))


def unescape(body: bytes) -> bytes:
    """Undo `}` escapes and `*` run-length encoding in a received packet body."""
    out = bytearray()
    i = 0
    while i < len(body):
        b = body[i]
        if b == 0x7D and i + 1 < len(body):
            out.append(body[i + 1] ^ 0x20)
            i += 2
        elif b == 0x2A and out and i + 1 < len(body):
            out += bytes((out[-1],)) * (body[i + 1] - 29)
            i += 2
        else:
            out.append(b)
            i += 1
    return bytes(out)


class Reader:
    """Splits the incoming byte stream into packets (str, latin-1), interrupts and
    acknowledgements. A packet with a bad checksum is reported as None (the
    caller answers `-` so GDB sends it again)."""

    def __init__(self, recv):
        self._recv = recv
        self._buf = bytearray()

    def next(self):
        """The next event: a packet (str), INTERRUPT, '+', '-', None (bad
        checksum), or EOFError when the connection closed."""
        while True:
            ev = self._parse()
            if ev is not _MORE:
                return ev
            chunk = self._recv(4096)
            if not chunk:
                raise EOFError("connection closed")
            self._buf += chunk

    def _parse(self):
        buf = self._buf
        while buf:
            c = buf[0]
            if c == 0x03:
                del buf[0]
                return INTERRUPT
            if c in (0x2B, 0x2D):  # + -
                del buf[0]
                return chr(c)
            if c != 0x24:          # noise before a packet start: skip it
                del buf[0]
                continue
            end = buf.find(b"#")
            if end < 0:
                if len(buf) > 4 * MAX_PACKET:
                    buf.clear()
                    raise ProtocolError("packet without end marker")
                return _MORE
            if len(buf) < end + 3:
                return _MORE
            body, cs = bytes(buf[1:end]), bytes(buf[end + 1:end + 3])
            del buf[:end + 3]
            try:
                ok = int(cs, 16) == checksum(body)
            except ValueError:
                ok = False
            if not ok:
                return None
            return unescape(body).decode("latin-1")
        return _MORE


_MORE = object()


def hex_bytes(data: bytes) -> str:
    return data.hex()


def hex_u32(value: int) -> str:
    """A 32-bit register as GDB wants it: target byte order (little-endian) hex."""
    return (value & 0xFFFFFFFF).to_bytes(4, "little").hex()


def parse_u32(text: str) -> int:
    raw = bytes.fromhex(text)
    if len(raw) != 4:
        raise ValueError(f"register value {text!r} is not 4 bytes")
    return int.from_bytes(raw, "little")


def ascii_hex(text: str) -> str:
    """Console output for `O` packets and qRcmd replies."""
    return text.encode("utf-8", "replace").hex()
