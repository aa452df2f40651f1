/*
 * corev.h - CORE-V (CV32E40P v2) ISA extension intrinsics for the iss firmware.
 *
 * Thin static inline wrappers (inline assembly) over the custom instructions
 * of the CV32E40P v2 "CORE-V ISA extensions" (xcvsimd, xcvmac, xcvalu,
 * xcvbitmanip, xcvmem, xcvelw) plus assembler macros for the hardware loops
 * (xcvhwlp), which the project's assembler (zig / clang 22) does not know.
 *
 * Encodings are the toolchain's (LLVM RISCVInstrInfoXCV.td); semantics are
 * the CV32E40P user manual's (v1.8 / "v2" encodings, chapter "CORE-V
 * Instruction Set Extensions").
 *
 * Conventions
 *   - Every wrapper is named after its mnemonic: cv.sdotsp.b -> cv_sdotsp_b,
 *     cv.add.sc.h -> cv_add_sc_h, cv.shufflei2.sci.b -> cv_shufflei2_sci_b.
 *   - Operands are in assembler order (rs1, rs2). Instructions that also read
 *     rD (sdot*, mac, msu, insert, shuffle2, packhi/packlo, cplxmul, *nr)
 *     take the old rD value as their FIRST argument and return the new one:
 *         acc = cv_sdotsp_b(acc, a, b);     // acc += a . b
 *   - Forms taking an immediate (.sci, Is2/Is3, N) are macros so that the
 *     value reaches the "i" constraint; pass integer constant expressions.
 *   - Vector types: v4s/v4u (4 x 8 bit), v2s/v2u (2 x 16 bit), GCC/clang
 *     vector extensions (subscripts, literals (v4s){1,2,3,4}, lane 0 is the
 *     least significant byte/half of the register).
 *   - The compiler already emits by itself: post-increment loads/stores,
 *     cv.beqimm/bneimm, cv.min/max, cv.cnt/ff1/fl1, cv.ext*; and clang's
 *     <riscv_corev_alu.h> (included below) gives __riscv_cv_alu_* builtins
 *     (abs, sle, min, max, ext*, clip, clipu, addN/RN, subN/RN).
 *
 * Hardware loops: see the "HARDWARE LOOPS" section near the end.
 *
 * The header works in C (static inline functions and statement-expression
 * macros, GNU C) and, for the hardware-loop macros only, in assembler files
 * (.S, where __ASSEMBLER__ is defined).
 */
#ifndef ISS_COREV_H
#define ISS_COREV_H

#ifndef __ASSEMBLER__

#include <stdint.h>
#include "archi.h"

#if !ARCHI_HAS_COREV
#error "corev.h needs -mcpu=...+xcvalu+xcvmac+xcvsimd+xcvmem+xcvbi+xcvelw (iss cc sets them)"
#endif

/* The toolchain does not enable xcvbitmanip for code generation: clang 22
 * lowers __builtin_clz(x) to a bare cv.fl1, which per the manual returns the
 * index of the highest set bit (31 - clz), so compiled code would be wrong on
 * the real core (newer LLVM emits xori(cv.fl1, 31)). The intrinsics below turn
 * the extension on for their own instruction only. */
#define CV__BITMANIP(insn) ".option arch, +xcvbitmanip\n" insn

#include <riscv_corev_alu.h>

/* ------------------------------------------------------------------------ */
/* Vector types (shared with pulp_builtins.h, same names as PULP GCC).       */
/* ------------------------------------------------------------------------ */
#ifndef ISS_PULP_VECTOR_TYPES
#define ISS_PULP_VECTOR_TYPES
typedef signed char v4s __attribute__((vector_size(4)));
typedef unsigned char v4u __attribute__((vector_size(4)));
typedef signed short v2s __attribute__((vector_size(4)));
typedef unsigned short v2u __attribute__((vector_size(4)));
#endif

#define CV_INLINE static __inline__ __attribute__((always_inline))

/* Reinterpret any 32-bit value (scalar or vector) as uint32_t. */
#define CV__W(x) ((uint32_t)(x))

/* ---- generators (internal) --------------------------------------------- */

/* rD = op(rs1) */
#define CV__DEF_R(fn, insn, RT, AT)                                          \
  CV_INLINE RT fn(AT a) {                                                    \
    uint32_t r_;                                                             \
    __asm__(insn " %0, %1" : "=r"(r_) : "r"(CV__W(a)));                      \
    return (RT)r_;                                                           \
  }

/* rD = op(rs1, rs2) */
#define CV__DEF_RR(fn, insn, RT, AT, BT)                                     \
  CV_INLINE RT fn(AT a, BT b) {                                              \
    uint32_t r_;                                                             \
    __asm__(insn " %0, %1, %2" : "=r"(r_) : "r"(CV__W(a)), "r"(CV__W(b)));   \
    return (RT)r_;                                                           \
  }

/* rD = op(rD, rs1, rs2): the old rD is the first argument */
#define CV__DEF_ACC(fn, insn, RT, AT, BT)                                    \
  CV_INLINE RT fn(RT d, AT a, BT b) {                                        \
    uint32_t r_ = CV__W(d);                                                  \
    __asm__(insn " %0, %1, %2" : "+r"(r_) : "r"(CV__W(a)), "r"(CV__W(b)));   \
    return (RT)r_;                                                           \
  }

/* Immediate forms (statement expressions so the immediate stays constant). */
#define CV__I(insn, RT, a, imm)                                              \
  __extension__({                                                            \
    uint32_t r_;                                                             \
    __asm__(insn " %0, %1, %2" : "=r"(r_) : "r"(CV__W(a)), "i"(imm));        \
    (RT)r_;                                                                  \
  })
#define CV__I_ACC(insn, RT, d, a, imm)                                       \
  __extension__({                                                            \
    uint32_t r_ = CV__W(d);                                                  \
    __asm__(insn " %0, %1, %2" : "+r"(r_) : "r"(CV__W(a)), "i"(imm));        \
    (RT)r_;                                                                  \
  })
#define CV__RRI(insn, RT, a, b, imm)                                         \
  __extension__({                                                            \
    uint32_t r_;                                                             \
    __asm__(insn " %0, %1, %2, %3"                                           \
            : "=r"(r_) : "r"(CV__W(a)), "r"(CV__W(b)), "i"(imm));            \
    (RT)r_;                                                                  \
  })
#define CV__RRI_ACC(insn, RT, d, a, b, imm)                                  \
  __extension__({                                                            \
    uint32_t r_ = CV__W(d);                                                  \
    __asm__(insn " %0, %1, %2, %3"                                           \
            : "+r"(r_) : "r"(CV__W(a)), "r"(CV__W(b)), "i"(imm));            \
    (RT)r_;                                                                  \
  })
#define CV__RII(insn, RT, a, i3, i2)                                         \
  __extension__({                                                            \
    uint32_t r_;                                                             \
    __asm__(insn " %0, %1, %2, %3"                                           \
            : "=r"(r_) : "r"(CV__W(a)), "i"(i3), "i"(i2));                   \
    (RT)r_;                                                                  \
  })
