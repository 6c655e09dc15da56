/*
 * Shared pieces of the libFuzzer harnesses of the C core (csrc/tests/fuzz_*.c).
 *
 * A harness reads its *parameters* (sizes, classes of values, which error to inject) from the
 * fuzzer's bytes, so that coverage feedback steers them, and fills bulk arrays from a small
 * generator seeded by eight more bytes: a 64 x 2048 batch then needs a few dozen input bytes,
 * not a megabyte. Checks abort with a message, which libFuzzer reports as a crash.
 * Choices are written so that value 0 (what a zero byte gives) is the common, valid case.
 */
#ifndef FASTMASK_FUZZ_COMMON_H
#define FASTMASK_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_TWO32 ((uint64_t)1 << 32)
#define FZ_TWO48 ((uint64_t)1 << 48)

/* ---- the fuzzer's bytes -------------------------------------------------------------------- */

/* The input's bytes, then (once they are used up) bytes from a generator seeded by a hash of
 * the whole input: a short input still describes a full, varied case instead of one where every
 * later choice is 0, while the bytes the fuzzer does control keep their meaning. */
typedef struct fz {
    const uint8_t *p;
    size_t n;
    uint64_t tail;
} fz;

static inline fz fz_init(const uint8_t *data, size_t size)
{
    uint64_t h = 0xCBF29CE484222325ull; /* FNV-1a */
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 0x100000001B3ull;
    fz r = {data, size, h ^ (uint64_t)size};
    return r;
}

static inline uint8_t fz_byte(fz *r)
{
    if (r->n) {
        r->n--;
        return *r->p++;
    }
    r->tail = r->tail * 6364136223846793005ull + 1442695040888963407ull; /* LCG, top byte */
    return (uint8_t)(r->tail >> 56);
}

/* `bytes` little-endian bytes */
static inline uint64_t fz_take(fz *r, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)fz_byte(r) << (8 * i);
    return v;
}

/* A number in [0, n) from as few bytes as n needs (0 when n <= 1). */
static inline uint64_t fz_below(fz *r, uint64_t n)
{
    if (n <= 1)
        return 0;
    const int bytes = n <= 0x100u ? 1 : n <= 0x10000u ? 2 : n <= FZ_TWO32 ? 4 : 8;
    return fz_take(r, bytes) % n;
}

/* ---- bulk content -------------------------------------------------------------------------- */

typedef struct prng {
    uint64_t s;
} prng;

static inline uint64_t pr_next(prng *g) /* splitmix64 */
{
    uint64_t z = (g->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint64_t pr_below(prng *g, uint64_t n) { return n <= 1 ? 0 : pr_next(g) % n; }

/* 1 with probability num / 256 */
static inline int pr_chance(prng *g, unsigned num) { return (pr_next(g) & 0xFF) < num; }

/* The checking code of a harness runs loops over every cell; libFuzzer's comparison tracing
 * there would cost most of the time and tell nothing about the C core. */
#if defined(__clang__) && __clang_major__ >= 13
#define FZ_NO_COV __attribute__((no_sanitize("coverage")))
#else
#define FZ_NO_COV
#endif

/* ---- checks and memory ------------------------------------------------------------------- */

#define FZ_CHECK(cond, ...)                                                                  \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "\n%s:%d: check failed: %s\n  ", __FILE__, __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                                    \
            fputc('\n', stderr);                                                             \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

/* Exactly n bytes (so that AddressSanitizer sees any access past them), filled with `fill`. */
static inline void *fz_alloc(size_t n, int fill)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        abort();
    memset(p, fill, n ? n : 1);
    return p;
}

#endif /* FASTMASK_FUZZ_COMMON_H */
