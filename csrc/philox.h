/*
 * Philox4x32-10 (Salmon et al., SC 2011), internal to the fastmask C core.
 *
 * docs/semantics.md, section 1. One function, several implementations that produce the same
 * words bit for bit (all arithmetic is on unsigned integers, exact modulo 2^32):
 *
 *   fm_philox_scalar()        one 128-bit counter at a time: the reference form.
 *   fm_philox_lanes()         FM_LANES counters at once, structure-of-arrays, written as plain
 *                             loops over the lanes for the compiler to vectorise (used on
 *                             targets without a hand-written path).
 *   AVX2 / AVX-512 kernels    x86-64 only, compiled with __attribute__((target(...))) so that
 *                             the default build needs no -march flag; stream.c picks one at
 *                             run time after checking the CPU (see fm_isa_*).
 *
 * Files: this header holds the constants, the counter layout and the scalar reference form
 * (what every part of the core needs to draw one block); philox_portable.h the scalar and
 * portable batch generators; philox_simd.h the AVX2 and AVX-512 ones. Only stream.c includes
 * the last two.
 *
 * On top of them, two batch generators for the blocks of one sequence and one domain (the key
 * and counter words 1..3 are fixed, only the block index c0 varies):
 *
 *   gen_seq     blocks first, first+1, ...; words stored interleaved, out[4*i + w] = word w of
 *               block first+i. Writes 4 * fm_round_blocks(nblocks) words (whole groups).
 *   gen_gather  blocks[0..n) in any order; words 0 and 1 stored apart (w0[i], w1[i]).
 *               Writes exactly n entries of each.
 *
 * The kernel's other per-path helpers (bit masks, class bytes, the 80/10/10 decisions) are in
 * ops_portable.h and ops_simd.h.
 */
#ifndef FASTMASK_PHILOX_H
#define FASTMASK_PHILOX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FM_PHILOX_M0 0xD2511F53u /* multiplies c0 */
#define FM_PHILOX_M1 0xCD9E8D57u /* multiplies c2 */
#define FM_PHILOX_W0 0x9E3779B9u /* key bump of k0 between rounds */
#define FM_PHILOX_W1 0xBB67AE85u /* key bump of k1 between rounds */
#define FM_PHILOX_ROUNDS 10

/* Lanes of the portable structure-of-arrays form: 16 counters = 64 words = 64 SELECT draws. */
#define FM_LANES 16
/* gen_seq writes whole groups of this many blocks (64 words, one uint64 of select bits). */
#define FM_GEN_ROUND 16

#if defined(__GNUC__) || defined(__clang__)
#define FM_ALWAYS_INLINE inline __attribute__((always_inline))
#define FM_NOINLINE __attribute__((noinline))
#define FM_UNROLL_ROUNDS _Pragma("GCC unroll 10")
#else
#define FM_ALWAYS_INLINE inline
#define FM_NOINLINE
#define FM_UNROLL_ROUNDS
#endif

/* Instruction-set paths. SCALAR and GENERIC exist everywhere; the others only on x86-64 with
 * GCC or Clang, and only run when the CPU (and OS) support them. */
#define FM_ISA_SCALAR 0
#define FM_ISA_GENERIC 1
#define FM_ISA_AVX2 2
#define FM_ISA_AVX512 3
#define FM_ISA_COUNT 4

/* -DFM_NO_X86_SIMD builds only the portable paths (to test them, or for toolchains that
 * cannot compile target-specific functions). */
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__)) &&   \
    !defined(FM_NO_X86_SIMD)
#define FM_HAVE_X86 1
#include <immintrin.h>
/* functions compiled for one instruction set, called only after checking the CPU */
#define FM_TARGET_AVX2 __attribute__((target("avx2")))
#define FM_TARGET_AVX512 __attribute__((target("avx512f")))
/* every AVX-512 CPU has POPCNT and, but for the Xeon Phi, AVX512-BW; the AVX-512 path asks
 * for all three */
#define FM_TARGET_AVX512_POPCNT __attribute__((target("avx512f,popcnt")))
#define FM_TARGET_AVX512_BW __attribute__((target("avx512f,avx512bw")))
#else
#define FM_HAVE_X86 0
#endif

/* The fixed part of the counters of one (seed, epoch, sid, domain): key and words c1..c3. */
typedef struct fm_philox_base {
    uint32_t k0, k1; /* key = (seed mod 2^32, seed div 2^32) */
    uint32_t c1;     /* epoch */
    uint32_t c2;     /* sid mod 2^32 */
    uint32_t c3;     /* (domain << 16) | (sid div 2^32) */
} fm_philox_base;

static inline uint32_t fm_round_blocks(uint32_t nblocks)
{
    return (nblocks + (FM_GEN_ROUND - 1)) & ~(uint32_t)(FM_GEN_ROUND - 1);
}

/* ---- scalar ------------------------------------------------------------------------------- */

/* out = Philox4x32-10(ctr, (k0, k1)); out may alias ctr. */
static inline void fm_philox_scalar(const uint32_t ctr[4], uint32_t k0, uint32_t k1,
                                    uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    FM_UNROLL_ROUNDS /* -O2 does not unroll on its own; unrolled, it runs twice as fast */
    for (int r = 0; r < FM_PHILOX_ROUNDS; r++) {
        if (r > 0) { /* the key is bumped between rounds, not after the last one */
            k0 += FM_PHILOX_W0;
            k1 += FM_PHILOX_W1;
        }
        const uint64_t p0 = (uint64_t)FM_PHILOX_M0 * c0; /* (hi0, lo0) */
        const uint64_t p1 = (uint64_t)FM_PHILOX_M1 * c2; /* (hi1, lo1) */
        const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        const uint32_t n1 = (uint32_t)p1;
        const uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        const uint32_t n3 = (uint32_t)p0;
        c0 = n0;
        c1 = n1;
        c2 = n2;
        c3 = n3;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* Word block `block` of a base: Philox((block, c1, c2, c3), (k0, k1)). */
static inline void fm_philox_block(const fm_philox_base *b, uint32_t block, uint32_t out[4])
{
    const uint32_t ctr[4] = {block, b->c1, b->c2, b->c3};
    fm_philox_scalar(ctr, b->k0, b->k1, out);
}

#endif /* FASTMASK_PHILOX_H */
