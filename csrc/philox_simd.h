/*
 * Philox4x32-10 batch generators for x86-64 AVX2 and AVX-512F, compiled with
 * __attribute__((target(...))) so that the default build needs no -march flag; stream.c calls
 * them only after checking the CPU. They produce the words of philox_portable.h bit for bit.
 * Included by stream.c only.
 */
#ifndef FASTMASK_PHILOX_SIMD_H
#define FASTMASK_PHILOX_SIMD_H

#include "philox.h"
#include "philox_portable.h"

/* ---- x86-64: AVX2 and AVX-512 ------------------------------------------------------------- */
#if FM_HAVE_X86


/*
 * (hi, lo) halves of the 32x32->64-bit products of the eight 32-bit lanes of x with m (same
 * constant in every lane). vpmuludq multiplies the even lanes; shifting x right by 32 within
 * each 64-bit element brings the odd lanes down for a second vpmuludq; two blends put the
 * halves back into 32-bit lane order.
 */
static FM_TARGET_AVX2 FM_ALWAYS_INLINE void fm_mulhilo_avx2(__m256i x, __m256i m, __m256i *hi,
                                                           __m256i *lo)
{
    const __m256i pe = _mm256_mul_epu32(x, m);
    const __m256i po = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), m);
    *lo = _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(pe, 32), po, 0xAA);
}

/* Ten rounds on nv groups of 8 counters; x[w][v] holds word w of the counters of group v. The
 * groups are independent, which gives the out-of-order core several chains to overlap. */
#define FM_AVX2_NV_MAX 4
static FM_TARGET_AVX2 FM_ALWAYS_INLINE void fm_philox_avx2(__m256i x[4][FM_AVX2_NV_MAX],
                                                          int nv, uint32_t k0, uint32_t k1)
{
    const __m256i m0 = _mm256_set1_epi32((int)FM_PHILOX_M0);
    const __m256i m1 = _mm256_set1_epi32((int)FM_PHILOX_M1);
    FM_UNROLL_ROUNDS
    for (int r = 0; r < FM_PHILOX_ROUNDS; r++) {
        const __m256i vk0 = _mm256_set1_epi32((int)k0);
        const __m256i vk1 = _mm256_set1_epi32((int)k1);
        for (int v = 0; v < nv; v++) {
            __m256i hi0, lo0, hi1, lo1;
            fm_mulhilo_avx2(x[0][v], m0, &hi0, &lo0);
            fm_mulhilo_avx2(x[2][v], m1, &hi1, &lo1);
            x[0][v] = _mm256_xor_si256(_mm256_xor_si256(hi1, x[1][v]), vk0);
            x[1][v] = lo1;
            x[2][v] = _mm256_xor_si256(_mm256_xor_si256(hi0, x[3][v]), vk1);
            x[3][v] = lo0;
        }
        k0 += FM_PHILOX_W0;
        k1 += FM_PHILOX_W1;
    }
}

/* Stores the words of 8 counters (x0..x3 = words 0..3 of counters 0..7) interleaved. */
static FM_TARGET_AVX2 FM_ALWAYS_INLINE void fm_store_interleaved_avx2(__m256i x0, __m256i x1,
                                                                     __m256i x2, __m256i x3,
                                                                     uint32_t *o)
{
    const __m256i t0 = _mm256_unpacklo_epi32(x0, x1); /* c0w0 c0w1 c1w0 c1w1 | c4.. c5.. */
    const __m256i t1 = _mm256_unpacklo_epi32(x2, x3); /* c0w2 c0w3 c1w2 c1w3 | c4.. c5.. */
    const __m256i t2 = _mm256_unpackhi_epi32(x0, x1); /* c2, c3 | c6, c7 */
    const __m256i t3 = _mm256_unpackhi_epi32(x2, x3);
    const __m256i r0 = _mm256_unpacklo_epi64(t0, t1); /* counter 0 | counter 4 */
    const __m256i r1 = _mm256_unpackhi_epi64(t0, t1); /* counter 1 | counter 5 */
    const __m256i r2 = _mm256_unpacklo_epi64(t2, t3); /* counter 2 | counter 6 */
    const __m256i r3 = _mm256_unpackhi_epi64(t2, t3); /* counter 3 | counter 7 */
    _mm256_storeu_si256((__m256i *)(void *)(o + 0), _mm256_permute2x128_si256(r0, r1, 0x20));
    _mm256_storeu_si256((__m256i *)(void *)(o + 8), _mm256_permute2x128_si256(r2, r3, 0x20));
    _mm256_storeu_si256((__m256i *)(void *)(o + 16), _mm256_permute2x128_si256(r0, r1, 0x31));
    _mm256_storeu_si256((__m256i *)(void *)(o + 24), _mm256_permute2x128_si256(r2, r3, 0x31));
}

