/*
 * The word-start rules of docs/semantics.md (section 6), one line each, shared by the
 * stand-alone word-start functions (words.c) and the masking kernel (fm_kernel_impl.h), so that
 * each rule is written once.
 *
 * A flag f[j] = 1 says that token j starts a word; position 0 always does.
 */
#ifndef FASTMASK_WORD_RULES_H
#define FASTMASK_WORD_RULES_H

#include <stdint.h>

#include "fastmask.h"

/* 0/1 tests of byte values (x, v <= 255) written as arithmetic: GCC turns OR-ed comparisons of
 * bytes into byte-register flags that it spills and reloads at a different width, which stalls
 * store forwarding in the hottest loop of word mode. */
static inline unsigned fm_u8_nonzero(unsigned x) { return (0u - x) >> 31; }
static inline unsigned fm_u8_eq(unsigned x, unsigned v) { return ((x ^ v) - 1u) >> 31; }

/* Vocabulary table (values FM_WORD_*): token j > 0 starts a word when table[ids[j]] is not
 * FM_WORD_CONTINUES or table[ids[j-1]] is FM_WORD_STANDS_ALONE; tv = table[ids[j]],
 * tv_prev = table[ids[j-1]]. */
static inline unsigned fm_rule_table(unsigned tv, unsigned tv_prev)
{
    return fm_u8_nonzero(tv) | fm_u8_eq(tv_prev, FM_WORD_STANDS_ALONE);
}

/* Word ids (a negative id stands for None, a token outside any word): token j > 0 starts a
 * word when its id is negative or differs from the previous one. */
static inline unsigned fm_rule_word_id(int64_t w, int64_t prev)
{
    return (unsigned)((w < 0) | (w != prev));
}

/* Character spans (start, end), 0 <= start <= end: token j > 0 starts a word when there is a
 * gap before it (s > pe), the spans go back (s < ps: the second text of a pair), the previous
 * token is a (0, 0) special, or its own span is empty. */
static inline unsigned fm_rule_span(int64_t s, int64_t e, int64_t ps, int64_t pe)
{
    return (unsigned)((s > pe) | (s < ps) | ((ps == pe) & (pe == 0)) | (s == e));
}

#endif /* FASTMASK_WORD_RULES_H */
