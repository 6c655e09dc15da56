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

static FM_TARGET_AVX2 FM_NOINLINE void fm_bits_lt_avx2(const uint32_t *words, uint32_t ngroups,
                                                       uint32_t t, uint64_t *bits)
{
    /* unsigned w < t  <=>  signed (w ^ 2^31) < (t ^ 2^31) */
    const __m256i flip = _mm256_set1_epi32(INT32_MIN);
    const __m256i tv = _mm256_set1_epi32((int)(t ^ 0x80000000u));
    for (uint32_t q = 0; q < ngroups; q++) {
        const uint32_t *w = words + 64 * (size_t)q;
        uint64_t m = 0;
        for (int k = 0; k < 8; k++) {
            const __m256i v = _mm256_xor_si256(
                _mm256_loadu_si256((const __m256i *)(const void *)(w + 8 * k)), flip);
            const __m256i lt = _mm256_cmpgt_epi32(tv, v);
            m |= (uint64_t)(uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(lt)) << (8 * k);
        }
        bits[q] = m;
    }
}

/* AVX-512F: the same with 16 lanes per register. */
static FM_TARGET_AVX512 FM_ALWAYS_INLINE void fm_mulhilo_avx512(__m512i x, __m512i m,
                                                               __m512i *hi, __m512i *lo)
{
    const __m512i pe = _mm512_mul_epu32(x, m);
    const __m512i po = _mm512_mul_epu32(_mm512_srli_epi64(x, 32), m);
    *lo = _mm512_mask_blend_epi32(0xAAAA, pe, _mm512_slli_epi64(po, 32));
    *hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(pe, 32), po);
}

#define FM_AVX512_NV_MAX 2
static FM_TARGET_AVX512 FM_ALWAYS_INLINE void fm_philox_avx512(__m512i x[4][FM_AVX512_NV_MAX],
                                                              int nv, uint32_t k0, uint32_t k1)
{
    const __m512i m0 = _mm512_set1_epi32((int)FM_PHILOX_M0);
    const __m512i m1 = _mm512_set1_epi32((int)FM_PHILOX_M1);
    FM_UNROLL_ROUNDS
    for (int r = 0; r < FM_PHILOX_ROUNDS; r++) {
        const __m512i vk0 = _mm512_set1_epi32((int)k0);
        const __m512i vk1 = _mm512_set1_epi32((int)k1);
        for (int v = 0; v < nv; v++) {
            __m512i hi0, lo0, hi1, lo1;
            fm_mulhilo_avx512(x[0][v], m0, &hi0, &lo0);
            fm_mulhilo_avx512(x[2][v], m1, &hi1, &lo1);
            x[0][v] = _mm512_ternarylogic_epi32(hi1, x[1][v], vk0, 0x96); /* a ^ b ^ c */
            x[1][v] = lo1;
            x[2][v] = _mm512_ternarylogic_epi32(hi0, x[3][v], vk1, 0x96);
            x[3][v] = lo0;
        }
        k0 += FM_PHILOX_W0;
        k1 += FM_PHILOX_W1;
    }
}

/* Stores the words of 16 counters interleaved (64 words). */
static FM_TARGET_AVX512 FM_ALWAYS_INLINE void fm_store_interleaved_avx512(__m512i x0, __m512i x1,
                                                                         __m512i x2, __m512i x3,
                                                                         uint32_t *o)
{
    const __m512i t0 = _mm512_unpacklo_epi32(x0, x1);
    const __m512i t1 = _mm512_unpacklo_epi32(x2, x3);
    const __m512i t2 = _mm512_unpackhi_epi32(x0, x1);
    const __m512i t3 = _mm512_unpackhi_epi32(x2, x3);
    /* 128-bit lanes of: r0 = counters 0,4,8,12; r1 = 1,5,9,13; r2 = 2,6,10,14; r3 = 3,7,11,15 */
    const __m512i r0 = _mm512_unpacklo_epi64(t0, t1);
    const __m512i r1 = _mm512_unpackhi_epi64(t0, t1);
    const __m512i r2 = _mm512_unpacklo_epi64(t2, t3);
    const __m512i r3 = _mm512_unpackhi_epi64(t2, t3);
    const __m512i ia = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
    const __m512i ib = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
    const __m512i a01 = _mm512_permutex2var_epi64(r0, ia, r1); /* counters 0 1 4 5 */
    const __m512i a23 = _mm512_permutex2var_epi64(r2, ia, r3); /* counters 2 3 6 7 */
    const __m512i c01 = _mm512_permutex2var_epi64(r0, ib, r1); /* counters 8 9 12 13 */
    const __m512i c23 = _mm512_permutex2var_epi64(r2, ib, r3); /* counters 10 11 14 15 */
    const __m512i ja = _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11);
    const __m512i jb = _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15);
    _mm512_storeu_si512((void *)(o + 0), _mm512_permutex2var_epi64(a01, ja, a23));
    _mm512_storeu_si512((void *)(o + 16), _mm512_permutex2var_epi64(a01, jb, a23));
    _mm512_storeu_si512((void *)(o + 32), _mm512_permutex2var_epi64(c01, ja, c23));
    _mm512_storeu_si512((void *)(o + 48), _mm512_permutex2var_epi64(c01, jb, c23));
}

