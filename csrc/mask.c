/*
 * fastmask C core: unit selection and 80/10/10 replacement for masked-language-model
 * batches. The semantics are those of docs/semantics.md, to the bit; section numbers below
 * refer to it.
 *
 * Layout of this file (the random stream is in stream.c, padding in pad.c, word starts from
 * word ids, spans and the vocabulary table in words.c, the configuration checks and the
 * per-vocabulary tables in config.c):
 *   3. workspace
 *   4. selection (section 7) and replacement draws (section 8) on positions and unit tables
 *   5. the element-type dependent kernels (fm_kernel_impl.h) and entry points
 *
 * Performance notes. With Bernoulli selection a row costs: one streaming pass over its ids
 * (range check, labels = ignore_index, attention = 1); the SELECT words of the row, generated
 * 16-32 Philox blocks at a time with SIMD and turned into a bit mask of "draw < t_select"; a
 * walk over the set bits only (about p*n positions): with token units each is checked for
 * being special, with word units each is checked for starting a unit, which is then followed
 * over its continuation tokens (unpicked units are never looked at); ACTION blocks for the
 * picked positions only, again in SIMD batches; a scatter of the picked positions and the
 * padding fills. Exact and span selection need every unit, so they classify the whole row:
 * with token units by a vectorised test against the longest run of non-special ids (only ids
 * outside it are looked up), the candidates then written a run at a time; with word units from
 * the class bytes, 64 positions at a time. Their shuffle and span words come from the SIMD
 * generator too, a chunk of blocks at a time. Nothing allocates; the caller's workspace holds
 * the per-row tables.
 */
#include "fastmask.h"

#include <limits.h>
#include <string.h>

#include "fm_common.h"
#include "fm_internal.h"
#include "philox.h"

/* =============================================================================================
 * 3. Workspace
 * ========================================================================================== */

/* Per-thread scratch for one row of up to `width` tokens. */
typedef struct fm_ws {
    uint32_t *words;  /* SELECT words of the row (whole generator groups) */
    uint64_t *bits;   /* bit j: SELECT draw of position j < t_select */
    uint32_t *ustart; /* units [ustart[u], uend[u]) */
    uint32_t *uend;
    uint32_t *order;  /* the list A that fill() shuffles (unit indices) */
    uint32_t *pos;    /* picked positions */
    uint32_t *dblk;   /* ACTION block of the decision of pos[k] (its unit's start) */
    int32_t *rep;     /* new id of pos[k], -1 when it keeps its id */
    uint8_t *picked;  /* per unit */
    uint8_t *kind;    /* per position: FM_CLASS_* bits of the word walk, 64-padded */
    uint64_t *masks;  /* two masks per 64 positions (units_of_kinds: starts, then ends;
                       * token units: their special positions) */
    uint64_t *cmasks; /* three per 64 positions: the class bits of kind (class_bits) */
} fm_ws;

#define FM_ALIGN 64u

static size_t align_up(size_t x) { return (x + (FM_ALIGN - 1)) & ~(size_t)(FM_ALIGN - 1); }

