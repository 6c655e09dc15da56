/*
 * libFuzzer harness: the masking kernels fm_mask_batch_i64 / fm_mask_batch_i32.
 *
 * Build and run: tools/fuzz.sh (clang -fsanitize=fuzzer,address,undefined over every .c file of
 * csrc, plus this file). The input's bytes choose the parameters; bulk content comes from a
 * generator seeded by the input (fuzz_common.h), so realistic batches stay cheap to describe:
 *
 *   vocabularies from 1 id to 2^31 - 1 (around 2^32 / 3 a third of the random-id draws need
 *   Lemire retries); large ones keep their tables in a reserved mapping that ends at a guard
 *   page, and draw ids from their first and last 4096 ids;
 *   up to 64 rows of up to 2048 tokens, left or right padding, garbage in the padding cells;
 *   special sets, special masks, word-start flags (including values other than 0 and 1) and
 *   word tables; every selection, unit and action mode; thresholds 0, 2^32 (probability 1) and
 *   in between; caps that bind and caps that do not; ignore_index inside the vocabulary or
 *   outside int32;
 *   row ranges with row_begin > 0, workspaces exact, larger, misaligned, short or NULL,
 *   and injected errors (an id out of range, a bad length, a sample id >= 2^48, junk
 *   configurations, NULL or inconsistent arguments).
 *
 * Each call is checked against what the header and docs/semantics.md promise, computed here
 * from the public generator (fm_stream_block, fm_bounded; fuzz_rng.c checks those against a
 * literal Philox): the status and error position; the padding cells; labels equal the original
 * id exactly at picked positions; picked tokens are never special and units are picked whole;
 * unpicked tokens keep their id; every picked token's replacement follows its ACTION word
 * (mask id, the allowed id of its bounded draw, or its own id), so random ids are in range and
 * avoid the excluded ids; uncapped Bernoulli picks exactly the units whose SELECT word is below
 * the threshold; caps and budgets hold (exactly, where the rule fixes the count); rows outside
 * the range are untouched. Then the same call on another instruction-set path, split into two
 * row ranges, with the other padding side, and with int32 arrays (checked on its own) must give
 * the same bits.
 */
#define _DEFAULT_SOURCE /* mmap flags, madvise */
#include <math.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../fastmask.h"
#include "../fm_internal.h"
#include "fuzz_common.h"

#define MAX_ROWS 64
#define MAX_WIDTH 2048
#define WINDOW 4096        /* ids of a large vocabulary: its first and last WINDOW ids */
#define SMALL_VOCAB 65536  /* up to this size the tables are exact heap blocks */
#define MAX_SPECIAL 32
#define LAB_SENTINEL 0x1234567 /* labels / attention of rows outside the range */
#define ATT_SENTINEL 0x7654321

/* ---- tables of large vocabularies --------------------------------------------------------- */

static uint8_t *big_bits_end, *big_table_end;

/* `bytes` of zero pages, reserved but not committed, followed by an inaccessible page; returns
 * the address of that page, so that a table of n bytes ending there starts at end - n. */
static uint8_t *map_region(size_t bytes)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uint8_t *p = mmap(NULL, bytes + page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        abort();
    if (mprotect(p + bytes, page, PROT_NONE) != 0)
        abort();
    return p + bytes;
}

/* Returns [a, b) of a mapped region to zero pages (and releases them). */
static void zap(uint8_t *a, uint8_t *b)
{
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    const uintptr_t lo = (uintptr_t)a & ~(page - 1);
    const uintptr_t hi = ((uintptr_t)b + page - 1) & ~(page - 1);
    madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

/* ---- configuration ------------------------------------------------------------------------ */

typedef struct setup {
    fm_config c;
    int64_t V;                   /* the vocabulary the tables cover (>= c.vocab_size if valid) */
    int64_t win;                 /* ids come from [0, win) and [V - win, V) */
    int64_t spec[MAX_SPECIAL];   /* S: sorted, distinct */
    int nspec;
    int64_t skip[MAX_SPECIAL];   /* the excluded ids as configured */
    int nskip;
    int skip_is_spec;            /* random ids must avoid S */
    uint64_t cdf[12];
    uint32_t *cum;               /* unigram table (section 8) or NULL */
    uint8_t *bits, *table;
    int mapped;
} setup;

FZ_NO_COV static int64_t draw_id(prng *g, const setup *st)
{
    if (st->V <= SMALL_VOCAB)
        return (int64_t)pr_below(g, (uint64_t)st->V);
    const int64_t u = (int64_t)pr_below(g, (uint64_t)(2 * st->win));
    return u < st->win ? u : st->V - 2 * st->win + u;
}

FZ_NO_COV static int in_sorted(const int64_t *a, int n, int64_t v)
{
    for (int i = 0; i < n; i++)
        if (a[i] == v)
            return 1;
    return 0;
}

static int sorted_set(int64_t *a, int n) /* sorts and removes repeats; returns the new size */
{
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && a[k - 1] > a[k]; k--) {
            const int64_t t = a[k];
            a[k] = a[k - 1];
            a[k - 1] = t;
        }
    int m = 0;
    for (int i = 0; i < n; i++)
        if (m == 0 || a[i] != a[m - 1])
            a[m++] = a[i];
    return m;
}

/* What fm_config_check must accept, from the header's description of each field. */
FZ_NO_COV static int config_valid(const fm_config *c)
{
    if (c->selection < 0 || c->selection > 2 || c->units < 0 || c->units > 1)
        return 0;
    if (c->action_per_unit != 0 && c->action_per_unit != 1)
        return 0;
    if (c->t_select > FZ_TWO32 || c->t_mask > FZ_TWO32 || c->t_random > FZ_TWO32 ||
        c->t_mask + c->t_random > FZ_TWO32)
        return 0;
    if (!(c->probability >= 0.0 && c->probability <= 1.0))
        return 0;
    if (c->vocab_size < 1 || c->vocab_size > 2147483647)
        return 0;
    if (c->mask_id < 0 || c->mask_id >= c->vocab_size || c->pad_id < 0 ||
        c->pad_id >= c->vocab_size || c->special_bits == NULL)
        return 0;
    if (c->n_random_skip < 0 || c->n_random_skip > c->vocab_size ||
        (c->n_random_skip > 0 && c->random_skip == NULL))
        return 0;
    for (int64_t i = 0; i < c->n_random_skip; i++)
        if (c->random_skip[i] < 0 || c->random_skip[i] >= c->vocab_size ||
            (i > 0 && c->random_skip[i] <= c->random_skip[i - 1]))
            return 0;
    if (c->random_cum != NULL) { /* unigram: nothing skipped, the total weight is R */
        if (c->n_random_skip != 0 || c->random_range < 1 ||
            c->random_cum[c->vocab_size - 1] != c->random_range)
            return 0;
    } else if (c->random_range < 1 ||
               (int64_t)c->random_range != c->vocab_size - c->n_random_skip) {
        return 0;
    }
    if (c->selection == FM_SELECT_SPAN) {
        if (c->span_cdf == NULL || c->n_span_lengths < 1)
            return 0;
        for (int32_t l = 0; l < c->n_span_lengths; l++)
            if (c->span_cdf[l] > FZ_TWO32 || (l > 0 && c->span_cdf[l] < c->span_cdf[l - 1]))
                return 0;
        if (c->span_cdf[c->n_span_lengths - 1] != FZ_TWO32)
            return 0;
    }
    return 1;
}

