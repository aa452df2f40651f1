/*
 * pulp_builtins.h - the PULP GCC `__builtin_pulp_*` builtins on clang.
 *
 * PULP kernels (PULP-NN is the model client) are written for the PULP GCC
 * toolchain, which knows __builtin_pulp_* and the Xpulpv2 encodings. This
 * header maps those builtins onto the CORE-V v2 instructions of corev.h so
 * the kernels compile unchanged with the project's clang. Semantics follow
 * the PULP/GAP builtin documentation (argument order: operands first, the
 * accumulator LAST, e.g. __builtin_pulp_sdotsp4(x, y, acc) = acc + x.y).
 *
 * Builtins whose PULP GCC form requires immediates (bextract size/offset,
 * binsert/bclr/bset masks, the N/RN normalisation shifts) are function-like
 * macros: constants reach the instruction's immediate field, and operands in
 * variables use the register form of the same instruction.
 *
 * Deliberately NOT provided (no CV32E40P instruction; a kernel needing them
 * fails to compile instead of silently computing something else): the
 * nibble/crumb forms (sdotusp8/16, maxu8/16, avgu8/16, ...), the
 * MacLoad (mlsdotsup*_v3) builtins, and GCC's __builtin_shuffle (clang has
 * __builtin_shufflevector; or use __builtin_pulp_shuffleb/shuffle4b).
 * __builtin_pulp_CoreId and friends belong to the runtime (pmsis.h).
 * The multiply N/RN forms (mulsN, macsN...) still need constant shifts.
 */
#ifndef ISS_PULP_BUILTINS_H
#define ISS_PULP_BUILTINS_H

#include "corev.h"

/* ---- helpers ------------------------------------------------------------ */

/* 1 if m is a compile-time constant made of one contiguous run of 1s. Only
 * valid where m is an integer constant expression (PULP GCC requires that
 * of the bclr/bset/binsert masks too). */
#define CV__PULP_CONTIG(m)                                                    \
  ((uint32_t)(m) != 0u &&                                                     \
   ((((uint32_t)(m) >> __builtin_ctz((uint32_t)(m) | 0x80000000u)) &          \
     (((uint32_t)(m) >> __builtin_ctz((uint32_t)(m) | 0x80000000u)) + 1u)) == 0u))

/* clip(x, lo, hi): PULP GCC accepts lo = -2^p, hi = 2^p - 1 (p.clip) and
 * lo = 0, hi = 2^p - 1 (p.clipu). Those shapes, and generally
 * lo == -(hi+1) and lo == 0, map to cv.clip/cv.clipr and cv.clipu/cv.clipur
 * (clang picks the immediate form when hi is 2^p - 1); any other bounds are
 * clamped in plain C. */
CV_INLINE int32_t cv__pulp_clip(int32_t x, int32_t lo, int32_t hi) {
  if (hi >= 0 && lo == -hi - 1)
    return (int32_t)__riscv_cv_alu_clip(x, (uint32_t)hi);
  if (hi >= 0 && lo == 0)
    return (int32_t)__riscv_cv_alu_clipu((uint32_t)x, (uint32_t)hi);
  return x < lo ? lo : (x > hi ? hi : x);
}

/* pack4(x, y, z, t) = (v4s){x, y, z, t}: packlo then packhi into rD. */
CV_INLINE v4s cv__pulp_pack4(int32_t x, int32_t y, int32_t z, int32_t t) {
  v4s r = (v4s)0;
  r = cv_packlo_b(r, y, x);
  r = cv_packhi_b(r, t, z);
  return r;
}

/*
 * Builtins without immediates are object-like macros naming a function, so
 * arguments with commas, e.g. (v4s){1, 2, 3, 4}, pass through unchanged and
 * the usual argument conversions apply. Where PULP's argument order differs
 * from the instruction's (accumulator last), a cv__pulp_* wrapper reorders.
 */

