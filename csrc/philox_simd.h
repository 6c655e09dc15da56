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

/* fm_gap_bits*_scalar, four int64 or eight int32 ids per comparison; a partial last group
 * goes through the scalar form. d = y - lo lies outside [0, len) exactly when d < 0 or
 * d > len - 1 (int64: signed, since ids and the run are below 2^31), or (int32) when
 * max_u32(d, len) == d. */
static FM_TARGET_AVX2 FM_NOINLINE void fm_gap_bits64_avx2(const int64_t *row, uint32_t n,
                                                          int64_t lo, int64_t len,
                                                          uint64_t *bits)
{
    const __m256i vlo = _mm256_set1_epi64x(lo), vlast = _mm256_set1_epi64x(len - 1);
    const __m256i zero = _mm256_setzero_si256();
    uint32_t q = 0;
    for (; 64 * q + 64 <= n; q++) {
        const int64_t *r = row + 64 * (size_t)q;
        uint64_t m = 0;
        for (int k = 0; k < 16; k++) {
            const __m256i d = _mm256_sub_epi64(
                _mm256_loadu_si256((const __m256i *)(const void *)(r + 4 * k)), vlo);
            const __m256i out = _mm256_or_si256(_mm256_cmpgt_epi64(zero, d),
                                                _mm256_cmpgt_epi64(d, vlast));
            m |= (uint64_t)(uint32_t)_mm256_movemask_pd(_mm256_castsi256_pd(out)) << (4 * k);
        }
        bits[q] = m;
    }
    if (64 * q < n)
        fm_gap_bits64_scalar(row + 64 * (size_t)q, n - 64 * q, lo, len, bits + q);
}

static FM_TARGET_AVX2 FM_NOINLINE void fm_gap_bits32_avx2(const int32_t *row, uint32_t n,
                                                          int64_t lo, int64_t len,
                                                          uint64_t *bits)
{
    const __m256i vlo = _mm256_set1_epi32((int)lo), vlen = _mm256_set1_epi32((int)len);
    uint32_t q = 0;
    for (; 64 * q + 64 <= n; q++) {
        const int32_t *r = row + 64 * (size_t)q;
        uint64_t m = 0;
        for (int k = 0; k < 8; k++) {
            const __m256i d = _mm256_sub_epi32(
                _mm256_loadu_si256((const __m256i *)(const void *)(r + 8 * k)), vlo);
            const __m256i out = _mm256_cmpeq_epi32(_mm256_max_epu32(d, vlen), d);
            m |= (uint64_t)(uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(out)) << (8 * k);
        }
        bits[q] = m;
    }
    if (64 * q < n)
        fm_gap_bits32_scalar(row + 64 * (size_t)q, n - 64 * q, lo, len, bits + q);
}

/* fm_actions_scalar, eight words per comparison (unsigned w < t as signed after flipping the
 * top bits; a threshold of 2^32 holds for every word); the last 1..7 words go through the
 * scalar form. */
static FM_TARGET_AVX2 FM_NOINLINE uint64_t fm_actions_avx2(const uint32_t *w0, uint32_t cnt,
                                                           uint64_t t_mask,
                                                           uint64_t t_mask_random,
                                                           int32_t mask_id, int32_t *rep)
{
    const __m256i flip = _mm256_set1_epi32(INT32_MIN), ones = _mm256_set1_epi32(-1);
    const __m256i tm = _mm256_set1_epi32((int)((uint32_t)t_mask ^ 0x80000000u));
    const __m256i tr = _mm256_set1_epi32((int)((uint32_t)t_mask_random ^ 0x80000000u));
    const __m256i all_m = t_mask >> 32 ? ones : _mm256_setzero_si256();
    const __m256i all_r = t_mask_random >> 32 ? ones : _mm256_setzero_si256();
    const __m256i vmask = _mm256_set1_epi32(mask_id);
    uint64_t random = 0;
    uint32_t q = 0;
    for (; q + 8 <= cnt; q += 8) {
        const __m256i v = _mm256_xor_si256(
            _mm256_loadu_si256((const __m256i *)(const void *)(w0 + q)), flip);
        const __m256i m = _mm256_or_si256(_mm256_cmpgt_epi32(tm, v), all_m);
        const __m256i r = _mm256_andnot_si256(m, _mm256_or_si256(_mm256_cmpgt_epi32(tr, v),
                                                                 all_r));
        _mm256_storeu_si256((__m256i *)(void *)(rep + q), _mm256_blendv_epi8(ones, vmask, m));
        random |= (uint64_t)(uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(r)) << q;
    }
    if (q < cnt)
        random |= fm_actions_scalar(w0 + q, cnt - q, t_mask, t_mask_random, mask_id, rep + q)
                  << q;
    return random;
}