static FM_TARGET_AVX2 FM_ALWAYS_INLINE void fm_seq_group_avx2(const fm_philox_base *b,
                                                             uint32_t first, int nv,
                                                             uint32_t *out)
{
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i x[4][FM_AVX2_NV_MAX];
    for (int v = 0; v < nv; v++) {
        x[0][v] = _mm256_add_epi32(_mm256_set1_epi32((int)(first + 8u * (uint32_t)v)), iota);
        x[1][v] = _mm256_set1_epi32((int)b->c1);
        x[2][v] = _mm256_set1_epi32((int)b->c2);
        x[3][v] = _mm256_set1_epi32((int)b->c3);
    }
    fm_philox_avx2(x, nv, b->k0, b->k1);
    for (int v = 0; v < nv; v++)
        fm_store_interleaved_avx2(x[0][v], x[1][v], x[2][v], x[3][v], out + 32 * v);
}

static FM_TARGET_AVX2 FM_NOINLINE void fm_gen_seq_avx2(const fm_philox_base *b, uint32_t first,
                                                       uint32_t nblocks, uint32_t *out)
{
    const uint32_t total = fm_round_blocks(nblocks);
    uint32_t g = 0;
    for (; g + 32 <= total; g += 32)
        fm_seq_group_avx2(b, first + g, 4, out + 4 * (size_t)g);
    for (; g < total; g += 16)
        fm_seq_group_avx2(b, first + g, 2, out + 4 * (size_t)g);
}

static FM_TARGET_AVX2 FM_ALWAYS_INLINE void fm_gather_group_avx2(const fm_philox_base *b,
                                                                const uint32_t *blocks, int nv,
                                                                uint32_t *w0, uint32_t *w1)
{
    __m256i x[4][FM_AVX2_NV_MAX];
    for (int v = 0; v < nv; v++) {
        x[0][v] = _mm256_loadu_si256((const __m256i *)(const void *)(blocks + 8 * v));
        x[1][v] = _mm256_set1_epi32((int)b->c1);
        x[2][v] = _mm256_set1_epi32((int)b->c2);
        x[3][v] = _mm256_set1_epi32((int)b->c3);
    }
    fm_philox_avx2(x, nv, b->k0, b->k1);
    for (int v = 0; v < nv; v++) {
        _mm256_storeu_si256((__m256i *)(void *)(w0 + 8 * v), x[0][v]);
        _mm256_storeu_si256((__m256i *)(void *)(w1 + 8 * v), x[1][v]);
    }
}