static int64_t pick_vocab(fz *r)
{
    switch (fz_below(r, 9)) {
    case 0:
        return 30522;
    case 1:
        return 1 + (int64_t)fz_below(r, 400);
    case 2:
        return 1 + (int64_t)fz_below(r, 16);
    case 3:
        return 1 + (int64_t)fz_below(r, SMALL_VOCAB);
    case 4:
        return 2147483647 - (int64_t)fz_below(r, 64);
    case 5:
        return 1431655766 + (int64_t)fz_below(r, 64); /* R just above 2^32 / 3 */
    case 6:
        return 2147483647;
    case 7:
        return 1 + (int64_t)fz_below(r, 1000000);
    default:
        return 1 + (int64_t)(fz_take(r, 4) % 2147483647u);
    }
}

static uint64_t pick_threshold(fz *r, uint64_t typical)
{
    switch (fz_below(r, 6)) {
    case 0:
        return typical;
    case 1:
        return FZ_TWO32; /* probability 1 */
    case 2:
        return 0;
    case 3:
        return FZ_TWO32 - fz_below(r, 4);
    case 4:
        return fz_below(r, 64);
    default:
        return fz_below(r, FZ_TWO32 + 1);
    }
}

/* n table entries: 2 with probability alone / 256, else 1 with probability starts / 256 (one
 * byte of a generator word per entry) */
FZ_NO_COV static void fill_table(prng *g, uint8_t *t, int64_t n, unsigned starts, unsigned alone)
{
    uint64_t w = 0;
    for (int64_t i = 0; i < n; i++) {
        if ((i & 7) == 0)
            w = pr_next(g);
        const unsigned b = (unsigned)(w >> (8 * (i & 7))) & 0xFFu;
        const unsigned b2 = (b * 167u + 13u) & 0xFFu; /* a second, different byte */
        t[i] = (uint8_t)(b < alone ? 2 : b2 < starts);
    }
}

/* Returns 1 when a field was made invalid on purpose. */
static int build_setup(fz *r, prng *g, setup *st)
{
    memset(st, 0, sizeof *st);
    fm_config *c = &st->c;
    const int64_t V = pick_vocab(r);
    st->V = V;
    st->win = V < WINDOW ? V : WINDOW;
    st->mapped = V > SMALL_VOCAB;

    /* S */
    int want = (int)fz_below(r, MAX_SPECIAL + 1);
    if (want > V - 1 && fz_below(r, 16) != 0)
        want = (int)(V - 1);
    for (int i = 0; i < want; i++)
        st->spec[i] = fz_below(r, 4) == 0 ? (int64_t)fz_below(r, 8) : draw_id(g, st);
    st->nspec = sorted_set(st->spec, want);
    if (st->mapped) {
        st->bits = big_bits_end - (V + 7) / 8;
        st->table = big_table_end - V;
    } else {
        st->bits = fz_alloc((size_t)(V + 7) / 8, 0);
        st->table = fz_alloc((size_t)V, 0);
    }
    for (int i = 0; i < st->nspec; i++)
        st->bits[st->spec[i] >> 3] |= (uint8_t)(1u << (st->spec[i] & 7));
    /* word table: density of word starts and stand-alone ids */
    const unsigned starts = (unsigned)fz_below(r, 257), alone = (unsigned)fz_below(r, 64);
    const int64_t nlow = st->mapped ? st->win : V;
    fill_table(g, st->table, nlow, starts, alone);
    if (st->mapped)
        fill_table(g, st->table + V - st->win, st->win, starts, alone);

    c->vocab_size = V;
    c->seed = fz_take(r, 8);
    c->epoch = (uint32_t)fz_take(r, 4);
    c->selection = (int)fz_below(r, 3);
    c->units = (int)fz_below(r, 2);
    c->action_per_unit = (int)fz_below(r, 2);
    c->t_select = pick_threshold(r, 644245094u); /* 0.15 */
    c->t_mask = pick_threshold(r, 3435973837u);  /* 0.8 */
    switch (fz_below(r, 4)) {
    case 0:
        c->t_random = FZ_TWO32 - c->t_mask; /* the two sum to exactly 1 */
        break;
    case 1:
        c->t_random = 0;
        break;
    default:
        c->t_random = fz_below(r, FZ_TWO32 - c->t_mask + 1);
    }
    switch (fz_below(r, 5)) {
    case 0:
        c->probability = 0.15;
        break;
    case 1:
        c->probability = 0.0;
        break;
    case 2:
        c->probability = 1.0;
        break;
    case 3:
        c->probability = (double)fz_below(r, 256) / 255.0;
        break;
    default:
        c->probability = (double)(fz_take(r, 8) >> 11) / 9007199254740992.0;
    }
    switch (fz_below(r, 5)) {
    case 0:
    case 1:
        c->max_predictions = -1;
        break;
    case 2:
        c->max_predictions = (int64_t)fz_below(r, 41);
        break;
    case 3:
        c->max_predictions = (int64_t)fz_below(r, 4096);
        break;
    default:
        c->max_predictions = INT64_MAX;
    }
    const int64_t any = draw_id(g, st);
    c->mask_id = st->nspec && fz_below(r, 8) ? st->spec[fz_below(r, (uint64_t)st->nspec)] : any;
    c->pad_id = st->nspec && fz_below(r, 8) ? st->spec[fz_below(r, (uint64_t)st->nspec)] : any;
    switch (fz_below(r, 8)) {
    case 7:
        c->ignore_index = c->mask_id; /* inside the vocabulary: labels are then ambiguous */
        break;
    case 1:
        c->ignore_index = (int64_t)INT32_MIN - 1 - (int64_t)fz_below(r, 4); /* not for int32 */
        break;
    case 2:
        c->ignore_index = fz_below(r, 2) ? INT32_MAX : INT32_MIN;
        break;
    case 3:
        c->ignore_index = draw_id(g, st);
        break;
    default:
        c->ignore_index = -100;
    }
    c->special_bits = st->bits;
    /* excluded ids: S (the default), none (Hugging Face's "all"), or another sorted set */
    switch (fz_below(r, 8)) {
    case 6:
        st->nskip = 0;
        break;
    case 7: {
        const int n = (int)fz_below(r, MAX_SPECIAL + 1);
        for (int i = 0; i < n && i < V; i++)
            st->skip[i] = draw_id(g, st);
        st->nskip = sorted_set(st->skip, n < V ? n : (int)V);
        break;
    }
    default:
        memcpy(st->skip, st->spec, sizeof st->spec);
        st->nskip = st->nspec;
        st->skip_is_spec = 1;
    }
    c->random_skip = st->nskip ? st->skip : NULL;
    c->n_random_skip = st->nskip;
    c->random_range = (uint32_t)(V - st->nskip);
    /* a unigram table now and then (small vocabularies): weights with zeros, none on S */
    c->random_cum = NULL;
    if (!st->mapped && fz_below(r, 6) == 5) {
        const unsigned zeros = (unsigned)fz_below(r, 256);
        const uint64_t top = 1 + fz_below(r, 65535); /* V * top < 2^32 */
        st->cum = fz_alloc((size_t)V * sizeof(uint32_t), 0);
        uint64_t total = 0;
        for (int64_t i = 0; i < V; i++) {
            const int special = (st->bits[i >> 3] >> (i & 7)) & 1;
            if (!special && !pr_chance(g, zeros))
                total += 1 + pr_below(g, top);
            st->cum[i] = (uint32_t)total;
        }
        if (total > 0) {
            st->nskip = 0;
            st->skip_is_spec = 1;
            c->random_skip = NULL;
            c->n_random_skip = 0;
            c->random_range = (uint32_t)total;
            c->random_cum = st->cum;
        }
    }
    /* span lengths: a cdf with possibly empty lengths, ending at 2^32 */
    const int m = 1 + (int)fz_below(r, 10);
    uint64_t acc = 0;
    for (int l = 0; l < m; l++) {
        acc += fz_below(r, 3) == 0 ? 0 : fz_take(r, 4) % (FZ_TWO32 / 2);
        st->cdf[l] = acc < FZ_TWO32 ? acc : FZ_TWO32;
        acc = st->cdf[l];
    }
    st->cdf[m - 1] = FZ_TWO32;
    c->span_cdf = st->cdf;
    c->n_span_lengths = m;
    c->word_table = fz_below(r, 4) ? st->table : NULL;

    if (fz_below(r, 12) != 11) /* (an input that has run out reads as zeros: valid) */
        return 0;
    /* one field made invalid (only ways that keep every buffer the size the contract asks) */
    switch (fz_below(r, 18)) {
    case 0:
        c->selection = fz_below(r, 2) ? 3 : -1;
        break;
    case 1:
        c->units = 2;
        break;
    case 2:
        c->action_per_unit = 2 + (int)fz_below(r, 3);
        break;
    case 3:
        c->t_select = FZ_TWO32 + 1 + fz_below(r, 100);
        break;
    case 4:
        c->t_mask = FZ_TWO32 - fz_below(r, 3);
        c->t_random = FZ_TWO32 - c->t_mask + 1 + fz_below(r, 3);
        break;
    case 5: {
        const uint64_t nan_bits = 0x7FF8000000000000ull | fz_take(r, 2);
        if (fz_below(r, 2))
            memcpy(&c->probability, &nan_bits, sizeof nan_bits);
        else
            c->probability = fz_below(r, 2) ? -0.01 : 1.0000001;
        break;
    }
    case 6:
        c->vocab_size = fz_below(r, 2) ? -(int64_t)fz_below(r, 3) : (int64_t)1 << 31;
        break;
    case 7:
        c->mask_id = fz_below(r, 2) ? -1 : V;
        break;
    case 8:
        c->pad_id = fz_below(r, 2) ? -1 - (int64_t)fz_below(r, 5) : V + (int64_t)fz_below(r, 5);
        break;
    case 9:
        c->special_bits = NULL;
        break;
    case 10:
        c->n_random_skip = -1 - (int64_t)fz_below(r, 3);
        break;
    case 11:
        if (st->nskip >= 2) /* out of order or repeated */
            st->skip[fz_below(r, (uint64_t)st->nskip - 1) + 1] = st->skip[0];
        else
            c->random_skip = NULL, c->n_random_skip = 1;
        break;
    case 12:
        if (st->nskip >= 1)
            st->skip[fz_below(r, (uint64_t)st->nskip)] = fz_below(r, 2) ? -1 : V;
        break;
    case 13:
        c->random_range += fz_below(r, 2) ? 1u : 0u - 1u;
        break;
    case 14:
        c->selection = FM_SELECT_SPAN;
        if (fz_below(r, 2))
            c->span_cdf = NULL;
        else
            c->n_span_lengths = 0;
        break;
    case 15:
        c->selection = FM_SELECT_SPAN;
        st->cdf[m - 1] = FZ_TWO32 - 1 - fz_below(r, 3);
        break;
    case 16:
        c->selection = FM_SELECT_SPAN;
        if (m >= 2)
            st->cdf[0] = st->cdf[1] + 1; /* decreasing (or above 2^32) */
        else
            st->cdf[0] = FZ_TWO32 + 1;
        break;
    default:
        c->n_random_skip = V + 1; /* more than the vocabulary: rejected before it is read */
        c->random_skip = st->skip;
    }
    return 1;
}