/* ---- SIMD dot products (4 x 8 bit and 2 x 16 bit) ----------------------- */
CV_INLINE int32_t cv__pulp_sdotsp4(v4s x, v4s y, int32_t acc) { return cv_sdotsp_b(acc, x, y); }
CV_INLINE uint32_t cv__pulp_sdotup4(v4u x, v4u y, uint32_t acc) { return cv_sdotup_b(acc, x, y); }
CV_INLINE int32_t cv__pulp_sdotusp4(v4u x, v4s y, int32_t acc) { return cv_sdotusp_b(acc, x, y); }
CV_INLINE int32_t cv__pulp_sdotsp2(v2s x, v2s y, int32_t acc) { return cv_sdotsp_h(acc, x, y); }
CV_INLINE uint32_t cv__pulp_sdotup2(v2u x, v2u y, uint32_t acc) { return cv_sdotup_h(acc, x, y); }
CV_INLINE int32_t cv__pulp_sdotusp2(v2u x, v2s y, int32_t acc) { return cv_sdotusp_h(acc, x, y); }
#define __builtin_pulp_dotsp4 cv_dotsp_b
#define __builtin_pulp_dotup4 cv_dotup_b
#define __builtin_pulp_dotusp4 cv_dotusp_b
#define __builtin_pulp_sdotsp4 cv__pulp_sdotsp4
#define __builtin_pulp_sdotup4 cv__pulp_sdotup4
#define __builtin_pulp_sdotusp4 cv__pulp_sdotusp4
#define __builtin_pulp_dotsp2 cv_dotsp_h
#define __builtin_pulp_dotup2 cv_dotup_h
#define __builtin_pulp_dotusp2 cv_dotusp_h
#define __builtin_pulp_sdotsp2 cv__pulp_sdotsp2
#define __builtin_pulp_sdotup2 cv__pulp_sdotup2
#define __builtin_pulp_sdotusp2 cv__pulp_sdotusp2

/* ---- SIMD element-wise ops (vector op vector) ---------------------------- */
CV_INLINE v4s cv__pulp_neg4(v4s x) { return cv_sub_b((v4s)0, x); }
CV_INLINE v2s cv__pulp_neg2(v2s x) { return cv_sub_h((v2s)0, x); }
#define __builtin_pulp_add4 cv_add_b
#define __builtin_pulp_sub4 cv_sub_b
#define __builtin_pulp_avg4 cv_avg_b
#define __builtin_pulp_avgu4 cv_avgu_b
#define __builtin_pulp_min4 cv_min_b
#define __builtin_pulp_minu4 cv_minu_b
#define __builtin_pulp_max4 cv_max_b
#define __builtin_pulp_maxu4 cv_maxu_b
#define __builtin_pulp_srl4 cv_srl_b
#define __builtin_pulp_sra4 cv_sra_b
#define __builtin_pulp_sll4 cv_sll_b
#define __builtin_pulp_or4 cv_or_b
#define __builtin_pulp_xor4 cv_xor_b
#define __builtin_pulp_and4 cv_and_b
#define __builtin_pulp_abs4 cv_abs_b
#define __builtin_pulp_neg4 cv__pulp_neg4
#define __builtin_pulp_add2 cv_add_h
#define __builtin_pulp_sub2 cv_sub_h
#define __builtin_pulp_avg2 cv_avg_h
#define __builtin_pulp_avgu2 cv_avgu_h
#define __builtin_pulp_min2 cv_min_h
#define __builtin_pulp_minu2 cv_minu_h
#define __builtin_pulp_max2 cv_max_h
#define __builtin_pulp_maxu2 cv_maxu_h
#define __builtin_pulp_srl2 cv_srl_h
#define __builtin_pulp_sra2 cv_sra_h
#define __builtin_pulp_sll2 cv_sll_h
#define __builtin_pulp_or2 cv_or_h
#define __builtin_pulp_xor2 cv_xor_h
#define __builtin_pulp_and2 cv_and_h
#define __builtin_pulp_abs2 cv_abs_h
#define __builtin_pulp_neg2 cv__pulp_neg2

/* ---- pack / shuffle ----------------------------------------------------- */
/* pack2(x, y) = (v2s){x, y}; pack4(x, y, z, t) = (v4s){x, y, z, t}. */
CV_INLINE v2s cv__pulp_pack2(int32_t x, int32_t y) { return cv_pack(y, x); }
#define __builtin_pulp_pack2 cv__pulp_pack2
#define __builtin_pulp_pack4 cv__pulp_pack4
/* shuffleb(x, m)[i] = x[m[i] & 3]; shuffleh(x, m)[i] = x[m[i] & 1] */
#define __builtin_pulp_shuffleb cv_shuffle_b
#define __builtin_pulp_shuffleh cv_shuffle_h
/* shuffle4b(x, y, m)[i] = m[i] & 4 ? y[m[i] & 3] : x[m[i] & 3]
 * shuffle2h(x, y, m)[i] = m[i] & 2 ? y[m[i] & 1] : x[m[i] & 1] */