static FM_TARGET_AVX2 FM_NOINLINE void fm_gen_gather_avx2(const fm_philox_base *b,
                                                          const uint32_t *blocks, uint32_t n,
                                                          uint32_t *w0, uint32_t *w1)
{
    uint32_t g = 0;
    for (; g + 32 <= n; g += 32)
        fm_gather_group_avx2(b, blocks + g, 4, w0 + g, w1 + g);
    for (; g + 8 <= n; g += 8)
        fm_gather_group_avx2(b, blocks + g, 1, w0 + g, w1 + g);
    if (g < n) { /* the last 1..7 counters, through a zero-padded copy */
        uint32_t blk[8] = {0}, o0[8], o1[8];
        memcpy(blk, blocks + g, (n - g) * sizeof(uint32_t));
        fm_gather_group_avx2(b, blk, 1, o0, o1);
        memcpy(w0 + g, o0, (n - g) * sizeof(uint32_t));
        memcpy(w1 + g, o1, (n - g) * sizeof(uint32_t));
    }
}

/*
 * AVX-512F. Here each counter sits in a 64-bit lane, eight to a register: word w of counter i
 * is the low half of lane i of x[w]. vpmuludq then gives the whole 64-bit product of a lane
 * at once (low half: lo, high half shifted down: hi), with no blends; the high halves of the
 * lanes carry leftovers that the next vpmuludq ignores and that no output reads.
 */
#define FM_AVX512_NV_MAX 4
static FM_TARGET_AVX512 FM_ALWAYS_INLINE void fm_philox_avx512(__m512i x[4][FM_AVX512_NV_MAX],
                                                              int nv, uint32_t k0, uint32_t k1)
{
    const __m512i m0 = _mm512_set1_epi64(FM_PHILOX_M0);
    const __m512i m1 = _mm512_set1_epi64(FM_PHILOX_M1);
    FM_UNROLL_ROUNDS
    for (int r = 0; r < FM_PHILOX_ROUNDS; r++) {
        const __m512i vk0 = _mm512_set1_epi64(k0);
        const __m512i vk1 = _mm512_set1_epi64(k1);
        for (int v = 0; v < nv; v++) {
            const __m512i p0 = _mm512_mul_epu32(x[0][v], m0); /* (hi0, lo0) */
            const __m512i p1 = _mm512_mul_epu32(x[2][v], m1); /* (hi1, lo1) */
            x[0][v] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), x[1][v], vk0, 0x96);
            x[1][v] = p1;
            x[2][v] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), x[3][v], vk1, 0x96);
            x[3][v] = p0;
        }
        k0 += FM_PHILOX_W0;
        k1 += FM_PHILOX_W1;
    }
}

/* Counters (first + 8v + i) of nv registers, the rest of the counter from the base. */
static FM_TARGET_AVX512 FM_ALWAYS_INLINE void fm_seq_init_avx512(__m512i x[4][FM_AVX512_NV_MAX],
                                                                int nv, const fm_philox_base *b,
                                                                uint32_t first)
{
    const __m512i iota = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
    for (int v = 0; v < nv; v++) {
        x[0][v] = _mm512_add_epi64(_mm512_set1_epi64(first + 8u * (uint32_t)v), iota);
        x[1][v] = _mm512_set1_epi64(b->c1);
        x[2][v] = _mm512_set1_epi64(b->c2);
        x[3][v] = _mm512_set1_epi64(b->c3);
    }
}

/* The low halves of the lanes of a (counters 0..7) and b (counters 8..15), as 16 words. */
static FM_TARGET_AVX512 FM_ALWAYS_INLINE __m512i fm_pack_lo_avx512(__m512i a, __m512i b)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                           28, 30);
    return _mm512_permutex2var_epi32(a, even, b);
}