/* fm_class_bits_scalar, 32 bytes at a time: a left shift by 7 - b (in 16-bit lanes, which
 * moves bit b of both bytes of a lane to their top bits) and vpmovmskb. */
static FM_TARGET_AVX2 FM_NOINLINE void fm_class_bits_avx2(const uint8_t *kind, uint32_t ngroups,
                                                          uint64_t *out)
{
    for (uint32_t q = 0; q < ngroups; q++) {
        const __m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)(kind + 64 * (size_t)q));
        const __m256i hi =
            _mm256_loadu_si256((const __m256i *)(const void *)(kind + 64 * (size_t)q + 32));
#define FM_BIT_MASK(v, b) ((uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_slli_epi16(v, 7 - (b))))
        for (int b = 0; b < 3; b++) {
            const uint64_t m = FM_BIT_MASK(lo, b) | FM_BIT_MASK(hi, b) << 32;
            out[3 * (size_t)q + (size_t)b] = m;
        }
#undef FM_BIT_MASK
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

/* fm_gap_bits*_scalar with masked loads: eight int64 or sixteen int32 ids per unsigned
 * comparison of d = y - lo with len (an id below lo wraps to a number above every run). */
static FM_TARGET_AVX512 FM_NOINLINE void fm_gap_bits64_avx512(const int64_t *row, uint32_t n,
                                                              int64_t lo, int64_t len,
                                                              uint64_t *bits)
{
    const __m512i vlo = _mm512_set1_epi64(lo), vlen = _mm512_set1_epi64(len);
    uint32_t q = 0;
    for (; 64 * q + 64 <= n; q++) {
        const int64_t *r = row + 64 * (size_t)q;
        uint64_t m = 0;
        for (int k = 0; k < 8; k++) {
            const __m512i d = _mm512_sub_epi64(_mm512_loadu_si512((const void *)(r + 8 * k)), vlo);
            m |= (uint64_t)_mm512_cmpge_epu64_mask(d, vlen) << (8 * k);
        }
        bits[q] = m;
    }
    if (64 * q < n) { /* the last 1..63 ids, under masks */
        const int64_t *r = row + 64 * (size_t)q;
        const uint32_t cnt = n - 64 * q;
        uint64_t m = 0;
        for (uint32_t k = 0; 8 * k < cnt; k++) {
            const uint32_t c = cnt - 8 * k < 8 ? cnt - 8 * k : 8;
            const __mmask8 live = (__mmask8)((1u << c) - 1u);
            const __m512i d = _mm512_sub_epi64(_mm512_maskz_loadu_epi64(live, r + 8 * k), vlo);
            m |= (uint64_t)_mm512_mask_cmpge_epu64_mask(live, d, vlen) << (8 * k);
        }
        bits[q] = m;
    }
}