/* Carves the workspace; with base == NULL only measures. Returns the bytes needed. */
static size_t ws_layout(int64_t width, void *base, fm_ws *ws)
{
    const size_t L = (size_t)width;
    const uint32_t blocks = fm_round_blocks((uint32_t)((L + 3) / 4));
    const size_t sizes[12] = {
        4 * (size_t)blocks * sizeof(uint32_t), /* words */
        (size_t)blocks / 16 * sizeof(uint64_t), /* bits: one per 16 blocks = 64 words */
        L * sizeof(uint32_t),                  /* ustart */
        L * sizeof(uint32_t),                  /* uend */
        L * sizeof(uint32_t),                  /* order */
        (L + 4) * sizeof(uint32_t),            /* pos (expand_units writes 3 past the end) */
        (L + 4) * sizeof(uint32_t),            /* dblk */
        L * sizeof(int32_t),                   /* rep */
        (size_t)blocks * 4,                    /* picked: whole groups of 64 units */
        (size_t)blocks * 4,                    /* kind: whole groups of 64 positions */
        (size_t)blocks / 8 * sizeof(uint64_t), /* masks: two per 64 positions */
        (size_t)blocks / 16 * 3 * sizeof(uint64_t), /* cmasks: three per 64 positions */
    };
    size_t off[12];
    size_t total = 0;
    for (int i = 0; i < 12; i++) {
        off[i] = total;
        total += align_up(sizes[i]);
    }
    if (base != NULL) {
        unsigned char *p = (unsigned char *)base;
        p += (FM_ALIGN - ((uintptr_t)p & (FM_ALIGN - 1))) & (FM_ALIGN - 1);
        ws->words = (uint32_t *)(void *)(p + off[0]);
        ws->bits = (uint64_t *)(void *)(p + off[1]);
        ws->ustart = (uint32_t *)(void *)(p + off[2]);
        ws->uend = (uint32_t *)(void *)(p + off[3]);
        ws->order = (uint32_t *)(void *)(p + off[4]);
        ws->pos = (uint32_t *)(void *)(p + off[5]);
        ws->dblk = (uint32_t *)(void *)(p + off[6]);
        ws->rep = (int32_t *)(void *)(p + off[7]);
        ws->picked = (uint8_t *)(void *)(p + off[8]);
        ws->kind = (uint8_t *)(void *)(p + off[9]);
        ws->masks = (uint64_t *)(void *)(p + off[10]);
        ws->cmasks = (uint64_t *)(void *)(p + off[11]);
    }
    return total + FM_ALIGN; /* room to align the caller's pointer */
}

size_t fm_workspace_bytes(int64_t width)
{
    if (width < 0 || width > FM_MAX_WIDTH)
        return 0; /* such a width is rejected by the kernels anyway */
    return ws_layout(width, NULL, NULL);
}

/* =============================================================================================
 * 4. Selection and replacement draws
 * ========================================================================================== */

/* The exact/span budget k = min(max_predictions, max(1, round_half_even(n * p))). The product
 * is one IEEE double multiplication; the rounding is done by hand (exact for 0 <= x < 2^53) so
 * that it needs no libm and does not depend on the floating-point rounding mode. */
static int64_t budget(const fm_config *cfg, int64_t n)
{
    const double x = (double)n * cfg->probability; /* 0 <= x <= n */
    int64_t k = (int64_t)x;                        /* floor, x >= 0 */
    const double frac = x - (double)k;             /* exact */
    if (frac > 0.5 || (frac == 0.5 && (k & 1)))
        k++;
    if (k < 1)
        k = 1;
    if (cfg->max_predictions >= 0 && cfg->max_predictions < k)
        k = cfg->max_predictions;
    return k;
}

/* Bits of "W(SELECT, j div 4)[j mod 4] < t_select" for j < n into ws->bits (bits >= n clear). */
static void select_bits(int path, const fm_seq *s, uint64_t t_select, uint32_t n,
                        const fm_ws *ws)
{
    const uint32_t ngroups = (n + 63) / 64;
    if (t_select == 0) {
        memset(ws->bits, 0, ngroups * sizeof(uint64_t));
        return; /* p = 0: no draw can succeed */
    }
    if (t_select >= FM_TWO32) {
        memset(ws->bits, 0xFF, ngroups * sizeof(uint64_t)); /* p = 1 */
    } else {
        const fm_philox_base b = seq_base(s, FM_DOMAIN_SELECT);
        fm_i_gen_seq(path, &b, 0, (n + 3) / 4, ws->words);
        fm_i_bits_lt(path, ws->words, ngroups, (uint32_t)t_select, ws->bits);
    }
    if (n % 64 != 0)
        ws->bits[ngroups - 1] &= ((uint64_t)1 << (n % 64)) - 1;
}

/*
 * The draws of one domain, word i = word i mod 4 of W(domain, i div 4), generated a chunk of
 * blocks at a time with the SIMD generator into ws->words (which holds the blocks of a whole
 * row). Blocks [first, first + nblocks) are in buf; `limit` bounds the blocks ever asked for.
 */
typedef struct fm_draws {
    fm_philox_base b;
    int path;
    uint32_t first, nblocks, limit, chunk;
    uint32_t *buf;
} fm_draws;

