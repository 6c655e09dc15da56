/*
 * fastmask C core: padding, unit selection and 80/10/10 replacement for masked-language-model
 * batches. The semantics are those of docs/semantics.md, to the bit; section numbers below
 * refer to it.
 *
 * Layout of this file:
 *   1. instruction-set paths and the batch generators they select
 *   2. the random stream of one sequence, bounded draws (sections 2 and 4)
 *   3. configuration check, workspace
 *   4. selection (section 7) and replacement draws (section 8) on positions and unit tables
 *   5. the element-type dependent kernels (fm_kernel_impl.h, fm_pad_impl.h) and entry points
 *
 * Performance notes. With Bernoulli selection a row costs: one streaming pass over its ids
 * (range check, labels = ignore_index, attention = 1); the SELECT words of the row, generated
 * 16-32 Philox blocks at a time with SIMD and turned into a bit mask of "draw < t_select"; a
 * walk over the set bits only (about p*n positions): with token units each is checked for
 * being special, with word units each is checked for starting a unit, which is then followed
 * over its continuation tokens (unpicked units are never looked at); ACTION blocks for the
 * picked positions only, again in SIMD batches; a scatter of the picked positions and the
 * padding fills. Exact and span selection need every unit, so they classify the whole row.
 * Nothing allocates; the caller's workspace holds the per-row tables.
 */
#include "fastmask.h"

#include <limits.h>
#include <string.h>

#include "fm_internal.h"
#include "philox.h"

#define FM_TWO32 ((uint64_t)1 << 32)
#define FM_MAX_SID ((uint64_t)1 << 48)
/* Longest padded row: keeps every position, and every SPAN attempt number (< 4U + 16), inside
 * a 32-bit block index. */
#define FM_MAX_WIDTH ((int64_t)1 << 30)
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

/* 0/1 tests of byte values (x, v <= 255) written as arithmetic: GCC turns OR-ed comparisons of
 * bytes into byte-register flags that it spills and reloads at a different width, which stalls
 * store forwarding in the hottest loop of word mode. */
static inline unsigned fm_u8_nonzero(unsigned x) { return (0u - x) >> 31; }
static inline unsigned fm_u8_eq(unsigned x, unsigned v) { return ((x ^ v) - 1u) >> 31; }

/* =============================================================================================
 * 1. Instruction-set paths
 * ========================================================================================== */

static int path_available(int path)
{
    switch (path) {
    case FM_ISA_SCALAR:
    case FM_ISA_GENERIC:
        return 1;
#if FM_HAVE_X86
    case FM_ISA_AVX2:
        return __builtin_cpu_supports("avx2") ? 1 : 0;
    case FM_ISA_AVX512:
        return __builtin_cpu_supports("avx512f") ? 1 : 0;
#endif
    default:
        return 0;
    }
}

/*
 * The path the public functions use. AVX2 is preferred even where AVX-512F exists: on current
 * AMD cores the two run at the same speed, and on some Intel cores 512-bit multiplies lower the
 * clock of the whole core; the AVX-512 path stays available (and tested) through the internal
 * entry points. Without AVX2, x86-64 compilers (SSE2 only) turn the portable lanes into code no
 * faster than the scalar form at -O3, so x86-64 falls back to scalar; other targets use the
 * portable lanes, which map onto their 32x32->64-bit vector multiplies (e.g. NEON umull).
 */
static int path_best(void)
{
#if FM_HAVE_X86
    return path_available(FM_ISA_AVX2) ? FM_ISA_AVX2 : FM_ISA_SCALAR;
#elif defined(__x86_64__) || defined(_M_X64)
    return FM_ISA_SCALAR;
#else
    return FM_ISA_GENERIC;
#endif
}

static void gen_seq(int path, const fm_philox_base *b, uint32_t first, uint32_t nblocks,
                    uint32_t *out)
{
    switch (path) {
#if FM_HAVE_X86
    case FM_ISA_AVX512:
        fm_gen_seq_avx512(b, first, nblocks, out);
        return;
    case FM_ISA_AVX2:
        fm_gen_seq_avx2(b, first, nblocks, out);
        return;
#endif
    case FM_ISA_GENERIC:
        fm_gen_seq_generic(b, first, nblocks, out);
        return;
    default:
        fm_gen_seq_scalar(b, first, nblocks, out);
        return;
    }
}