/*
 * fm_config_check_full reads the whole unigram table: it accepts the harness's table (when the
 * rest of the configuration is valid) and refuses a copy that decreases somewhere or puts weight
 * on a special id while keeping the total, which fm_config_check alone lets pass.
 */
FZ_NO_COV static void check_unigram_table(fz *r, setup *st)
{
    fm_config c = st->c;
    const int valid = config_valid(&c);
    FZ_CHECK((fm_config_check_full(&c) == FM_OK) == valid, "fm_config_check_full %d, valid=%d",
             fm_config_check_full(&c), valid);
    const int64_t V = c.vocab_size;
    if (!valid || V < 2)
        return;
    uint32_t *bad = fz_alloc((size_t)V * sizeof(uint32_t), 0);
    memcpy(bad, st->cum, (size_t)V * sizeof(uint32_t));
    const int64_t i = (int64_t)fz_below(r, (uint64_t)(V - 1)); /* never the last entry */
    int corrupted = 0;
    if (fz_below(r, 2) && bad[i] > 0) { /* a step down at i */
        bad[i] = bad[V - 1];
        corrupted = bad[i + 1] < bad[i];
    } else if (st->nspec > 0) { /* weight on a special id below the last entry */
        const int64_t sp = st->spec[fz_below(r, (uint64_t)st->nspec)];
        if (sp < V - 1 && bad[sp] < bad[V - 1]) {
            for (int64_t k = sp; k < V - 1; k++)
                if (bad[k] < bad[V - 1])
                    bad[k]++;
            corrupted = 1;
        }
    }
    c.random_cum = bad;
    FZ_CHECK(fm_config_check(&c) == FM_OK, "fm_config_check reads more than the total");
    if (corrupted)
        FZ_CHECK(fm_config_check_full(&c) == FM_ERR_ARG, "fm_config_check_full accepted a bad "
                 "unigram table (entry %lld)", (long long)i);
    free(bad);
}

static void free_setup(setup *st)
{
    if (st->mapped) {
        zap(st->bits, st->bits + (st->win + 7) / 8 + 1);
        zap(big_bits_end - (st->win + 7) / 8 - 1, big_bits_end);
        zap(st->table, st->table + st->win);
        zap(big_table_end - st->win, big_table_end);
    } else {
        free(st->bits);
        free(st->table);
    }
    free(st->cum);
}

/* ---- a batch -------------------------------------------------------------------------------- */

typedef struct tbatch {
    int64_t B, L;
    int64_t len[MAX_ROWS];
    uint64_t sid[MAX_ROWS];
    int64_t *seq;          /* row i unpadded at seq[i * L ..], min(len, L) tokens */
    uint8_t *sm_seq, *ws_seq;
    prng garbage;
} tbatch;

/* A padded layout of tb: ids (and sm, ws when the batch has them) with garbage in padding. */
typedef struct layout {
    int left;
    int64_t *ids;
    uint8_t *sm, *ws;
} layout;