static fm_draws draws_open(int path, const fm_seq *s, uint32_t domain, const fm_ws *ws,
                           uint32_t limit, uint32_t chunk)
{
    fm_draws d;
    d.b = seq_base(s, domain);
    d.path = path;
    d.first = d.nblocks = 0;
    d.limit = limit;
    d.chunk = chunk < 1 ? 1 : chunk;
    d.buf = ws->words;
    return d;
}

/* The four words of block `blk` (blocks are asked for in increasing order). */
static inline const uint32_t *draws_block(fm_draws *d, uint32_t blk)
{
    if (blk - d->first >= d->nblocks) {
        uint32_t nb = 1; /* past the limit (never asked for): one block */
        if (blk < d->limit)
            nb = d->limit - blk < d->chunk ? d->limit - blk : d->chunk;
        fm_i_gen_seq(d->path, &d->b, blk, nb, d->buf);
        d->first = blk;
        d->nblocks = nb;
        d->chunk = 16; /* later chunks: the first one was the expected need */
    }
    return d->buf + 4 * (size_t)(blk - d->first);
}

/* Blocks of one refill: at most the row's worth that ws->words holds. */
static uint32_t row_blocks(uint32_t n) { return (n + 3) / 4; }

/*
 * fill(A, k) of section 7 over A[0..nA): step i swaps A[i] with A[i + r], r the bounded draw
 * of shuffle word i (retrying in block i: the pseudo-code's bounded(len(A) - i, ..., SHUFFLE,
 * i)), and takes the unit A[i] unless it would overflow the budget. With `ones` every unit
 * has one token, so steps 0 .. min(k, nA) - 1 all take theirs and nothing else is done: the
 * picked units are A[0..*taken). Otherwise units are indices into ws->ustart / ws->uend and
 * the picked ones are marked in ws->picked.
 */
static int fill(int path, const fm_seq *s, const fm_ws *ws, uint32_t *A, uint32_t nA, int64_t k,
                int ones, uint32_t *taken)
{
    const uint32_t steps = ones ? (k < (int64_t)nA ? (uint32_t)(k < 0 ? 0 : k) : nA) : nA;
    fm_draws d = draws_open(path, s, FM_DOMAIN_SHUFFLE, ws, row_blocks(steps),
                            row_blocks(k < (int64_t)steps ? (uint32_t)k : steps));
    int64_t total = 0;
    uint32_t i = 0;
    for (; i < steps; i++) {
        if (!ones && total >= k)
            break;
        const uint32_t x = draws_block(&d, i >> 2)[i & 3u];
        uint32_t r;
        const int rc = bounded(s, FM_DOMAIN_SHUFFLE, i, nA - i, x, &r);
        if (rc != FM_OK)
            return rc;
        r += i;
        const uint32_t a = A[r];
        A[r] = A[i];
        A[i] = a;
        if (ones)
            continue;
        const int64_t len = (int64_t)(ws->uend[a] - ws->ustart[a]);
        if (total + len > k)
            continue; /* skip a unit that would overflow */
        ws->picked[a] = 1;
        total += len;
    }
    *taken = i;
    return FM_OK;
}

/* Token units: fill(P, k) over the candidate positions P[0..nP) (shuffled in place); the
 * picked ones, P[0..m), into ws->pos (not in position order: nothing after needs it). */
static int fill_tokens(int path, const fm_seq *s, const fm_ws *ws, uint32_t *P, uint32_t nP,
                       int64_t k, uint32_t *np_out)
{
    uint32_t m;
    const int rc = fill(path, s, ws, P, nP, k, 1, &m);
    if (rc != FM_OK)
        return rc;
    memmove(ws->pos, P, m * sizeof(uint32_t));
    *np_out = m;
    return FM_OK;
}

/* Token units, Bernoulli, more picks than max_predictions: the picked positions become the
 * units of fill(picked, cap); ws->pos is rewritten with the survivors. */