#define __builtin_pulp_shuffle4b cv_shuffle2_b
#define __builtin_pulp_shuffle2h cv_shuffle2_h

/* ---- scalar ALU --------------------------------------------------------- */
CV_INLINE int32_t cv__pulp_abs(int32_t x) { return (int32_t)__riscv_cv_abs(x); }
CV_INLINE int32_t cv__pulp_minsi(int32_t x, int32_t y) { return (int32_t)__riscv_cv_alu_min(x, y); }
CV_INLINE int32_t cv__pulp_maxsi(int32_t x, int32_t y) { return (int32_t)__riscv_cv_alu_max(x, y); }
CV_INLINE uint32_t cv__pulp_minusi(uint32_t x, uint32_t y) { return (uint32_t)__riscv_cv_alu_minu(x, y); }
CV_INLINE uint32_t cv__pulp_maxusi(uint32_t x, uint32_t y) { return (uint32_t)__riscv_cv_alu_maxu(x, y); }
CV_INLINE uint32_t cv__pulp_clipu(int32_t x, int32_t lo, int32_t hi) { return (uint32_t)cv__pulp_clip(x, lo, hi); }
CV_INLINE int32_t cv__pulp_clip_r(int32_t x, int32_t b) { return (int32_t)__riscv_cv_alu_clip(x, (uint32_t)b); }
CV_INLINE uint32_t cv__pulp_clipu_r(int32_t x, int32_t b) { return (uint32_t)__riscv_cv_alu_clipu(x, (uint32_t)b); }
#define __builtin_pulp_abs cv__pulp_abs
#define __builtin_pulp_minsi cv__pulp_minsi
#define __builtin_pulp_maxsi cv__pulp_maxsi
#define __builtin_pulp_minusi cv__pulp_minusi
#define __builtin_pulp_maxusi cv__pulp_maxusi
/* clip(x, lo, hi) -> [lo, hi]; clip_r(x, b) -> [-b-1, b];
 * clipu(x, 0, hi) -> [0, hi]; clipu_r(x, b) -> [0, b] */
#define __builtin_pulp_clip cv__pulp_clip
#define __builtin_pulp_clipu cv__pulp_clipu
#define __builtin_pulp_clip_r cv__pulp_clip_r
#define __builtin_pulp_clipu_r cv__pulp_clipu_r
/* (x +/- y [+ 2^(n-1)]) >> n with an immediate n; the RN forms' rounding
 * argument r must be 2^(n-1) (PULP GCC checks it; the instruction derives it
 * from n). The *_r forms take n in a register. */
/* A shift n in a variable takes the register form (cv.addNr & co.). */
#define CV__PULP_SHIFT(imm, reg, x, y, n)                                     \
  __builtin_choose_expr(CV__PULP_IS_K(n), imm((x), (y), CV__PULP_K(n)), reg((x), (y), (n)))
#define __builtin_pulp_addN(x, y, n) CV__PULP_SHIFT(cv_addn, cv_addnr, x, y, n)
#define __builtin_pulp_adduN(x, y, n) CV__PULP_SHIFT(cv_addun, cv_addunr, x, y, n)
#define __builtin_pulp_addRN(x, y, n, r) CV__PULP_SHIFT(cv_addrn, cv_addrnr, x, y, n)
#define __builtin_pulp_adduRN(x, y, n, r) CV__PULP_SHIFT(cv_addurn, cv_addurnr, x, y, n)
#define __builtin_pulp_subN(x, y, n) CV__PULP_SHIFT(cv_subn, cv_subnr, x, y, n)
#define __builtin_pulp_subuN(x, y, n) CV__PULP_SHIFT(cv_subun, cv_subunr, x, y, n)
#define __builtin_pulp_subRN(x, y, n, r) CV__PULP_SHIFT(cv_subrn, cv_subrnr, x, y, n)
#define __builtin_pulp_subuRN(x, y, n, r) CV__PULP_SHIFT(cv_suburn, cv_suburnr, x, y, n)
#define __builtin_pulp_addN_r cv_addnr
#define __builtin_pulp_adduN_r cv_addunr
#define __builtin_pulp_addRN_r cv_addrnr
#define __builtin_pulp_adduRN_r cv_addurnr
#define __builtin_pulp_subN_r cv_subnr
#define __builtin_pulp_subuN_r cv_subunr
#define __builtin_pulp_subRN_r cv_subrnr
#define __builtin_pulp_subuRN_r cv_suburnr

