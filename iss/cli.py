"""The `iss` command: compile firmware, run it on the simulated cluster, inspect ELFs.

Argument parsing and output formatting only; the work is in the package.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__
from .errors import BuildError, IssError, file_error

EPILOG = """examples:
  iss cc app.c -o app.elf -O3          compile with the runtime (pmsis.h) for 8 cores
  iss run app.elf                      run it; prints its output, exits with its exit code
  iss run app.elf --cores 4 --config cluster.toml --max-cycles 100000000
  iss run app.elf --profile            per-core cycles, stalls, top functions and lines
  iss run app.elf --trace insn:t.txt --trace-cores 0,3 --perfetto run.json --vcd run.vcd
  iss trace t.txt --core 3 --function conv
  iss run app.elf --gdb 3333           wait for gdb-multiarch (target remote localhost:3333); cores are threads
  iss info app.elf                     segments and symbols
  iss bench bottleneck                 the paper's bottleneck study (cores vs IMA+cores vs IMA+DWA+cores)
  iss bench bottleneck --all-shapes    every MobileNetV2 bottleneck shape
  iss bench mobilenetv2                end-to-end MobileNetV2 on 34 IMAs + DWA + cores vs cores only
  iss sweep examples/sweeps/ima_count.toml     a design-space sweep on Dask: table (Parquet, CSV), plots
  iss sweep plot build/sweeps/ima_count.parquet --x ima.count --y latency_ms --color workload