static FM_TARGET_AVX512 FM_ALWAYS_INLINE void fm_seq_group_avx512(const fm_philox_base *b,
                                                                 uint32_t first, int nv,
                                                                 uint32_t *out)
{
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m512i x[4][FM_AVX512_NV_MAX];
    for (int v = 0; v < nv; v++) {
        x[0][v] = _mm512_add_epi32(_mm512_set1_epi32((int)(first + 16u * (uint32_t)v)), iota);
        x[1][v] = _mm512_set1_epi32((int)b->c1);
        x[2][v] = _mm512_set1_epi32((int)b->c2);
        x[3][v] = _mm512_set1_epi32((int)b->c3);
    }
    fm_philox_avx512(x, nv, b->k0, b->k1);
    for (int v = 0; v < nv; v++)
        fm_store_interleaved_avx512(x[0][v], x[1][v], x[2][v], x[3][v], out + 64 * v);
}

static FM_TARGET_AVX512 FM_NOINLINE void fm_gen_seq_avx512(const fm_philox_base *b,
                                                           uint32_t first, uint32_t nblocks,
                                                           uint32_t *out)
{
    const uint32_t total = fm_round_blocks(nblocks);
    uint32_t g = 0;
    for (; g + 32 <= total; g += 32)
        fm_seq_group_avx512(b, first + g, 2, out + 4 * (size_t)g);
    for (; g < total; g += 16)
        fm_seq_group_avx512(b, first + g, 1, out + 4 * (size_t)g);
}

static FM_TARGET_AVX512 FM_NOINLINE void fm_gen_gather_avx512(const fm_philox_base *b,
                                                              const uint32_t *blocks, uint32_t n,
                                                              uint32_t *w0, uint32_t *w1)
{
    for (uint32_t g = 0; g < n; g += 16) {
        const uint32_t m = n - g < 16 ? n - g : 16;
        const __mmask16 k = (__mmask16)((1u << m) - 1u); /* m <= 16: no overflow in 32 bits */
        __m512i x[4][FM_AVX512_NV_MAX];
        x[0][0] = _mm512_maskz_loadu_epi32(k, blocks + g);
        x[1][0] = _mm512_set1_epi32((int)b->c1);
        x[2][0] = _mm512_set1_epi32((int)b->c2);
        x[3][0] = _mm512_set1_epi32((int)b->c3);
        fm_philox_avx512(x, 1, b->k0, b->k1);
        _mm512_mask_storeu_epi32(w0 + g, k, x[0][0]);
        _mm512_mask_storeu_epi32(w1 + g, k, x[1][0]);
    }
}

static FM_TARGET_AVX512 FM_NOINLINE void fm_bits_lt_avx512(const uint32_t *words,
                                                           uint32_t ngroups, uint32_t t,
                                                           uint64_t *bits)
{
    const __m512i tv = _mm512_set1_epi32((int)t);
    for (uint32_t q = 0; q < ngroups; q++) {
        const uint32_t *w = words + 64 * (size_t)q;
        uint64_t m = 0;
        for (int k = 0; k < 4; k++) {
            const __m512i v = _mm512_loadu_si512((const void *)(w + 16 * k));
            m |= (uint64_t)_mm512_cmplt_epu32_mask(v, tv) << (16 * k);
        }
        bits[q] = m;
    }
}

#endif /* FM_HAVE_X86 */

#endif /* FASTMASK_PHILOX_SIMD_H */
