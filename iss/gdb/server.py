"""The GDB remote stub: one TCP connection from GDB, every hart a thread.

    server = Server(cluster, listen("localhost", 3333))
    outcome = server.serve()      # returns when GDB detached or the program ended

Packets handled (GDB remote serial protocol): ? g G p P m M X c s C S vCont D k
H T Z0-Z4 z0-z4 qSupported qXfer:features:read qfThreadInfo qsThreadInfo
qThreadExtraInfo qC qAttached qRcmd QStartNoAckMode; anything else gets the empty
reply (unsupported), a malformed packet gets `E01`.
"""
from __future__ import annotations

import os
import select
import shlex
import socket
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path

from ..errors import IssError
from ..hart import State
from . import packets, target
from .control import SIGTRAP, WATCH_KINDS, Debugger, Event

DETACH_POLICIES = ("continue", "end")


def parse_address(text: str) -> tuple[str, int]:
    """`[HOST:]PORT` -> (host, port); localhost unless a host is given."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host = "localhost"
    host = host.strip("[]") or "localhost"
    try:
        value = int(port)
    except ValueError:
        raise IssError(f"--gdb {text}: expected [HOST:]PORT with PORT a number (e.g. --gdb 3333 or "
                       f"--gdb 0.0.0.0:3333)") from None
    if not 0 <= value <= 65535:
        raise IssError(f"--gdb {text}: port {value} is out of range (0-65535; 0 picks a free one)")
    return host, value


def listen(host: str, port: int) -> socket.socket:
    """A listening socket, or an IssError naming the problem (port in use, bad host)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise IssError(f"--gdb {host}:{port}: unknown host ({e.strerror})") from None
    family, _, _, _, addr = infos[0]
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(addr)
        s.listen(1)
    except OSError as e:
        s.close()
        why = "port in use: another program (or another iss) listens there" if e.errno == 98 else e.strerror
        raise IssError(f"--gdb {host}:{port}: {why}") from None
    return s


def connect_line(elf: Path, host: str, port: int) -> str:
    """The command to paste into a shell to attach GDB."""
    where = f"{host}:{port}" if host not in ("localhost", "127.0.0.1", "::1") else f"localhost:{port}"
    return f"gdb-multiarch {shlex.quote(str(elf))} -ex 'target remote {where}'"


@dataclass
class Outcome:
    how: str              # "exit" (the program ended), "detach" (GDB detached or disconnected), "kill"
    message: str = ""


