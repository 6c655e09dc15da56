/*
 * libFuzzer harness for the fastmask C core.
 *
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -I csrc \
 *         csrc/fastmask.c csrc/tests/fuzz_fastmask.c -o /tmp/fuzz_fastmask
 *   /tmp/fuzz_fastmask -max_total_time=60
 *
 * The input bytes become a configuration (any values: the checks must reject the bad ones),
 * a batch (ids, lengths, sample ids, special masks and word starts with arbitrary content) and
 * ragged rows for the padding functions. Buffer *sizes* follow the API contract (the bitset
 * covers the vocabulary, arrays hold rows x width cells, the workspace has the size asked for);
 * everything else is whatever the fuzzer makes of it. Beyond "no crash, no sanitizer report",
 * a successful call is checked against the same call on the scalar path and with int32
 * outputs: the results must be identical, and the padding laid out as documented.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../fastmask.h"
#include "../fm_internal.h"

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static uint64_t take(reader *r, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) {
        v |= (uint64_t)(r->n ? *r->p : 0) << (8 * i);
        if (r->n) {
            r->p++;
            r->n--;
        }
    }
    return v;
}

static void *zalloc(size_t n) { return calloc(n ? n : 1, 1); }

#define FUZZ_ASSERT(c)                                                                       \
    do {                                                                                     \
        if (!(c))                                                                            \
            abort();                                                                         \
    } while (0)

static void fuzz_mask(reader *r)
{
    fm_config c;
    memset(&c, 0, sizeof c);
    const int64_t V = 1 + (int64_t)take(r, 2) % 5000;
    c.seed = take(r, 8);
    c.epoch = (uint32_t)take(r, 4);
    c.selection = (int)(take(r, 1) % 4); /* 3: invalid */
    c.units = (int)(take(r, 1) % 3);
    c.action_per_unit = (int)(take(r, 1) % 3);
    const uint64_t tk = take(r, 1);
    c.t_select = tk & 1 ? take(r, 5) : take(r, 4);
    c.t_mask = tk & 2 ? take(r, 5) : take(r, 4);
    c.t_random = tk & 4 ? take(r, 5) : take(r, 4);
    {
        const uint64_t bits = take(r, 8);
        if (tk & 8)
            memcpy(&c.probability, &bits, sizeof bits); /* any double, NaN included */
        else
            c.probability = (double)(bits % 1001) / 1000.0;
    }
    c.max_predictions = (int64_t)(take(r, 1) % 40) - 5;
    c.vocab_size = V;
    if (tk & 16) { /* sometimes out of range, sometimes smaller than the tables (both fine) */
        const uint64_t x = take(r, 4);
        c.vocab_size = x % 3 == 0   ? -(int64_t)(x >> 2)
                       : x % 3 == 1 ? ((int64_t)1 << 31) + (int64_t)(x >> 2)
                                    : 1 + (int64_t)(x >> 2) % V;
    }
    c.mask_id = (int64_t)take(r, 2) - 100;
    c.pad_id = (int64_t)take(r, 2) - 100;
    c.ignore_index = tk & 32 ? (int64_t)take(r, 8) : -100;
    /* the bitset and tables cover V >= vocab_size ids (the contract); a vocab_size out of
     * range must be rejected before they are read */
    uint8_t *bits = zalloc((size_t)(V + 7) / 8);
    for (int64_t i = 0; i < (V + 7) / 8; i++)
        bits[i] = (uint8_t)(take(r, 1) & take(r, 1));
    c.special_bits = take(r, 1) % 16 ? bits : NULL;
    const int64_t nskip = (int64_t)take(r, 1) % 20;
    int64_t *skip = zalloc((size_t)(nskip + 1) * sizeof(int64_t));
    int64_t acc = (int64_t)take(r, 1) - 3;
    for (int64_t i = 0; i < nskip; i++) {
        acc += (int64_t)(take(r, 1) % 40) - 1; /* mostly increasing, sometimes not */
        skip[i] = acc;
    }
    c.random_skip = nskip ? skip : NULL;
    c.n_random_skip = nskip;
    c.random_range = (uint32_t)(take(r, 1) % 8 ? (uint64_t)(V - nskip) : take(r, 4));
    const int32_t m = (int32_t)(take(r, 1) % 12);
    uint64_t *cdf = zalloc((size_t)(m + 1) * sizeof(uint64_t));
    uint64_t cacc = 0;
    for (int32_t l = 0; l < m; l++) {
        cacc += take(r, 4);
        cdf[l] = cacc;
    }
    if (m > 0 && take(r, 1) % 4)
        cdf[m - 1] = (uint64_t)1 << 32;
    c.span_cdf = take(r, 1) % 8 ? cdf : NULL;
    c.n_span_lengths = m;
    uint8_t *table = zalloc((size_t)V);
    for (int64_t i = 0; i < V; i++)
        table[i] = (uint8_t)(take(r, 1) % 4);
    c.word_table = take(r, 1) % 4 ? table : NULL;
    const int cfg_ok = fm_config_check(&c) == FM_OK;
    if (cfg_ok) /* what the checks promise */
        FUZZ_ASSERT(c.vocab_size <= V && c.special_bits != NULL && c.random_range >= 1);

    /* batch */
    const int64_t B = (int64_t)take(r, 1) % 6;
    const int64_t L = (int64_t)take(r, 2) % 300;
    const size_t cells = (size_t)(B * L);
    int64_t *len = zalloc((size_t)(B + 1) * sizeof(int64_t));
    uint64_t *sid = zalloc((size_t)(B + 1) * sizeof(uint64_t));
    for (int64_t i = 0; i < B; i++) {
        const uint64_t x = take(r, 2);
        len[i] = x & 0x8000 ? (int64_t)(x % 7) - 3 + L : (int64_t)(x % (uint64_t)(L + 1));
        sid[i] = take(r, 1) % 16 ? take(r, 6) : take(r, 8);
    }
    int64_t *ids = zalloc(cells * sizeof(int64_t));
    const uint64_t idmode = take(r, 1);
    for (size_t q = 0; q < cells; q++) {
        const uint64_t x = take(r, 2);
        ids[q] = idmode % 8 ? (int64_t)(x % (uint64_t)V) : (int64_t)x - 1000; /* some >= vocab */
    }
    uint8_t *sm = NULL, *ws = NULL;
    if (take(r, 1) % 3 == 0) {
        sm = zalloc(cells);
        for (size_t q = 0; q < cells; q++)
            sm[q] = (uint8_t)(take(r, 1) % 8 == 0);
    }
    if (take(r, 1) % 2 == 0) {
        ws = zalloc(cells);
        for (size_t q = 0; q < cells; q++)
            ws[q] = (uint8_t)(take(r, 1) % 3);
    }
    fm_batch b;
    b.rows = B;
    b.width = L;
    b.lengths = len;
    b.left = (int)(take(r, 1) & 1);
    b.special_mask = sm;
    b.word_starts = ws;
    b.sample_ids = sid;
    const size_t wsb = fm_workspace_bytes(L);
    void *work = zalloc(wsb);

    int64_t *o64 = zalloc(cells * sizeof(int64_t)), *l64 = zalloc(cells * sizeof(int64_t));
    int64_t *a64 = zalloc(cells * sizeof(int64_t));
    memcpy(o64, ids, cells * sizeof(int64_t));
    int64_t er = 0, ep = 0;
    const int rc = fm_mask_batch_i64(&c, &b, 0, B, o64, l64, a64, work, wsb, &er, &ep);
    if (!cfg_ok)
        FUZZ_ASSERT(rc == FM_ERR_ARG);
    if (rc == FM_ERR_ID_RANGE) {
        const int64_t n = len[er], off = b.left ? L - n : 0;
        FUZZ_ASSERT(er >= 0 && er < B && ep >= 0 && ep < n);
        const int64_t y = ids[er * L + off + ep];
        FUZZ_ASSERT(y < 0 || y >= c.vocab_size);
    }
    if (rc == FM_OK) {
        /* padding layout */
        for (int64_t i = 0; i < B; i++) {
            const int64_t n = len[i], off = b.left ? L - n : 0;
            for (int64_t col = 0; col < L; col++) {
                const size_t q = (size_t)(i * L + col);
                const int inside = col >= off && col < off + n;
                FUZZ_ASSERT(a64[q] == inside);
                if (!inside)
                    FUZZ_ASSERT(o64[q] == c.pad_id && l64[q] == c.ignore_index);
                else if (l64[q] != c.ignore_index) /* picked: label = original id */
                    FUZZ_ASSERT(l64[q] == ids[q] && o64[q] >= 0 && o64[q] < c.vocab_size);
                else if (c.ignore_index < 0 || c.ignore_index >= c.vocab_size) /* not picked */
                    FUZZ_ASSERT(o64[q] == ids[q]);
            }
        }
        /* the scalar path gives the same bits */
        int64_t *s64 = zalloc(cells * sizeof(int64_t)), *sl = zalloc(cells * sizeof(int64_t));
        int64_t *sa = zalloc(cells * sizeof(int64_t));
        memcpy(s64, ids, cells * sizeof(int64_t));
        FUZZ_ASSERT(fm__mask_batch_i64_path(FM_PATH_SCALAR, &c, &b, 0, B, s64, sl, sa, work, wsb,
                                            &er, &ep) == FM_OK);
        FUZZ_ASSERT(memcmp(s64, o64, cells * sizeof(int64_t)) == 0);
        FUZZ_ASSERT(memcmp(sl, l64, cells * sizeof(int64_t)) == 0);
        /* and so do int32 outputs */
        if (c.ignore_index >= INT32_MIN && c.ignore_index <= INT32_MAX) {
            int32_t *i32 = zalloc(cells * sizeof(int32_t)), *l32 = zalloc(cells * sizeof(int32_t));
            for (size_t q = 0; q < cells; q++)
                i32[q] = (int32_t)ids[q]; /* real ids are in [0, V): exact */
            FUZZ_ASSERT(fm_mask_batch_i32(&c, &b, 0, B, i32, l32, NULL, work, wsb, &er, &ep) ==
                        FM_OK);
            for (size_t q = 0; q < cells; q++)
                FUZZ_ASSERT(i32[q] == o64[q] && l32[q] == l64[q]);
            free(i32);
            free(l32);
        }
        free(s64);
        free(sl);
        free(sa);
    }
    free(o64);
    free(l64);
    free(a64);
    free(work);
    free(ids);
    free(sm);
    free(ws);
    free(len);
    free(sid);
    free(bits);
    free(skip);
    free(cdf);
    free(table);
}

