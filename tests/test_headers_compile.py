"""corev.h and pulp_builtins.h compile warning-free and emit CORE-V opcodes.

- tests/firmware_src/pulp_nn_like.c (PULP-NN style, pulp_builtins.h only)
  builds with -Werror at -O0 and -O2 and contains the custom opcodes
  (0x7B SIMD, 0x2B ALU/MAC/bitmanip-register/post-increment stores,
  0x5B immediate bitmanip/MAC-N, 0x0B post-increment loads/cv.elw).
- A source generated from corev.h calls every cv_* intrinsic in its own
  function; each function must contain a custom-opcode instruction, and,
  where Debian's llvm-objdump-19 is installed, the intrinsic's mnemonic.
- Every __builtin_pulp_* of pulp_builtins.h is called or referenced once.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

ROOT = Path(__file__).resolve().parents[1]
INCLUDE = ROOT / "firmware" / "runtime" / "include"
COREV_H = INCLUDE / "corev.h"
PULP_H = INCLUDE / "pulp_builtins.h"
PULP_NN_LIKE = ROOT / "tests" / "firmware_src" / "pulp_nn_like.c"

MATTR = "+xcvalu,+xcvmac,+xcvsimd,+xcvmem,+xcvbi,+xcvbitmanip,+xcvelw"
CFLAGS = [
    "-target", "riscv32-freestanding-none",
    "-mcpu=generic_rv32+m+a+c+zicsr+xcvalu+xcvmac+xcvsimd+xcvmem+xcvbi+xcvbitmanip+xcvelw",
    "-mabi=ilp32", "-g", "-nostdlib", "-ffreestanding",
    "-fno-unwind-tables", "-fno-asynchronous-unwind-tables",
    "-Wall", "-Wextra", "-Werror",
]
CUSTOM_OPCODES = {0x0B, 0x2B, 0x5B, 0x7B}
OBJDUMP = shutil.which("llvm-objdump-19")


@pytest.fixture(scope="module")
def compile_c(tmp_path_factory):
    work = tmp_path_factory.mktemp("hdr")
    env = dict(os.environ)
    env["ZIG_GLOBAL_CACHE_DIR"] = str(work / "zig-global")
    env["ZIG_LOCAL_CACHE_DIR"] = str(work / "zig-local")
    counter = [0]

    def _compile(src_path, opt="-O2", extra=()):
        counter[0] += 1
        obj = work / f"o{counter[0]}.o"
        cmd = [sys.executable, "-m", "ziglang", "cc", *CFLAGS, opt, *extra,
               f"-I{INCLUDE}", "-c", str(src_path), "-o", str(obj)]
        res = subprocess.run(cmd, env=env, capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        return obj
    _compile.work = work
    return _compile


def functions(obj):
    """{name: [32-bit instruction words]} walking the RVC/32-bit stream."""
    out = {}
    with open(obj, "rb") as f:
        elf = ELFFile(f)
        symtab = elf.get_section_by_name(".symtab")
        sections = {}
        for sym in symtab.iter_symbols():
            if sym["st_info"]["type"] != "STT_FUNC" or sym["st_size"] == 0:
                continue
            idx = sym["st_shndx"]
            if idx not in sections:
                sections[idx] = elf.get_section(idx).data()
            data = sections[idx]
            pc, end, words = sym["st_value"], sym["st_value"] + sym["st_size"], []
            while pc < end:
                half = int.from_bytes(data[pc:pc + 2], "little")
                if half & 3 != 3:
                    pc += 2
                    continue
                words.append(int.from_bytes(data[pc:pc + 4], "little"))
                pc += 4
            out[sym.name] = words
    return out


def opcodes(words):
    return {w & 0x7F for w in words}


def disasm_by_function(obj):
    res = subprocess.run([OBJDUMP, "-d", f"--mattr={MATTR}", str(obj)],
                         capture_output=True, text=True, check=True)
    out, cur = {}, None
    for line in res.stdout.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if m:
            cur = m.group(1)
            out[cur] = []
        elif cur and "\t" in line:
            out[cur].append(line.split("\t")[-2].strip() if line.count("\t") >= 2 else line)
    return out


# ---------------------------------------------------------------------------
# PULP-NN-like kernel
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_pulp_nn_like_compiles(compile_c, opt):
    obj = compile_c(PULP_NN_LIKE, opt)
    funcs = functions(obj)
    for name in ("pw_conv_u8_i8", "dot_variants", "pool_u8", "misc"):
        assert name in funcs
    all_ops = set().union(*(opcodes(w) for w in funcs.values()))
    assert {0x7B, 0x2B, 0x5B} <= all_ops
    assert 0x7B in opcodes(funcs["pw_conv_u8_i8"])  # cv.sdotusp.b
    if opt == "-O2":
        assert 0x0B in all_ops                        # post-increment loads


@pytest.mark.skipif(OBJDUMP is None, reason="llvm-objdump-19 not installed")
def test_pulp_nn_like_mnemonics(compile_c):
    text = subprocess.run([OBJDUMP, "-d", f"--mattr={MATTR}", str(compile_c(PULP_NN_LIKE))],
                          capture_output=True, text=True, check=True).stdout
    for mnem in ("cv.sdotusp.b", "cv.sdotsp.b", "cv.sdotsp.h", "cv.dotup.b", "cv.clipu",
                 "cv.clipr", "cv.clip", "cv.maxu.b", "cv.avgu.b", "cv.shuffle.b",
                 "cv.shuffle2.b", "cv.packhi.b", "cv.packlo.b", "cv.pack", "cv.extract",
                 "cv.extractu", "cv.insert", "cv.bclr", "cv.bset", "cv.fl1", "cv.mac",
                 "cv.msu"):
        assert re.search(rf"\t{re.escape(mnem)}\t", text), mnem


# ---------------------------------------------------------------------------
# Every corev.h intrinsic
# ---------------------------------------------------------------------------

# Immediate operands by parameter name (valid for every instruction using it).
IMM_VALUES = {"imm": "1", "lane": "1", "n": "3", "is3": "2", "is2": "4", "inc": "4",
              "i0": "1", "i1": "2", "i2": "3", "i3": "0"}
GEN_RE = {
    # the mnemonic may be wrapped as CV__BITMANIP("cv.fl1") (per-intrinsic extension)
    "R": re.compile(r"^CV__DEF_R\((cv_\w+), (?:CV__BITMANIP\()?\"([\w.]+)\"\)?, (\w+), (\w+)\)", re.M),
    "RR": re.compile(r"^CV__DEF_RR\((cv_\w+), (?:CV__BITMANIP\()?\"([\w.]+)\"\)?, (\w+), (\w+), (\w+)\)", re.M),
    "ACC": re.compile(r"^CV__DEF_ACC\((cv_\w+), (?:CV__BITMANIP\()?\"([\w.]+)\"\)?, (\w+), (\w+), (\w+)\)",
                      re.M),
    "SIMD4": re.compile(r"^CV__SIMD4\((\w+), (\w+), (\w+), (\w+)\)", re.M),
}
MACRO_RE = re.compile(r"^#define (cv_\w+)\(([^)]*)\)\s+(?:\\\n\s*)?(\S.*)$", re.M)


def corev_intrinsics():
    """[(name, mnemonic or None, C statement)] for every public cv_*."""
    text = COREV_H.read_text()
    out = []
    for fn, insn, rt, at in GEN_RE["R"].findall(text):
        out.append((fn, insn, f"sink = (uint32_t){fn}(({at})x1)"))
    for fn, insn, rt, at, bt in GEN_RE["RR"].findall(text):
        out.append((fn, insn, f"sink = (uint32_t){fn}(({at})x1, ({bt})x2)"))
    for fn, insn, rt, at, bt in GEN_RE["ACC"].findall(text):
        out.append((fn, insn, f"sink = (uint32_t){fn}(({rt})x0, ({at})x1, ({bt})x2)"))
    for op, h, b, s in GEN_RE["SIMD4"].findall(text):
        for suffix, t, u in (("h", h, h), ("b", b, b), ("sc_h", h, s), ("sc_b", b, s)):
            fn = f"cv_{op}_{suffix}"
            insn = f"cv.{op}.{suffix.replace('_', '.')}"
            out.append((fn, insn, f"sink = (uint32_t){fn}(({t})x1, ({u})x2)"))
    for name, params, body in MACRO_RE.findall(text):
        if name.startswith("cv__"):
            continue
        m = re.search(r'"(cv\.[\w.]+)"', body)
        insn = m.group(1) if m else None
        args = []
        for p in [p.strip() for p in params.split(",")]:
            if p in IMM_VALUES:
                args.append(IMM_VALUES[p])
            elif p == "p":
                args.append("ptr")
            elif p == "off":
                args.append("(int32_t)x2")
            else:
                args.append({"d": "x0", "acc": "x0", "dst": "x0"}.get(p, "x1"))
        if re.fullmatch(r"cv_s[bhw]_(pi|pir|rr)", name):   # stores: a statement
            out.append((name, insn, f"{name}({', '.join(args)}); sink = 0"))
        else:
            out.append((name, insn, f"sink = (uint32_t){name}({', '.join(args)})"))
    out.append(("cv_elw", "cv.elw", "sink = cv_elw((const volatile void *)ptr)"))
    return out


def test_every_corev_intrinsic(compile_c):
    intrinsics = corev_intrinsics()
    names = [n for n, _, _ in intrinsics]
    assert len(names) == len(set(names)), "duplicate intrinsic names"
    # sanity: the generator found the families the brief asks for
    for must in ("cv_sdotsp_b", "cv_sdotusp_sc_h", "cv_sdotup_sci_b", "cv_dotsp_h",
                 "cv_shuffle2_b", "cv_shufflei3_sci_b", "cv_shuffle_sci_b", "cv_packhi_b",
                 "cv_cmpleu_sci_b", "cv_mac", "cv_mulhhsrn", "cv_machhurn", "cv_extract",
                 "cv_insert", "cv_bclr", "cv_bitrev", "cv_ror", "cv_clb", "cv_lw_pi",
                 "cv_sh_pir", "cv_lbu_rr", "cv_elw", "cv_clipur", "cv_addurnr",
                 "cv_extract_b", "cv_insert_h", "cv_abs_b", "cv_avgu_sc_b"):
        assert must in names, must
    lines = ["#include <stdint.h>", '#include "corev.h"',
             "volatile uint32_t sink;"]
    for i, (name, _, call) in enumerate(intrinsics):
        lines.append(
            f"__attribute__((noinline)) void t_{name}(uint32_t x0, uint32_t x1, uint32_t x2,"
            f" int32_t *ptr) {{ (void)x0; (void)x1; (void)x2; (void)ptr;"
            f" {call}; }}")
    src = compile_c.work / "all_intrinsics.c"
    src.write_text("\n".join(lines) + "\n")
    for opt in ("-O0", "-O2"):
        obj = compile_c(src, opt)
        funcs = functions(obj)
        missing = [n for n, _, _ in intrinsics
                   if not (opcodes(funcs[f"t_{n}"]) & CUSTOM_OPCODES)]
        assert not missing, f"{opt}: no custom instruction in {missing}"
    if OBJDUMP is not None:
        dis = disasm_by_function(obj)
        wrong = [(n, insn) for n, insn, _ in intrinsics
                 if insn and not any(line.startswith(insn + " ") or line == insn
                                     or line.split()[0] == insn
                                     for line in dis[f"t_{n}"] if line.split())]
        # cv_shuffle_sci_b picks cv.shufflei0.sci.b for i3 = 0
        wrong = [w for w in wrong if w[0] != "cv_shuffle_sci_b"]
        assert not wrong, wrong
        assert any(line.split()[0] == "cv.shufflei0.sci.b" for line in dis["t_cv_shuffle_sci_b"])


# ---------------------------------------------------------------------------
# Every __builtin_pulp_* of pulp_builtins.h
# ---------------------------------------------------------------------------

PULP_ARGS = {"x": "a", "y": "b", "acc": "c", "n": "3", "r": "4", "size": "4", "off": "4",
             "dst": "a", "src": "b", "mask": "0xf0", "not_mask": "~0xf0u", "m": "0xf0",
             "lo": "-128", "hi": "127", "b": "b"}


def test_every_pulp_builtin(compile_c):
    text = PULP_H.read_text()
    func_like = re.findall(r"^#define (__builtin_pulp_\w+)\(([^)]*)\)", text, re.M)
    obj_like = re.findall(r"^#define (__builtin_pulp_\w+) (\w+)\s*$", text, re.M)
    assert len(func_like) + len(obj_like) >= 100
    required = ("sdotsp4 sdotusp4 sdotup4 dotsp4 dotup4 dotusp4 sdotsp2 dotsp2 clip clip_r "
                "clipu clipu_r pack4 pack2 maxu4 minu4 max4 min4 avg4 avgu4 minsi maxsi "
                "bextract bextractu binsert bclr bset fl1 ff1 cnt shuffleb mac msu abs add4 "
                "sub4 sra4 srl4").split()
    defined = {n for n, _ in func_like} | {n for n, _ in obj_like}
    for r in required:
        assert f"__builtin_pulp_{r}" in defined, r
    lines = ["#include <stdint.h>", '#include "pulp_builtins.h"', "volatile uint32_t sink;",
             "void all(int32_t a, int32_t b, int32_t c) {"]
    for name, params in func_like:
        args = ", ".join(PULP_ARGS[p.strip()] for p in params.split(","))
        lines.append(f"  sink = (uint32_t)({name}({args}));")
    for name, target in obj_like:
        lines.append(f"  sink = (uint32_t)(uintptr_t)&{name};  /* -> {target} */")
    lines.append("}")
    # the vector-typed ones, called with vector literals as PULP code does
    lines.append("""
v4s vec4(v4s a, v4u u) {
  v4s r = __builtin_pulp_add4(a, (v4s){1, 2, 3, 4});
  r = __builtin_pulp_shuffleb(r, (v4s){3, 2, 1, 0});
  r = __builtin_pulp_shuffle4b(r, a, (v4s){0, 4, 1, 5});
  v4u m = __builtin_pulp_maxu4(u, (v4u){7, 7, 7, 7});
  int s = __builtin_pulp_sdotusp4(m, r, 5) + __builtin_pulp_dotsp4(r, (v4s){1, 1, 1, 1});
  v2s h = __builtin_pulp_pack2(s, 3);
  h = __builtin_pulp_sra2(h, (v2s){1, 2});
  r[0] = (signed char)__builtin_pulp_sdotsp2(h, (v2s){2, 3}, s);
  return __builtin_pulp_neg4(r);
}""")
    src = compile_c.work / "all_pulp.c"
    src.write_text("\n".join(lines) + "\n")
    for opt in ("-O0", "-O2"):
        funcs = functions(compile_c(src, opt))
        assert opcodes(funcs["vec4"]) & {0x7B}
        assert opcodes(funcs["all"]) & {0x2B, 0x5B}