FZ_NO_COV static void lay_out(tbatch *tb, int left, layout *lo)
{
    const int64_t B = tb->B, L = tb->L;
    const size_t cells = (size_t)(B * L);
    lo->left = left;
    lo->ids = fz_alloc(cells * sizeof(int64_t), 0);
    lo->sm = tb->sm_seq ? fz_alloc(cells, 0) : NULL;
    lo->ws = tb->ws_seq ? fz_alloc(cells, 0) : NULL;
    for (int64_t i = 0; i < B; i++) {
        int64_t n = tb->len[i] < 0 ? 0 : tb->len[i] > L ? L : tb->len[i];
        const int64_t off = left ? L - n : 0;
        for (int64_t col = 0; col < L; col++) {
            const size_t q = (size_t)(i * L + col);
            const int inside = col >= off && col < off + n;
            const size_t s = (size_t)(i * L + col - off);
            /* padding content is documented as ignored: anything, ids out of range included */
            lo->ids[q] = inside ? tb->seq[s] : (int64_t)pr_next(&tb->garbage) >> pr_below(&tb->garbage, 64);
            if (lo->sm)
                lo->sm[q] = inside ? tb->sm_seq[s] : (uint8_t)pr_next(&tb->garbage);
            if (lo->ws)
                lo->ws[q] = inside ? tb->ws_seq[s] : (uint8_t)pr_next(&tb->garbage);
        }
    }
}

static void free_layout(layout *lo)
{
    free(lo->ids);
    free(lo->sm);
    free(lo->ws);
}

/* error injection: what was done to the batch */
enum { INJ_NONE, INJ_ID, INJ_NEG_LEN, INJ_LONG, INJ_SID };

static int build_batch(fz *r, prng *g, const setup *st, tbatch *tb)
{
    memset(tb, 0, sizeof *tb);
    tb->garbage.s = pr_next(g);
    const int64_t B = (int64_t)(fz_below(r, 4) ? fz_below(r, 6) : fz_below(r, MAX_ROWS + 1));
    int64_t L;
    switch (fz_below(r, 5)) {
    case 0:
        L = (int64_t)fz_below(r, 17);
        break;
    case 1:
        L = (int64_t)fz_below(r, 131);
        break;
    case 2:
        L = 64 * (1 + (int64_t)fz_below(r, 32)) + (int64_t)fz_below(r, 3) - 1; /* 63..2048 */
        break;
    case 3:
        L = 512;
        break;
    default:
        L = (int64_t)fz_below(r, MAX_WIDTH + 1);
    }
    if (L > MAX_WIDTH)
        L = MAX_WIDTH;
    if (B * L > 16 * 1024 && fz_below(r, 8)) /* most large batches stay moderate in rows */
        L = 16 * 1024 / (B ? B : 1);
    tb->B = B;
    tb->L = L;
    const int len_mode = (int)fz_below(r, 4);
    for (int64_t i = 0; i < B; i++) {
        tb->len[i] = len_mode == 0   ? L
                     : len_mode == 1 ? (int64_t)pr_below(g, (uint64_t)L + 1)
                     : len_mode == 2 ? L - (int64_t)pr_below(g, (uint64_t)(L < 8 ? L + 1 : 8))
                                     : (pr_chance(g, 32) ? 0 : (int64_t)pr_below(g, (uint64_t)L + 1));
        tb->sid[i] = pr_chance(g, 16) ? FZ_TWO48 - 1 - pr_below(g, 4) : pr_next(g) >> 16;
        if (i > 0 && pr_chance(g, 16))
            tb->sid[i] = tb->sid[i - 1]; /* the same sample twice in a batch */
    }
    const size_t cells = (size_t)(B * L);
    tb->seq = fz_alloc(cells * sizeof(int64_t), 0);
    const unsigned sp_density = fz_below(r, 2) ? (unsigned)fz_below(r, 257) : 8u;
    for (size_t q = 0; q < cells; q++)
        tb->seq[q] = st->nspec && pr_chance(g, sp_density)
                         ? st->spec[pr_below(g, (uint64_t)st->nspec)]
                         : draw_id(g, st);
    if (fz_below(r, 3) == 0) {
        const unsigned d = (unsigned)fz_below(r, 257);
        tb->sm_seq = fz_alloc(cells, 0);
        for (size_t q = 0; q < cells; q++)
            tb->sm_seq[q] = pr_chance(g, d) ? (uint8_t)(1 + pr_below(g, 255)) : 0;
    }
    if (fz_below(r, 2) == 0) {
        const unsigned d = (unsigned)fz_below(r, 257), odd = (unsigned)fz_below(r, 16);
        tb->ws_seq = fz_alloc(cells, 0);
        for (size_t q = 0; q < cells; q++)
            tb->ws_seq[q] = pr_chance(g, odd) ? (uint8_t)pr_next(g) : (uint8_t)pr_chance(g, d);
    }
    /* one injected error */
    if (B == 0 || fz_below(r, 6) != 5)
        return INJ_NONE;
    const int64_t i = (int64_t)fz_below(r, (uint64_t)B);
    switch (fz_below(r, 4)) {
    case 0:
        if (tb->len[i] > 0) {
            static const int64_t bad[] = {-1, INT64_MIN, INT64_MAX, (int64_t)1 << 31,
                                          (int64_t)1 << 32, -((int64_t)1 << 31)};
            const int64_t j = (int64_t)fz_below(r, (uint64_t)tb->len[i]);
            const uint64_t k = fz_below(r, 8);
            tb->seq[i * L + j] = k < 6 ? bad[k] : st->c.vocab_size + (int64_t)fz_below(r, 3);
            return INJ_ID;
        }
        return INJ_NONE;
    case 1:
        tb->len[i] = -1 - (int64_t)fz_below(r, 3);
        return INJ_NEG_LEN;
    case 2:
        tb->len[i] = L + 1 + (int64_t)fz_below(r, 3);
        return INJ_LONG;
    default:
        tb->sid[i] = FZ_TWO48 + fz_below(r, 3);
        return INJ_SID;
    }
}

static void free_batch(tbatch *tb)
{
    free(tb->seq);
    free(tb->sm_seq);
    free(tb->ws_seq);
}

/* ---- expectations ---------------------------------------------------------------------------- */

/* The status the header promises for rows [rb, re) of layout `ids` (widened to int64). */
FZ_NO_COV static int expected_status(const setup *st, const tbatch *tb, const int64_t *ids, int left,
                           int64_t rb, int64_t re, int is32, int have_ws, const void *work,
                           size_t wsb, int64_t *er, int64_t *ep)
{
    const fm_config *c = &st->c;
    const int64_t L = tb->L;
    *er = -1;
    *ep = -1;
    if (!config_valid(c))
        return FM_ERR_ARG;
    if (rb == re)
        return FM_OK;
    if (L == 0) {
        for (int64_t i = rb; i < re; i++)
            if (tb->len[i] != 0 || tb->sid[i] >= FZ_TWO48) {
                *er = i;
                return tb->len[i] > 0 ? FM_ERR_LENGTH : FM_ERR_ARG;
            }
        return FM_OK;
    }
    if (is32 && (c->ignore_index < INT32_MIN || c->ignore_index > INT32_MAX))
        return FM_ERR_ARG;
    if (c->units == FM_UNITS_WORDS && !have_ws && c->word_table == NULL)
        return FM_ERR_ARG;
    const size_t need = fm_workspace_bytes(L);
    if (work == NULL)
        return FM_ERR_ARG;
    if (wsb < need)
        return FM_ERR_WORKSPACE;
    for (int64_t i = rb; i < re; i++) {
        const int64_t n = tb->len[i];
        *er = i;
        if (n < 0)
            return FM_ERR_ARG;
        if (n > L)
            return FM_ERR_LENGTH;
        if (tb->sid[i] >= FZ_TWO48)
            return FM_ERR_ARG;
        const int64_t off = left ? L - n : 0;
        for (int64_t j = 0; j < n; j++) {
            const int64_t y = ids[i * L + off + j];
            if (y < 0 || y >= c->vocab_size) {
                *ep = j;
                return FM_ERR_ID_RANGE;
            }
        }
    }
    *er = -1;
    return FM_OK;
}