class Server:
    def __init__(self, cluster, sock: socket.socket, max_cycles: int = 0, on_detach: str = "continue",
                 reset=None, log=None):
        """`reset()`: a fresh cluster for `monitor reset` (None: not offered).
        `on_detach`: what the simulation does when GDB detaches or disconnects
        before the end: "continue" to the end, or "end" at once."""
        if on_detach not in DETACH_POLICIES:
            raise ValueError(f"on_detach must be one of {DETACH_POLICIES}")
        self.cluster = cluster
        self.sock = sock
        self.on_detach = on_detach
        self.debugger = Debugger(cluster, max_cycles)
        self._reset = reset
        self._log = log or (lambda msg: None)
        self._conn: socket.socket | None = None
        self._reader: packets.Reader | None = None
        self._ack = True
        self._thread = 0           # hart id selected by Hg (registers, memory)
        self._cont_thread = -1     # hart id selected by Hc (-1: all)
        self._disconnected = False
        self._trace = None
        self._error_reported = None

    # -- connection ---------------------------------------------------------------
    def serve(self) -> Outcome:
        conn, peer = self.sock.accept()
        self.sock.close()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._conn = conn
        self._reader = packets.Reader(conn.recv)
        self._log(f"GDB connected from {peer[0]}")
        try:
            return self._loop()
        finally:
            if self._trace is not None:
                self._trace_off()
            conn.close()

    def _loop(self) -> Outcome:
        while True:
            try:
                ev = self._reader.next()
            except (EOFError, ConnectionError):
                return self._detached("GDB disconnected")
            except packets.ProtocolError:
                self._send_raw(b"-")
                continue
            if ev in ("+", "-", packets.INTERRUPT):
                continue        # acks; an interrupt while stopped is nothing to do
            if ev is None:
                self._send_raw(b"-")
                continue
            if self._ack:
                self._send_raw(b"+")
            try:
                reply = self._dispatch(ev)
            except _Done as done:
                return done.outcome
            except (ValueError, IndexError, KeyError):
                reply = "E01"       # malformed packet: an error reply, never a crash
            except IssError as e:
                self._console(f"error: {e}\n")
                reply = "E02"
            except Exception:       # a bug in the stub: keep the session alive, say what happened
                self._console("iss gdb stub internal error:\n" + traceback.format_exc())
                reply = "E03"
            if reply is not None:
                self._send(reply)
            if self._disconnected:
                return self._detached("GDB disconnected")

    def _send_raw(self, data: bytes) -> None:
        try:
            self._conn.sendall(data)
        except OSError:
            self._disconnected = True

    def _send(self, payload: str) -> None:
        self._send_raw(packets.frame(payload))
        # In ack mode GDB acknowledges every packet; the reader skips the '+'.

    def _console(self, text: str) -> None:
        """Text on GDB's console (an `O` packet; only while GDB waits for a stop reply
        or a monitor command)."""
        self._send("O" + packets.ascii_hex(text))

    # -- ending ---------------------------------------------------------------------
    def _detached(self, why: str) -> Outcome:
        if self.debugger.ended:
            return Outcome("exit" if self.cluster.exit_code is not None else "kill", why)
        if self.on_detach == "end":
            self.debugger.detach()
            return Outcome("detach", f"{why}: simulation ended (--gdb-on-detach end)")
        self.debugger.detach()
        self._log(f"{why}: the simulation continues (--gdb-on-detach continue)")
        self.cluster.scheduler.pause_request = None
        self.cluster.scheduler.run(self.debugger.max_cycles)
        return Outcome("exit", why)

    # -- packets --------------------------------------------------------------------
    def _dispatch(self, p: str) -> str | None:
        c = p[0]
        if c == "?":
            return self._stop_reply(self.debugger.last or Event("interrupt", self.cluster.harts[0], signal=SIGTRAP))
        if c == "g":
            h = self._hart(self._thread)
            return "".join(packets.hex_u32(target.read_register(h, n)) for n in range(target.G_PACKET_REGS))
        if c == "G":
            h = self._hart(self._thread)
            data = p[1:]
            for n in range(min(target.G_PACKET_REGS, len(data) // 8)):
                if n:
                    target.write_register(h, n, packets.parse_u32(data[8 * n:8 * n + 8]))
            return "OK"
        if c == "p":
            n = int(p[1:], 16)
            if n >= target.register_count():
                return "E01"
            return packets.hex_u32(target.read_register(self._hart(self._thread), n))
        if c == "P":
            n, value = p[1:].split("=")
            n = int(n, 16)
            if n >= target.register_count():
                return "E01"
            try:
                target.write_register(self._hart(self._thread), n, packets.parse_u32(value))
            except ValueError:
                return "E01"
            return "OK"
        if c == "m":
            addr, length = (int(x, 16) for x in p[1:].split(","))
            data = self._read_memory(addr, min(length, packets.MAX_PACKET // 2))
            return data.hex() if data else "E14"
        if c == "M":
            head, hexdata = p[1:].split(":")
            addr, length = (int(x, 16) for x in head.split(","))
            data = bytes.fromhex(hexdata)
            if len(data) != length:
                return "E01"
            return "OK" if self._write_memory(addr, data) else "E14"
        if c == "X":
            head, _, raw = p[1:].partition(":")
            addr, length = (int(x, 16) for x in head.split(","))
            data = raw.encode("latin-1")
            if len(data) != length:
                return "E01"
            return "OK" if not length or self._write_memory(addr, data) else "E14"
        if c in "Zz":
            return self._breakpoint(c == "Z", p[1:])
        if c == "H":
            tid = _thread_id(p[2:])
            if tid not in (-1, 0) and not 0 <= tid - 1 < len(self.cluster.harts):
                return "E01"
            if p[1] == "g":
                self._thread = self._thread if tid in (-1, 0) else tid - 1
            else:
                self._cont_thread = -1 if tid in (-1, 0) else tid - 1
            return "OK"
        if c == "T":
            tid = _thread_id(p[1:])
            return "OK" if 0 <= tid - 1 < len(self.cluster.harts) else "E01"
        if c in "cC":
            self._set_resume_pc(p[1:], c == "C")
            return self._stop_reply(self._running(self.debugger.resume))
        if c in "sS":
            self._set_resume_pc(p[1:], c == "S")
            h = self._hart(self._cont_thread if self._cont_thread >= 0 else self._thread)
            return self._stop_reply(self._running(lambda: self.debugger.step(h)))
        if c == "D":
            self._send("OK")
            raise _Done(self._detached("GDB detached"))
        if c == "k":
            raise _Done(self._kill())
        if p.startswith("vCont"):
            return self._vcont(p[5:])
        if p.startswith("vKill"):
            self._send("OK")
            raise _Done(self._kill())
        if c == "q" or c == "Q":
            return self._query(p)
        return ""

    def _kill(self) -> Outcome:
        self.debugger.detach()
        if self.cluster.exit_code is not None:
            return Outcome("exit", "GDB killed the program after it ended")
        return Outcome("kill", "GDB killed the program: simulation ended")

    def _query(self, p: str) -> str:
        if p.startswith("qSupported"):
            return (f"PacketSize={packets.MAX_PACKET:x};qXfer:features:read+;QStartNoAckMode+;"
                    "vContSupported+")
        if p == "QStartNoAckMode":
            self._send("OK")
            self._ack = False
            return None
        if p.startswith("qXfer:features:read:"):
            annex, _, span = p[len("qXfer:features:read:"):].partition(":")
            if annex != "target.xml":
                return "E00"
            off, length = (int(x, 16) for x in span.split(","))
            xml = target.target_xml()
            chunk = xml[off:off + length]
            return ("l" if off + length >= len(xml) else "m") + chunk
        if p == "qfThreadInfo":
            return "m" + ",".join(f"{h.id + 1:x}" for h in self.cluster.harts)
        if p == "qsThreadInfo":
            return "l"
        if p.startswith("qThreadExtraInfo,"):
            h = self._hart(_thread_id(p.split(",", 1)[1]) - 1)
            return packets.ascii_hex(self.thread_description(h))
        if p == "qC":
            return f"QC{self._thread + 1:x}"
        if p.startswith("qAttached"):
            return "1"
        if p.startswith("qRcmd,"):
            return self._monitor(bytes.fromhex(p[6:]).decode("utf-8", "replace"))
        if p.startswith("qSymbol"):
            return "OK"
        return ""

    def _vcont(self, rest: str) -> str:
        if rest == "?":
            return "vCont;c;C;s;S"
        if not rest.startswith(";"):
            return "E01"
        step, only, everyone = None, set(), False
        for action in rest[1:].split(";"):
            what, _, tid = action.partition(":")
            if not what or what[0] not in "cCsS":
                return "E01"        # t (stop) and r (range step) are not supported
            t = _thread_id(tid) if tid else -1
            if what[0] in "sS" and step is None:
                step = self._hart(self._thread if t in (-1, 0) else t - 1)
            elif t in (-1, 0):
                everyone = True
            else:
                only.add(self._hart(t - 1))
        if step is not None:
            # Stepping one hart: the others stay frozen even if GDB lets them go.
            return self._stop_reply(self._running(lambda: self.debugger.step(step)))
        # Threads GDB does not name stay stopped (it steps one over a breakpoint so).
        return self._stop_reply(self._running(lambda: self.debugger.resume(None if everyone else only)))

    def _set_resume_pc(self, arg: str, with_signal: bool) -> None:
        if with_signal:
            arg = arg.partition(";")[2]
        if arg:
            h = self._hart(self._cont_thread if self._cont_thread >= 0 else self._thread)
            h.pc = int(arg, 16)

    # -- threads ------------------------------------------------------------------
    def _hart(self, hart_id: int):
        harts = self.cluster.harts
        if hart_id < 0:
            hart_id = 0
        if hart_id >= len(harts):
            raise ValueError(f"no thread {hart_id + 1}")
        return harts[hart_id]

    def thread_description(self, h) -> str:
        if self.cluster.exit_code is not None:
            state = "exited"
        elif h.state is State.SLEEPING:
            what = h.sleep_kind
            state = f"asleep on {what}" + (f" ({h.waiting_for})" if h.waiting_for else "")
        else:
            state = "running"
        return f"core {h.id}, {state}"

    # -- stop replies -------------------------------------------------------------
    def _stop_reply(self, ev: Event) -> str:
        if ev.kind == "exit":
            return f"W{ev.exit_code & 0xFF:02x}"
        if ev.kind == "error":
            # First report: stopped where it failed, so GDB can inspect it; any
            # later resume: the program is gone (terminated with that signal).
            if ev is self._error_reported:
                return f"X{ev.signal:02x}"
            self._error_reported = ev
            self._console(f"[iss] {ev.message}\n")
        self._thread = ev.hart.id
        extra = f"{ev.kind}:{ev.address:x};" if ev.kind in WATCH_KINDS.values() else ""
        return f"T{ev.signal:02x}thread:{ev.hart.id + 1:x};{extra}"

    def _running(self, run) -> Event:
        """Run the cluster (resume or step) while a thread watches the connection for
        Ctrl-C (0x03) or GDB going away."""
        done = threading.Event()
        conn, reader = self._conn, self._reader
        wake_r, wake_w = os.pipe()       # ends the watch at once when the run is over

        def watch():
            while not done.is_set():
                try:
                    ready, _, _ = select.select([conn, wake_r], [], [])
                    if conn not in ready:
                        continue
                    chunk = conn.recv(4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    self._disconnected = True
                    self.debugger.interrupt()
                    return
                reader._buf += chunk
                if b"\x03" in chunk:
                    self.debugger.interrupt()

        t = threading.Thread(target=watch, name="iss-gdb-watch", daemon=True)
        t.start()
        try:
            return run()
        finally:
            done.set()
            os.write(wake_w, b"x")
            t.join()
            os.close(wake_r)
            os.close(wake_w)

    # -- memory ---------------------------------------------------------------------
    def _read_memory(self, addr: int, length: int) -> bytes:
        """As much of [addr, addr+length) as can be read without side effects."""
        mem = self.cluster.memory
        out = bytearray()
        while len(out) < length:
            a = addr + len(out)
            r = mem.region(a, 1)
            if r is not None:
                buf, off = r
                n = min(length - len(out), len(buf) - off)
                out += buf[off:off + n].tobytes()
                continue
            word = self._peek(a & ~3)
            if word is None:
                break
            raw = word.to_bytes(4, "little")[a & 3:]
            out += raw[:length - len(out)]
        return bytes(out)

    def _peek(self, addr: int) -> int | None:
        mem = self.cluster.memory
        w = mem.window_at(addr)
        if w is None:
            return None
        peek = getattr(w.periph, "peek", None)
        if peek is None:
            return None
        base = w.base if w in mem.windows else w.base + _demux_base()
        return peek(self._thread, addr - base, 4)

    def _write_memory(self, addr: int, data: bytes) -> bool:
        mem = self.cluster.memory
        if mem.region(addr, len(data)) is not None:
            mem.write(addr, data)
            lo, hi = self.cluster.code.span
            if addr <= hi and addr + len(data) > lo:
                # Code changed (e.g. GDB inserting an ebreak): drop translated blocks.
                for h in self.cluster.harts:
                    h.uc.ctl_remove_cache(addr, addr + len(data))
            return True
        if len(data) in (1, 2, 4) and mem.window_at(addr) is not None:
            # A peripheral register written as the selected core would.
            self.cluster.bus_write(addr, int.from_bytes(data, "little"), len(data), core=self._thread)
            return True
        return False

    # -- breakpoints and watchpoints -------------------------------------------------
    def _breakpoint(self, insert: bool, arg: str) -> str:
        kind, addr, length = arg.split(";")[0].split(",")
        kind, addr, length = int(kind), int(addr, 16), int(length, 16)
        d = self.debugger
        if kind in (0, 1):
            if insert:
                d.add_breakpoint(addr)
            else:
                d.remove_breakpoint(addr)
            return "OK"
        if kind in (2, 3, 4):
            if insert:
                d.add_watchpoint(kind, addr, length)
            else:
                d.remove_watchpoint(kind, addr, length)
            return "OK"
        return ""

    # -- monitor ---------------------------------------------------------------------
    def _monitor(self, line: str) -> str:
        words = line.split()
        cmd = words[0] if words else "help"
        if cmd == "cycles":
            text = self._cycles()
        elif cmd == "profile":
            text = self._profile()
        elif cmd == "reset":
            text = self._do_reset()
        elif cmd == "trace":
            text = self._trace_cmd(words[1:])
        elif cmd == "help":
            text = MONITOR_HELP
        else:
            text = f"unknown monitor command '{cmd}'\n" + MONITOR_HELP
        return packets.ascii_hex(text) if text else "OK"

    def _cycles(self) -> str:
        c = self.cluster
        lines = [f"cluster time {max(h.native.cycles for h in c.harts)} cycles"]
        for h in c.harts:
            lines.append(f"core {h.id}: {h.native.cycles} cycles, {h.native.instret} instructions, "
                         f"pc 0x{h.pc:08x}, {self.thread_description(h).split(', ', 1)[1]}")
        return "\n".join(lines) + "\n"

    def _profile(self) -> str:
        from ..trace import profile as prof
        c = self.cluster
        data = prof.build_profile(c.program, c.profile_data(), clock_mhz=c.config.cluster.clock_mhz,
                                  cycles=max(h.native.cycles for h in c.harts), exit_code=c.exit_code,
                                  elf=str(c.program.path))
        return prof.format_profile(data)

    def _do_reset(self) -> str:
        if self._reset is None:
            return "monitor reset is not available in this session (views such as --trace or --profile " \
                   "are attached to the first run)\n"
        keep_bp = list(self.debugger.breakpoints)
        keep_w = [(w.kind, w.address, w.length) for w in self.debugger.watchpoints]
        self.debugger.detach()
        if self._trace is not None:
            self._trace_off()
        self.cluster = self._reset()
        self.debugger = Debugger(self.cluster, self.debugger.max_cycles)
        for a in keep_bp:
            self.debugger.add_breakpoint(a)
        for w in keep_w:
            self.debugger.add_watchpoint(*w)
        self._thread = 0
        return "reset: every core at the entry point, memories reloaded from the ELF, cycle 0\n"

    def _trace_cmd(self, args: list[str]) -> str:
        if not args or args[0] not in ("on", "off"):
            return "usage: monitor trace on [FILE] | monitor trace off\n"
        if args[0] == "on":
            if self._trace is not None:
                return f"instruction trace already on ({self._trace.path})\n"
            path = Path(args[1]) if len(args) > 1 else Path(self.cluster.program.path.stem + ".gdb.trace")
            self._trace = _LiveTrace(self.cluster, path)
            return f"instruction trace on: {path} (written at 'monitor trace off' or the end)\n"
        if self._trace is None:
            return "instruction trace is off\n"
        return self._trace_off()

    def _trace_off(self) -> str:
        t, self._trace = self._trace, None
        n = t.close()
        return f"instruction trace off: {t.path} ({n} instructions)\n"


MONITOR_HELP = """monitor commands:
  cycles              cycles, instructions, pc and state of every core
  profile             the profile so far (per-core cycles and stalls, top functions and lines)
  reset               restart the program: memories reloaded, every core at the entry, cycle 0
  trace on [FILE]     start an instruction trace (default APP.gdb.trace)
  trace off           stop it and write the text trace
"""


class _LiveTrace:
    """An instruction trace started and stopped from GDB (`monitor trace`)."""

    def __init__(self, cluster, path: Path):
        import tempfile

        from ..trace.native import FunctionMap, Tracer, build_meta
        self.cluster, self.path = cluster, path
        self._tmp = tempfile.mkdtemp(prefix=".iss-gdb-trace-")
        code = cluster.code
        self._meta = build_meta(code)
        code.keep_current(self._meta, build_meta)
        self._fmap = FunctionMap(cluster.program, code.pcs[:code.halfwords])
        self._chain = [h.native.chain_limit for h in cluster.harts]
        self.tracers = [Tracer(h, insn_path=str(Path(self._tmp) / f"insn{h.id}.bin"), meta=self._meta,
                               func_ids=self._fmap.ids) for h in cluster.harts]

    def close(self) -> int:
        import shutil

        from ..trace import insn as insn_text
        for t in self.tracers:
            t.finish()
            t.hart.uc.ctl_flush_tb()
        for h, chain in zip(self.cluster.harts, self._chain):
            h.native.chain_limit = chain
        try:
            return insn_text.write_text(sorted(Path(self._tmp).glob("insn*.bin")), self.cluster.program,
                                        self.cluster.code, self.path)
        finally:
            shutil.rmtree(self._tmp, ignore_errors=True)


class _Done(Exception):
    def __init__(self, outcome: Outcome):
        self.outcome = outcome


def _thread_id(text: str) -> int:
    """A thread-id: hex, -1 (all) or 0 (any); `p1.2` forms keep the thread part."""
    if "." in text:
        text = text.split(".", 1)[1]
    text = text.lstrip("p")
    return -1 if text == "-1" else int(text, 16)


def _demux_base() -> int:
    from ..memory import DEMUX_BASE
    return DEMUX_BASE
