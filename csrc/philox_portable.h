/*
 * Philox4x32-10 batch generators without target-specific code: one counter at a time (the
 * scalar path) and FM_LANES counters as structure-of-arrays loops for the compiler to vectorise
 * (the generic path). See philox.h for the generators' contracts. Included by stream.c only.
 */
#ifndef FASTMASK_PHILOX_PORTABLE_H
#define FASTMASK_PHILOX_PORTABLE_H

#include "fm_common.h"
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