FZ_NO_COV static uint32_t stream_word(const fm_config *c, uint64_t sid, uint32_t domain, uint32_t block,
                            int w)
{
    uint32_t out[4];
    fm_stream_block(c->seed, c->epoch, sid, domain, block, out);
    return out[w];
}

FZ_NO_COV static int64_t budget(const fm_config *c, int64_t n)
{
    int64_t k = (int64_t)nearbyint((double)n * c->probability); /* half to even */
    if (k < 1)
        k = 1;
    if (c->max_predictions >= 0 && c->max_predictions < k)
        k = c->max_predictions;
    return k;
}

/*
 * One row that the kernel reports done. x, sm, ws: the padded input row (sm, ws may be NULL);
 * o, lab, att: the padded output row (att may be NULL).
 */
FZ_NO_COV static void check_row(const setup *st, const tbatch *tb, int left, int64_t i, const int64_t *xrow,
                      const uint8_t *smrow, const uint8_t *wsrow, const int64_t *o,
                      const int64_t *lab, const int64_t *att)
{
    static uint8_t sp[MAX_WIDTH];
    static int64_t ustart[MAX_WIDTH];                  /* start of the unit of token j */
    static signed char pk[MAX_WIDTH];                  /* picked: 1, 0, -1 unknown */
    static uint32_t sel[MAX_WIDTH + 4];                /* SELECT words of the row */
    static uint8_t flag[MAX_WIDTH];                    /* word-start flag f */
    const fm_config *c = &st->c;
    const int64_t L = tb->L, n = tb->len[i], off = left ? L - n : 0;
    const uint64_t sid = tb->sid[i];
    const int64_t ig = c->ignore_index;
    for (int64_t col = 0; col < L; col++) {
        const int inside = col >= off && col < off + n;
        if (att != NULL)
            FZ_CHECK(att[col] == inside, "row %lld col %lld: attention %lld", (long long)i,
                     (long long)col, (long long)att[col]);
        if (!inside)
            FZ_CHECK(o[col] == c->pad_id && lab[col] == ig,
                     "row %lld col %lld (padding): id %lld label %lld", (long long)i,
                     (long long)col, (long long)o[col], (long long)lab[col]);
    }
    const int64_t *x = xrow + off;
    o += off;
    lab += off;
    const uint8_t *sm = smrow ? smrow + off : NULL, *ws = wsrow ? wsrow + off : NULL;

    /* special flags and units (section 6) */
    int64_t U = 0;
    for (int64_t j = 0; j < n; j++) {
        sp[j] = (uint8_t)(((st->bits[x[j] >> 3] >> (x[j] & 7)) & 1) || (sm != NULL && sm[j] != 0));
        int f = 1;
        if (c->units == FM_UNITS_WORDS)
            f = ws != NULL ? ws[j] == 1
                           : j == 0 || c->word_table[x[j]] >= 1 || c->word_table[x[j - 1]] == 2;
        flag[j] = (uint8_t)f;
        ustart[j] = -1;
        if (sp[j])
            continue;
        if (j == 0 || sp[j - 1] || f) {
            ustart[j] = j;
            U++;
        } else {
            ustart[j] = ustart[j - 1];
        }
    }

    if (c->selection == FM_SELECT_BERNOULLI)
        for (int64_t j = 0; j < n; j += 4)
            fm_stream_block(c->seed, c->epoch, sid, FM_DOMAIN_SELECT, (uint32_t)(j / 4), sel + j);

    /* picked, from the labels */
    int64_t npk = 0, nunknown = 0;
    const int ig_in_vocab = ig >= 0 && ig < c->vocab_size;
    for (int64_t j = 0; j < n; j++) {
        if (lab[j] != ig) {
            FZ_CHECK(lab[j] == x[j], "row %lld pos %lld: label %lld, id %lld", (long long)i,
                     (long long)j, (long long)lab[j], (long long)x[j]);
            FZ_CHECK(!sp[j], "row %lld pos %lld: special token %lld picked", (long long)i,
                     (long long)j, (long long)x[j]);
            pk[j] = 1;
            npk++;
        } else if (ig_in_vocab && x[j] == ig && !sp[j]) {
            pk[j] = -1;
            nunknown++;
        } else {
            pk[j] = 0;
        }
    }

    /* replacements: unpicked ids unchanged, picked ones follow their ACTION word */
    for (int64_t j = 0; j < n; j++) {
        if (pk[j] == 0) {
            FZ_CHECK(o[j] == x[j], "row %lld pos %lld: unpicked id %lld became %lld",
                     (long long)i, (long long)j, (long long)x[j], (long long)o[j]);
            continue;
        }
        const uint32_t db =
            (uint32_t)(c->units == FM_UNITS_WORDS && c->action_per_unit ? ustart[j] : j);
        const uint64_t d = stream_word(c, sid, FM_DOMAIN_ACTION, db, 0);
        int64_t want;
        if (d < c->t_mask) {
            want = c->mask_id;
        } else if (d < c->t_mask + c->t_random) {
            uint32_t rr = 0;
            const int rc = fm_bounded(c->seed, c->epoch, sid, FM_DOMAIN_ACTION, (uint32_t)j,
                                      c->random_range,
                                      stream_word(c, sid, FM_DOMAIN_ACTION, (uint32_t)j, 1), &rr);
            FZ_CHECK(rc == FM_OK && rr < c->random_range, "bounded for the random id: %d", rc);
            want = rr;
            if (c->random_cum != NULL) { /* the first id whose cumulative weight exceeds rr */
                want = 0;
                while (c->random_cum[want] <= rr)
                    want++;
                if (pk[j] == 1)
                    FZ_CHECK(c->random_cum[want] != (want ? c->random_cum[want - 1] : 0),
                             "unigram random id %lld has no weight", (long long)want);
            }
            for (int k = 0; k < st->nskip; k++)
                if (st->skip[k] <= want)
                    want++;
            if (pk[j] == 1) {
                FZ_CHECK(o[j] >= 0 && o[j] < c->vocab_size, "random id %lld out of range",
                         (long long)o[j]);
                FZ_CHECK(!in_sorted(st->skip, st->nskip, o[j]), "random id %lld excluded",
                         (long long)o[j]);
                if (st->skip_is_spec)
                    FZ_CHECK(!in_sorted(st->spec, st->nspec, o[j]), "random id %lld special",
                             (long long)o[j]);
            }
        } else {
            want = x[j];
        }
        if (pk[j] == 1)
            FZ_CHECK(o[j] == want,
                     "row %lld pos %lld (id %lld, decision %llu, t_mask %llu, t_random %llu, "
                     "units %d per-unit %d selection %d, vocab %lld, %d excluded): got %lld, "
                     "want %lld",
                     (long long)i, (long long)j, (long long)x[j], (unsigned long long)d,
                     (unsigned long long)c->t_mask, (unsigned long long)c->t_random, c->units,
                     c->action_per_unit, c->selection, (long long)c->vocab_size, st->nskip,
                     (long long)o[j], (long long)want);
        else
            FZ_CHECK(o[j] == x[j] || o[j] == want, "row %lld pos %lld: %lld", (long long)i,
                     (long long)j, (long long)o[j]);
    }

    /* units are picked whole */
    for (int64_t j = 1; j < n; j++)
        if (!sp[j] && !sp[j - 1] && ustart[j] == ustart[j - 1] && pk[j] >= 0 && pk[j - 1] >= 0)
            FZ_CHECK(pk[j] == pk[j - 1], "row %lld: unit at %lld split at %lld", (long long)i,
                     (long long)ustart[j], (long long)j);

    /* how many, and which */
    const int64_t cap = c->max_predictions;
    if (cap >= 0)
        FZ_CHECK(npk <= cap, "row %lld: %lld picked, max_predictions %lld", (long long)i,
                 (long long)npk, (long long)cap);
    if (U == 0)
        FZ_CHECK(npk == 0, "row %lld: picks without candidates", (long long)i);
    if (c->selection == FM_SELECT_BERNOULLI) {
        int64_t tot = 0;
        for (int64_t j = 0; j < n; j++)
            if (!sp[j] && sel[ustart[j]] < c->t_select)
                tot++;
        const int capped = cap >= 0 && tot > cap;
        for (int64_t j = 0; j < n; j++) {
            if (sp[j] || pk[j] < 0)
                continue;
            const int picked_by_select = sel[ustart[j]] < c->t_select;
            if (!capped)
                FZ_CHECK(pk[j] == picked_by_select,
                         "row %lld pos %lld: picked %d, SELECT says %d (t %llu)", (long long)i,
                         (long long)j, pk[j], picked_by_select,
                         (unsigned long long)c->t_select);
            else if (pk[j])
                FZ_CHECK(picked_by_select, "row %lld pos %lld: picked by the cap without SELECT",
                         (long long)i, (long long)j);
        }
        if (capped && c->units == FM_UNITS_TOKENS && nunknown == 0)
            FZ_CHECK(npk == cap, "row %lld: cap %lld, %lld picked of %lld", (long long)i,
                     (long long)cap, (long long)npk, (long long)tot);
    } else {
        const int64_t k = budget(c, n);
        FZ_CHECK(npk <= k, "row %lld: %lld picked, budget %lld", (long long)i, (long long)npk,
                 (long long)k);
        if (c->selection == FM_SELECT_EXACT && c->units == FM_UNITS_TOKENS && nunknown == 0)
            FZ_CHECK(npk == (k < U ? k : U), "row %lld: exact picked %lld of %lld, budget %lld",
                     (long long)i, (long long)npk, (long long)U, (long long)k);
    }
}