static void gen_gather(int path, const fm_philox_base *b, const uint32_t *blocks, uint32_t n,
                       uint32_t *w0, uint32_t *w1)
{
    switch (path) {
#if FM_HAVE_X86
    case FM_ISA_AVX512:
        fm_gen_gather_avx512(b, blocks, n, w0, w1);
        return;
    case FM_ISA_AVX2:
        fm_gen_gather_avx2(b, blocks, n, w0, w1);
        return;
#endif
    case FM_ISA_GENERIC:
        fm_gen_gather_generic(b, blocks, n, w0, w1);
        return;
    default:
        fm_gen_gather_scalar(b, blocks, n, w0, w1);
        return;
    }
}

static void bits_lt(int path, const uint32_t *words, uint32_t ngroups, uint32_t t,
                    uint64_t *bits)
{
    switch (path) {
#if FM_HAVE_X86
    case FM_ISA_AVX512:
        fm_bits_lt_avx512(words, ngroups, t, bits);
        return;
    case FM_ISA_AVX2:
        fm_bits_lt_avx2(words, ngroups, t, bits);
        return;
#endif
    default:
        fm_bits_lt_scalar(words, ngroups, t, bits);
        return;
    }
}

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

/* The rejection branch of bounded(): walks the 1024 retry words of (domain, block). */
static FM_NOINLINE int bounded_retry(const fm_seq *s, uint32_t domain, uint32_t block,
                                     uint32_t range, uint32_t t, uint32_t *result)
{
    for (uint32_t r = 0; r < FM_RETRY_ROUNDS; r++) {
        uint32_t w[4];
        seq_block(s, FM_DOMAIN_RETRY | (domain << 8) | r, block, w);
        for (int i = 0; i < 4; i++) {
            const uint64_t m = (uint64_t)w[i] * range;
            if ((uint32_t)m >= t) {
                *result = (uint32_t)(m >> 32);
                return FM_OK;
            }
        }
    }
    return FM_ERR_RNG;
}

/* bounded(range, x, domain, block) of section 4; domain < 0x80, 1 <= range. */
static inline int bounded(const fm_seq *s, uint32_t domain, uint32_t block, uint32_t range,
                          uint32_t x, uint32_t *result)
{
    const uint64_t m = (uint64_t)x * range;
    if ((uint32_t)m < range) {
        const uint32_t t = (0u - range) % range; /* (2^32 - range) mod range */
        if ((uint32_t)m < t)
            return bounded_retry(s, domain, block, range, t, result);
    }
    *result = (uint32_t)(m >> 32);
    return FM_OK;
}

/* =============================================================================================
 * 3. Configuration, workspace
 * ========================================================================================== */

