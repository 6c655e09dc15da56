/*
 * What the files of the C core share internally (not part of the API in fastmask.h): limits,
 * the random stream of one sequence (docs/semantics.md, sections 2 and 4), the instruction-set
 * dispatch of the batch generators (stream.c) and the row layout helpers (pad.c).
 */
#ifndef FASTMASK_COMMON_H
#define FASTMASK_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fastmask.h"
#include "philox.h"
#include "fm_word_rules.h"

#define FM_TWO32 ((uint64_t)1 << 32)
/* retry rounds of a bounded draw (section 4): 256 rounds of 4 words = 1024 retry words */
#define FM_RETRY_ROUNDS 256

#if defined(__GNUC__) || defined(__clang__)
static inline uint32_t fm_ctz64(uint64_t m) { return (uint32_t)__builtin_ctzll(m); }
#else
static inline uint32_t fm_ctz64(uint64_t m) /* m != 0 */
{
    uint32_t c = 0;
    while (!(m & 1u)) {
        m >>= 1;
        c++;
    }
    return c;
}
#endif

/*
 * Bit b of each of 8 bytes (x, little-endian) as 8 bits: (x >> b) & 0x01..01 keeps bit b of
 * byte i at bit 8i, and the multiplication by 0x0102040810204080 adds each of them once into
 * the top byte, at bit 56 + i (no two partial products meet, so nothing carries).
 */
static inline uint64_t fm_bits8(uint64_t x, unsigned b)
{
    return (((x >> b) & 0x0101010101010101ull) * 0x0102040810204080ull) >> 56;
}

/* Bit b of 64 bytes as a 64-bit mask (bit i from byte i). */
static inline uint64_t fm_byte_bits(const uint8_t *k, unsigned b)
{
    uint64_t a = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (unsigned i = 0; i < 8; i++) {
        uint64_t x;
        memcpy(&x, k + 8 * i, sizeof x);
        a |= fm_bits8(x, b) << (8 * i);
    }
#else
    for (unsigned i = 0; i < 64; i++)
        a |= (uint64_t)((k[i] >> b) & 1u) << i;
#endif
    return a;
}

/* The bits FM_CLASS_SPECIAL, FM_CLASS_STARTS and FM_CLASS_ALONE of 64 class bytes as three
 * masks. */
static inline void fm_class_masks(const uint8_t *k, uint64_t *sp, uint64_t *st, uint64_t *alone)
{
    *sp = fm_byte_bits(k, 0);
    *st = fm_byte_bits(k, 1);
    *alone = fm_byte_bits(k, 2);
}

/* Asks for a per-id table of up to 256 KiB to be brought into cache, one line at a time: the
 * word walk looks up ids at random in the class table, and a batch often starts with the
 * table out of cache (other work ran since the last one); prefetches overlap where the
 * lookups' misses would wait one after another. */
static inline void fm_prefetch_table(const uint8_t *table, int64_t bytes)
{
#if FM_HAVE_X86
    /* as an instruction: GCC deletes a loop of nothing but __builtin_prefetch */
    if (bytes > 0 && bytes <= ((int64_t)1 << 18))
        for (int64_t b = 0; b < bytes; b += 64)
            __asm__ volatile("prefetcht0 %0" : : "m"(table[b]));
#elif defined(__GNUC__) || defined(__clang__)
    if (bytes > 0 && bytes <= ((int64_t)1 << 18))
        for (int64_t b = 0; b < bytes; b += 64)
            __builtin_prefetch(table + b, 0, 3);
#else
    (void)table;
    (void)bytes;
#endif
}

/* 1 when id y is in the special set S (the bitset fm_config.special_bits). */
static inline unsigned fm_special_bit(const uint8_t *special_bits, uint64_t y)
{
    return (special_bits[(size_t)(y >> 3)] >> (unsigned)(y & 7u)) & 1u;
}

/* ---- instruction-set paths and batch generators (stream.c) --------------------------------- */

int fm_i_path_available(int path);
int fm_i_path_best(void);
void fm_i_gen_seq(int path, const fm_philox_base *b, uint32_t first, uint32_t nblocks,
                  uint32_t *out);
void fm_i_gen_gather(int path, const fm_philox_base *b, const uint32_t *blocks, uint32_t n,
                     uint32_t *w0, uint32_t *w1);
void fm_i_bits_lt(int path, const uint32_t *words, uint32_t ngroups, uint32_t t,
                  uint64_t *bits);
/* out[c] = 64q + i + add for each set bit i of bits[q], q < ngroups, in order; returns c. */
uint32_t fm_i_bits_pos(int path, const uint64_t *bits, uint32_t ngroups, uint32_t add,
                       uint32_t *out);
/* Bit i of bits[q] = 1 when row[64q + i] lies outside [lo, lo + len) (ids and the run below
 * 2^31); ceil(n / 64) words, bits past n clear. */
