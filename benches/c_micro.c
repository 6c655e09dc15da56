/*
 * Micro-benchmark of the fastmask C kernels on a BERT-like batch: 256 rows, width 512, lengths
 * uniform in [180, 512] (about 88k real tokens), vocabulary 30522, [CLS] ... [SEP] rows,
 * 15 % Bernoulli, 80/10/10.
 *
 *   cc -std=c11 -O3 -I csrc csrc/stream.c csrc/mask.c csrc/pad.c csrc/words.c benches/c_micro.c -o /tmp/c_micro && /tmp/c_micro
 *
 * Optional arguments: rows width iterations [filter] (only configurations whose label
 * contains the filter string run). The kernel masks in place, so each iteration first
 * restores the ids with memcpy (not timed), then times the mask ("mask": median and minimum;
 * ns/token divides the median by the number of real tokens). "ragged" is the whole path from
 * ragged rows: the kernel copies them into the padded array as it masks (median). The epoch
 * changes from run to run, so every run draws a different mask.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fastmask.h"
#include "fm_internal.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t rs = 0x243F6A8885A308D3ull;
static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return v[n / 2];
}

typedef struct bench {
    const char *filter;
    int64_t B, L, total;
    int64_t *lengths, *offsets;
    uint64_t *sids;
    int64_t *ragged, *src, *ids, *labels, *att;
    int32_t *ids32, *src32, *labels32, *att32;
    uint8_t *word_starts;
    void *ws;
    size_t wsb;
    int iters;
} bench;

/* timings of one configuration on one path: median seconds of the mask, and of the mask from
 * ragged rows */
static void run(bench *b, const fm_config *cfg_in, int path, int is32, int use_flags,
                const char *label)
{
    fm_config cfgv = *cfg_in; /* the epoch changes every run: fresh draws, as in training */
    const fm_config *cfg = &cfgv;
    if (b->filter != NULL && strstr(label, b->filter) == NULL)
        return;
    /* the per-id class table, as the Python layer passes it */
    uint8_t *classes = malloc((size_t)cfgv.vocab_size);
    if (fm_id_classes(&cfgv, classes) == FM_OK)
        cfgv.id_class = classes;
    fm_special_gap(&cfgv, &cfgv.special_gap_lo, &cfgv.special_gap_len);
    fm_batch fb;
    memset(&fb, 0, sizeof fb);
    fb.rows = b->B;
    fb.width = b->L;
    fb.lengths = b->lengths;
    fb.left = 0;
    fb.special_mask = NULL;
    fb.word_starts = use_flags ? b->word_starts : NULL;
    fb.sample_ids = b->sids;
    const size_t cells = (size_t)(b->B * b->L);
    double *tm = malloc(sizeof(double) * (size_t)b->iters);
    double *tp = malloc(sizeof(double) * (size_t)b->iters);
    int64_t er, ep;
    int rc = 0;
    for (int it = -3; it < b->iters; it++) { /* 3 warm-up rounds */
        cfgv.epoch = (uint32_t)(it + 3);
        /* restore the input (not timed), then time the mask alone */
        if (is32)
            memcpy(b->ids32, b->src32, cells * sizeof(int32_t));
        else
            memcpy(b->ids, b->src, cells * sizeof(int64_t));
        const double t0 = now();
        if (is32)
            rc |= fm__mask_batch_i32_path(path, cfg, &fb, 0, b->B, b->ids32, b->labels32,
                                          b->att32, b->ws, b->wsb, &er, &ep);
        else
            rc |= fm__mask_batch_i64_path(path, cfg, &fb, 0, b->B, b->ids, b->labels, b->att,
                                          b->ws, b->wsb, &er, &ep);
        const double t1 = now();
        /* the whole path from ragged rows: the kernel copies them into ids as it masks */
        if (!is32) {
            fm_batch rb = fb;
            rb.values = b->ragged;
            rb.offsets = b->offsets;
            rc |= fm__mask_batch_i64_path(path, cfg, &rb, 0, b->B, b->ids, b->labels, b->att,
                                          b->ws, b->wsb, &er, &ep);
        }
        const double t2 = now();
        if (it >= 0) {
            tm[it] = t1 - t0;
            tp[it] = t2 - t1;
        }
    }
    if (rc != 0) {
        printf("%-34s %-8s error %d\n", label, fm__path_name(path), rc);
        return;
    }
    const double mask = median(tm, b->iters), mask_min = tm[0]; /* sorted by median() */
    const double p = median(tp, b->iters);
    printf("%-34s %-8s %8.3f ms %8.3f ms %6.2f ns/tok", label, fm__path_name(path), 1e3 * mask,
           1e3 * mask_min, 1e9 * mask / (double)b->total);
    if (!is32)
        printf(" %8.3f ms", 1e3 * p);
    printf("\n");
    free(tm);
    free(tp);
    free(classes);
}

