/*
 * The per-path helpers of the masking kernel besides the Philox generators, in their plain C
 * form: the scalar and generic paths use them, and the SIMD forms (ops_simd.h) must give the
 * same results. Included by stream.c only, which dispatches them (fm_i_* in fm_common.h says
 * what each computes).
 *
 *   bits_lt     words < t as 64-bit masks          bits_pos    positions of the set bits
 *   gap_bits    ids outside the special gap         class_bits  bits 0..2 of class bytes
 *   classes     the class byte of each id           actions     the 80/10/10 decisions
 */
#ifndef FASTMASK_OPS_PORTABLE_H
#define FASTMASK_OPS_PORTABLE_H

#include <stdint.h>

#include "fm_common.h" /* fm_ctz64, fm_class_masks */

static void fm_bits_lt_scalar(const uint32_t *words, uint32_t ngroups, uint32_t t,
                              uint64_t *bits)
{
    for (uint32_t q = 0; q < ngroups; q++) {
        const uint32_t *w = words + 64 * (size_t)q;
        uint64_t m = 0;
        for (int i = 0; i < 64; i++)
            m |= (uint64_t)(w[i] < t) << i;
        bits[q] = m;
    }
}

/* Positions of the set bits: out[c] = 64q + i + add for bit i of bits[q], in order. */
static uint32_t fm_bits_pos_scalar(const uint64_t *bits, uint32_t ngroups, uint32_t add,
                                   uint32_t *out)
{
    uint32_t c = 0;
    for (uint32_t q = 0; q < ngroups; q++)
        for (uint64_t m = bits[q]; m != 0; m &= m - 1)
            out[c++] = 64 * q + fm_ctz64(m) + add;
    return c;
}

/* Bit i of bits[q] = 1 when id row[64q + i] lies outside [lo, lo + len) (d = y - lo is in the
 * run exactly when the top bits of d and of ~(d - len) are both clear: ids and the run are
 * below 2^31, so neither difference wraps); bits past n are clear. */
#define FM_GAP_BITS_SCALAR(name, T)                                                          \
    static void name(const T *row, uint32_t n, int64_t lo, int64_t len, uint64_t *bits)      \
    {                                                                                        \
        for (uint32_t q = 0; q < (n + 63) / 64; q++) {                                       \
            const T *r = row + 64 * (size_t)q;                                               \
            const uint32_t cnt = n - 64 * q < 64 ? n - 64 * q : 64;                          \
            uint64_t m = 0;                                                                  \
            for (uint32_t i = 0; i < cnt; i++) {                                             \
                const int64_t d = (int64_t)r[i] - lo;                                        \
                m |= ((uint64_t)(d | ~(d - len)) >> 63) << i;                                \
            }                                                                                \
            bits[q] = m;                                                                     \
        }                                                                                    \
    }
FM_GAP_BITS_SCALAR(fm_gap_bits64_scalar, int64_t)
FM_GAP_BITS_SCALAR(fm_gap_bits32_scalar, int32_t)
#undef FM_GAP_BITS_SCALAR

/* out[3q + b] = bit b (FM_CLASS_SPECIAL, _STARTS, _ALONE) of the class bytes kind[64q ..
 * 64q + 64) as a mask, for q < ngroups. */
static void fm_class_bits_scalar(const uint8_t *kind, uint32_t ngroups, uint64_t *out)
{
    for (uint32_t q = 0; q < ngroups; q++)
        fm_class_masks(kind + 64 * (size_t)q, &out[3 * (size_t)q], &out[3 * (size_t)q + 1],
                       &out[3 * (size_t)q + 2]);
}

/* kind[j] = cls[row[j]] for j < n: the class bytes of a row's ids (all in [0, vocab)). */
#define FM_CLASSES_SCALAR(name, T)                                                           \
    static void name(const T *row, uint32_t n, const uint8_t *cls, int64_t vocab,            \
                     uint8_t *kind)                                                          \
    {                                                                                        \
        (void)vocab;                                                                         \
        for (uint32_t j = 0; j < n; j++)                                                     \
            kind[j] = cls[(size_t)row[j]];                                                   \
    }
FM_CLASSES_SCALAR(fm_classes64_scalar, int64_t)
FM_CLASSES_SCALAR(fm_classes32_scalar, int32_t)
#undef FM_CLASSES_SCALAR

/* The 80/10/10 decisions of cnt <= 64 decision words (docs/semantics.md, section 8): rep[q] =
 * mask_id when w0[q] < t_mask, else -1 (keeps its id, or is replaced by a random id when
 * w0[q] < t_mask_random: bit q of the result). Thresholds are at most 2^32. */
static uint64_t fm_actions_scalar(const uint32_t *w0, uint32_t cnt, uint64_t t_mask,
                                  uint64_t t_mask_random, int32_t mask_id, int32_t *rep)
{
    uint64_t random = 0;
    for (uint32_t q = 0; q < cnt; q++) {
        const uint64_t d = w0[q];
        const uint32_t is_mask = d < t_mask;
        /* as arithmetic: a branch here is mispredicted for one pick in five */
        const int32_t all = -(int32_t)is_mask;
        rep[q] = (mask_id & all) | ~all;
        random |= (uint64_t)((is_mask ^ 1u) & (d < t_mask_random)) << q;
    }
    return random;
}

#endif /* FASTMASK_OPS_PORTABLE_H */
