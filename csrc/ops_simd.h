/*
 * The per-path helpers of the masking kernel besides the Philox generators (ops_portable.h),
 * for x86-64 AVX2 and AVX-512, compiled with __attribute__((target(...))) like the generators
 * of philox_simd.h; stream.c calls them only on a path the CPU has. Included by stream.c only.
 */
#ifndef FASTMASK_OPS_SIMD_H
#define FASTMASK_OPS_SIMD_H

#include "ops_portable.h" /* the tails some of them hand to the plain form */
#include "philox.h"        /* FM_HAVE_X86, FM_TARGET_* */

#if FM_HAVE_X86

/* ---- AVX2 --------------------------------------------------------------------------------- */

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

/* ---- AVX-512 ------------------------------------------------------------------------------ */

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

/* fm_gap_bits*_scalar with masked loads: eight int64 or sixteen int32 ids (LANES, of the
 * element suffix S: epi64 / epu64 or epi32 / epu32) per unsigned comparison of d = y - lo
 * with len (an id below lo wraps to a number above every run). */
#define FM_GAP_BITS_AVX512(name, T, LANES, MASK, SI, SU)                                     \
    static FM_TARGET_AVX512 FM_NOINLINE void name(const T *row, uint32_t n, int64_t lo,      \
                                                  int64_t len, uint64_t *bits)               \
    {                                                                                        \
        const __m512i vlo = _mm512_set1_##SI((T)lo), vlen = _mm512_set1_##SI((T)len);        \
        uint32_t q = 0;                                                                      \
        for (; 64 * q + 64 <= n; q++) {                                                      \
            const T *r = row + 64 * (size_t)q;                                               \
            uint64_t m = 0;                                                                  \
            for (int k = 0; k < 64 / LANES; k++) {                                           \
                const __m512i d =                                                            \
                    _mm512_sub_##SI(_mm512_loadu_si512((const void *)(r + LANES * k)), vlo);  \
                m |= (uint64_t)_mm512_cmpge_##SU##_mask(d, vlen) << (LANES * k);             \
            }                                                                                \
            bits[q] = m;                                                                     \
        }                                                                                    \
        if (64 * q < n) { /* the last 1..63 ids, under masks */                              \
            const T *r = row + 64 * (size_t)q;                                               \
            const uint32_t cnt = n - 64 * q;                                                 \
            uint64_t m = 0;                                                                  \
            for (uint32_t k = 0; LANES * k < cnt; k++) {                                     \
                const uint32_t c = cnt - LANES * k < LANES ? cnt - LANES * k : LANES;        \
                const MASK live = (MASK)((1u << c) - 1u);                                    \
                const __m512i d =                                                            \
                    _mm512_sub_##SI(_mm512_maskz_loadu_##SI(live, r + LANES * k), vlo);      \
                m |= (uint64_t)_mm512_mask_cmpge_##SU##_mask(live, d, vlen) << (LANES * k);  \
            }                                                                                \
            bits[q] = m;                                                                     \
        }                                                                                    \
    }
FM_GAP_BITS_AVX512(fm_gap_bits64_avx512, int64_t, 8, __mmask8, epi64, epu64)
FM_GAP_BITS_AVX512(fm_gap_bits32_avx512, int32_t, 16, __mmask16, epi32, epu32)
#undef FM_GAP_BITS_AVX512

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

#endif /* FASTMASK_OPS_SIMD_H */
