/*
 * Reference pieces of the random-number layer shared by the C tests (test_fastmask.c) and the
 * libFuzzer harnesses (fuzz_*.c): the Random123 known answers of philox4x32-10 and the bounded
 * draw of docs/semantics.md section 4, written out literally. Neither uses the C core; the
 * bounded draw takes its retry words from the caller's block function.
 */
#ifndef FASTMASK_TESTS_REF_RNG_H
#define FASTMASK_TESTS_REF_RNG_H

#include <stdint.h>

/* The i-th of the Random123 known-answer vectors of philox4x32-10: ctr[4], key[2], out[4]. */
static const uint32_t ref_philox_kat[3][10] = {
    {0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x6627e8d5,
     0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
    {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
     0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
    {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
     0x94fdcceb, 0x5001e420, 0x24126ea1},
};

/* Word block `block` of W(domain, .) for (seed, epoch, sid), as fm_stream_block gives it. */
typedef void (*ref_block_fn)(uint64_t seed, uint32_t epoch, uint64_t sid, uint32_t domain,
                             uint32_t block, uint32_t out[4]);

/* The harnesses keep libFuzzer's coverage out of their checking code. */
#ifdef FZ_NO_COV
#define REF_NO_COV FZ_NO_COV
#else
#define REF_NO_COV
#endif

/* Section 4, literally: a draw in [0, R) from word x of block b, with retry words from
 * W(0x8000 | D << 8 | k, b). Returns 0, or -1 when the 1024 retry words run out; *retries (if
 * not NULL) receives the number of retry words used. */
REF_NO_COV static inline int ref_bounded_with(ref_block_fn block_fn, uint64_t seed,
                                              uint32_t epoch, uint64_t sid, uint32_t D,
                                              uint32_t b, uint32_t R, uint32_t x, uint32_t *out,
                                              int *retries)
{
    const uint64_t two32 = (uint64_t)1 << 32;
    uint64_t m = (uint64_t)x * R;
    int used = 0;
    if (m % two32 < R) {
        const uint64_t t = (two32 - R) % R;
        while (m % two32 < t) {
            if (used == 1024)
                return -1;
            uint32_t w[4];
            block_fn(seed, epoch, sid, 0x8000u | (D << 8) | (uint32_t)(used / 4), b, w);
            x = w[used % 4];
            used++;
            m = (uint64_t)x * R;
        }
    }
    if (retries)
        *retries = used;
    *out = (uint32_t)(m / two32);
    return 0;
}

#endif /* FASTMASK_TESTS_REF_RNG_H */
