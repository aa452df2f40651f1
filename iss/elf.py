"""Reading firmware: 32-bit RISC-V ELF segments, symbols and the DWARF line table.

`Program.symbolize(pc)` gives `conv+0x1c (conv.c:42)`, the form every error,
trace and profile uses.
"""
from __future__ import annotations

import bisect
import mmap
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from elftools.common.exceptions import ELFError as _PyElfError
from elftools.elf.constants import P_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from .errors import ElfError, file_error

EM_RISCV = 243
# ELF32 symbol table entry (st_name, st_value, st_size, st_info, st_other, st_shndx)
_SYM = np.dtype([("name", "u4"), ("value", "u4"), ("size", "u4"), ("info", "u1"), ("other", "u1"),
                 ("shndx", "u2")])
STT_FUNC = 2         # STT_NOTYPE 0, STT_OBJECT 1, STT_FUNC 2: the kinds kept
SHN_UNDEF = 0
_KINDS = ("notype", "object", "func")


@dataclass
class Segment:
    vaddr: int
    data: bytes        # file bytes
    memsz: int         # bytes in memory (the rest beyond data is zero)
    executable: bool
    writable: bool


@dataclass
class Symbol:
    name: str
    addr: int
    size: int
    kind: str          # "func" | "object" | "notype"


# Loadable bytes beyond this cannot fit any memory of the cluster (64 MiB of L2
# at most, plus the TCDM): refused before they are read.
SEGMENT_MAX = 80 << 20
ELF32_HEADER = 52
# What pyelftools raises on damaged headers (it trusts them: offsets, sizes, types).
_CORRUPT = (_PyElfError, ValueError, KeyError, IndexError, AssertionError, AttributeError, TypeError,
            OverflowError, UnicodeDecodeError, OSError, RecursionError)


