/*
 * Philox4x32-10 batch generators without target-specific code: one counter at a time (the
 * scalar path) and FM_LANES counters as structure-of-arrays loops for the compiler to vectorise
 * (the generic path). See philox.h for the generators' contracts. Included by stream.c only.
 */
#ifndef FASTMASK_PHILOX_PORTABLE_H
#define FASTMASK_PHILOX_PORTABLE_H

#include "fm_common.h" /* fm_ctz64 */
#include "philox.h"

static void fm_gen_seq_scalar(const fm_philox_base *b, uint32_t first, uint32_t nblocks,
                              uint32_t *out)
{
    const uint32_t total = fm_round_blocks(nblocks);
    for (uint32_t i = 0; i < total; i++)
        fm_philox_block(b, first + i, out + 4 * (size_t)i);
}

static void fm_gen_gather_scalar(const fm_philox_base *b, const uint32_t *blocks, uint32_t n,
                                 uint32_t *w0, uint32_t *w1)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t w[4];
        fm_philox_block(b, blocks[i], w);
        w0[i] = w[0];
        w1[i] = w[1];
    }
}

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

/* ---- portable structure-of-arrays --------------------------------------------------------- */

/*
 * FM_LANES counters in place: on entry (x0[i], x1[i], x2[i], x3[i]) is counter i, on return its
 * four output words. Always inlined, so it takes the instruction set of its caller.
 */
static FM_ALWAYS_INLINE void fm_philox_lanes(uint32_t *restrict x0, uint32_t *restrict x1,
                                             uint32_t *restrict x2, uint32_t *restrict x3,
                                             uint32_t k0, uint32_t k1)
{
    for (int r = 0; r < FM_PHILOX_ROUNDS; r++) {
        for (int i = 0; i < FM_LANES; i++) {
            const uint64_t p0 = (uint64_t)FM_PHILOX_M0 * x0[i];
            const uint64_t p1 = (uint64_t)FM_PHILOX_M1 * x2[i];
            const uint32_t n0 = (uint32_t)(p1 >> 32) ^ x1[i] ^ k0;
            const uint32_t n2 = (uint32_t)(p0 >> 32) ^ x3[i] ^ k1;
            x1[i] = (uint32_t)p1;
            x3[i] = (uint32_t)p0;
            x0[i] = n0;
            x2[i] = n2;
        }
        /* bumping after the last round too is harmless: the key is not used any more */
        k0 += FM_PHILOX_W0;
        k1 += FM_PHILOX_W1;
    }
}

static void fm_gen_seq_generic(const fm_philox_base *b, uint32_t first, uint32_t nblocks,
                               uint32_t *out)
{
    const uint32_t total = fm_round_blocks(nblocks);
    for (uint32_t g = 0; g < total; g += FM_LANES) {
        uint32_t x0[FM_LANES], x1[FM_LANES], x2[FM_LANES], x3[FM_LANES];
        for (int i = 0; i < FM_LANES; i++) {
            x0[i] = first + g + (uint32_t)i;
            x1[i] = b->c1;
            x2[i] = b->c2;
            x3[i] = b->c3;
        }
        fm_philox_lanes(x0, x1, x2, x3, b->k0, b->k1);
        uint32_t *o = out + 4 * (size_t)g;
        for (int i = 0; i < FM_LANES; i++) {
            o[4 * i + 0] = x0[i];
            o[4 * i + 1] = x1[i];
            o[4 * i + 2] = x2[i];
            o[4 * i + 3] = x3[i];
        }
    }
}

static void fm_gen_gather_generic(const fm_philox_base *b, const uint32_t *blocks, uint32_t n,
                                  uint32_t *w0, uint32_t *w1)
{
    for (uint32_t g = 0; g < n; g += FM_LANES) {
        const uint32_t m = n - g < FM_LANES ? n - g : FM_LANES;
        uint32_t x0[FM_LANES], x1[FM_LANES], x2[FM_LANES], x3[FM_LANES];
        for (int i = 0; i < FM_LANES; i++) {
            x0[i] = (uint32_t)i < m ? blocks[g + (uint32_t)i] : 0;
            x1[i] = b->c1;
            x2[i] = b->c2;
            x3[i] = b->c3;
        }
        fm_philox_lanes(x0, x1, x2, x3, b->k0, b->k1);
        memcpy(w0 + g, x0, m * sizeof(uint32_t));
        memcpy(w1 + g, x1, m * sizeof(uint32_t));
    }
}

#endif /* FASTMASK_PHILOX_PORTABLE_H */