static int trim_tokens(int path, const fm_seq *s, int64_t cap, uint32_t np, const fm_ws *ws,
                       uint32_t *np_out)
{
    memcpy(ws->ustart, ws->pos, np * sizeof(uint32_t));
    return fill_tokens(path, s, ws, ws->ustart, np, cap, np_out);
}

/* ws->picked cleared for units [0, U) and up to the next multiple of 64 (expand_units reads
 * whole groups of 64). */
static void clear_picked(const fm_ws *ws, uint32_t U) { memset(ws->picked, 0, (U + 63) & ~63u); }

/* Bernoulli with more picked tokens than max_predictions: the picked units 0..U-1 are
 * un-picked and fill(picked units, cap) chooses among them (marks ws->picked). */
static int cap_units(int path, const fm_seq *s, int64_t cap, uint32_t U, const fm_ws *ws)
{
    clear_picked(ws, U);
    for (uint32_t u = 0; u < U; u++)
        ws->order[u] = u;
    uint32_t steps;
    return fill(path, s, ws, ws->order, U, cap, 0, &steps);
}

/* The span length drawn from x: the smallest l with x < cdf[l] (cdf ends at 2^32). (A
 * branch-free binary search was measured slower: the lengths are short.) */
static uint32_t span_length(const fm_config *cfg, uint32_t x)
{
    uint32_t l = 0;
    while ((uint64_t)x >= cfg->span_cdf[l])
        l++;
    return l + 1;
}

/* Span selection of section 7 over units 0..U-1 (U >= 1), budget k. */
static int select_span(int path, const fm_config *cfg, const fm_seq *s, const fm_ws *ws,
                       uint32_t U, int64_t k)
{
    const uint32_t *ustart = ws->ustart, *uend = ws->uend;
    uint8_t *picked = ws->picked;
    int64_t total = 0;
    uint32_t npicked = 0;
    const uint32_t attempts = 4 * U + 16; /* U < 2^30: no overflow */
    /* about one attempt per 2-4 budget tokens; the first chunk covers half the budget */
    const uint32_t half = (uint32_t)(k / 2 + 1);
    fm_draws d = draws_open(path, s, FM_DOMAIN_SPAN, ws, attempts,
                            half < row_blocks(U) ? half : row_blocks(U));
    for (uint32_t i = 0; i < attempts; i++) {
        if (total >= k || npicked == U)
            break;
        const uint32_t *w = draws_block(&d, i);
        const uint32_t l = span_length(cfg, w[0]);
        uint32_t a;
        const int rc = bounded(s, FM_DOMAIN_SPAN, i, U, w[1], &a);
        if (rc != FM_OK)
            return rc;
        if (picked[a])
            continue;
        uint32_t c = 0, u = a;
        while (c < l && u < U && !picked[u] && (u == a || ustart[u] == uend[u - 1])) {
            const int64_t len = (int64_t)(uend[u] - ustart[u]);
            if (total + len > k)
                break;
            picked[u] = 1;
            npicked++;
            total += len;
            c++;
            u++;
        }
    }
    return FM_OK;
}

/* Exact (word units) or span selection over all the units of a row (ws->ustart/uend, U of
 * them); marks ws->picked. (Token units with exact selection take fill_tokens; Bernoulli
 * selection never needs every unit: see fm_kernel_impl.h.) */
static int select_units(int path, const fm_config *cfg, const fm_seq *s, uint32_t n, uint32_t U,
                        const fm_ws *ws)
{
    clear_picked(ws, U);
    if (U == 0)
        return FM_OK; /* no candidates: nothing is picked */
    const int64_t k = budget(cfg, (int64_t)n);
    if (cfg->selection == FM_SELECT_EXACT) {
        for (uint32_t u = 0; u < U; u++)
            ws->order[u] = u;
        uint32_t steps;
        return fill(path, s, ws, ws->order, U, k, 0, &steps);
    }
    return select_span(path, cfg, s, ws, U, k);
}

/* Picked units (ws->picked, cleared by clear_picked) -> picked positions ws->pos, in order,
 * with their unit start in ws->dblk. The flags are read 64 at a time as a bit mask, so only
 * the picked units are visited; with token units (tokens != 0) each is one position. */