static FM_TARGET_AVX512 FM_NOINLINE void fm_gap_bits32_avx512(const int32_t *row, uint32_t n,
                                                              int64_t lo, int64_t len,
                                                              uint64_t *bits)
{
    const __m512i vlo = _mm512_set1_epi32((int)lo), vlen = _mm512_set1_epi32((int)len);
    uint32_t q = 0;
    for (; 64 * q + 64 <= n; q++) {
        const int32_t *r = row + 64 * (size_t)q;
        uint64_t m = 0;
        for (int k = 0; k < 4; k++) {
            const __m512i d = _mm512_sub_epi32(_mm512_loadu_si512((const void *)(r + 16 * k)), vlo);
            m |= (uint64_t)_mm512_cmpge_epu32_mask(d, vlen) << (16 * k);
        }
        bits[q] = m;
    }
    if (64 * q < n) { /* the last 1..63 ids, under masks */
        const int32_t *r = row + 64 * (size_t)q;
        const uint32_t cnt = n - 64 * q;
        uint64_t m = 0;
        for (uint32_t k = 0; 16 * k < cnt; k++) {
            const uint32_t c = cnt - 16 * k < 16 ? cnt - 16 * k : 16;
            const __mmask16 live = (__mmask16)((1u << c) - 1u);
            const __m512i d = _mm512_sub_epi32(_mm512_maskz_loadu_epi32(live, r + 16 * k), vlo);
            m |= (uint64_t)_mm512_mask_cmpge_epu32_mask(live, d, vlen) << (16 * k);
        }
        bits[q] = m;
    }
}

/* fm_class_bits_scalar with vptestmb: one 64-byte load and three tests per group. */
static FM_TARGET_AVX512_BW FM_NOINLINE void fm_class_bits_avx512(const uint8_t *kind,
                                                                 uint32_t ngroups,
                                                                 uint64_t *out)
{
    const __m512i b0 = _mm512_set1_epi8(1), b1 = _mm512_set1_epi8(2), b2 = _mm512_set1_epi8(4);
    for (uint32_t q = 0; q < ngroups; q++) {
        const __m512i v = _mm512_loadu_si512((const void *)(kind + 64 * (size_t)q));
        out[3 * (size_t)q] = _mm512_test_epi8_mask(v, b0);
        out[3 * (size_t)q + 1] = _mm512_test_epi8_mask(v, b1);
        out[3 * (size_t)q + 2] = _mm512_test_epi8_mask(v, b2);
    }
}

/* fm_classes*_scalar sixteen ids at a time: a gather of the four bytes at cls + y for each
 * id y <= vocab - 4 (so every byte read is in the table), narrowed to the first byte; ids
 * above that, and the last n mod 16 ids, are read one by one. */
static FM_TARGET_AVX512 FM_NOINLINE void fm_classes64_avx512(const int64_t *row, uint32_t n,
                                                             const uint8_t *cls, int64_t vocab,
                                                             uint8_t *kind)
{
    uint32_t j = 0;
    if (vocab >= 4) {
        const __m512i vmax = _mm512_set1_epi64(vocab - 4);
        for (; j + 16 <= n; j += 16) {
            const __m512i a = _mm512_loadu_si512((const void *)(row + j));
            const __m512i b = _mm512_loadu_si512((const void *)(row + j + 8));
            const __mmask8 ka = _mm512_cmple_epu64_mask(a, vmax);
            const __mmask8 kb = _mm512_cmple_epu64_mask(b, vmax);
            const __m256i ga = _mm512_mask_i64gather_epi32(_mm256_setzero_si256(), ka, a,
                                                           (const void *)cls, 1);
            const __m256i gb = _mm512_mask_i64gather_epi32(_mm256_setzero_si256(), kb, b,
                                                           (const void *)cls, 1);
            const __m512i g = _mm512_inserti64x4(_mm512_castsi256_si512(ga), gb, 1);
            _mm_storeu_si128((__m128i *)(void *)(kind + j), _mm512_cvtepi32_epi8(g));
            for (unsigned far = (unsigned)(uint8_t)~ka | (unsigned)(uint8_t)~kb << 8; far != 0;
                 far &= far - 1) {
                const uint32_t i = j + (uint32_t)__builtin_ctz(far);
                kind[i] = cls[(size_t)row[i]];
            }
        }
    }
    fm_classes64_scalar(row + j, n - j, cls, vocab, kind + j);
}

