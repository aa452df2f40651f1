"""The GDB stub (iss/gdb) driven by the real client, gdb-multiarch in batch mode,
against tests/firmware_src/gdb_demo.c; expected values are computed here from
the C source (samples[i] = 3*i + core, core = i % 8), not read back from the stub.
Protocol-level cases (malformed packets, ports, disconnects) use a raw socket."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from iss.gdb import packets, target

GDB = shutil.which("gdb-multiarch")
README = Path(__file__).resolve().parent.parent / "README.md"
needs_gdb = pytest.mark.skipif(GDB is None and not os.environ.get("ISS_REQUIRE_GDB"),
                               reason="gdb-multiarch is not installed (Debian/Ubuntu: apt-get install "
                               "gdb-multiarch; .ci/run installs it)")
N = 32
SAMPLES = [3 * i + i % 8 for i in range(N)]


@pytest.fixture(scope="module")
def demo(fw):
    return fw("gdb_demo")


class Iss:
    """`iss run ELF --gdb 0` in a subprocess; `port` is the one it printed."""

    def __init__(self, elf, *extra):
        self.proc = subprocess.Popen([sys.executable, "-m", "iss", "run", str(elf), "--gdb", "0", *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.banner = self.proc.stderr.readline()
        m = re.search(r"waiting for GDB on localhost:(\d+)", self.banner)
        assert m, self.banner + self.proc.stderr.read()
        self.port = int(m.group(1))

    def finish(self, timeout=60):
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, self.banner + err


def gdb(elf, commands: list[str], iss_args=(), timeout=90):
    """Run GDB batch `commands` against a fresh `iss run --gdb`; returns (gdb output,
    iss exit code, iss stdout, iss stderr)."""
    iss = Iss(elf, *iss_args)
    args = [GDB or "gdb-multiarch", "-nx", "-batch", "-ex", "set pagination off", "-ex", "set confirm off",
            "-ex", "set remotetimeout 60",          # a loaded CI machine may answer slowly
            "-ex", f"target remote localhost:{iss.port}"]
    for c in commands:
        args += ["-ex", c]
    args.append(str(elf))
    try:
        g = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    except BaseException:
        iss.proc.kill()
        raise
    rc, out, err = iss.finish()
    return g.stdout + g.stderr, rc, out, err


def values(text: str, name: str) -> list[int]:
    """`$N = {a, b, ...}` or `$N = a` printed by GDB after `p` (last one wins)."""
    m = re.findall(r"^\$\d+ = (.*)$", text, re.M)
    assert m, text
    return m


@needs_gdb
def test_break_on_a_core_registers_backtrace_and_exit_code(demo):
    out, rc, stdout, err = gdb(demo, [
        "info threads",
        "break scale if core == 3",
        "continue",
        "p $mhartid", "p x", "p $lpcount0", "p $pc == &scale", "bt",
        "info registers mcycle minstret mstatus mtvec",
        "delete", "continue"])
    assert out.count("(core ") >= 8, out                  # 8 threads named with their core
    for core in range(8):
        assert f"Thread {core + 1} (core {core}, running)" in out, out
    assert re.search(r"Thread 4 hit Breakpoint 1, scale \(x=(x@entry=)?3, core=(core@entry=)?3\)", out), out
    printed = values(out, "")
    assert printed[0] == "3"                             # mhartid of core 3
    assert printed[1] == "3"                             # its first element: i = core
    assert printed[2] == "0"                             # no hardware loop running
    assert printed[3] == "1"
    # bt through our frames (CFI from -g: .debug_frame), from the leaf to main
    frames = re.findall(r"^#(\d+) .*? (\w+) \(", out, re.M)
    names = [f[1] for f in frames]
    # core 3 is a worker: the runtime's dispatch loop called it, from _start
    assert names == ["scale", "fill", "worker", "__iss_worker", "_start"], out
    assert "Backtrace stopped" not in out                # _start is the outermost frame (crt0 CFI)
    assert re.search(r"^mcycle\s+0x[0-9a-f]+\s+\d+", out, re.M), out
    assert "[Inferior 1 (Remote target) exited with code 03]" in out, out
    assert rc == 3, err
    assert "checksum 1600 flag 0x55" in stdout


@needs_gdb
def test_read_tcdm_array_and_watch_a_variable_written_by_another_core(demo):
    out, rc, stdout, err = gdb(demo, [
        "break main",
        "continue",
        "delete",
        "watch ready_flag",
        "continue",
        "p $_thread",
        "delete",
        "break gdb_demo.c:52",        # after the fork: every core has filled its slice
        "continue",
        "p samples",
        "x/4dw &samples[8]",
        "p/x $mcycle",
        "p checksum",
        "set var ready_flag = 0x66",  # volatile: the program reads and prints it next
        "continue"])
    assert "Thread 6 hit Hardware watchpoint 2: ready_flag" in out, out   # core 5 writes it
    assert "Old value = 0\nNew value = 85" in out, out
    printed = values(out, "")
    assert printed[0] == "6"
    assert printed[1] == "{" + ", ".join(map(str, SAMPLES)) + "}", out
    row = re.search(r"<samples\+32>:\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)", out)
    assert row and [int(v) for v in row.groups()] == SAMPLES[8:12], out
    assert printed[3] == str(sum(SAMPLES)), out
    assert "checksum 1600 flag 0x66" in stdout, stdout
    assert rc == 3, err


@needs_gdb
def test_hardware_loop_registers_inside_a_loop(demo):
    # sum_words reads samples[] in hardware loop 0 of 32 iterations: reading
    # samples[5] happens in iteration 5, when 32 - 5 iterations are left (the
    # count drops at each end of the body, CV32E40P manual).
    out, rc, _, err = gdb(demo, [
        "rwatch samples[5]",
        "continue",
        "p $_thread",
        "p $lpcount0",
        "p $pc > $lpstart0 && $pc <= $lpend0",
        "p $lpcount1",
        "delete",
        "continue"])
    assert "hit Hardware read watchpoint 1: samples[5]" in out, out
    assert f"Value = {SAMPLES[5]}" in out, out
    assert re.search(r" in sum_words \(", out), out
    v = values(out, "")
    assert v[:4] == ["1", "27", "1", "0"], out
    assert rc == 3, err


@needs_gdb
def test_stepi_moves_one_core_only_and_keeps_cycles(demo):
    out, rc, _, err = gdb(demo, [
        "set scheduler-locking step",
        "break fill if core == 2",
        "continue",
        "delete",
        "thread 1", "p/x $pc", "p $mcycle",
        "thread 3", "p/x $pc", "p $mcycle", "p $minstret",
        "stepi",
        "p/x $pc", "p $mcycle", "p $minstret",
        "thread 1", "p/x $pc", "p $mcycle",
        "continue"])
    v = values(out, "")
    pc1, cyc1, pc3, cyc3, ins3, pc3b, cyc3b, ins3b, pc1b, cyc1b = v[:10]
    assert (pc1b, cyc1b) == (pc1, cyc1), out             # core 0 frozen
    step = int(pc3b, 16) - int(pc3, 16)
    assert step in (2, 4), out                           # one instruction further
    assert int(ins3b) == int(ins3) + 1, out
    assert int(cyc3b) > int(cyc3), out
    assert rc == 3, err


@needs_gdb
def test_stepi_on_a_core_asleep_on_the_barrier(demo):
    # Core 5 is stopped before its store; core 1 already sleeps in the barrier.
    # Its stepi lets the cluster run until the barrier opens, then core 1
    # executes that one load: its clock has gone through the sleep.
    out, rc, _, err = gdb(demo, [
        "set scheduler-locking step",
        "watch ready_flag",
        "continue",
        "delete",
        "info threads",
        "thread 2", "p/x $pc", "p $mcycle", "p $minstret",
        "stepi",
        "p/x $pc", "p $mcycle", "p $minstret",
        "info threads",
        "continue"])
    # Core 1 reached the barrier's load ahead of core 5 in simulated time: asleep
    # on it, or (its access waiting for core 5 to reach that cycle: iss/timing/
    # tcdm.py) still running on it.
    assert re.search(r"Thread 2 \(core 1, (asleep on barrier|running\) eu_bar_trig_wait_clr)", out), out
    pc0, cyc0, ins0, pc1, cyc1, ins1 = values(out, "")[:6]
    assert int(pc1, 16) - int(pc0, 16) in (2, 4), out
    assert int(ins1) == int(ins0) + 1, out
    assert int(cyc1) > int(cyc0), out
    after = out.rsplit("Id   Target Id", 1)[1]
    assert "Thread 2 (core 1, running)" in after, out
    assert rc == 3, err


@needs_gdb
def test_monitor_commands(demo, tmp_path):
    trace = tmp_path / "t.trace"
    out, rc, _, err = gdb(demo, [
        "monitor help",
        "list fill",
        "break fill",
        "continue",
        f"monitor trace on {trace}",
        "continue",
        "monitor trace off",
        "monitor cycles",
        "monitor profile",
        "monitor reset",
        "maintenance flush register-cache",     # GDB cannot know the registers changed
        "p $pc == _start",
        "p $mcycle",
        "delete",
        "continue"])
    assert "cycles, instructions, pc and state of every core" in out
    assert "samples[i] = scale(i, core);" in out          # `list` reads the source through the ELF
    assert "instruction trace off" in out
    lines = [ln for ln in trace.read_text().splitlines() if not ln.startswith("#")]
    assert lines and all(ln.split()[1].isdigit() for ln in lines)
    assert re.search(r"^core 7: \d+ cycles, \d+ instructions, pc 0x1c", out, re.M), out
    assert "profile: 8 cores" in out and "top functions by cycles" in out
    assert "reset: every core at the entry point" in out
    v = values(out, "")
    assert v[-2:] == ["1", "0"], out
    assert rc == 3, err


@needs_gdb
def test_software_breakpoint_written_as_ebreak(demo):
    # GDB writes the ebreak itself when told the stub has no Z0.
    out, rc, _, err = gdb(demo, [
        "set remote software-breakpoint-packet off",
        "break fill",
        "continue",
        "p core",
        "delete",
        "continue"])
    assert re.search(r"Thread 1 hit Breakpoint 1, fill \(core=core@entry=0", out), out
    assert rc == 3, err


def test_readme_transcript_is_reproduced(demo):
    """README 'Debugging with GDB': the commands of its transcript, run again, print
    every line the transcript shows."""
    if GDB is None and not os.environ.get("ISS_REQUIRE_GDB"):
        pytest.skip("gdb-multiarch is not installed")
    text = README.read_text()
    block = text.split("<!-- gdb-transcript -->", 2)[1]
    block = block.split("```", 2)[1].split("\n", 1)[1]
    commands = [ln[len("(gdb) "):] for ln in block.splitlines() if ln.startswith("(gdb) ")]
    expected = [ln for ln in block.splitlines() if ln.strip() and not ln.startswith("(gdb) ")]
    assert commands and expected
    out, rc, _, err = gdb(demo, commands[1:] if commands[0].startswith("target remote") else commands)
    def mask(text: str) -> str:
        # Code addresses move with the toolchain; the rest must be as shown.
        return re.sub(r"0x1c[0-9a-f]{6}", "0x1c......", text.replace(str(README.parent) + "/", ""))
    norm = mask(out)
    for ln in expected:
        assert mask(ln.strip()) in norm, f"{ln!r} not in GDB's output:\n{norm}"


# -- the protocol without GDB ------------------------------------------------------

class Raw:
    """A hand-driven remote-protocol client."""

    def __init__(self, port):
        self.s = socket.create_connection(("localhost", port), timeout=30)
        self.reader = packets.Reader(self.s.recv)

    def send(self, payload: str) -> str:
        self.s.sendall(packets.frame(payload))
        return self.reply()

    def reply(self) -> str:
        while True:
            ev = self.reader.next()
            if ev not in ("+", "-"):
                self.s.sendall(b"+")
                return ev


def test_protocol_errors_get_error_replies_and_the_run_continues(demo):
    iss = Iss(demo)
    c = Raw(iss.port)
    assert c.send("m1c000000,zz") == "E01"                   # malformed
    assert c.send("p1000") == "E01"                          # no such register
    assert c.send("Z9,0,4") == ""                            # unsupported kind
    assert c.send("Hg99") == "E01"                           # no such thread
    assert c.send("vCont;x") == "E01"
    c.s.sendall(b"$g#00")                                   # bad checksum: GDB's rule is to NAK
    assert c.reader.next() == "-"
    assert c.send("m0,4") == "E14"                          # unmapped
    regs = c.send("g")
    assert len(regs) == 33 * 8
    assert regs[32 * 8:] == packets.hex_u32(0x1C000000)       # every core starts at the entry
    assert c.send("qfThreadInfo") == "m1,2,3,4,5,6,7,8"
    assert bytes.fromhex(c.send("qThreadExtraInfo,5")).decode() == "core 4, running"
    mem = c.send("m1c000000,4")
    assert len(mem) == 8
    # Peripheral registers: readable where reading has no side effect.
    ima = 0x1020_1000
    assert c.send("m10200008,4") == packets.hex_u32(0xFF)               # cluster ctrl FETCH_EN: 8 cores
    assert c.send("M%x,4:%s" % (ima + 0x3C, packets.hex_u32(77))) == "OK"  # IMA J_WIDTH
    assert c.send("m%x,4" % (ima + 0x3C)) == packets.hex_u32(77)
    assert c.send("m%x,4" % (ima + 0x04)) == "E14"                      # ACQUIRE would lock it
    assert c.send("c").startswith("W03")
    c.s.close()
    rc, out, err = iss.finish()
    assert rc == 3, err


def test_disconnect_mid_run_continue_or_end(demo):
    for policy, want_rc in (("continue", 3), ("end", 1)):
        iss = Iss(demo, "--gdb-on-detach", policy)
        c = Raw(iss.port)
        assert c.send("Z0,%x,2" % 0x1C000000) == "OK"
        assert c.send("?").startswith("T05")
        c.s.close()                                         # GDB killed: no detach packet
        rc, out, err = iss.finish()
        assert rc == want_rc, err
        assert "GDB disconnected" in err
        assert ("checksum 1600" in out) == (policy == "continue")


def test_ctrl_c_stops_every_core_and_step_moves_one(demo):
    iss = Iss(demo, "--gdb-on-detach", "end")
    c = Raw(iss.port)
    assert c.send("Hc2") == "OK"
    assert c.send("s") == "T05thread:2;"                     # the stub's own one-instruction step
    assert c.send("Hg2") == "OK"
    assert c.send("p20") == packets.hex_u32(0x1C000004)      # auipc of `la gp` done
    assert c.send("Hg1") == "OK"
    assert c.send("p20") == packets.hex_u32(0x1C000000)      # core 0 did not move
    # Every core spins on `j .` at _start+4 from now on: only Ctrl-C stops them.
    assert c.send("M1c000004,4:%s" % packets.hex_u32(0x0000006F)) == "OK"
    c.s.sendall(packets.frame("c"))
    time.sleep(0.5)
    c.s.sendall(b"\x03")
    assert c.reply().startswith("T02thread:")
    mcycle = "p%x" % target.BY_NAME["mcycle"]
    cycles = [int.from_bytes(bytes.fromhex(c.send(f"Hg{t}") and c.send(mcycle)), "little") for t in (1, 2)]
    assert all(cy > 0 for cy in cycles)
    text = bytes.fromhex(c.send("qRcmd," + "cycles".encode().hex())).decode()
    assert text.count("running") == 8, text
    assert c.send("D") == "OK"
    rc, out, err = iss.finish()
    assert rc == 1 and "simulation ended" in err, err        # --gdb-on-detach end
    assert "checksum" not in out


def test_bad_port_and_port_in_use(demo, capsys):
    from iss.cli import main
    assert main(["run", str(demo), "--gdb", "localhost:notaport"]) != 0
    err = capsys.readouterr().err
    assert "expected [HOST:]PORT" in err and "Traceback" not in err
    busy = socket.socket()
    busy.bind(("localhost", 0))
    busy.listen(1)
    try:
        assert main(["run", str(demo), "--gdb", str(busy.getsockname()[1])]) != 0
        err = capsys.readouterr().err
        assert "port in use" in err, err
    finally:
        busy.close()
    assert main(["run", str(demo), "--gdb-on-detach", "end"]) != 0
    assert "add --gdb" in capsys.readouterr().err


def test_no_hook_while_nothing_is_set(demo):
    """Zero cost: breakpoints and watchpoints add hooks only while they exist."""
    from iss.cluster import Cluster
    from iss.gdb import Debugger
    from iss import unicorn_adapter
    c = Cluster(demo)
    hooks = [unicorn_adapter.python_hooks(h.uc) for h in c.harts]
    d = Debugger(c)
    fill = c.program.symbol("fill").addr
    d.add_breakpoint(fill)
    d.add_watchpoint(2, c.program.symbol("ready_flag").addr, 4)
    assert d.breakpoints and d.watch_hooks
    d.remove_breakpoint(fill)
    d.remove_watchpoint(2, c.program.symbol("ready_flag").addr, 4)
    assert not d.breakpoints and not d.watch_hooks
    assert hooks == [unicorn_adapter.python_hooks(h.uc) for h in c.harts]
    ev = d.resume()
    assert ev.kind == "exit" and ev.exit_code == 3



@needs_gdb
def test_machine_mode_csrs_inside_an_interrupt_handler(iss_build):
    """In the timer's handler of firmware/apps/rtos_tick.c GDB shows the trap
    state the program itself reads (iss/machine.py), from the manual's trap entry:
    mcause = interrupt bit | line 10 (EVT_TIMER0), MIE cleared with MPIE set and
    MPP = 3, mtvec = the vector (direct mode), mie = the timer line only."""
    app = Path(__file__).resolve().parents[1] / "firmware" / "apps" / "rtos_tick.c"
    elf = iss_build([app], name="rtos_tick", opt="-O3")
    out, rc, stdout, err = gdb(elf, [
        "break rtos_tick", "continue",
        "p/x $mcause", "p/x $mstatus", "p $mtvec == rtos_vector", "p/x $mie",
        "p/x (unsigned) $mepc & 1", "info symbol $mepc", "p/x $mscratch",
        "set var $mscratch = 0x1234", "p/x $mscratch", "kill"])
    printed = values(out, "")
    assert printed == ["0x8000000a", "0x1880", "1", "0x400", "0x0", "0x0", "0x1234"], out
    # the first tick interrupts task A, core 0's part of the team (cluster_entry)
    assert re.search(r"^cluster_entry \+ \d+ in section \.text", out, re.M), out


@pytest.fixture(scope="module")
def chain_elf(fw):
    return fw("gdb_chain")


def test_breakpoint_and_watchpoint_inside_a_chain_of_corev_instructions(chain_elf):
    """The CORE-V executor runs back-to-back CORE-V instructions without going
    back to the engine (whose code hooks are the breakpoints and the watch
    check): a breakpoint on the second of them, and a watchpoint on a cv.sw that
    follows them, must stop there all the same (both were run through)."""
    from iss.cluster import Cluster
    from iss.gdb import Debugger
    c = Cluster(chain_elf)
    d = Debugger(c)
    second = c.program.symbol("chained_second").addr
    store = c.program.symbol("chained_store").addr
    watched = c.program.symbol("watched").addr
    d.add_breakpoint(second)
    ev = d.resume()
    assert (ev.kind, ev.hart.id, ev.hart.pc) == ("breakpoint", 0, second)
    d.remove_breakpoint(second)              # (as GDB does before it continues)
    d.add_watchpoint(2, watched, 4)          # (the start-up code clears it: set from here)
    ev = d.resume()
    assert (ev.kind, ev.hart.id, ev.hart.pc, ev.address) == ("watch", 0, store, watched)
    assert c.memory.read(watched, 4) == bytes(4)          # stopped before the store
    d.remove_watchpoint(2, watched, 4)
    ev = d.resume()
    assert (ev.kind, ev.exit_code) == ("exit", 18)         # max(3, 9) stored, + min(...) then max


def test_chains_come_back_when_nothing_is_set(chain_elf):
    """Breakpoints and watchpoints turn chaining off while they exist, and only then."""
    from iss.cluster import Cluster
    from iss.gdb import Debugger
    c = Cluster(chain_elf)
    before = [h.native.chain_limit for h in c.harts]
    assert all(before)
    d = Debugger(c)
    d.add_breakpoint(c.program.symbol("chained_second").addr)
    d.add_watchpoint(2, c.program.symbol("watched").addr, 4)
    assert [h.native.chain_limit for h in c.harts] == [0] * len(c.harts)
    d.remove_breakpoint(c.program.symbol("chained_second").addr)
    assert [h.native.chain_limit for h in c.harts] == [0] * len(c.harts)
    d.remove_watchpoint(2, c.program.symbol("watched").addr, 4)
    assert [h.native.chain_limit for h in c.harts] == before