int fm_config_check(const fm_config *cfg)
{
    if (cfg == NULL)
        return FM_ERR_ARG;
    if (cfg->selection != FM_SELECT_BERNOULLI && cfg->selection != FM_SELECT_EXACT &&
        cfg->selection != FM_SELECT_SPAN)
        return FM_ERR_ARG;
    if (cfg->units != FM_UNITS_TOKENS && cfg->units != FM_UNITS_WORDS)
        return FM_ERR_ARG;
    if (cfg->action_per_unit != 0 && cfg->action_per_unit != 1)
        return FM_ERR_ARG;
    if (cfg->t_select > FM_TWO32 || cfg->t_mask > FM_TWO32 || cfg->t_random > FM_TWO32 ||
        cfg->t_mask + cfg->t_random > FM_TWO32)
        return FM_ERR_ARG;
    /* the budget is rint(n * p): p must be a probability (this also rejects NaN) */
    if (!(cfg->probability >= 0.0 && cfg->probability <= 1.0))
        return FM_ERR_ARG;
    if (cfg->vocab_size < 1 || cfg->vocab_size > INT32_MAX)
        return FM_ERR_ARG;
    if (cfg->mask_id < 0 || cfg->mask_id >= cfg->vocab_size || cfg->pad_id < 0 ||
        cfg->pad_id >= cfg->vocab_size)
        return FM_ERR_ARG;
    if (cfg->special_bits == NULL)
        return FM_ERR_ARG;
    /* random_skip: sorted, distinct, in [0, vocab_size); R = vocab_size - n_random_skip >= 1 */
    if (cfg->n_random_skip < 0 || cfg->n_random_skip > cfg->vocab_size)
        return FM_ERR_ARG;
    if (cfg->n_random_skip > 0 && cfg->random_skip == NULL)
        return FM_ERR_ARG;
    for (int64_t i = 0; i < cfg->n_random_skip; i++) {
        const int64_t v = cfg->random_skip[i];
        if (v < 0 || v >= cfg->vocab_size)
            return FM_ERR_ARG;
        if (i > 0 && v <= cfg->random_skip[i - 1])
            return FM_ERR_ARG;
    }
    if (cfg->random_range == 0 ||
        (int64_t)cfg->random_range != cfg->vocab_size - cfg->n_random_skip)
        return FM_ERR_ARG;
    /* span lengths: a cdf on the 2^32 scale, non-decreasing, ending at 2^32 */
    if (cfg->selection == FM_SELECT_SPAN) {
        if (cfg->span_cdf == NULL || cfg->n_span_lengths < 1)
            return FM_ERR_ARG;
        for (int32_t l = 0; l < cfg->n_span_lengths; l++) {
            if (cfg->span_cdf[l] > FM_TWO32)
                return FM_ERR_ARG;
            if (l > 0 && cfg->span_cdf[l] < cfg->span_cdf[l - 1])
                return FM_ERR_ARG;
        }
        if (cfg->span_cdf[cfg->n_span_lengths - 1] != FM_TWO32)
            return FM_ERR_ARG;
    }
    return FM_OK;
}

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
} fm_ws;

#define FM_ALIGN 64u
#define FM_EXPAND 4u /* positions the word walk stores per unit whatever its length */

static size_t align_up(size_t x) { return (x + (FM_ALIGN - 1)) & ~(size_t)(FM_ALIGN - 1); }

/* Carves the workspace; with base == NULL only measures. Returns the bytes needed. */
static size_t ws_layout(int64_t width, void *base, fm_ws *ws)
{
    const size_t L = (size_t)width;
    const uint32_t blocks = fm_round_blocks((uint32_t)((L + 3) / 4));
    const size_t sizes[9] = {
        4 * (size_t)blocks * sizeof(uint32_t), /* words */
        (size_t)blocks / 16 * sizeof(uint64_t), /* bits: one per 16 blocks = 64 words */
        L * sizeof(uint32_t),                  /* ustart */
        L * sizeof(uint32_t),                  /* uend */
        L * sizeof(uint32_t),                  /* order */
        (L + FM_EXPAND) * sizeof(uint32_t),    /* pos (the word walk writes ahead) */
        (L + FM_EXPAND) * sizeof(uint32_t),    /* dblk */
        L * sizeof(int32_t),                   /* rep */
        L * sizeof(uint8_t),                   /* picked */
    };
    size_t off[9];
    size_t total = 0;
    for (int i = 0; i < 9; i++) {
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
        gen_seq(path, &b, 0, (n + 3) / 4, ws->words);
        bits_lt(path, ws->words, ngroups, (uint32_t)t_select, ws->bits);
    }
    if (n % 64 != 0)
        ws->bits[ngroups - 1] &= ((uint64_t)1 << (n % 64)) - 1;
}

/*
 * fill(A, k) of section 7 with A = order[0..nA) (unit indices); marks the picked units in
 * ws->picked. Shuffle draw i is word i mod 4 of W(SHUFFLE, i div 4); its bounded draw retries
 * in block i (the pseudo-code's bounded(len(A) - i, ..., SHUFFLE, i)).
 */