"""


def _cmd_cc(argv: list[str]) -> int:
    """`iss cc` reads its command line as gcc does (toolchain/cc_args.py), so
    PULP Makefiles can call it in place of their compiler."""
    import shlex

    from . import toolchain
    from .toolchain import cc_args

    r = cc_args.parse(argv)
    if r.help:
        build_parser().cc_parser.print_help()
        return 0
    for note in r.notes:
        print(f"iss cc: {note}", file=sys.stderr)
    options = dict(opt=r.opt, include_dirs=r.include_dirs, defines=r.defines, cores=r.cores or 8,
                   stack_size=r.stack_size or 2048, atomics=r.atomics, corev=r.corev,
                   extra_flags=r.compile_flags, lenient=not r.strict, show_warnings=True)
    build = dict(hwloops=False if r.no_hwloops else None, explain_hwloops=r.explain_hwloops)
    if r.print_flags:
        # the runtime objects named in LDFLAGS live in the build directory (here), as for every build
        cache = Path(os.environ.get("ISS_ZIG_CACHE") or ".zig-cache").resolve()
        objs = toolchain.runtime_objects(cache, cores=options["cores"], stack_size=options["stack_size"],
                                         atomics=r.atomics, corev=r.corev)
        cmd = toolchain.command([], Path("app.elf"), runtime_objects=objs, link_flags=r.link_flags, **options)
        cc, rest = cmd[:4], cmd[4:]
        split = rest.index("-Wl,--gc-sections")
        cflags, ldflags = rest[:split], [a for a in rest[split:] if a not in ("-o", "app.elf")]
        print(f"CC      = {shlex.join(cc)}")
        print(f"CFLAGS  = {shlex.join(cflags)}")
        print(f"LDFLAGS = {shlex.join(ldflags)}")
        print("# compile: $(CC) $(CFLAGS) -c x.c -o x.o    link: $(CC) $(CFLAGS) x.o ... $(LDFLAGS) -o app.elf")
        return 0
    if not r.sources and not r.link_inputs:
        raise BuildError("no input files (iss cc app.c -o app.elf; iss cc --help)")
    if r.compile_only:
        if not r.sources:
            raise BuildError("-c needs source files")
        if r.output and len(r.sources) > 1:
            raise BuildError("-o with -c names one object: give one source, or no -o")
        suffix = ".i" if "-E" in r.compile_flags else ".s" if "-S" in r.compile_flags else ".o"
        for src in r.sources:
            toolchain.compile([src], r.output or Path(src.stem + suffix), verbose=r.verbose, link=False, **options)
        return 0
    toolchain.compile(r.sources, r.output or Path("a.out"), verbose=r.verbose, link_inputs=r.link_inputs,
                      link_flags=r.link_flags, **build, **options)
    return 0


def _cmd_run(args, extra) -> int:
    if extra:
        raise IssError(f"unrecognized arguments: {' '.join(extra)}")
    from . import trace
    from .cluster import Cluster
    from .config import Config
    from .trace import progress

    try:
        cores = trace.parse_cores(args.trace_cores)
        window = trace.parse_window(args.trace_window)
    except ValueError as e:
        raise IssError(str(e)) from None
    trace_file = None
    if args.trace is not None:
        kind, _, name = args.trace.partition(":")
        if kind != "insn":
            raise IssError(f"--trace {args.trace}: the trace kind is 'insn' (--trace insn[:FILE])")
        trace_file = Path(name) if name else Path(args.elf.stem + ".trace")
    elif args.trace_cores or args.trace_window:
        raise IssError("--trace-cores and --trace-window filter a trace: add --trace insn[:FILE]")
    if args.max_cycles is not None and args.max_cycles < 0:
        raise IssError(f"--max-cycles must be >= 0 (0: no limit), got {args.max_cycles}")
    options = trace.ViewOptions(trace=trace_file, trace_cores=cores, trace_window=window,
                                profile=args.profile, profile_json=args.profile_json, perfetto=args.perfetto,
                                vcd=args.vcd, plot=args.plot, progress=progress.enabled(),
                                log=lambda text: print(text, file=sys.stderr, flush=True))
    options.check([("firmware", args.elf), ("configuration file", args.config)])
    overrides = {}
    if args.cores is not None:
        overrides["cluster"] = {"cores": args.cores}
    config = Config.load(args.config, **overrides)
    gdb_socket = None
    if args.gdb is not None:
        from . import gdb
        gdb_host, gdb_port = gdb.parse_address(args.gdb)
        gdb_socket = gdb.listen(gdb_host, gdb_port)      # a bad or busy port fails before any work
    elif args.gdb_on_detach is not None:
        raise IssError("--gdb-on-detach says what happens when GDB goes away: add --gdb [HOST:]PORT")
    cluster = Cluster(args.elf, config, echo=True)
    session = trace.Session(cluster, options)
    runner = None
    if gdb_socket is not None:
        views = bool(trace_file or args.profile or args.profile_json or options.timeline)
        runner = _gdb_runner(args, cluster, config, gdb_socket, gdb_host, reset=not views)
    result = session.run(max_cycles=args.max_cycles, runner=runner)
    if args.profile:
        print(trace.format_profile(session.profile, top=args.profile_top), file=sys.stderr, end="")
    if trace_file is not None:
        print(f"[iss] instruction trace: {trace_file} ({session.trace_lines} instructions)", file=sys.stderr)
    if args.energy:
        from .energy import format_energy, run_energy
        sys.stdout.flush()
        print(format_energy(run_energy(cluster)), file=sys.stderr, end="")
    if args.stats:
        print(f"[iss] exit code {result.exit_code}, {result.cycles} cycles, {result.instructions} instructions; "
              f"loading {result.load_seconds:.3f} s, running {result.wall_seconds:.3f} s ({result.mips:.1f} MIPS)",
              file=sys.stderr)
    return _process_status(result.exit_code)


def _process_status(exit_code: int) -> int:
    """The firmware's exit code as iss's own: a process status holds 0-255, and a
    code outside (256 would wrap to 0, success) becomes 1, with a note."""
    if 0 <= exit_code <= 255:
        return exit_code
    print(f"[iss] the firmware's exit code {exit_code} is outside 0-255: iss exits with 1", file=sys.stderr)
    return 1


def _gdb_runner(args, cluster, config, sock, host: str, reset: bool):
    """Run the cluster under GDB's control (iss/gdb) instead of to the end at once."""
    from . import gdb
    from .cluster import Cluster

    def log(msg: str) -> None:
        print(f"[iss] {msg}", file=sys.stderr, flush=True)

    def run(max_cycles=None):
        port = sock.getsockname()[1]
        limit = config.scheduler.max_cycles if max_cycles is None else max_cycles
        log(f"waiting for GDB on {host}:{port}; in GDB type:  target remote {host}:{port}   "
            f"(or run: {gdb.connect_line(args.elf, host, port)})")
        server = gdb.Server(cluster, sock, max_cycles=limit, on_detach=args.gdb_on_detach or "continue",
                            reset=(lambda: Cluster(args.elf, config, echo=True)) if reset else None, log=log)
        outcome = server.serve()
        if outcome.how != "exit":
            log(outcome.message)
        server.cluster.stdout.flush()
        error = server.debugger.error
        if error is not None:
            raise error
        return server.cluster.result()
    return run