/* Stores the words of counters (first .. first + 8 nv) of x, in block order, at out. */
static FM_TARGET_AVX512 FM_ALWAYS_INLINE void fm_seq_store_avx512(__m512i x[4][FM_AVX512_NV_MAX],
                                                                 int nv, uint32_t *out)
{
    const __m512i ia = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
    const __m512i ib = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
    for (int v = 0; v < nv; v++) {
        /* a 64-bit lane of w01 holds words (0, 1) of its counter, of w23 words (2, 3) */
        const __m512i w01 = _mm512_mask_blend_epi32(0xAAAA, x[0][v],
                                                    _mm512_slli_epi64(x[1][v], 32));
        const __m512i w23 = _mm512_mask_blend_epi32(0xAAAA, x[2][v],
                                                    _mm512_slli_epi64(x[3][v], 32));
        const __m512i even = _mm512_unpacklo_epi64(w01, w23); /* counters 0, 2, 4, 6 */
        const __m512i odd = _mm512_unpackhi_epi64(w01, w23);  /* counters 1, 3, 5, 7 */
        uint32_t *o = out + 32 * (size_t)v;
        _mm512_storeu_si512((void *)o, _mm512_permutex2var_epi64(even, ia, odd));
        _mm512_storeu_si512((void *)(o + 16), _mm512_permutex2var_epi64(even, ib, odd));
    }
}

/* Groups of 32 counters (four registers: more independent chains for the out-of-order core),
 * then at most one of 16. */
static FM_TARGET_AVX512 FM_NOINLINE void fm_gen_seq_avx512(const fm_philox_base *b,
                                                           uint32_t first, uint32_t nblocks,
                                                           uint32_t *out)
{
    const uint32_t total = fm_round_blocks(nblocks);
    uint32_t g = 0;
    for (; g + 32 <= total; g += 32) {
        __m512i x[4][FM_AVX512_NV_MAX];
        fm_seq_init_avx512(x, 4, b, first + g);
        fm_philox_avx512(x, 4, b->k0, b->k1);
        fm_seq_store_avx512(x, 4, out + 4 * (size_t)g);
    }
    if (g < total) {
        __m512i x[4][FM_AVX512_NV_MAX];
        fm_seq_init_avx512(x, 2, b, first + g);
        fm_philox_avx512(x, 2, b->k0, b->k1);
        fm_seq_store_avx512(x, 2, out + 4 * (size_t)g);
    }
}

static FM_TARGET_AVX512 FM_NOINLINE void fm_gen_gather_avx512(const fm_philox_base *b,
                                                              const uint32_t *blocks, uint32_t n,
                                                              uint32_t *w0, uint32_t *w1)
{
    for (uint32_t g = 0; g < n; g += 32) {
        const uint32_t m = n - g < 32 ? n - g : 32;
        const __mmask16 k0 = (__mmask16)(m >= 16 ? 0xFFFFu : (1u << m) - 1u);
        const __mmask16 k1 = (__mmask16)(m <= 16 ? 0u : m >= 32 ? 0xFFFFu : (1u << (m - 16)) - 1u);
        const __m512i lo = _mm512_maskz_loadu_epi32(k0, blocks + g);
        const __m512i hi = _mm512_maskz_loadu_epi32(k1, blocks + g + 16);
        __m512i x[4][FM_AVX512_NV_MAX];
        x[0][0] = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(lo));
        x[0][1] = _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(lo, 1));
        x[0][2] = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(hi));
        x[0][3] = _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(hi, 1));
        for (int v = 0; v < 4; v++) {
            x[1][v] = _mm512_set1_epi64(b->c1);
            x[2][v] = _mm512_set1_epi64(b->c2);
            x[3][v] = _mm512_set1_epi64(b->c3);
        }
        fm_philox_avx512(x, 4, b->k0, b->k1);
        _mm512_mask_storeu_epi32(w0 + g, k0, fm_pack_lo_avx512(x[0][0], x[0][1]));
        _mm512_mask_storeu_epi32(w1 + g, k0, fm_pack_lo_avx512(x[1][0], x[1][1]));
        _mm512_mask_storeu_epi32(w0 + g + 16, k1, fm_pack_lo_avx512(x[0][2], x[0][3]));
        _mm512_mask_storeu_epi32(w1 + g + 16, k1, fm_pack_lo_avx512(x[1][2], x[1][3]));
    }
}

#endif /* FM_HAVE_X86 */

#endif /* FASTMASK_PHILOX_SIMD_H */