int main(int argc, char **argv)
{
    bench b;
    memset(&b, 0, sizeof b);
    b.B = argc > 1 ? atoll(argv[1]) : 256;
    b.L = argc > 2 ? atoll(argv[2]) : 512;
    b.iters = argc > 3 ? atoi(argv[3]) : 200;
    b.filter = argc > 4 ? argv[4] : NULL;
    const int64_t V = 30522, PAD = 0, UNK = 100, CLS = 101, SEP = 102, MASK = 103;
    const size_t cells = (size_t)(b.B * b.L);

    b.lengths = malloc(sizeof(int64_t) * (size_t)b.B);
    b.offsets = malloc(sizeof(int64_t) * (size_t)(b.B + 1));
    b.sids = malloc(sizeof(uint64_t) * (size_t)b.B);
    b.offsets[0] = 0;
    const int64_t lo = b.L * 180 / 512;
    for (int64_t i = 0; i < b.B; i++) {
        b.lengths[i] = lo + (int64_t)(rnd() % (uint64_t)(b.L - lo + 1));
        b.offsets[i + 1] = b.offsets[i] + b.lengths[i];
        b.sids[i] = 1000 + (uint64_t)i;
    }
    b.total = b.offsets[b.B];
    b.ragged = malloc(sizeof(int64_t) * (size_t)b.total);
    b.src = malloc(sizeof(int64_t) * cells);
    b.ids = malloc(sizeof(int64_t) * cells);
    b.labels = malloc(sizeof(int64_t) * cells);
    b.att = malloc(sizeof(int64_t) * cells);
    b.src32 = malloc(sizeof(int32_t) * cells);
    b.ids32 = malloc(sizeof(int32_t) * cells);
    b.labels32 = malloc(sizeof(int32_t) * cells);
    b.att32 = malloc(sizeof(int32_t) * cells);
    b.word_starts = malloc(cells);
    /* word table: ids >= 20000 continue a word ("##" pieces, ~25 % of tokens here) */
    uint8_t *table = malloc((size_t)V);
    for (int64_t id = 0; id < V; id++)
        table[id] = id >= 20000 ? 0 : 1;
    for (int64_t i = 0; i < b.B; i++) {
        int64_t *row = b.ragged + b.offsets[i];
        for (int64_t j = 0; j < b.lengths[i]; j++) {
            const uint64_t x = rnd();
            row[j] = x % 4 == 0 ? 20000 + (int64_t)(x >> 8) % (V - 20000)
                                : 1000 + (int64_t)(x >> 8) % 19000;
        }
        row[0] = CLS;
        row[b.lengths[i] - 1] = SEP;
    }
    int64_t er, ep;
    fm_pad_i64_i64(b.ragged, b.offsets, b.B, b.L, 0, 0, PAD, V, b.src, NULL, &er, &ep);
    for (size_t q = 0; q < cells; q++) {
        b.src32[q] = (int32_t)b.src[q];
        b.word_starts[q] = table[b.src[q]];
    }

    uint8_t bits[(30522 + 7) / 8];
    memset(bits, 0, sizeof bits);
    const int64_t specials[5] = {PAD, UNK, CLS, SEP, MASK};
    for (int k = 0; k < 5; k++)
        bits[specials[k] >> 3] |= (uint8_t)(1u << (specials[k] & 7));
    uint64_t geo[10];
    {
        double w[10], s = 0, acc = 0;
        for (int l = 0; l < 10; l++) {
            w[l] = 0.2 * (l == 0 ? 1.0 : w[l - 1] / 0.2 * 0.8);
            s += w[l];
        }
        for (int l = 0; l < 9; l++) {
            acc += w[l] / s;
            geo[l] = (uint64_t)(acc * 4294967296.0 + 0.5);
        }
        geo[9] = (uint64_t)1 << 32;
    }
    /* BERT's recipe: select 15% of the tokens; of those, 80% [MASK], 10% random, 10% kept */
    fm_config cfg = {
        .seed = 1234,
        .selection = FM_SELECT_BERNOULLI,
        .units = FM_UNITS_TOKENS,
        .probability = 0.15,
        .t_select = 644245094,  /* round(0.15 * 2^32) */
        .t_mask = 3435973837u,  /* round(0.8 * 2^32) */
        .t_random = 429496730,  /* round(0.1 * 2^32) */
        .max_predictions = -1,
        .vocab_size = V,
        .mask_id = MASK,
        .pad_id = PAD,
        .ignore_index = -100,
        .special_bits = bits,
        .random_skip = specials, /* sorted */
        .n_random_skip = 5,
        .random_range = (uint32_t)(V - 5),
        .span_cdf = geo,
        .n_span_lengths = 10,
        .word_table = table,
    };
    if (fm_config_check(&cfg) != FM_OK) {
        printf("bad config\n");
        return 1;
    }
    b.wsb = fm_workspace_bytes(b.L);
    b.ws = malloc(b.wsb);

    printf("batch %lld x %lld, %lld real tokens; median of %d runs\n", (long long)b.B,
           (long long)b.L, (long long)b.total, b.iters);
    printf("%-34s %-8s %11s %11s %13s %11s\n", "configuration", "path", "mask", "mask (min)",
           "mask/token", "ragged");
    const int best = fm__path_best();
    for (int path = 0; path < FM_PATH_COUNT; path++) {
        if (!fm__path_available(path))
            continue;
        run(&b, &cfg, path, 0, 0, path == best ? "tokens bernoulli int64 (default)"
                                               : "tokens bernoulli int64");
    }
    run(&b, &cfg, best, 1, 0, "tokens bernoulli int32");
    fm_config c2 = cfg;
    c2.units = FM_UNITS_WORDS;
    run(&b, &c2, best, 0, 0, "words (table) bernoulli int64");
    run(&b, &c2, best, 0, 1, "words (flags) bernoulli int64");
    c2.action_per_unit = 1;
    run(&b, &c2, best, 0, 0, "words (table) per-unit 80/10/10");
    c2 = cfg;
    c2.max_predictions = 20;
    run(&b, &c2, best, 0, 0, "tokens bernoulli cap 20");
    c2 = cfg;
    c2.selection = FM_SELECT_EXACT;
    run(&b, &c2, best, 0, 0, "tokens exact");
    c2.units = FM_UNITS_WORDS;
    run(&b, &c2, best, 0, 0, "words (table) exact");
    c2.selection = FM_SELECT_SPAN;
    run(&b, &c2, best, 0, 0, "words (table) span geometric");
    return 0;
}