/* ---- running the kernels ---------------------------------------------------------------------- */

typedef struct result {
    int rc;
    int64_t er, ep;
    int64_t *ids, *lab, *att; /* widened to int64 */
} result;

static void free_result(result *res)
{
    free(res->ids);
    free(res->lab);
    free(res->att);
}

/* path < 0: the public entry point. The output arrays are exact-size heap blocks. */
/* With `fast` (int64 only) the configuration brings the per-id class table and the batch its
 * rows as ragged values, the real cells of rows rb..re-1 of ids holding a pattern instead. */
FZ_NO_COV static void run_kernel(int path, int is32, const setup *st, const tbatch *tb, const layout *lo,
                       int64_t rb, int64_t re, int with_att, void *work, size_t wsb,
                       int null_err, result *res, int fast)
{
    const int64_t B = tb->B, L = tb->L;
    const size_t cells = (size_t)(B * L);
    fm_config cf = st->c;
    uint8_t *classes = NULL;
    int64_t *values = NULL, *offsets = NULL;
    fm_batch b;
    memset(&b, 0, sizeof b);
    b.rows = B;
    b.width = L;
    b.lengths = tb->len;
    b.left = lo->left;
    b.special_mask = lo->sm;
    b.word_starts = lo->ws;
    b.sample_ids = tb->sid;
    res->ids = fz_alloc(cells * sizeof(int64_t), 0);
    res->lab = fz_alloc(cells * sizeof(int64_t), 0);
    res->att = with_att ? fz_alloc(cells * sizeof(int64_t), 0) : NULL;
    res->er = res->ep = 77;
    int64_t *er = null_err ? NULL : &res->er, *ep = null_err ? NULL : &res->ep;
    if (fast) {
        if (fm_config_check(&cf) == FM_OK && cf.vocab_size <= (1 << 20)) { /* memory */
            classes = fz_alloc((size_t)cf.vocab_size, 0);
            FZ_CHECK(fm_id_classes(&cf, classes) == FM_OK, "fm_id_classes");
            cf.id_class = classes;
            FZ_CHECK(fm_special_gap(&cf, &cf.special_gap_lo, &cf.special_gap_len) == FM_OK,
                     "fm_special_gap");
        }
        values = fz_alloc(cells * sizeof(int64_t) + 8, 0);
        offsets = fz_alloc((size_t)(B + 1) * sizeof(int64_t), 0);
        for (int64_t i = 0; i < B; i++) {
            const int64_t n = tb->len[i] < 0 ? 0 : tb->len[i] > L ? L : tb->len[i];
            const int64_t off = fm_row_offset(n, L, lo->left);
            memcpy(values + offsets[i], lo->ids + i * L + off, (size_t)n * sizeof(int64_t));
            offsets[i + 1] = offsets[i] + n;
        }
        b.values = values;
        b.offsets = offsets;
    }
    if (!is32) {
        int64_t *ids = res->ids, *lab = res->lab, *att = res->att;
        memcpy(ids, lo->ids, cells * sizeof(int64_t));
        for (int64_t i = rb < 0 ? 0 : rb; fast && i < re && i < B; i++) {
            const int64_t n = offsets[i + 1] - offsets[i];
            for (int64_t j = 0; j < n; j++)
                ids[i * L + fm_row_offset(n, L, lo->left) + j] = 0x3333;
        }
        for (size_t q = 0; q < cells; q++) {
            lab[q] = LAB_SENTINEL;
            if (att)
                att[q] = ATT_SENTINEL;
        }
        /* width 0: the arrays may be NULL */
        if (L == 0 && (rb & 1))
            ids = lab = att = NULL;
        res->rc = path < 0 ? fm_mask_batch_i64(&cf, &b, rb, re, ids, lab, att, work, wsb, er, ep)
                           : fm__mask_batch_i64_path(path, &cf, &b, rb, re, ids, lab, att,
                                                     work, wsb, er, ep);
    } else {
        int32_t *ids = fz_alloc(cells * sizeof(int32_t), 0);
        int32_t *lab = fz_alloc(cells * sizeof(int32_t), 0);
        int32_t *att = with_att ? fz_alloc(cells * sizeof(int32_t), 0) : NULL;
        for (size_t q = 0; q < cells; q++) {
            ids[q] = (int32_t)lo->ids[q]; /* wraps ids outside int32: a different input */
            lab[q] = LAB_SENTINEL;
            if (att)
                att[q] = ATT_SENTINEL;
        }
        res->rc = path < 0 ? fm_mask_batch_i32(&st->c, &b, rb, re, ids, lab, att, work, wsb, er, ep)
                           : fm__mask_batch_i32_path(path, &st->c, &b, rb, re, ids, lab, att,
                                                     work, wsb, er, ep);
        for (size_t q = 0; q < cells; q++) {
            res->ids[q] = ids[q];
            res->lab[q] = lab[q];
            if (att)
                res->att[q] = att[q];
        }
        free(ids);
        free(lab);
        free(att);
    }
    if (null_err)
        res->er = res->ep = -2; /* unknown */
    free(classes);
    free(values);
    free(offsets);
}