def _bench_bottleneck(args) -> int:
    import json

    from .nn.mobilenetv2 import BottleneckShape
    from .study import bottleneck as bn
    from .trace.session import check_outputs

    check_outputs([("--perfetto", args.perfetto), ("--plot", args.plot), ("--json", args.json)])

    if args.all_shapes:
        rows = bn.all_shapes(seed=args.seed, energy=not args.no_energy,
                             progress=lambda idx, s: print(f"[iss] blocks {'/'.join(map(str, idx))}: "
                                                           f"{bn.shape_name(s)}", file=sys.stderr))
        print(bn.format_all(rows), end="")
        results = [r for _, _, r in rows if not isinstance(r, str)]
    else:
        if args.shape:
            try:
                h, w, cin, t, cout, stride = (int(v) for v in args.shape.split(","))
            except ValueError:
                raise IssError(f"--shape {args.shape}: expected H,W,CIN,T,COUT,STRIDE, e.g. 28,28,32,6,32,1") \
                    from None
            shape, index = BottleneckShape(h, w, cin, t, cout, stride), []
        else:
            shape, index = bn.paper_shape(), [bn.PAPER_SHAPE_INDEX, bn.PAPER_SHAPE_INDEX + 1]
        r = bn.run_shape(shape, index, seed=args.seed, energy=not args.no_energy, perfetto=args.perfetto,
                         plot=args.plot, plot_whole_run=args.plot_whole_run)
        print(bn.format_shape(r), end="")
        for path, what in ((args.perfetto, "Perfetto trace"), (args.plot, "plot")):
            if path:
                print(f"[iss] {what} of the heterogeneous run: {path}", file=sys.stderr)
        results = [r]
    if args.json:
        args.json.write_text(json.dumps(bn.to_json(results), indent=1, default=str))
    return 0


def _bench_mobilenetv2(args) -> int:
    from .nn.mapping import MappingError
    from .study import mobilenetv2 as mnv2
    from .trace.session import check_outputs

    check_outputs([("--perfetto", args.perfetto), ("--plot", args.plot)])

    try:
        r = mnv2.run_study(input_hw=args.input_hw, n_arrays=args.imas, seed=args.seed, program=args.program,
                           fc_on_ima=args.fc_on_ima, baseline=not args.no_baseline, energy=not args.no_energy,
                           perfetto=args.perfetto, log=lambda m: print(f"[iss] {m}", file=sys.stderr),
                           overlap=not args.no_overlap, compare_serial=not args.no_serial)
    except MappingError as e:
        raise IssError(str(e)) from None
    print(r.text, end="")
    if args.perfetto:
        print(f"[iss] Perfetto trace of the heterogeneous run: {args.perfetto}", file=sys.stderr)
    if args.plot:
        from .trace.plot import mobilenetv2_chart
        mobilenetv2_chart(r.hetero, args.plot, serial=r.serial,
                          paper_ms=10.1 if args.input_hw == 224 and not args.fc_on_ima else None)
        print(f"[iss] per-layer chart: {args.plot}", file=sys.stderr)
    return 0


BENCHES = {"bottleneck": _bench_bottleneck, "mobilenetv2": _bench_mobilenetv2}


def _cmd_bench(args, extra) -> int:
    if extra:
        raise IssError(f"unrecognized arguments: {' '.join(extra)}")
    if args.study is None:
        raise IssError(f"iss bench: name a study ({', '.join(BENCHES)})")
    return BENCHES[args.study](args)


def _cmd_trace(args, extra) -> int:
    if extra:
        raise IssError(f"unrecognized arguments: {' '.join(extra)}")
    from . import trace

    try:
        cores = trace.parse_cores(",".join(args.core)) if args.core else None
        window = trace.parse_window(args.window)
        functions = set(args.function) if args.function else None
        trace.filter_file(args.file, sys.stdout, cores=cores, functions=functions, window=window)
    except OSError as e:
        raise IssError(file_error(args.file, e)) from None
    except UnicodeDecodeError:
        raise IssError(f"{args.file}: not an iss instruction trace (binary data, not text)") from None
    except ValueError as e:
        raise IssError(str(e)) from None
    return 0