static uint32_t expand_units(const fm_ws *ws, uint32_t U, int tokens)
{
    uint32_t np = 0;
    for (uint32_t q = 0; q < (U + 63) / 64; q++) {
        for (uint64_t m = fm_byte_bits(ws->picked + 64 * (size_t)q, 0); m != 0; m &= m - 1) {
            const uint32_t u = 64 * q + fm_ctz64(m);
            const uint32_t a = ws->ustart[u];
            if (tokens) {
                ws->pos[np] = a;
                ws->dblk[np] = a;
                np++;
                continue;
            }
            /* four positions at a time (the tables have room past the end): a unit is
             * rarely longer, so this loop runs once and its branch is predicted */
            const uint32_t len = ws->uend[u] - a;
            for (uint32_t t = 0; t < len; t += 4) {
                for (uint32_t c = 0; c < 4; c++) {
                    ws->pos[np + t + c] = a + t + c;
                    ws->dblk[np + t + c] = a;
                }
            }
            np += len;
        }
    }
    return np;
}

/*
 * Units from class bytes (FM_CLASS_* per position, 64-padded with FM_CLASS_SPECIAL), 64
 * positions at a time. A position is a candidate when not special; a candidate starts a unit
 * when it follows a special (position -1 counts as one) or has f set: its own STARTS bit, or
 * ALONE on the position before. Every other candidate continues the unit before it.
 */
typedef struct fm_groups {
    uint64_t sp_in, alone_in; /* bit 63 of the last group's special and ALONE masks */
} fm_groups;

/* The starts and continuations of one group from its class bits cm[0..3) (class_bits). */
static inline void group_masks(const uint64_t *cm, fm_groups *g, uint64_t *starts,
                               uint64_t *cont)
{
    const uint64_t sp = cm[0], st = cm[1], alone = cm[2];
    const uint64_t f = st | (alone << 1) | g->alone_in;
    const uint64_t boundary = (sp << 1) | g->sp_in | f;
    *starts = ~sp & boundary;
    *cont = ~sp & ~boundary;
    g->sp_in = sp >> 63;
    g->alone_in = alone >> 63;
}

/* The number of picked units when the Bernoulli word walk has left them as masks. */
#define FM_UNITS_LATER UINT32_MAX

/*
 * The tables of the picked units of the Bernoulli word walk, from the masks it leaves: the
 * picked positions in ws->bits, the picked units' starts in ws->masks. A picked position ends
 * its unit unless the next one is a picked continuation (picked, not a start). Returns U.
 */
static uint32_t word_unit_tables(int path, const fm_ws *ws, uint32_t n)
{
    const uint32_t ngroups = (n + 63) / 64;
    const uint64_t *picked = ws->bits, *pstarts = ws->masks;
    uint64_t *pends = ws->masks + ngroups;
    for (uint32_t q = 0; q < ngroups; q++) {
        const uint64_t c = picked[q] & ~pstarts[q];
        const uint64_t c_next = q + 1 < ngroups ? picked[q + 1] & ~pstarts[q + 1] : 0;
        pends[q] = picked[q] & ~((c >> 1) | (c_next << 63));
    }
    const uint32_t U = fm_i_bits_pos(path, pstarts, ngroups, 0, ws->ustart);
    fm_i_bits_pos(path, pends, ngroups, 1, ws->uend);
    return U;
}

/* Token units: every candidate (a position not set in the special masks sp, which mark the
 * positions past n too) is a unit. The candidates come in long runs (only the special positions
 * break them), so they are written a run at a time; uend only when asked for. */
static uint32_t token_units(const uint64_t *sp, uint32_t n, uint32_t *ustart, uint32_t *uend)
{
    uint32_t U = 0;
    for (uint32_t q = 0; q < (n + 63) / 64; q++) {
        uint64_t m = ~sp[q];
        while (m != 0) {
            const uint32_t a = fm_ctz64(m);
            const uint64_t rest = ~(m >> a);
            const uint32_t run = rest != 0 ? fm_ctz64(rest) : 64; /* candidates a .. a+run-1 */
            const uint32_t j0 = 64 * q + a;
            uint32_t *us = ustart + U;
            for (uint32_t t = 0; t < run; t++)
                us[t] = j0 + t;
            if (uend != NULL) {
                uint32_t *ue = uend + U;
                for (uint32_t t = 0; t < run; t++)
                    ue[t] = j0 + t + 1;
            }
            U += run;
            m &= run + a < 64 ? ~(((uint64_t)1 << (run + a)) - 1) : 0;
        }
    }
    return U;
}