/* ---- multiply / multiply-accumulate (accumulator last) ------------------ */
CV_INLINE int32_t cv__pulp_mac(int32_t x, int32_t y, int32_t acc) { return cv_mac(acc, x, y); }
CV_INLINE int32_t cv__pulp_msu(int32_t x, int32_t y, int32_t acc) { return cv_msu(acc, x, y); }
#define __builtin_pulp_mac cv__pulp_mac
#define __builtin_pulp_msu cv__pulp_msu
#define __builtin_pulp_muls cv_muls
#define __builtin_pulp_mulu cv_mulu
#define __builtin_pulp_mulhhs cv_mulhhs
#define __builtin_pulp_mulhhu cv_mulhhu
#define __builtin_pulp_mulsN(x, y, n) cv_mulsn((x), (y), (n))
#define __builtin_pulp_muluN(x, y, n) cv_mulun((x), (y), (n))
#define __builtin_pulp_mulhhsN(x, y, n) cv_mulhhsn((x), (y), (n))
#define __builtin_pulp_mulhhuN(x, y, n) cv_mulhhun((x), (y), (n))
#define __builtin_pulp_mulsRN(x, y, n, r) cv_mulsrn((x), (y), (n))
#define __builtin_pulp_muluRN(x, y, n, r) cv_mulurn((x), (y), (n))
#define __builtin_pulp_mulhhsRN(x, y, n, r) cv_mulhhsrn((x), (y), (n))
#define __builtin_pulp_mulhhuRN(x, y, n, r) cv_mulhhurn((x), (y), (n))
#define __builtin_pulp_macs(x, y, acc) cv_macsn((acc), (x), (y), 0)
#define __builtin_pulp_macu(x, y, acc) cv_macun((acc), (x), (y), 0)
#define __builtin_pulp_machhs(x, y, acc) cv_machhsn((acc), (x), (y), 0)
#define __builtin_pulp_machhu(x, y, acc) cv_machhun((acc), (x), (y), 0)
#define __builtin_pulp_macsN(x, y, acc, n) cv_macsn((acc), (x), (y), (n))
#define __builtin_pulp_macuN(x, y, acc, n) cv_macun((acc), (x), (y), (n))
#define __builtin_pulp_machhsN(x, y, acc, n) cv_machhsn((acc), (x), (y), (n))
#define __builtin_pulp_machhuN(x, y, acc, n) cv_machhun((acc), (x), (y), (n))
#define __builtin_pulp_macsRN(x, y, acc, n, r) cv_macsrn((acc), (x), (y), (n))
#define __builtin_pulp_macuRN(x, y, acc, n, r) cv_macurn((acc), (x), (y), (n))
#define __builtin_pulp_machhsRN(x, y, acc, n, r) cv_machhsrn((acc), (x), (y), (n))
#define __builtin_pulp_machhuRN(x, y, acc, n, r) cv_machhurn((acc), (x), (y), (n))

/* ---- bit manipulation --------------------------------------------------- */
/* PULP GCC wants these operands as constants; clang-targeted PULP code passes
 * variables too. A constant operand goes to the immediate form; a variable one
 * to the register form of the same instruction (cv.extractr, cv.insertr,
 * cv.bclrr, cv.bsetr: rs2[9:5] = size-1, rs2[4:0] = offset), so both compile
 * and compute the same. CV__PULP_K(x) is x when constant, else 0 (keeps the
 * immediate form, which is then not chosen, well-formed). */
#define CV__PULP_K(x) __builtin_choose_expr(__builtin_constant_p(x), (x), 0)
#define CV__PULP_IS_K(x) __builtin_constant_p(x)
CV_INLINE uint32_t cv__pulp_bitfield(uint32_t size, uint32_t off) { return ((size - 1u) << 5) | (off & 31u); }
/* size-1 and offset of a contiguous mask m held in a register */
CV_INLINE uint32_t cv__pulp_mask_field(uint32_t m) { return ((cv_cnt(m) - 1u) << 5) | (cv_ff1(m) & 31u); }

/* bextract(x, size, off) = Sext(x[off+size-1 : off]); bextractu zero-ext.
 * The _r forms take mask[9:5] = size-1, mask[4:0] = off in a register. */