class Program:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        # Only the header is read before the magic check; pyelftools then reads the
        # parts it needs from a read-only mapping (a multi-GiB file is never read whole).
        try:
            f = open(self.path, "rb")
        except OSError as e:
            raise ElfError(file_error(self.path, e)) from None
        with f:
            try:
                filesize = os.fstat(f.fileno()).st_size
                head = f.read(ELF32_HEADER)
            except OSError as e:
                raise ElfError(file_error(self.path, e)) from None
            if head[:4] != b"\x7fELF":
                raise ElfError(f"{self.path}: not an ELF file")
            if len(head) < ELF32_HEADER:
                raise ElfError(f"{self.path}: truncated ELF ({len(head)} bytes, header needs {ELF32_HEADER})")
            if head[4] != 1:
                raise ElfError(f"{self.path}: 64-bit ELF; the cluster runs 32-bit RISC-V (RV32) code")
            try:
                with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as image:
                    self._read(ELFFile(image), filesize)
            except ElfError:
                raise
            except _CORRUPT as e:
                # pyelftools trusts the headers: a damaged one surfaces as whatever
                # its parser tripped on.
                raise ElfError(f"{self.path}: truncated or corrupt ELF ({type(e).__name__}: {e})") from None
        self._stat = (filesize, self._mtime())
        self._lines_cache = None
        funcs = sorted((s for s in self.symbols.values() if s.kind in ("func", "notype") and s.addr),
                       key=lambda s: s.addr)
        self._sym_addr = [s.addr for s in funcs]
        self._sym = funcs
        # Where each symbol's name stops applying: its size, or for a label without
        # one (size 0: assembly labels, linker symbols such as __l1_heap_start) the
        # end of the segment holding it, so a far address is not named after it.
        self._sym_end = [s.addr + s.size if s.size else self._segment_end(s.addr) for s in funcs]
        if not self.segments:
            raise ElfError(f"{self.path}: no loadable segments")

    def _read(self, elf: ELFFile, filesize: int) -> None:
        machine = elf.header["e_machine"]
        if machine not in ("EM_RISCV", EM_RISCV):
            raise ElfError(f"{self.path}: ELF for {machine}, not RISC-V")
        self.entry = elf.header["e_entry"]
        self.segments = self._segments(elf, filesize)
        self.symbols = self._symbols(elf)
        self._has_dwarf = elf.has_dwarf_info()
        self.sections = {s.name: (s["sh_addr"], s["sh_size"]) for s in elf.iter_sections() if s["sh_addr"]}
        self.build = self._build_note(elf)

    @staticmethod
    def _build_note(elf: ELFFile) -> dict | None:
        """What the runtime records in `.note.iss`: {"num_cores": N,
        "stack_size": bytes} (crt0.S, type 1) and "main_on": "fc" when the
        runtime's cluster API is linked (cluster.c, type 2: main runs on the
        fabric controller) or "cluster" (core 0 of the cluster); None for ELFs
        built otherwise."""
        sec = elf.get_section_by_name(".note.iss")
        if sec is None:
            return None
        data = sec.data()
        build, off = {}, 0
        while off + 16 <= len(data):
            namesz, descsz, kind = struct.unpack_from("<III", data, off)
            desc = off + 12 + ((namesz + 3) & ~3)
            if namesz != 4 or data[off + 12:off + 16] != b"ISS\0" or desc + descsz > len(data):
                break
            if kind == 1 and descsz >= 8:
                build["num_cores"], build["stack_size"] = struct.unpack_from("<II", data, desc)
            elif kind == 2:
                build["main_on"] = "fc"
            off = desc + ((descsz + 3) & ~3)
        if "num_cores" not in build:
            return None
        build.setdefault("main_on", "cluster")
        return build

    def _mtime(self) -> int:
        try:
            return self.path.stat().st_mtime_ns
        except OSError:
            return -1

    # -- loading -----------------------------------------------------------
    def _segments(self, elf: ELFFile, filesize: int) -> list[Segment]:
        segs = []
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                continue
            off, filesz, memsz, vaddr = seg["p_offset"], seg["p_filesz"], seg["p_memsz"], seg["p_vaddr"]
            if filesz > memsz:
                raise ElfError(f"{self.path}: corrupt ELF (segment at 0x{vaddr:x} has {filesz} bytes in the "
                               f"file but {memsz} in memory)")
            if memsz > SEGMENT_MAX:
                raise ElfError(f"{self.path}: segment at 0x{vaddr:x} is {memsz} bytes, larger than any memory "
                               f"of the cluster")
            if off + filesz > filesize:
                raise ElfError(f"{self.path}: truncated ELF (segment at 0x{vaddr:x} "
                               f"needs bytes up to {off + filesz}, file has {filesize})")
            segs.append(Segment(seg["p_paddr"] or vaddr, seg.data(), memsz,
                                bool(seg["p_flags"] & P_FLAGS.PF_X), bool(seg["p_flags"] & P_FLAGS.PF_W)))
        return segs

    def _symbols(self, elf: ELFFile) -> dict[str, Symbol]:
        out: dict[str, Symbol] = {}
        tab = elf.get_section_by_name(".symtab")
        if tab is None:
            return out
        if not isinstance(tab, SymbolTableSection):
            raise ElfError(f"{self.path}: corrupt ELF (.symtab is a section of type {tab['sh_type']}, "
                           "not a symbol table)")
        # Read as one array, not symbol by symbol through pyelftools: a C program's
        # table is mostly local labels (.L*), ~9000 of them, 0.5 s that way.
        if tab["sh_entsize"] != _SYM.itemsize:
            raise ElfError(f"{self.path}: corrupt ELF (.symtab entries of {tab['sh_entsize']} bytes, "
                           f"ELF32 has {_SYM.itemsize})")
        data = tab.data()
        syms = np.frombuffer(data, _SYM.newbyteorder("<" if elf.little_endian else ">"),
                             len(data) // _SYM.itemsize)
        strtab = tab.stringtable.data()
        kinds = syms["info"] & 0xF
        names = syms["name"].astype(np.int64)
        keep = (kinds <= STT_FUNC) & (syms["shndx"] != SHN_UNDEF) & (names != 0)
        bad = np.nonzero(keep & (names > strtab.rfind(b"\0")))[0]    # no NUL ends it in the table
        if bad.size:
            off = int(names[bad[0]])
            raise ElfError(f"{self.path}: corrupt ELF (symbol name at {off} beyond the string table "
                           f"of {len(strtab)} bytes)")
        # Skipped by their first bytes, all at once (most of a C program's table):
        # mapping symbols ($x, $d) and local labels (.L*).
        chars = np.frombuffer(strtab + b"\0", np.uint8)
        first, second = chars[np.where(keep, names, 0)], chars[np.where(keep, names + 1, 0)]
        keep &= (first != 0x24) & ~((first == 0x2E) & (second == 0x4C))
        for i in np.nonzero(keep)[0].tolist():
            off = int(names[i])
            end = strtab.find(b"\0", off)
            if end == off:
                continue  # no name
            name = strtab[off:end].decode("utf-8", errors="replace")
            kind = _KINDS[int(kinds[i])]
            prev = out.get(name)
            if prev is None or (prev.kind == "notype" and kind != "notype"):
                out[name] = Symbol(name, int(syms["value"][i]), int(syms["size"][i]), kind)
        return out

    @property
    def _line_rows(self):
        """The DWARF line table, read on first use (it is the slow part of loading
        an ELF, and most runs only need it for errors and profiles)."""
        if self._lines_cache is None:
            self._lines_cache = ([], [])
            try:
                # The file read again: unless it changed since it was loaded (rebuilt
                # under a running simulation), then its lines would be another program's.
                if self._has_dwarf and self._stat == (self.path.stat().st_size, self._mtime()):
                    with open(self.path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as image:
                        self._lines_cache = self._line_table(ELFFile(image))
            except _CORRUPT:
                # A damaged line table costs the file:line part of messages, not
                # the message itself (this runs while reporting other errors).
                self._lines_cache = ([], [])
        return self._lines_cache

    def _line_table(self, elf: ELFFile):
        rows: dict[int, tuple[str, int]] = {}
        if not elf.has_dwarf_info():
            return [], []
        dwarf = elf.get_dwarf_info()
        for cu in dwarf.iter_CUs():
            lp = dwarf.line_program_for_CU(cu)
            if lp is None:
                continue
            files = lp["file_entry"]
            version = lp["version"]
            for entry in lp.get_entries():
                st = entry.state
                if st is None or st.end_sequence:
                    continue
                idx = st.file if version >= 5 else st.file - 1
                name = files[idx].name.decode(errors="replace") if 0 <= idx < len(files) else "?"
                rows[st.address] = (Path(name).name, st.line)
        addrs = sorted(rows)
        return addrs, [rows[a] for a in addrs]

    # -- queries -----------------------------------------------------------
    def symbol(self, name: str) -> Symbol:
        try:
            return self.symbols[name]
        except KeyError:
            raise ElfError(f"{self.path}: no symbol '{name}'") from None

    def function_at(self, pc: int):
        """(symbol, offset) of the function containing pc, or (None, 0)."""
        i = bisect.bisect_right(self._sym_addr, pc) - 1
        if i < 0:
            return None, 0
        s = self._sym[i]
        if pc >= self._sym_end[i]:
            return None, 0
        return s, pc - s.addr

    def _segment_end(self, addr: int) -> int:
        """End of the loaded segment holding `addr` (`addr` itself if none does)."""
        return next((g.vaddr + g.memsz for g in self.segments if g.vaddr <= addr < g.vaddr + g.memsz), addr)

    def line_at(self, pc: int):
        """(file, line) of the source of pc, or None."""
        addrs, lines = self._line_rows
        i = bisect.bisect_right(addrs, pc) - 1
        if i < 0:
            return None
        fn, _ = self.function_at(pc)
        if fn is None or addrs[i] < fn.addr:
            return None  # the nearest row belongs to another function
        return lines[i]

    def symbolize(self, pc: int) -> str:
        sym, off = self.function_at(pc)
        text = f"{sym.name}+0x{off:x}" if sym else "??"
        line = self.line_at(pc)
        if line:
            text += f" ({line[0]}:{line[1]})"
        return text

    def code_range(self) -> tuple[int, int]:
        """[start, end) covering every executable segment."""
        ex = [s for s in self.segments if s.executable]
        if not ex:
            raise ElfError(f"{self.path}: no executable segment")
        return min(s.vaddr for s in ex), max(s.vaddr + s.memsz for s in ex)