/* All the units [ustart[u], uend[u]) of a row of n positions from its class bytes; a unit ends
 * at a candidate whose next position does not continue it. The masks of unit starts and ends
 * go to ws->masks, their positions to the tables through bits_pos. Returns U. */
static uint32_t units_of_kinds(int path, const fm_ws *ws, uint32_t n)
{
    const uint32_t ngroups = (n + 63) / 64;
    uint64_t *starts = ws->masks, *ends = ws->masks + ngroups;
    fm_groups g = {1, 0};
    uint64_t cont;
    fm_i_class_bits(path, ws->kind, ngroups, ws->cmasks);
    group_masks(ws->cmasks, &g, &starts[0], &cont);
    for (uint32_t q = 0; q < ngroups; q++) {
        uint64_t next_cont = 0;
        if (q + 1 < ngroups)
            group_masks(ws->cmasks + 3 * (size_t)(q + 1), &g, &starts[q + 1], &next_cont);
        ends[q] = (starts[q] | cont) & ~((cont >> 1) | (next_cont << 63));
        cont = next_cont;
    }
    const uint32_t U = fm_i_bits_pos(path, starts, ngroups, 0, ws->ustart);
    fm_i_bits_pos(path, ends, ngroups, 1, ws->uend);
    return U;
}

/* The r-th id of [0, vocab_size) that is not in the sorted, distinct list skip (section 8).
 * Walking the list (id = r; for s in skip: if s <= id: id += 1) ends at r + c, where c is the
 * number of entries with skip[i] - i <= r; skip[i] - i is non-decreasing, so c is found by
 * binary search. */
static inline int64_t allowed_id(const int64_t *skip, int64_t n_skip, int64_t r)
{
    int64_t lo = 0, hi = n_skip;
    while (lo < hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (skip[mid] - mid <= r)
            lo = mid + 1;
        else
            hi = mid;
    }
    return r + lo;
}

/* Unigram draw (section 8): the first id i with cum[i] > r, for r < cum[V - 1]. The search
 * never leaves [0, V), whatever the table holds. */