def _cmd_info(args, extra) -> int:
    from .elf import Program

    prog = Program(args.elf)
    print(f"{prog.path}: entry 0x{prog.entry:08x}")
    if prog.build:
        where = ("the fabric controller (its own hart; the program uses the PMSIS cluster API, which "
                 "offloads tasks to the cluster)" if prog.build["main_on"] == "fc" else
                 "cluster core 0 (no fabric-controller hart: the program does not use the PMSIS cluster API)")
        print(f"built for NUM_CORES={prog.build['num_cores']}, {prog.build['stack_size']} bytes of stack per core; "
              f"main runs on {where}")
    else:
        print("no build note (.note.iss): not built by iss cc")
    print("segments:")
    for s in prog.segments:
        flags = ("r" + ("w" if s.writable else "-") + ("x" if s.executable else "-"))
        print(f"  0x{s.vaddr:08x}  {s.memsz:8d} bytes ({len(s.data)} in file)  {flags}")
    print("symbols:")
    for sym in sorted(prog.symbols.values(), key=lambda s: s.addr):
        if sym.kind != "notype" or args.all:
            print(f"  0x{sym.addr:08x}  {sym.size:6d}  {sym.kind:6s}  {sym.name}")
    return 0


def _cmd_sweep(args, extra) -> int:
    if extra:
        raise IssError(f"unrecognized arguments: {' '.join(extra)}")
    from . import sweep

    if args.spec == "plot":
        if len(args.table) != 1 or not (args.pareto or (args.x and args.y)):
            raise IssError("usage: iss sweep plot RESULTS.parquet --x FIELD --y METRIC [--color FIELD] "
                           "[--out FILE.png] (or --pareto)")
        table = sweep.read_table(args.table[0])
        png = args.out or Path(args.table[0]).with_suffix(".png")
        if args.pareto:
            sweep.pareto_plot(table, png, args.x or "latency_ms", args.y or "energy_uj", args.color)
        else:
            sweep.plot(table, png, args.x, args.y, args.color)
        print(f"[iss] plot: {png}", file=sys.stderr)
        return 0
    if args.table:
        raise IssError(f"unrecognized arguments: {' '.join(args.table)}")
    spec = sweep.load_spec(args.spec)
    out = args.out or sweep.default_out(spec)
    client = None
    if args.scheduler:
        from distributed import Client
        try:
            client = Client(args.scheduler, timeout="10s")
        except OSError as e:
            raise IssError(f"--scheduler {args.scheduler}: cannot connect ({e})") from None
    progress = sweep.Progress()
    try:
        table = sweep.run(spec, client=client, out=out, cache=not args.no_cache, workers=args.workers,
                          log=lambda m: print(f"[iss] {m}", file=sys.stderr), progress=progress)
    except KeyboardInterrupt:
        progress.close()
        print(f"[iss] sweep interrupted: finished points are kept in {sweep.cache_dir_for(out)}; run the same "
              f"command again to resume", file=sys.stderr)
        raise
    finally:
        if client is not None:
            client.close()
    progress.close()
    print(sweep.summary(table), end="")
    print(f"[iss] table: {out} and {Path(out).with_suffix('.csv')}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="iss", description="Simulator of a heterogeneous in-memory-computing "
                                "PULP cluster: 8 RV32 CORE-V harts, shared TCDM, IMA and depthwise accelerators.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"iss {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    cc = sub.add_parser("cc", help="compile C/assembly firmware with the runtime into an ELF (gcc-style flags)",
                        formatter_class=argparse.RawDescriptionHelpFormatter,
                        description="Compile and link firmware for the cluster with the ziglang wheel's clang, "
                        "reading the command line as gcc does, so a PULP Makefile can call it as its compiler. "
                        "Links the start-up code, the runtime (pmsis.h), the C library and the linker script; "
                        "your flags apply to your sources only.",
                        epilog="""gcc-style arguments:
  FILE.c FILE.S FILE.s     sources to compile;  FILE.o FILE.a  objects and archives to link
  -o FILE  -c  -E  -O0..-O3 -Os -Oz -Og  -I DIR  -D NAME[=V]  -U NAME  -include FILE  -isystem DIR
  -MD -MMD -MF FILE -MT T  -std=...  -W...  -f...  -g...  -L DIR  -l LIB  -Xlinker X  -Wl,...
  -DNUM_CORES=N is --cores N.  -lc -lm -lgcc are provided.  Other toolchains' target flags
  (-march=rv32imcxpulpv2, -mPE=8, -mFC=1 ...) and linker scripts (-T) are ignored with a note.
  Code PULP GCC accepts with a warning (int-conversion, incompatible pointer types, implicit
  function declarations) compiles with a warning; --strict makes those errors.""")
    cc.add_argument("sources", nargs="*", type=Path, help="C (.c) or assembly (.S) files, objects (.o), archives (.a)")
    cc.add_argument("-o", dest="output", type=Path, help="output ELF (default: a.out; with -c: SOURCE.o)")
    cc.add_argument("-O", dest="opt", default="2", help="optimisation level 0 1 2 3 s z g (default: 2)")
    cc.add_argument("--cores", type=int, default=8, help="NUM_CORES the firmware is built for (default: 8)")
    cc.add_argument("--stack-size", type=int, default=2048, help="stack bytes per core in TCDM (default: 2048)")
    cc.add_argument("--no-atomics", action="store_true",
                    help="build for the real CV32E40P, without the A extension (on by default so C11 atomics "
                    "compile)")
    cc.add_argument("--no-corev", action="store_true",
                    help="plain RV32IMC code, without the CORE-V extensions (to measure what they bring)")
    cc.add_argument("--no-hwloops", action="store_true",
                    help="do not turn counted loops of the C sources into CV32E40P hardware loops "
                         "(the pass is on at -O2 and -O3)")
    cc.add_argument("--explain-hwloops", action="store_true",
                    help="print each loop the hardware-loop pass transformed or skipped, with file:line and why")
    cc.add_argument("--strict", action="store_true",
                    help="keep clang's errors for what PULP GCC only warns about")
    cc.add_argument("--print-flags", action="store_true",
                    help="print the exact compiler (CC), compile (CFLAGS) and link (LDFLAGS) flags, to drive "
                    "clang from your own Makefile or CMake (see README)")
    cc.add_argument("-v", "--verbose", action="store_true", help="print the compiler command")
    p.cc_parser = cc

    run = sub.add_parser("run", help="run an ELF on the simulated cluster",
                         description="Run firmware until it ends the simulation (exit from main, or a write to "
                         "the cluster controller's EOC register). Prints the firmware's output and exits with "
                         "its exit code (1 for a code outside 0-255).")
    run.add_argument("elf", type=Path)
    run.add_argument("--cores", type=int, help="cores in the cluster (default: 8, or the config file's)")
    run.add_argument("--max-cycles", type=int, default=None,
                     help="stop with an error when a hart's clock passes this (default: scheduler.max_cycles "
                     "of the configuration, 2e9; 0: no limit)")
    run.add_argument("--config", type=Path, help="TOML file overriding configuration fields (see README)")
    run.add_argument("--stats", action="store_true", help="print cycles, instructions, the time loading and running took, and the speed at the end")
    run.add_argument("--energy", action="store_true",
                     help="print the run's energy per component (event counts x the [energy] table of the "
                     "configuration, iss/energy.py) on stderr at the end")
    views = run.add_argument_group("views", "profiles, traces and timelines of the run (written also when it "
                                   "ends in an error; nothing is traced, and nothing costs, unless asked)")
    views.add_argument("--profile", action="store_true",
                       help="print per core cycles, instructions, IPC, stalls and sleep by kind, and the top "
                       "functions and source lines by cycles (on stderr, at the end)")
    views.add_argument("--profile-top", type=int, default=10, metavar="N",
                       help="functions and lines in the printed profile (default: 10)")
    views.add_argument("--profile-json", type=Path, metavar="FILE",
                       help="write the profile as JSON (schema iss-profile/1, see iss/trace/profile.py)")
    views.add_argument("--trace", metavar="insn[:FILE]",
                       help="write a cycle-stamped instruction trace (cycle, core, pc, symbol+offset, raw word, "
                       "disassembly, register written and its value, memory address) to FILE (default: "
                       "ELF-NAME.trace); filter it later with `iss trace`")
    views.add_argument("--trace-cores", metavar="LIST", help="trace only these cores, e.g. 0,3 or 0-3")
    views.add_argument("--trace-window", metavar="START:END",
                       help="trace only instructions starting in cycles [START, END); either may be empty")
    views.add_argument("--perfetto", type=Path, metavar="FILE",
                       help="write a Chrome/Perfetto trace-event JSON (ui.perfetto.dev): per core function "
                       "and sleep spans and IPC, per accelerator/DMA busy spans")
    views.add_argument("--vcd", type=Path, metavar="FILE",
                       help="write per-core pc, asleep and function signals as VCD (GTKWave)")
    views.add_argument("--plot", type=Path, metavar="FILE.png",
                       help="draw per-core activity over time (busy/stalled/asleep); needs matplotlib "
                       "(pip install 'iss[plot]')")
    debug = run.add_argument_group("debugging", "GDB remote stub: every core is a GDB thread; see README "
                                   "'Debugging with GDB'")
    debug.add_argument("--gdb", metavar="[HOST:]PORT",
                       help="wait for GDB (target remote HOST:PORT) before the first instruction; HOST defaults "
                       "to localhost (only local connections); PORT 0 picks a free port")
    debug.add_argument("--gdb-on-detach", choices=("continue", "end"), default=None,
                       help="when GDB detaches or disconnects before the program ends: run it to the end "
                       "(continue, the default) or end the simulation at once (end, exit code 1)")
    run.set_defaults(func=_cmd_run)

    bench = sub.add_parser("bench", help="run a study of the paper from compiled firmware",
                           description="Studies of the seed paper, run from compiled firmware with every output "
                           "checked bit for bit against the golden models (iss/study/).")
    studies = bench.add_subparsers(dest="study", metavar="STUDY")
    bb = studies.add_parser("bottleneck", help="one MobileNetV2 bottleneck on cores, IMA+cores and IMA+DWA+cores",
                            description="Cycles, per-layer breakdown, speedups and energy of a MobileNetV2 "
                            "bottleneck on the 8 cores, on IMA + cores and on IMA + DWA + cores, against the "
                            "paper's 11.5x, 2.6x and 9.5x (iss/study/bottleneck.py documents the shape).")
    bb.add_argument("--shape", metavar="H,W,CIN,T,COUT,STRIDE",
                    help="bottleneck shape (default: 28,28,32,6,32,1, MobileNetV2 blocks 4/5)")
    bb.add_argument("--all-shapes", action="store_true",
                    help="a table over every bottleneck shape of MobileNetV2 (those that do not fit are listed "
                    "with the reason)")
    bb.add_argument("--seed", type=int, default=3, help="seed of the parameters and the input (default: 3)")
    bb.add_argument("--no-energy", action="store_true", help="skip the energy model (no set-up-only runs)")
    bb.add_argument("--perfetto", type=Path, metavar="FILE", help="Perfetto trace of the heterogeneous run")
    bb.add_argument("--plot", type=Path, metavar="FILE.png",
                    help="activity plot of the heterogeneous run's timed part: a lane per core, per IMA, the DWA "
                    "and the DMA")
    bb.add_argument("--plot-whole-run", action="store_true",
                    help="plot the whole run (weight programming and set-up too), not just the timed part")
    bb.add_argument("--json", type=Path, metavar="FILE", help="write the results as JSON")
    mb = studies.add_parser("mobilenetv2", help="end-to-end MobileNetV2 on the multi-IMA cluster vs the cores",
                            description="The whole MobileNetV2 (IMA pointwise, DWA depthwise, cores) from "
                            "compiled firmware, every layer checked bit for bit against the golden model: total "
                            "cycles, latency with and without overlap (paper: 10.1 ms), energy (paper: 482 uJ), per-layer table, "
                            "and the "
                            "cores-only baseline with the ratio (iss/study/mobilenetv2.py).")
    mb.add_argument("--imas", type=int, default=34, help="IMA arrays configured (default: 34, the paper's)")
    mb.add_argument("--input-hw", type=int, default=224, help="input image size (default: 224)")
    mb.add_argument("--seed", type=int, default=0, help="seed of the parameters and the input (default: 0)")
    mb.add_argument("--program", choices=("preload", "plot"), default="preload",
                    help="IMA weights: preloaded by the host (default) or programmed by the firmware through "
                    "SUBMIT_PLOT before the timed part (slower to simulate; same inference)")
    mb.add_argument("--fc-on-ima", action="store_true",
                    help="classifier on the IMAs too (53 arrays; the paper's 34 hold the pointwise layers)")
    mb.add_argument("--no-baseline", action="store_true", help="skip the cores-only run")
    mb.add_argument("--no-overlap", action="store_true",
                    help="run every layer alone, one after another (default: consecutive layers overlapped in "
                    "chains over row bands, as the paper's mapping does)")
    mb.add_argument("--no-serial", action="store_true",
                    help="skip the comparison run without overlap")
    mb.add_argument("--no-energy", action="store_true", help="skip the energy model")
    mb.add_argument("--perfetto", type=Path, metavar="FILE", help="Perfetto trace of the heterogeneous run")
    mb.add_argument("--plot", type=Path, metavar="FILE.png",
                    help="per-layer chart (cycles by unit) and the latency with and without overlap beside the "
                    "paper's")
    bench.set_defaults(func=_cmd_bench)

    tr = sub.add_parser("trace", help="filter an instruction trace written by `iss run --trace`",
                        description="Print the lines of an instruction trace that match every filter given.")
    tr.add_argument("file", type=Path)
    tr.add_argument("--core", action="append", metavar="LIST",
                    help="cores to keep, e.g. 3 or 0,3 or 4-7 (repeatable)")
    tr.add_argument("--function", action="append", metavar="NAME",
                    help="keep instructions of this function (symbol name; repeatable)")
    tr.add_argument("--window", metavar="START:END", help="keep instructions starting in cycles [START, END)")
    tr.set_defaults(func=_cmd_trace)

    info = sub.add_parser("info", help="list an ELF's segments and symbols")
    info.add_argument("elf", type=Path)
    info.add_argument("--all", action="store_true", help="also list untyped symbols (labels)")
    info.set_defaults(func=_cmd_info)

    sw = sub.add_parser("sweep", help="run a design-space sweep (workloads x configurations) on Dask, or plot one",
                        description="Run every workload of SPEC.toml at every point of its grid or list of "
                        "configurations, each point in a Dask worker process, and write one table (Parquet and "
                        "CSV: configuration fields, cycles, latency, energy by unit, utilisation, verified, wall "
                        "time, error) and the spec's plots. Finished points are cached beside the table: running "
                        "the same command again resumes. The spec format is documented in iss/sweep.py and "
                        "examples/sweeps/.",
                        epilog="usage: iss sweep plot RESULTS.parquet --x FIELD --y METRIC [--color FIELD] "
                        "[--out FILE.png]\n       iss sweep plot RESULTS.parquet --pareto [--x latency_ms --y "
                        "energy_uj] [--color FIELD]", formatter_class=argparse.RawDescriptionHelpFormatter)
    sw.add_argument("spec", metavar="SPEC.toml", help="the sweep spec (or `plot` to draw a table)")
    sw.add_argument("table", nargs="*", metavar="RESULTS", help=argparse.SUPPRESS)
    sw.add_argument("--out", type=Path, help="the table (default: the spec's `out`, else build/sweeps/SPEC.parquet; "
                    "the CSV goes beside it); with `plot`, the PNG")
    sw.add_argument("--scheduler", metavar="ADDRESS",
                    help="an existing Dask scheduler, e.g. tcp://host:8786 (default: a local cluster of one "
                    "worker process per core, started and stopped by the command)")
    sw.add_argument("--workers", type=int, help="worker processes of the local cluster (default: the cores)")
    sw.add_argument("--no-cache", action="store_true", help="run every point, ignoring and not filling the cache")
    plot = sw.add_argument_group("iss sweep plot")
    plot.add_argument("--x", metavar="FIELD", help="column on the x axis, e.g. ima.count")
    plot.add_argument("--y", metavar="METRIC", help="column on the y axis, e.g. latency_ms")
    plot.add_argument("--color", metavar="FIELD", help="one line per value of this column")
    plot.add_argument("--pareto", action="store_true", help="scatter with the Pareto front (lower is better)")
    sw.set_defaults(func=_cmd_sweep)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    raw = list(argv if argv is not None else sys.argv[1:])
    if raw[:1] == ["cc"]:
        # gcc-style arguments (-include F, -MF F, objects...) are not argparse's to read
        args, extra = argparse.Namespace(command="cc"), []
    else:
        args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command == "cc":
            return _cmd_cc(list(argv if argv is not None else sys.argv[1:])[1:])
        return args.func(args, extra)
    except IssError as e:
        cause = e.__cause__
        if isinstance(e, BuildError) and cause is not None and str(cause):
            print(str(cause), file=sys.stderr)
        print(f"iss: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("iss: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (iss info app.elf | head): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