static void fuzz_pad(reader *r)
{
    const int64_t rows = (int64_t)take(r, 1) % 6;
    int64_t offsets[8];
    offsets[0] = (int64_t)take(r, 1) % 4 - (take(r, 1) % 16 == 0);
    for (int64_t i = 0; i < rows; i++)
        offsets[i + 1] = offsets[i] + (int64_t)(take(r, 1) % 50) - (take(r, 1) % 16 == 0);
    const int64_t total = rows ? offsets[rows] : 0;
    const int64_t width = (int64_t)take(r, 1) % 60;
    const int left = (int)(take(r, 1) & 1), truncate = (int)(take(r, 1) & 1);
    const int64_t vocab = (int64_t)take(r, 2) - 10;
    const int64_t pad = (int64_t)take(r, 8);
    const int64_t nvals = total > 0 ? total : 0;
    int64_t *v64 = zalloc((size_t)nvals * sizeof(int64_t));
    int32_t *v32 = zalloc((size_t)nvals * sizeof(int32_t));
    uint8_t *v8 = zalloc((size_t)nvals);
    for (int64_t q = 0; q < nvals; q++) {
        v64[q] = (int64_t)take(r, 8);
        v32[q] = (int32_t)v64[q];
        v8[q] = (uint8_t)v64[q];
    }
    /* offsets may be negative or decreasing: those must be rejected before any read */
    int ok_offsets = offsets[0] >= 0;
    for (int64_t i = 0; i < rows; i++)
        ok_offsets &= offsets[i + 1] >= offsets[i];
    const int64_t *off = offsets;
    const size_t cells = (size_t)(rows * width);
    int64_t *o64 = zalloc(cells * sizeof(int64_t));
    int32_t *o32 = zalloc(cells * sizeof(int32_t));
    uint8_t *o8 = zalloc(cells);
    int64_t lens[8], er, ep;
    const int r1 = fm_pad_i64_i64(v64, off, rows, width, left, truncate, pad, vocab, o64, lens,
                                  &er, &ep);
    const int r2 = fm_pad_i32_i64(v32, off, rows, width, left, truncate, pad, vocab, o64, lens,
                                  &er, &ep);
    const int r3 = fm_pad_i64_i32(v64, off, rows, width, left, truncate, pad, vocab, o32, lens,
                                  &er, &ep);
    const int r4 = fm_pad_i32_i32(v32, off, rows, width, left, truncate, pad, vocab, o32, lens,
                                  &er, &ep);
    const int r5 = fm_pad_u8(v8, off, rows, width, left, truncate, (uint8_t)pad, o8, &er);
    if (!ok_offsets && rows > 0)
        FUZZ_ASSERT(r1 == FM_ERR_ARG && r2 == FM_ERR_ARG && r3 == FM_ERR_ARG &&
                    r4 == FM_ERR_ARG && r5 == FM_ERR_ARG);
    free(v64);
    free(v32);
    free(v8);
    free(o64);
    free(o32);
    free(o8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size};
    if (take(&r, 1) % 8 == 0)
        fuzz_pad(&r);
    else
        fuzz_mask(&r);
    return 0;
}
