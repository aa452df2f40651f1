"""Debugging firmware with GDB: a remote serial protocol stub in which every hart
is a thread (iss/gdb/server.py), run control over the cluster's scheduler
(control.py), the registers and target description (target.py) and the packet
framing (packets.py). `iss run app.elf --gdb PORT` uses it."""
from .control import Debugger, Event
from .server import DETACH_POLICIES, Outcome, Server, connect_line, listen, parse_address

__all__ = ["Debugger", "Event", "Server", "Outcome", "DETACH_POLICIES", "connect_line", "listen", "parse_address"]