static int fill_units(const fm_seq *s, const fm_ws *ws, uint32_t nA, int64_t k)
{
    uint32_t *A = ws->order;
    int64_t total = 0;
    uint32_t w[4] = {0, 0, 0, 0};
    for (uint32_t i = 0; i < nA; i++) {
        if (total >= k)
            break;
        if ((i & 3u) == 0)
            seq_block(s, FM_DOMAIN_SHUFFLE, i >> 2, w);
        uint32_t r;
        const int rc = bounded(s, FM_DOMAIN_SHUFFLE, i, nA - i, w[i & 3u], &r);
        if (rc != FM_OK)
            return rc;
        r += i;
        const uint32_t a = A[r];
        A[r] = A[i];
        A[i] = a;
        const int64_t len = (int64_t)(ws->uend[a] - ws->ustart[a]);
        if (total + len > k)
            continue; /* skip a unit that would overflow */
        ws->picked[a] = 1;
        total += len;
    }
    return FM_OK;
}

/* Token units, Bernoulli, more picks than max_predictions: the picked positions become the
 * units of fill(picked, cap); ws->pos is rewritten with the survivors (in position order). */
static int trim_tokens(const fm_seq *s, int64_t cap, uint32_t np, const fm_ws *ws,
                       uint32_t *np_out)
{
    for (uint32_t k = 0; k < np; k++) {
        ws->ustart[k] = ws->pos[k];
        ws->uend[k] = ws->pos[k] + 1;
        ws->order[k] = k;
    }
    memset(ws->picked, 0, np);
    const int rc = fill_units(s, ws, np, cap);
    if (rc != FM_OK)
        return rc;
    uint32_t m = 0;
    for (uint32_t k = 0; k < np; k++) {
        ws->pos[m] = ws->ustart[k];
        m += ws->picked[k];
    }
    *np_out = m;
    return FM_OK;
}

/* Bernoulli with more picked tokens than max_predictions: the picked units 0..U-1 are
 * un-picked and fill(picked units, cap) chooses among them (marks ws->picked). */
static int cap_units(const fm_seq *s, int64_t cap, uint32_t U, const fm_ws *ws)
{
    memset(ws->picked, 0, U);
    for (uint32_t u = 0; u < U; u++)
        ws->order[u] = u;
    return fill_units(s, ws, U, cap);
}

/* The span length drawn from x: the smallest l with x < cdf[l] (cdf ends at 2^32). */
static uint32_t span_length(const fm_config *cfg, uint32_t x)
{
    uint32_t l = 0;
    while ((uint64_t)x >= cfg->span_cdf[l])
        l++;
    return l + 1;
}