static FM_TARGET_AVX512 FM_NOINLINE void fm_classes32_avx512(const int32_t *row, uint32_t n,
                                                             const uint8_t *cls, int64_t vocab,
                                                             uint8_t *kind)
{
    uint32_t j = 0;
    if (vocab >= 4) {
        const __m512i vmax = _mm512_set1_epi32((int)(vocab - 4));
        for (; j + 16 <= n; j += 16) {
            const __m512i a = _mm512_loadu_si512((const void *)(row + j));
            const __mmask16 k = _mm512_cmple_epu32_mask(a, vmax);
            const __m512i g = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), k, a,
                                                          (const void *)cls, 1);
            _mm_storeu_si128((__m128i *)(void *)(kind + j), _mm512_cvtepi32_epi8(g));
            for (unsigned far = (unsigned)(uint16_t)~k; far != 0; far &= far - 1) {
                const uint32_t i = j + (uint32_t)__builtin_ctz(far);
                kind[i] = cls[(size_t)row[i]];
            }
        }
    }
    fm_classes32_scalar(row + j, n - j, cls, vocab, kind + j);
}

/* fm_actions_scalar, sixteen words per comparison, the last ones under a mask. */
static FM_TARGET_AVX512 FM_NOINLINE uint64_t fm_actions_avx512(const uint32_t *w0, uint32_t cnt,
                                                               uint64_t t_mask,
                                                               uint64_t t_mask_random,
                                                               int32_t mask_id, int32_t *rep)
{
    const __m512i tm = _mm512_set1_epi32((int)(uint32_t)t_mask);
    const __m512i tr = _mm512_set1_epi32((int)(uint32_t)t_mask_random);
    const __m512i ones = _mm512_set1_epi32(-1), vmask = _mm512_set1_epi32(mask_id);
    uint64_t random = 0;
    for (uint32_t q = 0; q < cnt; q += 16) {
        const uint32_t c = cnt - q < 16 ? cnt - q : 16;
        const __mmask16 live = (__mmask16)((1u << c) - 1u);
        const __m512i v = _mm512_maskz_loadu_epi32(live, w0 + q);
        const __mmask16 m = t_mask >> 32 ? live : _mm512_mask_cmplt_epu32_mask(live, v, tm);
        const __mmask16 r =
            (t_mask_random >> 32 ? live : _mm512_mask_cmplt_epu32_mask(live, v, tr)) & ~m;
        _mm512_mask_storeu_epi32(rep + q, live, _mm512_mask_blend_epi32(m, ones, vmask));
        random |= (uint64_t)r << q;
    }
    return random;
}

/* fm_bits_pos_scalar with 16 bits at a time: the lane numbers of the set bits, compressed in
 * a register and stored with a mask (vpcompressd to memory is slow on some cores). */
static FM_TARGET_AVX512_POPCNT FM_NOINLINE uint32_t fm_bits_pos_avx512(const uint64_t *bits,
                                                                       uint32_t ngroups,
                                                                       uint32_t add,
                                                                       uint32_t *out)
{
    const __m512i step = _mm512_set1_epi32(16);
    __m512i idx = _mm512_add_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32((int)add));
    uint32_t c = 0;
    for (uint32_t q = 0; q < ngroups; q++) {
        const uint64_t m = bits[q];
        for (int h = 0; h < 4; h++) {
            const __mmask16 k = (__mmask16)(m >> (16 * h));
            const uint32_t cnt = (uint32_t)__builtin_popcount((unsigned)k);
            _mm512_mask_storeu_epi32(out + c, (__mmask16)((1u << cnt) - 1u),
                                     _mm512_maskz_compress_epi32(k, idx));
            c += cnt;
            idx = _mm512_add_epi32(idx, step);
        }
    }
    return c;
}

#endif /* FM_HAVE_X86 */

#endif /* FASTMASK_PHILOX_SIMD_H */