/* Checks one result against the header's promises; `in` is the input as the kernel saw it. */
FZ_NO_COV static void check_result(const setup *st, const tbatch *tb, const layout *lo, const int64_t *in,
                         int64_t rb, int64_t re, int is32, const void *work, size_t wsb,
                         const result *res)
{
    const int64_t L = tb->L;
    int64_t er, ep;
    const int want = expected_status(st, tb, in, lo->left, rb, re, is32, lo->ws != NULL, work,
                                     wsb, &er, &ep);
    FZ_CHECK(res->rc == want, "status %d, expected %d (rows %lld..%lld, %s)", res->rc, want,
             (long long)rb, (long long)re, is32 ? "int32" : "int64");
    if (res->er != -2)
        FZ_CHECK(res->er == er && res->ep == ep, "error at row %lld pos %lld, expected %lld %lld",
                 (long long)res->er, (long long)res->ep, (long long)er, (long long)ep);
    if (L == 0)
        return;
    /* rows outside [rb, re) are never written */
    for (int64_t i = 0; i < tb->B; i++) {
        if (i >= rb && i < re)
            continue;
        for (int64_t col = 0; col < L; col++) {
            const size_t q = (size_t)(i * L + col);
            FZ_CHECK(res->ids[q] == in[q] && res->lab[q] == LAB_SENTINEL &&
                         (res->att == NULL || res->att[q] == ATT_SENTINEL),
                     "row %lld outside %lld..%lld was written", (long long)i, (long long)rb,
                     (long long)re);
        }
    }
    /* rows reported done: all of them, or those before the failing row */
    int64_t done_end = rb;
    if (want == FM_OK)
        done_end = re;
    else if (er >= 0)
        done_end = er;
    for (int64_t i = rb; i < done_end; i++) {
        const size_t q = (size_t)(i * L);
        check_row(st, tb, lo->left, i, in + q, lo->sm ? lo->sm + q : NULL,
                  lo->ws ? lo->ws + q : NULL, res->ids + q, res->lab + q,
                  res->att ? res->att + q : NULL);
    }
}

/* a and b agree on status and on the cells [first, end) */
FZ_NO_COV static void same_result(const result *a, const result *b, size_t first, size_t end,
                        const char *what)
{
    FZ_CHECK(a->rc == b->rc, "%s: status %d vs %d", what, a->rc, b->rc);
    if (a->er != -2 && b->er != -2)
        FZ_CHECK(a->er == b->er && a->ep == b->ep, "%s: error position", what);
    if (a->rc != FM_OK)
        return;
    for (size_t q = first; q < end; q++)
        FZ_CHECK(a->ids[q] == b->ids[q] && a->lab[q] == b->lab[q] &&
                     (a->att == NULL || b->att == NULL || a->att[q] == b->att[q]),
                 "%s: cell %zu differs (%lld/%lld vs %lld/%lld)", what, q, (long long)a->ids[q],
                 (long long)a->lab[q], (long long)b->ids[q], (long long)b->lab[q]);
}

/* ---- NULL and inconsistent arguments ------------------------------------------------------- */

static void fuzz_arguments(fz *r)
{
    static uint8_t bits[2] = {1, 0}; /* id 0 special */
    fm_config c;
    memset(&c, 0, sizeof c);
    c.t_select = FZ_TWO32;
    c.t_mask = FZ_TWO32;
    c.vocab_size = 10;
    c.max_predictions = -1;
    c.ignore_index = -100;
    c.special_bits = bits;
    c.random_range = 10;
    int64_t len[2] = {3, 2};
    uint64_t sid[2] = {5, 6};
    int64_t ids[8] = {1, 2, 3, 0, 4, 5, 0, 0}, lab[8], att[8];
    size_t wsb = fm_workspace_bytes(4);
    void *work = fz_alloc(wsb, 0);
    fm_batch b = {.rows = 2, .width = 4, .lengths = len, .sample_ids = sid};
    int64_t rb = 0, re = 2;
    const fm_config *cp = &c;
    const fm_batch *bp = &b;
    int64_t *idp = ids, *labp = lab;
    const uint64_t which = fz_below(r, 14);
    int want = FM_ERR_ARG;
    switch (which) {
    case 0:
        cp = NULL;
        break;
    case 1:
        bp = NULL;
        break;
    case 2:
        b.rows = -1 - (int64_t)fz_below(r, 3);
        break;
    case 3:
        b.width = -1;
        break;
    case 4:
        b.width = ((int64_t)1 << 30) + 1 + (int64_t)fz_below(r, 3);
        break;
    case 5:
        rb = -1;
        break;
    case 6:
        rb = 2, re = 1;
        break;
    case 7:
        re = 3;
        break;
    case 8:
        b.lengths = NULL;
        break;
    case 9:
        b.sample_ids = NULL;
        break;
    case 10:
        idp = NULL;
        break;
    case 11:
        labp = NULL;
        break;
    case 12: /* rows x width does not fit: rejected before anything is touched */
        b.rows = (int64_t)1 << 40;
        b.width = (int64_t)1 << 30;
        re = 1;
        break;
    default:
        c.units = FM_UNITS_WORDS; /* no word starts and no table */
    }
    if (which >= 8 && which <= 11 && fz_below(r, 2)) {
        rb = re = 1; /* an empty range returns before looking at the arrays */
        want = FM_OK;
    }
    int64_t er = 9, ep = 9;
    int path = (int)fz_below(r, FM_PATH_COUNT + 1) - 1; /* -1: the public entry point */
    if (path >= 0 && !fm__path_available(path))
        path = -1;
    const int rc = path < 0 ? fm_mask_batch_i64(cp, bp, rb, re, idp, labp, att, work, wsb, &er, &ep)
                            : fm__mask_batch_i64_path(path, cp, bp, rb, re, idp, labp, att, work,
                                                      wsb, &er, &ep);
    FZ_CHECK(rc == want, "argument case %llu: status %d, expected %d", (unsigned long long)which,
             rc, want);
    FZ_CHECK(er == -1 && ep == -1, "argument case %llu: error position %lld %lld",
             (unsigned long long)which, (long long)er, (long long)ep);
    /* a path that does not exist */
    FZ_CHECK(fm__mask_batch_i64_path(FM_PATH_COUNT, &c, &b, 0, 2, ids, lab, att, work, wsb, NULL,
                                     NULL) == FM_ERR_ARG,
             "unknown path accepted");
    {
        int32_t i32[8] = {0}, l32[8];
        FZ_CHECK(fm__mask_batch_i32_path(-1, &c, &b, 0, 2, i32, l32, NULL, work, wsb, NULL,
                                         NULL) == FM_ERR_ARG,
                 "unknown path accepted (int32)");
    }
    /* fm_config_check and fm_workspace_bytes at their edges */
    FZ_CHECK(fm_config_check(NULL) == FM_ERR_ARG, "config_check(NULL)");
    FZ_CHECK(fm_workspace_bytes(-1) == 0 && fm_workspace_bytes(((int64_t)1 << 30) + 1) == 0,
             "workspace_bytes of a bad width");
    free(work);
}