/* Span selection of section 7 over units 0..U-1 (U >= 1), budget k. */
static int select_span(const fm_config *cfg, const fm_seq *s, const fm_ws *ws, uint32_t U,
                       int64_t k)
{
    const uint32_t *ustart = ws->ustart, *uend = ws->uend;
    uint8_t *picked = ws->picked;
    int64_t total = 0;
    uint32_t npicked = 0;
    const uint32_t attempts = 4 * U + 16; /* U < 2^30: no overflow */
    for (uint32_t i = 0; i < attempts; i++) {
        if (total >= k || npicked == U)
            break;
        uint32_t w[4];
        seq_block(s, FM_DOMAIN_SPAN, i, w);
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

/* Exact or span selection over all the units of a row (ws->ustart/uend, U of them); marks
 * ws->picked. (Bernoulli selection never needs every unit: see fm_kernel_impl.h.) */
static int select_units(const fm_config *cfg, const fm_seq *s, uint32_t n, uint32_t U,
                        const fm_ws *ws)
{
    memset(ws->picked, 0, U);
    if (U == 0)
        return FM_OK; /* no candidates: nothing is picked */
    const int64_t k = budget(cfg, (int64_t)n);
    if (cfg->selection == FM_SELECT_EXACT) {
        for (uint32_t u = 0; u < U; u++)
            ws->order[u] = u;
        return fill_units(s, ws, U, k);
    }
    return select_span(cfg, s, ws, U, k);
}

/* Picked units (ws->picked) -> picked positions ws->pos, in order, with their unit start in
 * ws->dblk. */
static uint32_t expand_units(const fm_ws *ws, uint32_t U)
{
    uint32_t np = 0;
    for (uint32_t u = 0; u < U; u++) {
        if (!ws->picked[u])
            continue;
        for (uint32_t j = ws->ustart[u]; j < ws->uend[u]; j++) {
            ws->pos[np] = j;
            ws->dblk[np] = ws->ustart[u];
            np++;
        }
    }
    return np;
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

/*
 * 80/10/10 for the picked positions pos[0..np) (section 8). The decision word of pos[k] is
 * W(ACTION, dblk[k])[0] (dblk == NULL: W(ACTION, pos[k])[0]); a random replacement is
 * allowed[bounded(R, W(ACTION, pos[k])[1], ACTION, pos[k])]. ACTION blocks are generated in
 * SIMD batches for the picked positions only. The three-way decision would be a badly
 * predicted branch, so it is made with selects; the positions that draw a random id (about
 * one in ten) are listed and handled after each batch.
 */
#define FM_ACTION_BATCH 64
static int draw_actions(int path, const fm_config *cfg, const fm_seq *s, const uint32_t *pos,
                        const uint32_t *dblk, uint32_t np, int32_t *rep)
{
    const fm_philox_base b = seq_base(s, FM_DOMAIN_ACTION);
    const uint64_t t_mask = cfg->t_mask;
    const uint64_t t_mask_random = cfg->t_mask + cfg->t_random;
    const int32_t mask_id = (int32_t)cfg->mask_id;
    uint32_t w0[FM_ACTION_BATCH], w1[FM_ACTION_BATCH], rnd[FM_ACTION_BATCH];
    for (uint32_t base = 0; base < np; base += FM_ACTION_BATCH) {
        const uint32_t cnt = np - base < FM_ACTION_BATCH ? np - base : FM_ACTION_BATCH;
        const uint32_t *blocks = (dblk != NULL ? dblk : pos) + base;
        gen_gather(path, &b, blocks, cnt, w0, w1);
        uint32_t nr = 0;
        for (uint32_t q = 0; q < cnt; q++) {
            const uint64_t d = w0[q];
            const int is_mask = d < t_mask;
            const int is_random = !is_mask && d < t_mask_random;
            rep[base + q] = is_mask ? mask_id : -1; /* -1: keeps its id */
            rnd[nr] = q;
            nr += (uint32_t)is_random;
        }
        for (uint32_t k = 0; k < nr; k++) {
            const uint32_t q = rnd[k];
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
            rep[base + q] = (int32_t)allowed_id(cfg->random_skip, cfg->n_random_skip, (int64_t)r);
        }
    }
    return FM_OK;
}

/* =============================================================================================
 * 5. Element-type dependent kernels and entry points
 * ========================================================================================== */

#define FM_WS_TOKENS 0
#define FM_WS_FLAGS 1
#define FM_WS_TABLE 2

#define FM_T int64_t
#define FM_UT uint64_t
#define FM_TMIN INT64_MIN
#define FM_TMAX INT64_MAX
#define FM_SFX i64
#include "fm_kernel_impl.h"
#undef FM_T
#undef FM_UT
#undef FM_TMIN
#undef FM_TMAX
#undef FM_SFX

#define FM_T int32_t
#define FM_UT uint32_t
#define FM_TMIN INT32_MIN
#define FM_TMAX INT32_MAX
#define FM_SFX i32
#include "fm_kernel_impl.h"
#undef FM_T
#undef FM_UT
#undef FM_TMIN
#undef FM_TMAX
#undef FM_SFX

int fm_mask_batch_i64(const fm_config *cfg, const fm_batch *batch, int64_t row_begin,
                      int64_t row_end, int64_t *ids, int64_t *labels, int64_t *attention,
                      void *workspace, size_t workspace_bytes, int64_t *err_row,
                      int64_t *err_pos)
{
    return mask_batch_i64(path_best(), cfg, batch, row_begin, row_end, ids, labels, attention,
                          workspace, workspace_bytes, err_row, err_pos);
}

int fm_mask_batch_i32(const fm_config *cfg, const fm_batch *batch, int64_t row_begin,
                      int64_t row_end, int32_t *ids, int32_t *labels, int32_t *attention,
                      void *workspace, size_t workspace_bytes, int64_t *err_row,
                      int64_t *err_pos)
{
    return mask_batch_i32(path_best(), cfg, batch, row_begin, row_end, ids, labels, attention,
                          workspace, workspace_bytes, err_row, err_pos);
}

/* ---- padding ------------------------------------------------------------------------------ */

/* Shared argument checks of the fm_pad_* functions. */
static int check_ragged(const int64_t *offsets, int64_t rows, int64_t width, int have_values,
                        int have_out, int64_t *err_row)
{
    if (rows < 0 || width < 0)
        return FM_ERR_ARG;
    if (rows == 0)
        return FM_OK;
    if (offsets == NULL || offsets[0] < 0)
        return FM_ERR_ARG;
    if (width > 0 && (rows > INT64_MAX / width || !have_out))
        return FM_ERR_ARG;
    for (int64_t i = 0; i < rows; i++) {
        if (offsets[i + 1] < offsets[i]) {
            *err_row = i;
            return FM_ERR_ARG;
        }
    }
    if (!have_values && offsets[rows] > offsets[0])
        return FM_ERR_ARG;
    return FM_OK;
}

#define FM_IN int64_t
#define FM_OUT int64_t
#define FM_OUT_MIN INT64_MIN
#define FM_OUT_MAX INT64_MAX
#define FM_PAD_NAME fm_pad_i64_i64
#include "fm_pad_impl.h"
#undef FM_IN
#undef FM_PAD_NAME
#define FM_IN int32_t
#define FM_PAD_NAME fm_pad_i32_i64
#include "fm_pad_impl.h"
#undef FM_IN
#undef FM_OUT
#undef FM_OUT_MIN
#undef FM_OUT_MAX
#undef FM_PAD_NAME

#define FM_OUT int32_t
#define FM_OUT_MIN INT32_MIN
#define FM_OUT_MAX INT32_MAX
#define FM_IN int64_t
#define FM_PAD_NAME fm_pad_i64_i32
#include "fm_pad_impl.h"
#undef FM_IN
#undef FM_PAD_NAME
#define FM_IN int32_t
#define FM_PAD_NAME fm_pad_i32_i32
#include "fm_pad_impl.h"
#undef FM_IN
#undef FM_OUT
#undef FM_OUT_MIN
#undef FM_OUT_MAX
#undef FM_PAD_NAME

int fm_pad_u8(const uint8_t *values, const int64_t *offsets, int64_t rows, int64_t width,
              int left, int truncate, uint8_t fill, uint8_t *out, int64_t *err_row)
{
    int64_t scratch_row;
    if (err_row == NULL)
        err_row = &scratch_row;
    *err_row = -1;
    const int rc = check_ragged(offsets, rows, width, values != NULL, out != NULL, err_row);
    if (rc != FM_OK)
        return rc;
    for (int64_t i = 0; i < rows; i++) {
        int64_t n = offsets[i + 1] - offsets[i];
        if (n > width) {
            if (!truncate) {
                *err_row = i;
                return FM_ERR_LENGTH;
            }
            n = width;
        }
        if (width == 0)
            continue;
        uint8_t *dst_row = out + i * width;
        const int64_t off = left ? width - n : 0;
        if (n > 0)
            memcpy(dst_row + off, values + offsets[i], (size_t)n);
        memset(dst_row, fill, (size_t)off);
        memset(dst_row + off + n, fill, (size_t)(width - off - n));
    }
    return FM_OK;
}

/* ---- generator and bounded draws ---------------------------------------------------------- */

void fm_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    fm_philox_scalar(ctr, key[0], key[1], out);
}

void fm_stream_block(uint64_t seed, uint32_t epoch, uint64_t sid, uint32_t domain,
                     uint32_t block, uint32_t out[4])
{
    const fm_seq s = make_seq(seed, epoch, sid);
    seq_block(&s, domain, block, out);
}

int fm_bounded(uint64_t seed, uint32_t epoch, uint64_t sid, uint32_t domain, uint32_t block,
               uint32_t range, uint32_t x, uint32_t *result)
{
    /* the retry domains 0x8000 | (domain << 8) | r must fit in 16 bits */
    if (result == NULL || range == 0 || domain >= 0x80u || sid >= FM_MAX_SID)
        return FM_ERR_ARG;
    const fm_seq s = make_seq(seed, epoch, sid);
    return bounded(&s, domain, block, range, x, result);
}

/* ---- internal entry points (fm_internal.h) ------------------------------------------------ */

int fm__path_available(int path) { return path_available(path); }

int fm__path_best(void) { return path_best(); }

const char *fm__path_name(int path)
{
    static const char *const names[FM_PATH_COUNT] = {"scalar", "generic", "avx2", "avx512"};
    return path >= 0 && path < FM_PATH_COUNT ? names[path] : "?";
}

size_t fm__gen_seq_words(uint32_t nblocks) { return 4 * (size_t)fm_round_blocks(nblocks); }

static fm_philox_base raw_base(const uint32_t key[2], uint32_t c1, uint32_t c2, uint32_t c3)
{
    fm_philox_base b;
    b.k0 = key[0];
    b.k1 = key[1];
    b.c1 = c1;
    b.c2 = c2;
    b.c3 = c3;
    return b;
}

void fm__gen_seq(int path, const uint32_t key[2], uint32_t c1, uint32_t c2, uint32_t c3,
                 uint32_t first, uint32_t nblocks, uint32_t *out)
{
    const fm_philox_base b = raw_base(key, c1, c2, c3);
    gen_seq(path_available(path) ? path : FM_ISA_SCALAR, &b, first, nblocks, out);
}

void fm__gen_gather(int path, const uint32_t key[2], uint32_t c1, uint32_t c2, uint32_t c3,
                    const uint32_t *blocks, uint32_t n, uint32_t *w0, uint32_t *w1)
{
    const fm_philox_base b = raw_base(key, c1, c2, c3);
    gen_gather(path_available(path) ? path : FM_ISA_SCALAR, &b, blocks, n, w0, w1);
}

void fm__bits_lt(int path, const uint32_t *words, uint32_t ngroups, uint32_t t, uint64_t *bits)
{
    bits_lt(path_available(path) ? path : FM_ISA_SCALAR, words, ngroups, t, bits);
}

int64_t fm__allowed_id(const int64_t *skip, int64_t n_skip, int64_t r)
{
    return allowed_id(skip, n_skip, r);
}

int64_t fm__budget(const fm_config *cfg, int64_t n) { return budget(cfg, n); }

int fm__mask_batch_i64_path(int path, const fm_config *cfg, const fm_batch *batch,
                            int64_t row_begin, int64_t row_end, int64_t *ids, int64_t *labels,
                            int64_t *attention, void *workspace, size_t workspace_bytes,
                            int64_t *err_row, int64_t *err_pos)
{
    if (!path_available(path))
        return FM_ERR_ARG;
    return mask_batch_i64(path, cfg, batch, row_begin, row_end, ids, labels, attention,
                          workspace, workspace_bytes, err_row, err_pos);
}

int fm__mask_batch_i32_path(int path, const fm_config *cfg, const fm_batch *batch,
                            int64_t row_begin, int64_t row_end, int32_t *ids, int32_t *labels,
                            int32_t *attention, void *workspace, size_t workspace_bytes,
                            int64_t *err_row, int64_t *err_pos)
{
    if (!path_available(path))
        return FM_ERR_ARG;
    return mask_batch_i32(path, cfg, batch, row_begin, row_end, ids, labels, attention,
                          workspace, workspace_bytes, err_row, err_pos);
}