static inline int64_t unigram_id(const uint32_t *cum, int64_t V, uint32_t r)
{
    int64_t lo = 0, hi = V - 1;
    while (lo < hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (cum[mid] > r)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/*
 * 80/10/10 for the picked positions pos[0..np) (section 8). The decision word of pos[k] is
 * W(ACTION, dblk[k])[0] (dblk == NULL: W(ACTION, pos[k])[0]); a random replacement is
 * allowed[bounded(R, W(ACTION, pos[k])[1], ACTION, pos[k])]. ACTION blocks are generated in
 * SIMD batches for the picked positions only. The three-way decision would be a badly
 * predicted branch: the path's actions op makes it with vector compares and blends, and the
 * positions that draw a random id (about one in ten) come back as bits, handled one by one.
 */
#define FM_ACTION_BATCH 64
static int draw_actions(int path, const fm_config *cfg, const fm_seq *s, const uint32_t *pos,
                        const uint32_t *dblk, uint32_t np, int32_t *rep)
{
    const fm_philox_base b = seq_base(s, FM_DOMAIN_ACTION);
    const uint64_t t_mask = cfg->t_mask;
    const uint64_t t_mask_random = cfg->t_mask + cfg->t_random;
    const int32_t mask_id = (int32_t)cfg->mask_id;
    uint32_t w0[FM_ACTION_BATCH], w1[FM_ACTION_BATCH];
    for (uint32_t base = 0; base < np; base += FM_ACTION_BATCH) {
        const uint32_t cnt = np - base < FM_ACTION_BATCH ? np - base : FM_ACTION_BATCH;
        const uint32_t *blocks = (dblk != NULL ? dblk : pos) + base;
        fm_i_gen_gather(path, &b, blocks, cnt, w0, w1);
        uint64_t random = fm_i_actions(path, w0, cnt, t_mask, t_mask_random, mask_id, rep + base);
        for (; random != 0; random &= random - 1) {
            const uint32_t q = fm_ctz64(random);
            const uint32_t j = pos[base + q];
            uint32_t x = w1[q];
            if (blocks[q] != j) { /* per-unit decision: the random draw is still token j's */
                uint32_t w[4];
                fm_philox_block(&b, j, w);
                x = w[1];
            }
            uint32_t r;
            const int rc = bounded(s, FM_DOMAIN_ACTION, j, cfg->random_range, x, &r);
            if (rc != FM_OK)
                return rc;
            rep[base + q] = cfg->random_cum != NULL
                                ? (int32_t)unigram_id(cfg->random_cum, cfg->vocab_size, r)
                                : (int32_t)allowed_id(cfg->random_skip, cfg->n_random_skip,
                                                      (int64_t)r);
        }
    }
    return FM_OK;
}

/* =============================================================================================
 * 5. Element-type dependent kernels and entry points
 * ========================================================================================== */

#define FM_T int64_t
#define FM_UT uint64_t
#define FM_TMIN INT64_MIN
#define FM_TMAX INT64_MAX
#define FM_SFX i64
#define FM_GAP_BITS fm_i_gap_bits64
#define FM_CLASSES fm_i_classes64
/* 512-bit vectors of this element type (fm_kernel_impl.h, AVX-512 code only) */
#define FM_VL 8
#define FM_VMASK __mmask8
#define FM_VSET1(x) _mm512_set1_epi64((int64_t)(x))
#define FM_VLOADZ(k, p) _mm512_maskz_loadu_epi64(k, p)
#define FM_VSTOREM(p, k, v) _mm512_mask_storeu_epi64(p, k, v)
#define FM_VCMPGE(a, b) _mm512_cmpge_epu64_mask(a, b)
#define FM_VSUB(a, b) _mm512_sub_epi64(a, b)
#include "fm_kernel_impl.h"
#undef FM_T
#undef FM_UT
#undef FM_TMIN
#undef FM_TMAX
#undef FM_SFX
#undef FM_GAP_BITS
#undef FM_CLASSES
#undef FM_VL
#undef FM_VMASK
#undef FM_VSET1
#undef FM_VLOADZ
#undef FM_VSTOREM
#undef FM_VCMPGE
#undef FM_VSUB

#define FM_T int32_t
#define FM_UT uint32_t
#define FM_TMIN INT32_MIN
#define FM_TMAX INT32_MAX
#define FM_SFX i32
#define FM_GAP_BITS fm_i_gap_bits32
#define FM_CLASSES fm_i_classes32
#define FM_VL 16
#define FM_VMASK __mmask16
#define FM_VSET1(x) _mm512_set1_epi32((int32_t)(x))
#define FM_VLOADZ(k, p) _mm512_maskz_loadu_epi32(k, p)
#define FM_VSTOREM(p, k, v) _mm512_mask_storeu_epi32(p, k, v)
#define FM_VCMPGE(a, b) _mm512_cmpge_epu32_mask(a, b)
#define FM_VSUB(a, b) _mm512_sub_epi32(a, b)
#include "fm_kernel_impl.h"
#undef FM_T
#undef FM_UT
#undef FM_TMIN
#undef FM_TMAX
#undef FM_SFX
#undef FM_GAP_BITS
#undef FM_CLASSES
#undef FM_VL
#undef FM_VMASK
#undef FM_VSET1
#undef FM_VLOADZ
#undef FM_VSTOREM
#undef FM_VCMPGE
#undef FM_VSUB

/* ---- internal entry points (fm_internal.h) ------------------------------------------------ */

int64_t fm__allowed_id(const int64_t *skip, int64_t n_skip, int64_t r)
{
    return allowed_id(skip, n_skip, r);
}

int64_t fm__budget(const fm_config *cfg, int64_t n) { return budget(cfg, n); }