#define CV__RII_ACC(insn, RT, d, a, i3, i2)                                  \
  __extension__({                                                            \
    uint32_t r_ = CV__W(d);                                                  \
    __asm__(insn " %0, %1, %2, %3"                                           \
            : "+r"(r_) : "r"(CV__W(a)), "i"(i3), "i"(i2));                   \
    (RT)r_;                                                                  \
  })

/* A SIMD family: .h .b .sc.h .sc.b (functions); .sci.h/.sci.b are macros
 * written out below. H/B are the vector types, S the scalar type of .sc. */
#define CV__SIMD4(op, H, B, S)                                               \
  CV__DEF_RR(cv_##op##_h, "cv." #op ".h", H, H, H)                           \
  CV__DEF_RR(cv_##op##_b, "cv." #op ".b", B, B, B)                           \
  CV__DEF_RR(cv_##op##_sc_h, "cv." #op ".sc.h", H, H, S)                     \
  CV__DEF_RR(cv_##op##_sc_b, "cv." #op ".sc.b", B, B, S)

/* ======================================================================== */
/* xcvsimd                                                                  */
/* ======================================================================== */

/* ---- ALU: rD[i] = rs1[i] op op2[i]; .sc: op2 = rs2[15:0] / rs2[7:0]
 *      replicated; .sci: op2 = Imm6 (signed, unsigned for the *u ops and
 *      shifts; shifts use Imm[3:0] (.h) / Imm[2:0] (.b)).
 *      avg: (a+b)>>1 on the lane width (the carry is lost), arithmetic;
 *      avgu: logical. */
CV__SIMD4(add, v2s, v4s, int32_t)
CV__SIMD4(sub, v2s, v4s, int32_t)
CV__SIMD4(avg, v2s, v4s, int32_t)
CV__SIMD4(avgu, v2u, v4u, uint32_t)
CV__SIMD4(min, v2s, v4s, int32_t)
CV__SIMD4(minu, v2u, v4u, uint32_t)
CV__SIMD4(max, v2s, v4s, int32_t)
CV__SIMD4(maxu, v2u, v4u, uint32_t)
CV__SIMD4(srl, v2u, v4u, uint32_t)
CV__SIMD4(sra, v2s, v4s, int32_t)
CV__SIMD4(sll, v2s, v4s, int32_t)
CV__SIMD4(or, v2s, v4s, int32_t)
CV__SIMD4(xor, v2s, v4s, int32_t)
CV__SIMD4(and, v2s, v4s, int32_t)

#define cv_add_sci_h(a, imm) CV__I("cv.add.sci.h", v2s, a, imm)
#define cv_add_sci_b(a, imm) CV__I("cv.add.sci.b", v4s, a, imm)
#define cv_sub_sci_h(a, imm) CV__I("cv.sub.sci.h", v2s, a, imm)
#define cv_sub_sci_b(a, imm) CV__I("cv.sub.sci.b", v4s, a, imm)
#define cv_avg_sci_h(a, imm) CV__I("cv.avg.sci.h", v2s, a, imm)
#define cv_avg_sci_b(a, imm) CV__I("cv.avg.sci.b", v4s, a, imm)
#define cv_avgu_sci_h(a, imm) CV__I("cv.avgu.sci.h", v2u, a, imm)
#define cv_avgu_sci_b(a, imm) CV__I("cv.avgu.sci.b", v4u, a, imm)
#define cv_min_sci_h(a, imm) CV__I("cv.min.sci.h", v2s, a, imm)
#define cv_min_sci_b(a, imm) CV__I("cv.min.sci.b", v4s, a, imm)
#define cv_minu_sci_h(a, imm) CV__I("cv.minu.sci.h", v2u, a, imm)
#define cv_minu_sci_b(a, imm) CV__I("cv.minu.sci.b", v4u, a, imm)
#define cv_max_sci_h(a, imm) CV__I("cv.max.sci.h", v2s, a, imm)
#define cv_max_sci_b(a, imm) CV__I("cv.max.sci.b", v4s, a, imm)
#define cv_maxu_sci_h(a, imm) CV__I("cv.maxu.sci.h", v2u, a, imm)
#define cv_maxu_sci_b(a, imm) CV__I("cv.maxu.sci.b", v4u, a, imm)
#define cv_srl_sci_h(a, imm) CV__I("cv.srl.sci.h", v2u, a, imm)
#define cv_srl_sci_b(a, imm) CV__I("cv.srl.sci.b", v4u, a, imm)
#define cv_sra_sci_h(a, imm) CV__I("cv.sra.sci.h", v2s, a, imm)
#define cv_sra_sci_b(a, imm) CV__I("cv.sra.sci.b", v4s, a, imm)
#define cv_sll_sci_h(a, imm) CV__I("cv.sll.sci.h", v2s, a, imm)
#define cv_sll_sci_b(a, imm) CV__I("cv.sll.sci.b", v4s, a, imm)
#define cv_or_sci_h(a, imm) CV__I("cv.or.sci.h", v2s, a, imm)
#define cv_or_sci_b(a, imm) CV__I("cv.or.sci.b", v4s, a, imm)
#define cv_xor_sci_h(a, imm) CV__I("cv.xor.sci.h", v2s, a, imm)
#define cv_xor_sci_b(a, imm) CV__I("cv.xor.sci.b", v4s, a, imm)
#define cv_and_sci_h(a, imm) CV__I("cv.and.sci.h", v2s, a, imm)
#define cv_and_sci_b(a, imm) CV__I("cv.and.sci.b", v4s, a, imm)

/* rD[i] = |rs1[i]| */
CV__DEF_R(cv_abs_h, "cv.abs.h", v2s, v2s)
CV__DEF_R(cv_abs_b, "cv.abs.b", v4s, v4s)

/* ---- Dot products. dotup: both unsigned; dotusp: rs1 unsigned, op2 signed;
 *      dotsp: both signed. sdot*: rD += ... (accumulator first argument). */
CV__DEF_RR(cv_dotup_h, "cv.dotup.h", uint32_t, v2u, v2u)
CV__DEF_RR(cv_dotup_b, "cv.dotup.b", uint32_t, v4u, v4u)
CV__DEF_RR(cv_dotup_sc_h, "cv.dotup.sc.h", uint32_t, v2u, uint32_t)
CV__DEF_RR(cv_dotup_sc_b, "cv.dotup.sc.b", uint32_t, v4u, uint32_t)
CV__DEF_RR(cv_dotusp_h, "cv.dotusp.h", int32_t, v2u, v2s)
CV__DEF_RR(cv_dotusp_b, "cv.dotusp.b", int32_t, v4u, v4s)
CV__DEF_RR(cv_dotusp_sc_h, "cv.dotusp.sc.h", int32_t, v2u, int32_t)
CV__DEF_RR(cv_dotusp_sc_b, "cv.dotusp.sc.b", int32_t, v4u, int32_t)
CV__DEF_RR(cv_dotsp_h, "cv.dotsp.h", int32_t, v2s, v2s)
CV__DEF_RR(cv_dotsp_b, "cv.dotsp.b", int32_t, v4s, v4s)
CV__DEF_RR(cv_dotsp_sc_h, "cv.dotsp.sc.h", int32_t, v2s, int32_t)
CV__DEF_RR(cv_dotsp_sc_b, "cv.dotsp.sc.b", int32_t, v4s, int32_t)

CV__DEF_ACC(cv_sdotup_h, "cv.sdotup.h", uint32_t, v2u, v2u)
CV__DEF_ACC(cv_sdotup_b, "cv.sdotup.b", uint32_t, v4u, v4u)
CV__DEF_ACC(cv_sdotup_sc_h, "cv.sdotup.sc.h", uint32_t, v2u, uint32_t)
CV__DEF_ACC(cv_sdotup_sc_b, "cv.sdotup.sc.b", uint32_t, v4u, uint32_t)
CV__DEF_ACC(cv_sdotusp_h, "cv.sdotusp.h", int32_t, v2u, v2s)
CV__DEF_ACC(cv_sdotusp_b, "cv.sdotusp.b", int32_t, v4u, v4s)
CV__DEF_ACC(cv_sdotusp_sc_h, "cv.sdotusp.sc.h", int32_t, v2u, int32_t)
CV__DEF_ACC(cv_sdotusp_sc_b, "cv.sdotusp.sc.b", int32_t, v4u, int32_t)
CV__DEF_ACC(cv_sdotsp_h, "cv.sdotsp.h", int32_t, v2s, v2s)
CV__DEF_ACC(cv_sdotsp_b, "cv.sdotsp.b", int32_t, v4s, v4s)
CV__DEF_ACC(cv_sdotsp_sc_h, "cv.sdotsp.sc.h", int32_t, v2s, int32_t)
CV__DEF_ACC(cv_sdotsp_sc_b, "cv.sdotsp.sc.b", int32_t, v4s, int32_t)

#define cv_dotup_sci_h(a, imm) CV__I("cv.dotup.sci.h", uint32_t, a, imm)
#define cv_dotup_sci_b(a, imm) CV__I("cv.dotup.sci.b", uint32_t, a, imm)
#define cv_dotusp_sci_h(a, imm) CV__I("cv.dotusp.sci.h", int32_t, a, imm)
#define cv_dotusp_sci_b(a, imm) CV__I("cv.dotusp.sci.b", int32_t, a, imm)
#define cv_dotsp_sci_h(a, imm) CV__I("cv.dotsp.sci.h", int32_t, a, imm)
#define cv_dotsp_sci_b(a, imm) CV__I("cv.dotsp.sci.b", int32_t, a, imm)
#define cv_sdotup_sci_h(acc, a, imm) CV__I_ACC("cv.sdotup.sci.h", uint32_t, acc, a, imm)
#define cv_sdotup_sci_b(acc, a, imm) CV__I_ACC("cv.sdotup.sci.b", uint32_t, acc, a, imm)
#define cv_sdotusp_sci_h(acc, a, imm) CV__I_ACC("cv.sdotusp.sci.h", int32_t, acc, a, imm)
#define cv_sdotusp_sci_b(acc, a, imm) CV__I_ACC("cv.sdotusp.sci.b", int32_t, acc, a, imm)
#define cv_sdotsp_sci_h(acc, a, imm) CV__I_ACC("cv.sdotsp.sci.h", int32_t, acc, a, imm)
#define cv_sdotsp_sci_b(acc, a, imm) CV__I_ACC("cv.sdotsp.sci.b", int32_t, acc, a, imm)

/* ---- Lane extract / insert (lane index is an immediate). */
#define cv_extract_h(a, lane) CV__I("cv.extract.h", int32_t, a, lane)
#define cv_extract_b(a, lane) CV__I("cv.extract.b", int32_t, a, lane)
#define cv_extractu_h(a, lane) CV__I("cv.extractu.h", uint32_t, a, lane)
#define cv_extractu_b(a, lane) CV__I("cv.extractu.b", uint32_t, a, lane)
/* dst[lane] = val[15:0] / val[7:0]; the other lanes of dst are kept. */
#define cv_insert_h(dst, val, lane) CV__I_ACC("cv.insert.h", v2s, dst, val, lane)
#define cv_insert_b(dst, val, lane) CV__I_ACC("cv.insert.b", v4s, dst, val, lane)

/* ---- Shuffles.
 * cv_shuffle_b(a, m): r[i] = a[m[i] & 3]     (m a vector of lane indices)
 * cv_shuffle_h(a, m): r[i] = a[m[i] & 1]
 * cv_shuffle_sci_h(a, imm): r[0] = a[imm&1], r[1] = a[(imm>>1)&1]
 * cv_shuffleiK_sci_b(a, imm): r[3] = a[K], r[2] = a[(imm>>4)&3],
 *                             r[1] = a[(imm>>2)&3], r[0] = a[imm&3]
 * cv_shuffle_sci_b(a, i0, i1, i2, i3): r[k] = a[ik], all constants; picks
 *     cv.shufflei<i3>.sci.b.
 * cv_shuffle2_b(d, s, m): r[i] = (m[i] & 4 ? s : d)[m[i] & 3]
 * cv_shuffle2_h(d, s, m): r[i] = (m[i] & 2 ? s : d)[m[i] & 1]
 *     i.e. indices 0..3 pick from d (the old rD), 4..7 from s (rs1), as
 *     GCC's __builtin_shuffle(d, s, m). */
CV__DEF_RR(cv_shuffle_h, "cv.shuffle.h", v2s, v2s, v2s)
CV__DEF_RR(cv_shuffle_b, "cv.shuffle.b", v4s, v4s, v4s)
#define cv_shuffle_sci_h(a, imm) CV__I("cv.shuffle.sci.h", v2s, a, imm)
#define cv_shufflei0_sci_b(a, imm) CV__I("cv.shufflei0.sci.b", v4s, a, imm)
#define cv_shufflei1_sci_b(a, imm) CV__I("cv.shufflei1.sci.b", v4s, a, imm)
#define cv_shufflei2_sci_b(a, imm) CV__I("cv.shufflei2.sci.b", v4s, a, imm)
#define cv_shufflei3_sci_b(a, imm) CV__I("cv.shufflei3.sci.b", v4s, a, imm)
#define CV__SHUF_IMM(i0, i1, i2) ((((i2) & 3) << 4) | (((i1) & 3) << 2) | ((i0) & 3))
#define cv_shuffle_sci_b(a, i0, i1, i2, i3)                                   \
  __builtin_choose_expr(((i3) & 3) == 0, cv_shufflei0_sci_b(a, CV__SHUF_IMM(i0, i1, i2)), \
  __builtin_choose_expr(((i3) & 3) == 1, cv_shufflei1_sci_b(a, CV__SHUF_IMM(i0, i1, i2)), \
  __builtin_choose_expr(((i3) & 3) == 2, cv_shufflei2_sci_b(a, CV__SHUF_IMM(i0, i1, i2)), \
                                         cv_shufflei3_sci_b(a, CV__SHUF_IMM(i0, i1, i2)))))
CV__DEF_ACC(cv_shuffle2_h, "cv.shuffle2.h", v2s, v2s, v2s)
CV__DEF_ACC(cv_shuffle2_b, "cv.shuffle2.b", v4s, v4s, v4s)

/* ---- Pack.
 * cv_pack(a, b):      r[1] = a[15:0],  r[0] = b[15:0]      (cv.pack)
 * cv_pack_h(a, b):    r[1] = a[31:16], r[0] = b[31:16]     (cv.pack.h)
 * cv_packhi_b(d,a,b): d[3] = a[7:0], d[2] = b[7:0], d[1:0] kept
 * cv_packlo_b(d,a,b): d[1] = a[7:0], d[0] = b[7:0], d[3:2] kept */
CV__DEF_RR(cv_pack, "cv.pack", v2s, int32_t, int32_t)
CV__DEF_RR(cv_pack_h, "cv.pack.h", v2s, v2s, v2s)
CV__DEF_ACC(cv_packhi_b, "cv.packhi.b", v4s, int32_t, int32_t)
CV__DEF_ACC(cv_packlo_b, "cv.packlo.b", v4s, int32_t, int32_t)

/* ---- Comparisons: r[i] = (rs1[i] OP op2[i]) ? all ones : 0. */
CV__SIMD4(cmpeq, v2s, v4s, int32_t)
CV__SIMD4(cmpne, v2s, v4s, int32_t)
CV__SIMD4(cmpgt, v2s, v4s, int32_t)
CV__SIMD4(cmpge, v2s, v4s, int32_t)
CV__SIMD4(cmplt, v2s, v4s, int32_t)
CV__SIMD4(cmple, v2s, v4s, int32_t)
CV__SIMD4(cmpgtu, v2u, v4u, uint32_t)
CV__SIMD4(cmpgeu, v2u, v4u, uint32_t)
CV__SIMD4(cmpltu, v2u, v4u, uint32_t)
CV__SIMD4(cmpleu, v2u, v4u, uint32_t)
#define cv_cmpeq_sci_h(a, imm) CV__I("cv.cmpeq.sci.h", v2s, a, imm)
#define cv_cmpeq_sci_b(a, imm) CV__I("cv.cmpeq.sci.b", v4s, a, imm)
#define cv_cmpne_sci_h(a, imm) CV__I("cv.cmpne.sci.h", v2s, a, imm)
#define cv_cmpne_sci_b(a, imm) CV__I("cv.cmpne.sci.b", v4s, a, imm)
#define cv_cmpgt_sci_h(a, imm) CV__I("cv.cmpgt.sci.h", v2s, a, imm)
#define cv_cmpgt_sci_b(a, imm) CV__I("cv.cmpgt.sci.b", v4s, a, imm)
#define cv_cmpge_sci_h(a, imm) CV__I("cv.cmpge.sci.h", v2s, a, imm)
#define cv_cmpge_sci_b(a, imm) CV__I("cv.cmpge.sci.b", v4s, a, imm)
#define cv_cmplt_sci_h(a, imm) CV__I("cv.cmplt.sci.h", v2s, a, imm)
#define cv_cmplt_sci_b(a, imm) CV__I("cv.cmplt.sci.b", v4s, a, imm)
#define cv_cmple_sci_h(a, imm) CV__I("cv.cmple.sci.h", v2s, a, imm)
#define cv_cmple_sci_b(a, imm) CV__I("cv.cmple.sci.b", v4s, a, imm)
#define cv_cmpgtu_sci_h(a, imm) CV__I("cv.cmpgtu.sci.h", v2u, a, imm)
#define cv_cmpgtu_sci_b(a, imm) CV__I("cv.cmpgtu.sci.b", v4u, a, imm)
#define cv_cmpgeu_sci_h(a, imm) CV__I("cv.cmpgeu.sci.h", v2u, a, imm)
#define cv_cmpgeu_sci_b(a, imm) CV__I("cv.cmpgeu.sci.b", v4u, a, imm)
#define cv_cmpltu_sci_h(a, imm) CV__I("cv.cmpltu.sci.h", v2u, a, imm)
#define cv_cmpltu_sci_b(a, imm) CV__I("cv.cmpltu.sci.b", v4u, a, imm)
#define cv_cmpleu_sci_h(a, imm) CV__I("cv.cmpleu.sci.h", v2u, a, imm)
#define cv_cmpleu_sci_b(a, imm) CV__I("cv.cmpleu.sci.b", v4u, a, imm)

/* ---- Complex numbers (16-bit lanes: [0] real, [1] imaginary).
 * cplxmul.r/.i write only the real/imaginary lane of rD (the other is kept),
 * hence the rD input; .div2/.div4/.div8 scale the result. */
CV__DEF_ACC(cv_cplxmul_r, "cv.cplxmul.r", v2s, v2s, v2s)
CV__DEF_ACC(cv_cplxmul_i, "cv.cplxmul.i", v2s, v2s, v2s)
CV__DEF_ACC(cv_cplxmul_r_div2, "cv.cplxmul.r.div2", v2s, v2s, v2s)
CV__DEF_ACC(cv_cplxmul_i_div2, "cv.cplxmul.i.div2", v2s, v2s, v2s)
CV__DEF_ACC(cv_cplxmul_r_div4, "cv.cplxmul.r.div4", v2s, v2s, v2s)
CV__DEF_ACC(cv_cplxmul_i_div4, "cv.cplxmul.i.div4", v2s, v2s, v2s)
CV__DEF_ACC(cv_cplxmul_r_div8, "cv.cplxmul.r.div8", v2s, v2s, v2s)
CV__DEF_ACC(cv_cplxmul_i_div8, "cv.cplxmul.i.div8", v2s, v2s, v2s)
CV__DEF_R(cv_cplxconj, "cv.cplxconj", v2s, v2s)
CV__DEF_RR(cv_subrotmj, "cv.subrotmj", v2s, v2s, v2s)
CV__DEF_RR(cv_subrotmj_div2, "cv.subrotmj.div2", v2s, v2s, v2s)
CV__DEF_RR(cv_subrotmj_div4, "cv.subrotmj.div4", v2s, v2s, v2s)
CV__DEF_RR(cv_subrotmj_div8, "cv.subrotmj.div8", v2s, v2s, v2s)
CV__DEF_RR(cv_add_div2, "cv.add.div2", v2s, v2s, v2s)
CV__DEF_RR(cv_add_div4, "cv.add.div4", v2s, v2s, v2s)
CV__DEF_RR(cv_add_div8, "cv.add.div8", v2s, v2s, v2s)
CV__DEF_RR(cv_sub_div2, "cv.sub.div2", v2s, v2s, v2s)
CV__DEF_RR(cv_sub_div4, "cv.sub.div4", v2s, v2s, v2s)
CV__DEF_RR(cv_sub_div8, "cv.sub.div8", v2s, v2s, v2s)

/* ======================================================================== */
/* xcvmac                                                                   */
/* ======================================================================== */
/* cv_mac(acc, a, b) = acc + a*b ; cv_msu(acc, a, b) = acc - a*b (32x32). */
CV__DEF_ACC(cv_mac, "cv.mac", int32_t, int32_t, int32_t)
CV__DEF_ACC(cv_msu, "cv.msu", int32_t, int32_t, int32_t)

/* 16x16 multiplies: s = signed, u = unsigned; "hh" uses the upper halves
 * (rs1[31:16], rs2[31:16]) otherwise the lower ones. N: >> n; RN: rounded,
 * (p + 2^(n-1)) >> n. Signed forms shift arithmetically, unsigned logically. */
CV__DEF_RR(cv_muls, "cv.muls", int32_t, int32_t, int32_t)
CV__DEF_RR(cv_mulhhs, "cv.mulhhs", int32_t, int32_t, int32_t)
CV__DEF_RR(cv_mulu, "cv.mulu", uint32_t, uint32_t, uint32_t)
CV__DEF_RR(cv_mulhhu, "cv.mulhhu", uint32_t, uint32_t, uint32_t)
#define cv_mulsn(a, b, n) CV__RRI("cv.mulsn", int32_t, a, b, n)
#define cv_mulhhsn(a, b, n) CV__RRI("cv.mulhhsn", int32_t, a, b, n)
#define cv_mulsrn(a, b, n) CV__RRI("cv.mulsrn", int32_t, a, b, n)
#define cv_mulhhsrn(a, b, n) CV__RRI("cv.mulhhsrn", int32_t, a, b, n)
#define cv_mulun(a, b, n) CV__RRI("cv.mulun", uint32_t, a, b, n)
#define cv_mulhhun(a, b, n) CV__RRI("cv.mulhhun", uint32_t, a, b, n)
#define cv_mulurn(a, b, n) CV__RRI("cv.mulurn", uint32_t, a, b, n)
#define cv_mulhhurn(a, b, n) CV__RRI("cv.mulhhurn", uint32_t, a, b, n)
/* 16x16 multiply-accumulate: rD = (rD + a16*b16 [+ 2^(n-1)]) >> n */
#define cv_macsn(acc, a, b, n) CV__RRI_ACC("cv.macsn", int32_t, acc, a, b, n)
#define cv_machhsn(acc, a, b, n) CV__RRI_ACC("cv.machhsn", int32_t, acc, a, b, n)
#define cv_macsrn(acc, a, b, n) CV__RRI_ACC("cv.macsrn", int32_t, acc, a, b, n)
#define cv_machhsrn(acc, a, b, n) CV__RRI_ACC("cv.machhsrn", int32_t, acc, a, b, n)
#define cv_macun(acc, a, b, n) CV__RRI_ACC("cv.macun", uint32_t, acc, a, b, n)
#define cv_machhun(acc, a, b, n) CV__RRI_ACC("cv.machhun", uint32_t, acc, a, b, n)
#define cv_macurn(acc, a, b, n) CV__RRI_ACC("cv.macurn", uint32_t, acc, a, b, n)
#define cv_machhurn(acc, a, b, n) CV__RRI_ACC("cv.machhurn", uint32_t, acc, a, b, n)

/* ======================================================================== */
/* xcvalu (forms the __riscv_cv_alu_* builtins do not let you pick)         */
/* ======================================================================== */
/* cv_clip(x, n):   clamp to [-2^(n-1), 2^(n-1)-1]      (n immediate 0..31)
 * cv_clipu(x, n):  clamp to [0, 2^(n-1)-1]
 * cv_clipr(x, b):  clamp to [-(b+1), b]                 (b register)
 * cv_clipur(x, b): clamp to [0, b]                                          */
#define cv_clip(x, n) CV__I("cv.clip", int32_t, x, n)
#define cv_clipu(x, n) CV__I("cv.clipu", uint32_t, x, n)
CV__DEF_RR(cv_clipr, "cv.clipr", int32_t, int32_t, int32_t)
CV__DEF_RR(cv_clipur, "cv.clipur", uint32_t, int32_t, uint32_t)
/* (a +/- b [+ 2^(n-1)]) >> n with an immediate n. */
#define cv_addn(a, b, n) CV__RRI("cv.addn", int32_t, a, b, n)
#define cv_addun(a, b, n) CV__RRI("cv.addun", uint32_t, a, b, n)
#define cv_addrn(a, b, n) CV__RRI("cv.addrn", int32_t, a, b, n)
#define cv_addurn(a, b, n) CV__RRI("cv.addurn", uint32_t, a, b, n)
#define cv_subn(a, b, n) CV__RRI("cv.subn", int32_t, a, b, n)
#define cv_subun(a, b, n) CV__RRI("cv.subun", uint32_t, a, b, n)
#define cv_subrn(a, b, n) CV__RRI("cv.subrn", int32_t, a, b, n)
#define cv_suburn(a, b, n) CV__RRI("cv.suburn", uint32_t, a, b, n)
/* Register-shift forms: d = (d +/- a [+ 2^(s-1)]) >> s[4:0]. */
CV__DEF_ACC(cv_addnr, "cv.addnr", int32_t, int32_t, uint32_t)
CV__DEF_ACC(cv_addunr, "cv.addunr", uint32_t, uint32_t, uint32_t)
CV__DEF_ACC(cv_addrnr, "cv.addrnr", int32_t, int32_t, uint32_t)
CV__DEF_ACC(cv_addurnr, "cv.addurnr", uint32_t, uint32_t, uint32_t)
CV__DEF_ACC(cv_subnr, "cv.subnr", int32_t, int32_t, uint32_t)
CV__DEF_ACC(cv_subunr, "cv.subunr", uint32_t, uint32_t, uint32_t)
CV__DEF_ACC(cv_subrnr, "cv.subrnr", int32_t, int32_t, uint32_t)
CV__DEF_ACC(cv_suburnr, "cv.suburnr", uint32_t, uint32_t, uint32_t)

/* ======================================================================== */
/* xcvbitmanip                                                              */
/* ======================================================================== */
/* Immediate forms take the manual's Is3 (field length - 1) and Is2 (field
 * position); the register forms take rs2 = (len-1) << 5 | pos, which
 * CV_BITFIELD(len, pos) builds.
 *   cv_extract(x, Is3, Is2)   = Sext(x[Is3+Is2 : Is2])
 *   cv_extractu(x, Is3, Is2)  = Zext(x[Is3+Is2 : Is2])
 *   cv_insert(d, s, Is3, Is2) = d with d[Is3+Is2 : Is2] = s[Is3 : 0]
 *   cv_bclr / cv_bset(x, Is3, Is2): clear / set x[Is3+Is2 : Is2]
 *   cv_bitrev(x, Is3, Is2): reverse groups of Is3+1 bits of x << Is2
 *   ff1/fl1: index of the lowest/highest set bit (32 if x == 0);
 *   clb: leading sign bits - 1 (0 if x == 0); cnt: population count;
 *   ror: rotate right by rs2[4:0]. */
#define CV_BITFIELD(len, pos) ((((uint32_t)(len) - 1u) << 5) | ((uint32_t)(pos) & 31u))
#define cv_extract(x, is3, is2) CV__RII(CV__BITMANIP("cv.extract"), int32_t, x, is3, is2)
#define cv_extractu(x, is3, is2) CV__RII(CV__BITMANIP("cv.extractu"), uint32_t, x, is3, is2)
#define cv_insert(d, s, is3, is2) CV__RII_ACC(CV__BITMANIP("cv.insert"), uint32_t, d, s, is3, is2)
#define cv_bclr(x, is3, is2) CV__RII(CV__BITMANIP("cv.bclr"), uint32_t, x, is3, is2)
#define cv_bset(x, is3, is2) CV__RII(CV__BITMANIP("cv.bset"), uint32_t, x, is3, is2)
#define cv_bitrev(x, is3, is2) CV__RII(CV__BITMANIP("cv.bitrev"), uint32_t, x, is3, is2)
CV__DEF_RR(cv_extractr, CV__BITMANIP("cv.extractr"), int32_t, int32_t, uint32_t)
CV__DEF_RR(cv_extractur, CV__BITMANIP("cv.extractur"), uint32_t, uint32_t, uint32_t)
CV__DEF_ACC(cv_insertr, CV__BITMANIP("cv.insertr"), uint32_t, uint32_t, uint32_t)
CV__DEF_RR(cv_bclrr, CV__BITMANIP("cv.bclrr"), uint32_t, uint32_t, uint32_t)
CV__DEF_RR(cv_bsetr, CV__BITMANIP("cv.bsetr"), uint32_t, uint32_t, uint32_t)
CV__DEF_RR(cv_ror, CV__BITMANIP("cv.ror"), uint32_t, uint32_t, uint32_t)
CV__DEF_R(cv_ff1, CV__BITMANIP("cv.ff1"), uint32_t, uint32_t)
CV__DEF_R(cv_fl1, CV__BITMANIP("cv.fl1"), uint32_t, uint32_t)
CV__DEF_R(cv_clb, CV__BITMANIP("cv.clb"), uint32_t, int32_t)
CV__DEF_R(cv_cnt, CV__BITMANIP("cv.cnt"), uint32_t, uint32_t)

/* ======================================================================== */
/* xcvmem: post-increment and register-offset loads/stores                  */
/* ======================================================================== */
/* The compiler emits these by itself for pointer walks; the explicit forms
 * are for hand-scheduled kernels. `p` must be a pointer lvalue: it is
 * advanced by `inc` BYTES after the access (cv.lw rD, (rs1), inc).
 *   v = cv_lw_pi(p, 4);        // v = *(int32_t *)p; p += 4 bytes
 *   cv_sw_pi(p, v, 4);         // *(int32_t *)p = v; p += 4 bytes
 * *_pi take an immediate increment (-2048..2047), *_pir a register one,
 * *_rr load/store at p + off without updating p. Loads return the value
 * sign- (lb, lh) or zero-extended (lbu, lhu). */
#define CV__LD_PI(insn, T, p, inc)                                           \
  __extension__({                                                            \
    uint32_t v_;                                                             \
    __asm__(insn " %0, (%1), %3"                                             \
            : "=r"(v_), "+r"(p)                                              \
            : "m"(*(const T *)(p)), "i"(inc));                               \
    (T)v_;                                                                   \
  })
#define CV__LD_PIR(insn, T, p, inc)                                          \
  __extension__({                                                            \
    uint32_t v_;                                                             \
    __asm__(insn " %0, (%1), %3"                                             \
            : "=r"(v_), "+r"(p)                                              \
            : "m"(*(const T *)(p)), "r"(inc));                               \
    (T)v_;                                                                   \
  })
#define CV__LD_RR(insn, T, p, off)                                           \
  __extension__({                                                            \
    uint32_t v_;                                                             \
    __asm__(insn " %0, %2(%1)"                                               \
            : "=r"(v_)                                                       \
            : "r"(p), "r"(off), "m"(*(const T *)((const char *)(p) + (off)))); \
    (T)v_;                                                                   \
  })
#define CV__ST_PI(insn, T, p, v, inc)                                        \
  __asm__(insn " %2, (%1), %3"                                               \
          : "=m"(*(T *)(p)), "+r"(p)                                         \
          : "r"(CV__W(v)), "i"(inc))
#define CV__ST_PIR(insn, T, p, v, inc)                                       \
  __asm__(insn " %2, (%1), %3"                                               \
          : "=m"(*(T *)(p)), "+r"(p)                                         \
          : "r"(CV__W(v)), "r"(inc))
#define CV__ST_RR(insn, T, p, v, off)                                        \
  __asm__(insn " %1, %3(%2)"                                                 \
          : "=m"(*(T *)((char *)(p) + (off)))                                \
          : "r"(CV__W(v)), "r"(p), "r"(off))

#define cv_lb_pi(p, inc) CV__LD_PI("cv.lb", int8_t, p, inc)
#define cv_lbu_pi(p, inc) CV__LD_PI("cv.lbu", uint8_t, p, inc)
#define cv_lh_pi(p, inc) CV__LD_PI("cv.lh", int16_t, p, inc)
#define cv_lhu_pi(p, inc) CV__LD_PI("cv.lhu", uint16_t, p, inc)
#define cv_lw_pi(p, inc) CV__LD_PI("cv.lw", int32_t, p, inc)
#define cv_lb_pir(p, inc) CV__LD_PIR("cv.lb", int8_t, p, inc)
#define cv_lbu_pir(p, inc) CV__LD_PIR("cv.lbu", uint8_t, p, inc)
#define cv_lh_pir(p, inc) CV__LD_PIR("cv.lh", int16_t, p, inc)
#define cv_lhu_pir(p, inc) CV__LD_PIR("cv.lhu", uint16_t, p, inc)
#define cv_lw_pir(p, inc) CV__LD_PIR("cv.lw", int32_t, p, inc)
#define cv_lb_rr(p, off) CV__LD_RR("cv.lb", int8_t, p, off)
#define cv_lbu_rr(p, off) CV__LD_RR("cv.lbu", uint8_t, p, off)
#define cv_lh_rr(p, off) CV__LD_RR("cv.lh", int16_t, p, off)
#define cv_lhu_rr(p, off) CV__LD_RR("cv.lhu", uint16_t, p, off)
#define cv_lw_rr(p, off) CV__LD_RR("cv.lw", int32_t, p, off)
#define cv_sb_pi(p, v, inc) CV__ST_PI("cv.sb", int8_t, p, v, inc)
#define cv_sh_pi(p, v, inc) CV__ST_PI("cv.sh", int16_t, p, v, inc)
#define cv_sw_pi(p, v, inc) CV__ST_PI("cv.sw", int32_t, p, v, inc)
#define cv_sb_pir(p, v, inc) CV__ST_PIR("cv.sb", int8_t, p, v, inc)
#define cv_sh_pir(p, v, inc) CV__ST_PIR("cv.sh", int16_t, p, v, inc)
#define cv_sw_pir(p, v, inc) CV__ST_PIR("cv.sw", int32_t, p, v, inc)
#define cv_sb_rr(p, v, off) CV__ST_RR("cv.sb", int8_t, p, v, off)
#define cv_sh_rr(p, v, off) CV__ST_RR("cv.sh", int16_t, p, v, off)
#define cv_sw_rr(p, v, off) CV__ST_RR("cv.sw", int32_t, p, v, off)

/* ======================================================================== */
/* xcvelw: event load                                                       */
/* ======================================================================== */
/* Loads a word like lw, but the core may sleep until an event arrives when
 * the address is an event-unit wait register (e.g. barrier 0 at
 * 0x1020421C). Volatile and a compiler memory barrier. */
CV_INLINE uint32_t cv_elw(const volatile void *addr) {
  uint32_t v;
  __asm__ volatile("cv.elw %0, 0(%1)" : "=r"(v) : "r"(addr) : "memory");
  return v;
}

#endif /* !__ASSEMBLER__ */

/* ======================================================================== */
/* HARDWARE LOOPS (xcvhwlp)                                                 */
/* ======================================================================== */
/*
 * zig's assembler does not know xcvhwlp, so this header defines assembler
 * macros with the mnemonics' own names (the assembler looks up macros
 * before instructions), each emitting one `.word` with the CV32E40P v2
 * encoding (user manual, "Hardware Loops" encoding table):
 *
 *   31      20 19   15 14  12 11    8  7  6     0
 *   [ uimmL  ][ rs1   ][ 100 ][ funct4 ][L][0101011]      opcode 0x2B
 *
 *   funct4  mnemonic                  effect
 *   0000    cv.starti L, label        lpstart[L] = PC + (uimmL << 2)
 *   0001    cv.start  L, rs1          lpstart[L] = rs1
 *   0010    cv.endi   L, label        lpend[L]   = PC + (uimmL << 2)
 *   0011    cv.end    L, rs1          lpend[L]   = rs1
 *   0100    cv.counti L, n            lpcount[L] = uimmL
 *   0101    cv.count  L, rs1          lpcount[L] = rs1
 *   0110    cv.setupi L, n, label     lpstart = PC+4, lpend = PC + (uimmS << 2)
 *                                     (uimmS in bits 19:15), lpcount = uimmL
 *   0111    cv.setup  L, rs1, label   lpstart = PC+4, lpend = PC + (uimmL << 2),
 *                                     lpcount = rs1
 *
 * The offsets are unsigned and in WORDS (<< 2) in v2 (halfwords in older
 * RI5CY/PULP documents). The end label is the first instruction AFTER the
 * body (v2; RI5CY's end pointed at the last body instruction). Ranges:
 * uimmL 0..4095 (end within 16 KiB forward), uimmS 0..31 (the end of a
 * cv.setupi loop at most 31 words after it). Out-of-range values are masked
 * to their field by these macros, so keep the bodies short (the manual's
 * advice: cv.setup* for bodies up to ~30 instructions).
 *
 * Rules (CV32E40P manual, "Hardware Loop constraints"): start, end and the
 * setup instructions word aligned; body >= 3 instructions, all 32-bit (no
 * RVC: `.option norvc`), no branches/jumps, no fence, no mret/wfi; set
 * start/end before count (a loop is active as soon as lpcount > 0); loop 0
 * is the inner loop, and a nested loop 1 must end >= 8 bytes after loop 0.
 * A count of 0 leaves the loop inactive: the body then runs once (not 0
 * times) - guard zero trip counts in C. Label arithmetic needs the body
 * free of linker relaxation: `.option norelax` (norvc also keeps the sizes
 * fixed). The macros start with `.balign 4` so the setup word is aligned.
 *
 * In assembler (.S, this header #included):
 *       cv.setupi 0, 100, 1f        # 100 iterations, body ends at 1:
 *       .option push
 *       .option norvc
 *       .option norelax
 *       lw   t0, 0(a0)
 *       addi a0, a0, 4
 *       add  a1, a1, t0
 *   1:
 *       .option pop
 *
 * In C, CV_HWLOOP_ASM(L, count, body) builds the assembler text of a
 * cv.setup loop (count in a register operand; body asm text, >= 3
 * instructions, each ending with "\n\t"); use it inside an asm statement:
 *
 *   // sum n (>= 1) words at p
 *   int32_t acc = 0, tmp;
 *   __asm__ volatile(CV_HWLOOP_ASM(0, "%[n]",
 *                        "lw   %[t], 0(%[p])\n\t"
 *                        "addi %[p], %[p], 4\n\t"
 *                        "add  %[acc], %[acc], %[t]\n\t")
 *                    : [acc] "+r"(acc), [p] "+r"(p), [t] "=&r"(tmp)
 *                    : [n] "r"(n)
 *                    : "memory");
 *
 * CV_HWLOOPI_ASM(L, n, body) does the same with an immediate count
 * (cv.setupi; n in 0..4095 and a body of at most 30 instructions).
 * Nest by putting a CV_HWLOOP_ASM(0, ...) inside the body of a
 * CV_HWLOOP_ASM(1, ...), followed by at least 2 more instructions of loop 1
 * (the manual's rule: end of loop 1 >= end of loop 0 + 8 bytes).
 */

/* Register name -> number, for the register forms; sets the assembler
 * symbol cv__rn. */
#define CV__HWLP_REGNUM_ASM                                                   \
  ".macro cv__regnum r\n"                                                     \
  ".set cv__rn, -1\n"                                                         \
  ".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n" \
  ".ifc \\r,x\\n\n.set cv__rn, \\n\n.endif\n"                                 \
  ".endr\n"                                                                   \
  ".ifc \\r,zero\n.set cv__rn, 0\n.endif\n"                                   \
  ".ifc \\r,ra\n.set cv__rn, 1\n.endif\n"                                     \
  ".ifc \\r,sp\n.set cv__rn, 2\n.endif\n"                                     \
  ".ifc \\r,gp\n.set cv__rn, 3\n.endif\n"                                     \
  ".ifc \\r,tp\n.set cv__rn, 4\n.endif\n"                                     \
  ".ifc \\r,t0\n.set cv__rn, 5\n.endif\n"                                     \
  ".ifc \\r,t1\n.set cv__rn, 6\n.endif\n"                                     \
  ".ifc \\r,t2\n.set cv__rn, 7\n.endif\n"                                     \
  ".ifc \\r,s0\n.set cv__rn, 8\n.endif\n"                                     \
  ".ifc \\r,fp\n.set cv__rn, 8\n.endif\n"                                     \
  ".ifc \\r,s1\n.set cv__rn, 9\n.endif\n"                                     \
  ".irp n,0,1,2,3,4,5,6,7\n"                                                  \
  ".ifc \\r,a\\n\n.set cv__rn, 10+\\n\n.endif\n"                              \
  ".endr\n"                                                                   \
  ".irp n,2,3,4,5,6,7,8,9,10,11\n"                                            \
  ".ifc \\r,s\\n\n.set cv__rn, 16+\\n\n.endif\n"                              \
  ".endr\n"                                                                   \
  ".irp n,3,4,5,6\n"                                                          \
  ".ifc \\r,t\\n\n.set cv__rn, 25+\\n\n.endif\n"                              \
  ".endr\n"                                                                   \
  ".if cv__rn < 0\n.error \"hardware loop: unknown register \\r\"\n.endif\n"  \
  ".endm\n"

/* .word uimmL(31:20) | rs1(19:15) | 100(14:12) | funct4(11:8) | L(7) | 0x2B */
#define CV__HWLP_WORD(uimm12, rs1, f4)                                        \
  ".word (((" uimm12 ") & 0xfff) << 20) | (((" rs1 ") & 0x1f) << 15) | "     \
  "(0x4 << 12) | (" #f4 " << 8) | (((\\L) & 1) << 7) | 0x2b\n"
#define CV__HWLP_OFS "((\\lbl) - .) >> 2"

#define CV__HWLP_MACROS_ASM                                                   \
  CV__HWLP_REGNUM_ASM                                                         \
  ".macro cv.starti L, lbl\n.balign 4\n"                                      \
  CV__HWLP_WORD(CV__HWLP_OFS, "0", 0x0) ".endm\n"                             \
  ".macro cv.start L, r\n.balign 4\ncv__regnum \\r\n"                         \
  CV__HWLP_WORD("0", "cv__rn", 0x1) ".endm\n"                                 \
  ".macro cv.endi L, lbl\n.balign 4\n"                                        \
  CV__HWLP_WORD(CV__HWLP_OFS, "0", 0x2) ".endm\n"                             \
  ".macro cv.end L, r\n.balign 4\ncv__regnum \\r\n"                           \
  CV__HWLP_WORD("0", "cv__rn", 0x3) ".endm\n"                                 \
  ".macro cv.counti L, n\n.balign 4\n"                                        \
  CV__HWLP_WORD("\\n", "0", 0x4) ".endm\n"                                    \
  ".macro cv.count L, r\n.balign 4\ncv__regnum \\r\n"                         \
  CV__HWLP_WORD("0", "cv__rn", 0x5) ".endm\n"                                 \
  ".macro cv.setupi L, n, lbl\n.balign 4\n"                                   \
  CV__HWLP_WORD("\\n", CV__HWLP_OFS, 0x6) ".endm\n"                           \
  ".macro cv.setup L, r, lbl\n.balign 4\ncv__regnum \\r\n"                    \
  CV__HWLP_WORD(CV__HWLP_OFS, "cv__rn", 0x7) ".endm\n"

#ifndef __ASSEMBLER__

/* Define the macros once per translation unit (module-level asm is emitted
 * before any function, so every inline asm below can use them). With LTO the
 * module asm of several units would be merged and the macros defined twice:
 * firmware using this header is built without -flto. */
__asm__(CV__HWLP_MACROS_ASM);

#define CV__STR1(x) #x
#define CV__STR(x) CV__STR1(x)

/* Assembler text of a hardware loop; see the section comment above. The
 * local labels 9<L>0 (end) keep loop 0 and loop 1 distinct when nested. */
#define CV_HWLOOP_ASM(L, count, body)                                         \
  ".option push\n\t.option norvc\n\t.option norelax\n\t"                      \
  "cv.setup " CV__STR(L) ", " count ", 9" CV__STR(L) "0f\n\t"                 \
  body                                                                        \
  "9" CV__STR(L) "0:\n\t.option pop\n\t"
#define CV_HWLOOPI_ASM(L, n, body)                                            \
  ".option push\n\t.option norvc\n\t.option norelax\n\t"                      \
  "cv.setupi " CV__STR(L) ", " CV__STR(n) ", 9" CV__STR(L) "0f\n\t"           \
  body                                                                        \
  "9" CV__STR(L) "0:\n\t.option pop\n\t"

#else /* __ASSEMBLER__ */

/* In .S files the macros are written out as directives. This block must
 * stay equivalent to CV__HWLP_MACROS_ASM above: tests/test_hwloop_encoding.py
 * assembles the same loops from C and from a .S file and compares the words. */
.macro cv__regnum r
  .set cv__rn, -1
  .irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .ifc \r,x\n
      .set cv__rn, \n
    .endif
  .endr
  .ifc \r,zero
    .set cv__rn, 0
  .endif
  .ifc \r,ra
    .set cv__rn, 1
  .endif
  .ifc \r,sp
    .set cv__rn, 2
  .endif
  .ifc \r,gp
    .set cv__rn, 3
  .endif
  .ifc \r,tp
    .set cv__rn, 4
  .endif
  .ifc \r,t0
    .set cv__rn, 5
  .endif
  .ifc \r,t1
    .set cv__rn, 6
  .endif
  .ifc \r,t2
    .set cv__rn, 7
  .endif
  .ifc \r,s0
    .set cv__rn, 8
  .endif
  .ifc \r,fp
    .set cv__rn, 8
  .endif
  .ifc \r,s1
    .set cv__rn, 9
  .endif
  .irp n,0,1,2,3,4,5,6,7
    .ifc \r,a\n
      .set cv__rn, 10+\n
    .endif
  .endr
  .irp n,2,3,4,5,6,7,8,9,10,11
    .ifc \r,s\n
      .set cv__rn, 16+\n
    .endif
  .endr
  .irp n,3,4,5,6
    .ifc \r,t\n
      .set cv__rn, 25+\n
    .endif
  .endr
  .if cv__rn < 0
    .error "hardware loop: unknown register \r"
  .endif
.endm

.macro cv.starti L, lbl
  .balign 4
  .word (((((\lbl) - .) >> 2) & 0xfff) << 20) | (0x4 << 12) | (0x0 << 8) | (((\L) & 1) << 7) | 0x2b
.endm
.macro cv.start L, r
  .balign 4
  cv__regnum \r
  .word ((cv__rn & 0x1f) << 15) | (0x4 << 12) | (0x1 << 8) | (((\L) & 1) << 7) | 0x2b
.endm
.macro cv.endi L, lbl
  .balign 4
  .word (((((\lbl) - .) >> 2) & 0xfff) << 20) | (0x4 << 12) | (0x2 << 8) | (((\L) & 1) << 7) | 0x2b
.endm
.macro cv.end L, r
  .balign 4
  cv__regnum \r
  .word ((cv__rn & 0x1f) << 15) | (0x4 << 12) | (0x3 << 8) | (((\L) & 1) << 7) | 0x2b
.endm
.macro cv.counti L, n
  .balign 4
  .word (((\n) & 0xfff) << 20) | (0x4 << 12) | (0x4 << 8) | (((\L) & 1) << 7) | 0x2b
.endm
.macro cv.count L, r
  .balign 4
  cv__regnum \r
  .word ((cv__rn & 0x1f) << 15) | (0x4 << 12) | (0x5 << 8) | (((\L) & 1) << 7) | 0x2b
.endm
.macro cv.setupi L, n, lbl
  .balign 4
  .word (((\n) & 0xfff) << 20) | (((((\lbl) - .) >> 2) & 0x1f) << 15) | (0x4 << 12) | (0x6 << 8) | (((\L) & 1) << 7) | 0x2b
.endm
.macro cv.setup L, r, lbl
  .balign 4
  cv__regnum \r
  .word (((((\lbl) - .) >> 2) & 0xfff) << 20) | ((cv__rn & 0x1f) << 15) | (0x4 << 12) | (0x7 << 8) | (((\L) & 1) << 7) | 0x2b
.endm

#endif /* __ASSEMBLER__ */

#endif /* ISS_COREV_H */