#define __builtin_pulp_bextract(x, size, off)                                 \
  __builtin_choose_expr(CV__PULP_IS_K(size) && CV__PULP_IS_K(off),            \
      cv_extract((x), CV__PULP_K(size) - 1, CV__PULP_K(off)),                 \
      cv_extractr((x), cv__pulp_bitfield((size), (off))))
#define __builtin_pulp_bextractu(x, size, off)                                \
  __builtin_choose_expr(CV__PULP_IS_K(size) && CV__PULP_IS_K(off),            \
      cv_extractu((x), CV__PULP_K(size) - 1, CV__PULP_K(off)),                \
      cv_extractur((x), cv__pulp_bitfield((size), (off))))
#define __builtin_pulp_bextract_r cv_extractr
#define __builtin_pulp_bextractu_r cv_extractur
/* binsert(dst, ~m, src, m, off) with m = (2^size-1) << off:
 *   (dst & ~m) | ((src << off) & m). A constant mask that is not one run of
 * 1s is done in plain C; a mask in a variable must be one run (as the
 * instruction requires). binsert_r(dst, src, mask[9:5|4:0]). */
#define __builtin_pulp_binsert(dst, not_mask, src, mask, off)                 \
  __builtin_choose_expr(CV__PULP_IS_K(mask) && CV__PULP_IS_K(off),            \
    __builtin_choose_expr(CV__PULP_CONTIG(CV__PULP_K(mask)),                  \
      cv_insert((dst), (src), __builtin_popcount((uint32_t)CV__PULP_K(mask)) - 1, CV__PULP_K(off)), \
      (((uint32_t)(dst) & (uint32_t)(not_mask)) |                             \
       (((uint32_t)(src) << (off)) & (uint32_t)(mask)))),                     \
    cv_insertr((dst), (src), cv__pulp_bitfield(cv_cnt((uint32_t)(mask)), (off))))
#define __builtin_pulp_binsert_r cv_insertr
/* bclr(x, m) = x & m with m = ~((2^size-1) << off); bset(x, m) = x | m with
 * m = (2^size-1) << off. The _r forms: mask[9:5|4:0]. */
#define __builtin_pulp_bclr(x, m)                                             \
  __builtin_choose_expr(CV__PULP_IS_K(m),                                     \
    __builtin_choose_expr(CV__PULP_CONTIG(~(uint32_t)CV__PULP_K(m)),          \
      cv_bclr((x), __builtin_popcount(~(uint32_t)CV__PULP_K(m)) - 1,          \
              __builtin_ctz(~(uint32_t)CV__PULP_K(m) | 0x80000000u)),         \
      ((uint32_t)(x) & (uint32_t)(m))),                                       \
    cv_bclrr((x), cv__pulp_mask_field(~(uint32_t)(m))))
#define __builtin_pulp_bset(x, m)                                             \
  __builtin_choose_expr(CV__PULP_IS_K(m),                                     \
    __builtin_choose_expr(CV__PULP_CONTIG(CV__PULP_K(m)),                     \
      cv_bset((x), __builtin_popcount((uint32_t)CV__PULP_K(m)) - 1,           \
              __builtin_ctz((uint32_t)CV__PULP_K(m) | 0x80000000u)),          \
      ((uint32_t)(x) | (uint32_t)(m))),                                       \
    cv_bsetr((x), cv__pulp_mask_field((uint32_t)(m))))
#define __builtin_pulp_bclr_r cv_bclrr
#define __builtin_pulp_bset_r cv_bsetr
/* The spellings of clang-targeted PULP code. */
#define __builtin_binsert __builtin_pulp_binsert
#define __builtin_bextract __builtin_pulp_bextract
#define __builtin_bextractu __builtin_pulp_bextractu
#define __builtin_bclr __builtin_pulp_bclr
#define __builtin_bset __builtin_pulp_bset
/* ff1/fl1: index of the lowest/highest set bit, 32 for 0; clb = clrsb;
 * cnt = popcount; parity = popcount & 1; rotr(x, n) rotates right. */
#define __builtin_pulp_ff1 cv_ff1
#define __builtin_pulp_fl1 cv_fl1
#define __builtin_pulp_clb cv_clb
#define __builtin_pulp_cnt cv_cnt
CV_INLINE uint32_t cv__pulp_parity(uint32_t x) { return cv_cnt(x) & 1u; }
#define __builtin_pulp_parity cv__pulp_parity
#define __builtin_pulp_rotr cv_ror

#endif /* ISS_PULP_BUILTINS_H */