/* ---- the harness ------------------------------------------------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (big_bits_end == NULL) {
        big_bits_end = map_region((size_t)1 << 28); /* bits of 2^31 ids */
        big_table_end = map_region((size_t)1 << 31);
    }
    fz r = fz_init(data, size);
    if (fz_below(&r, 16) == 15) {
        fuzz_arguments(&r);
        return 0;
    }
    prng g = {fz_take(&r, 8)};
    setup st;
    const int junk = build_setup(&r, &g, &st);
    FZ_CHECK((fm_config_check(&st.c) == FM_OK) == config_valid(&st.c),
             "fm_config_check %d, expected valid=%d (junk %d)", fm_config_check(&st.c),
             config_valid(&st.c), junk);
    if (st.c.random_cum != NULL)
        check_unigram_table(&r, &st);
    tbatch tb;
    build_batch(&r, &g, &st, &tb);
    const int64_t B = tb.B, L = tb.L;
    const size_t cells = (size_t)(B * L);
    int64_t rb = 0, re = B;
    if (fz_below(&r, 2)) {
        rb = (int64_t)fz_below(&r, (uint64_t)B + 1);
        re = rb + (int64_t)fz_below(&r, (uint64_t)(B - rb) + 1);
    }
    layout lo;
    lay_out(&tb, (int)fz_below(&r, 2), &lo);

    /* workspace: exact, larger, misaligned, short or NULL; content is garbage */
    const size_t need = fm_workspace_bytes(L);
    size_t wsb = need, shift = 0;
    uint8_t *block = NULL;
    switch (fz_below(&r, 8)) {
    case 0:
        wsb = need + fz_below(&r, 200);
        break;
    case 1:
        shift = 1 + fz_below(&r, 63);
        break;
    case 2:
        wsb = need - 1 - fz_below(&r, need);
        break;
    case 3:
        if (fz_below(&r, 4) == 0)
            wsb = 0;
        break;
    default:
        break;
    }
    const int null_ws = fz_below(&r, 32) == 31;
    block = fz_alloc(wsb + shift, 0xA5);
    void *work = null_ws ? NULL : block + shift;
    const int with_att = fz_below(&r, 4) != 0;
    const int null_err = fz_below(&r, 16) == 15;

    /* 1. the public entry point, checked against the promises */
    result pub;
    run_kernel(-1, 0, &st, &tb, &lo, rb, re, with_att, work, wsb, null_err, &pub, 0);
    check_result(&st, &tb, &lo, lo.ids, rb, re, 0, work, wsb, &pub);

    /* 2. an instruction-set path (one per call, chosen by the input; the public entry point uses
     * the best one): the same bits */
    {
        int path = (int)fz_below(&r, FM_PATH_COUNT);
        if (!fm__path_available(path))
            path = FM_PATH_SCALAR;
        result other;
        run_kernel(path, 0, &st, &tb, &lo, rb, re, with_att, work, wsb, 0, &other, 0);
        same_result(&pub, &other, 0, cells, fm__path_name(path));
        free_result(&other);
        /* 2b. the same with the class table and the rows given ragged */
        result fast;
        run_kernel(path, 0, &st, &tb, &lo, rb, re, with_att, work, wsb, 0, &fast, 1);
        same_result(&pub, &fast, 0, cells, "class table + ragged rows");
        free_result(&fast);
    }

    if (pub.rc == FM_OK && re - rb >= 2 && fz_below(&r, 2) == 0) {
        /* 3. two row ranges, as the threaded split runs them, on one set of arrays */
        const int64_t mid = rb + 1 + (int64_t)fz_below(&r, (uint64_t)(re - rb - 1));
        fm_batch b = {.rows = B, .width = L, .lengths = tb.len, .left = lo.left,
                      .special_mask = lo.sm, .word_starts = lo.ws, .sample_ids = tb.sid};
        int64_t *ids = fz_alloc(cells * sizeof(int64_t), 0);
        int64_t *lab = fz_alloc(cells * sizeof(int64_t), 0);
        int64_t *att = fz_alloc(cells * sizeof(int64_t), 0);
        memcpy(ids, lo.ids, cells * sizeof(int64_t));
        const int path = (int)fz_below(&r, FM_PATH_COUNT);
        const int usable = fm__path_available(path) ? path : FM_PATH_SCALAR;
        const int r2 = fm__mask_batch_i64_path(usable, &st.c, &b, mid, re, ids, lab, att, work,
                                               wsb, NULL, NULL);
        const int r1 = fm__mask_batch_i64_path(usable, &st.c, &b, rb, mid, ids, lab, att, work,
                                               wsb, NULL, NULL);
        FZ_CHECK(r1 == FM_OK && r2 == FM_OK, "split at row %lld: %d %d", (long long)mid, r1, r2);
        for (size_t q = (size_t)(rb * L); q < (size_t)(re * L); q++)
            FZ_CHECK(ids[q] == pub.ids[q] && lab[q] == pub.lab[q] &&
                         (pub.att == NULL || att[q] == pub.att[q]),
                     "split at row %lld: cell %zu differs", (long long)mid, q);
        free(ids);
        free(lab);
        free(att);
    }

    if (pub.rc == FM_OK && fz_below(&r, 2) == 0) {
        /* 4. the other padding side: the same tokens and labels at the same positions */
        layout lo2;
        lay_out(&tb, !lo.left, &lo2);
        result side;
        run_kernel(-1, 0, &st, &tb, &lo2, rb, re, with_att, work, wsb, 0, &side, 0);
        check_result(&st, &tb, &lo2, lo2.ids, rb, re, 0, work, wsb, &side);
        for (int64_t i = rb; i < re && side.rc == FM_OK; i++) {
            const int64_t n = tb.len[i];
            const int64_t o1 = lo.left ? L - n : 0, o2 = lo2.left ? L - n : 0;
            for (int64_t j = 0; j < n; j++)
                FZ_CHECK(pub.ids[i * L + o1 + j] == side.ids[i * L + o2 + j] &&
                             pub.lab[i * L + o1 + j] == side.lab[i * L + o2 + j],
                         "row %lld pos %lld depends on the padding side", (long long)i,
                         (long long)j);
        }
        free_result(&side);
        free_layout(&lo2);
    }

    /* 5. int32 arrays on a chosen path, checked on their own (their input wraps ids that do
     * not fit in int32), and equal to the int64 result when the inputs agree */
    {
        int path = (int)fz_below(&r, FM_PATH_COUNT + 1) - 1; /* -1: public */
        if (path >= 0 && !fm__path_available(path))
            path = -1;
        int64_t *in32 = fz_alloc(cells * sizeof(int64_t), 0);
        for (size_t q = 0; q < cells; q++)
            in32[q] = (int32_t)lo.ids[q];
        int same_input = 1; /* over the real tokens of the rows in the range */
        for (int64_t i = rb; i < re; i++) {
            const int64_t n = tb.len[i] < 0 || tb.len[i] > L ? 0 : tb.len[i];
            const int64_t o1 = lo.left ? L - n : 0;
            for (int64_t j = 0; j < n; j++)
                same_input &= in32[i * L + o1 + j] == lo.ids[i * L + o1 + j];
        }
        result r32;
        run_kernel(path, 1, &st, &tb, &lo, rb, re, with_att, work, wsb, 0, &r32, 0);
        check_result(&st, &tb, &lo, in32, rb, re, 1, work, wsb, &r32);
        if (same_input && st.c.ignore_index >= INT32_MIN && st.c.ignore_index <= INT32_MAX &&
            pub.er != -2)
            same_result(&pub, &r32, (size_t)(rb * L), (size_t)(re * L), "int32");
        free_result(&r32);
        free(in32);
    }

    free_result(&pub);
    free(block);
    free_layout(&lo);
    free_batch(&tb);
    free_setup(&st);
    return 0;
}