void fm_i_gap_bits64(int path, const int64_t *row, uint32_t n, int64_t lo, int64_t len,
                     uint64_t *bits);
void fm_i_gap_bits32(int path, const int32_t *row, uint32_t n, int64_t lo, int64_t len,
                     uint64_t *bits);
/* The 80/10/10 decisions of cnt <= 64 decision words: rep[q] = mask_id when w0[q] < t_mask,
 * else -1; returns the bits q with t_mask <= w0[q] < t_mask_random (random replacement). */
uint64_t fm_i_actions(int path, const uint32_t *w0, uint32_t cnt, uint64_t t_mask,
                      uint64_t t_mask_random, int32_t mask_id, int32_t *rep);
/* out[3q + b] = bit b of the class bytes kind[64q .. 64q + 64) as a mask (b = 0, 1, 2). */
void fm_i_class_bits(int path, const uint8_t *kind, uint32_t ngroups, uint64_t *out);
/* kind[j] = cls[row[j]] for j < n (cls: vocab bytes; ids in [0, vocab)). */
void fm_i_classes64(int path, const int64_t *row, uint32_t n, const uint8_t *cls, int64_t vocab,
                    uint8_t *kind);
void fm_i_classes32(int path, const int32_t *row, uint32_t n, const uint8_t *cls, int64_t vocab,
                    uint8_t *kind);

/* =============================================================================================
 * 2. The random stream of one sequence
 * ========================================================================================== */

/* (seed, epoch, sid) of one sequence; the domain is added per use (section 2). */
typedef struct fm_seq {
    uint32_t k0, k1; /* key = (seed mod 2^32, seed div 2^32) */
    uint32_t epoch;  /* counter word 1 */
    uint32_t sid_lo; /* counter word 2 */
    uint32_t sid_hi; /* low 16 bits of counter word 3 */
} fm_seq;

static inline fm_seq make_seq(uint64_t seed, uint32_t epoch, uint64_t sid)
{
    fm_seq s;
    s.k0 = (uint32_t)seed;
    s.k1 = (uint32_t)(seed >> 32);
    s.epoch = epoch;
    s.sid_lo = (uint32_t)sid;
    s.sid_hi = (uint32_t)(sid >> 32) & 0xFFFFu;
    return s;
}

static inline fm_philox_base seq_base(const fm_seq *s, uint32_t domain)
{
    fm_philox_base b;
    b.k0 = s->k0;
    b.k1 = s->k1;
    b.c1 = s->epoch;
    b.c2 = s->sid_lo;
    b.c3 = ((domain & 0xFFFFu) << 16) | s->sid_hi;
    return b;
}

/* W(domain, block) */
static inline void seq_block(const fm_seq *s, uint32_t domain, uint32_t block, uint32_t out[4])
{
    const fm_philox_base b = seq_base(s, domain);
    fm_philox_block(&b, block, out);
}

int fm_i_bounded_retry(const fm_seq *s, uint32_t domain, uint32_t block, uint32_t range,
                       uint32_t t, uint32_t *result);

/* bounded(range, x, domain, block) of section 4; domain < 0x80, 1 <= range. */
static inline int bounded(const fm_seq *s, uint32_t domain, uint32_t block, uint32_t range,
                          uint32_t x, uint32_t *result)
{
    const uint64_t m = (uint64_t)x * range;
    if ((uint32_t)m < range) {
        const uint32_t t = (0u - range) % range; /* (2^32 - range) mod range */
        if ((uint32_t)m < t)
            return fm_i_bounded_retry(s, domain, block, range, t, result);
    }
    *result = (uint32_t)(m >> 32);
    return FM_OK;
}

/* ---- row layout (pad.c) ---------------------------------------------------------------------- */

/* Shared argument checks of the functions taking ragged rows (offsets non-decreasing, sizes
 * that fit); FM_OK or FM_ERR_ARG (with *err_row for a decreasing offset). */
int fm_check_ragged(const int64_t *offsets, int64_t rows, int64_t width, int have_values,
                    int have_out, int64_t *err_row);

/* Tokens a row of n keeps in a padded width: n, or width when truncating a longer row
 * (FM_ERR_LENGTH without truncation). */
static inline int fm_row_kept(int64_t n, int64_t width, int truncate, int64_t *kept)
{
    if (n > width) {
        if (!truncate)
            return FM_ERR_LENGTH;
        n = width;
    }
    *kept = n;
    return FM_OK;
}

/* Writes `pad` into the padding cells of one row of `width` cells holding `kept` tokens. */
void fm_pad_row_i64(int64_t *row, int64_t kept, int64_t width, int left, int64_t pad);
void fm_pad_row_i32(int32_t *row, int64_t kept, int64_t width, int left, int32_t pad);
void fm_pad_row_u8(uint8_t *row, int64_t kept, int64_t width, int left, uint8_t pad);

#endif /* FASTMASK_COMMON_H */
