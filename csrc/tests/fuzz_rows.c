/*
 * libFuzzer harness: the row-layout and word-start functions of the C core,
 *
 *   fm_word_starts_from_ids, fm_word_starts_from_spans, fm_word_starts_from_table (words.c),
 *   fm_pad_cells_{i64,i32,u8} and fm_attention_{i64,i32,u8} (pad.c, fm_rows_impl.h),
 *   fm_lengths_of_mask_{i64,i32,u8} and fm_unpad (the way back from a padded batch).
 *
 * Build and run: tools/fuzz.sh. Ragged batches of up to 64 rows and widths up to 2048, with
 * rows around the width (so that truncation matters) and both padding sides. Word ids come in
 * runs, with None (negative) tokens and extreme values; spans follow a text with gaps, empty
 * spans, (0, 0) specials and a second text that starts again at 0, and now and then a span that
 * is invalid (start < 0, end < start); tables hold 0/1/2 and other bytes, ids sometimes fall
 * outside them. Arguments are broken the documented ways (NULL arrays, negative sizes, offsets
 * that start below 0 or go back, rows x width that overflows, NULL error pointers).
 *
 * Each call is compared with a model written from the header's description (fastmask.h and
 * docs/semantics.md, section 6), not from the implementation: the status, the error row and
 * position, every cell of the rows done before an error, and for fm_pad_cells that the cells
 * holding tokens are left as they were.
 */
#include "../fastmask.h"
#include "fuzz_common.h"

#define MAX_ROWS 64
#define MAX_WIDTH 2048
#define SENTINEL 0xA5

enum { K_IDS, K_SPANS, K_TABLE, K_PAD_CELLS, K_ATTENTION, K_MASK_LENGTHS, K_UNPAD, K_KINDS };

typedef struct batch {
    int64_t rows, width;         /* as allocated */
    int64_t offsets[MAX_ROWS + 1];
    int64_t nvals;
    int64_t *vals;               /* word ids, ids, or 2 * nvals span ends */
    int64_t lengths[MAX_ROWS];   /* for pad_cells / attention: any int64 */
    uint8_t *table;
    int64_t table_size;
} batch;

/* the arguments as passed (some broken on purpose) */
typedef struct args {
    int64_t rows, width;
    int left, truncate;
    int have_values, have_offsets, have_out, have_table, have_lengths;
} args;

/* ---- inputs -------------------------------------------------------------------------------- */

FZ_NO_COV static void make_word_ids(prng *g, batch *b, unsigned odd)
{
    int64_t w = (int64_t)pr_below(g, 5);
    for (int64_t q = 0; q < b->nvals; q++) {
        if (pr_chance(g, 90))
            w += 1 + (int64_t)pr_below(g, 2);
        int64_t v = w;
        if (pr_chance(g, 20))
            v = -1; /* None */
        if (pr_chance(g, odd)) {
            static const int64_t ext[] = {INT64_MIN, INT64_MAX, -2, 0, (int64_t)1 << 62};
            v = ext[pr_below(g, 5)];
        }
        b->vals[q] = v;
    }
}

FZ_NO_COV static void make_spans(prng *g, batch *b, unsigned odd)
{
    int64_t pos = 0;
    for (int64_t q = 0; q < b->nvals; q++) {
        int64_t s, e;
        const uint64_t kind = pr_below(g, 16);
        if (kind == 0) { /* a special */
            s = e = 0;
        } else if (kind == 1) { /* the second text of a pair */
            pos = 0;
            s = 0;
            e = 1 + (int64_t)pr_below(g, 4);
        } else {
            s = pos + (pr_chance(g, 100) ? 1 : 0); /* a gap (a space) or none */
            e = s + (kind == 2 ? 0 : 1 + (int64_t)pr_below(g, 5));
        }
        if (e > pos)
            pos = e;
        if (pr_chance(g, odd)) { /* invalid, or extreme but valid */
            switch (pr_below(g, 4)) {
            case 0:
                s = -1 - (int64_t)pr_below(g, 3);
                break;
            case 1:
                e = s - 1;
                break;
            case 2:
                s = INT64_MAX - (int64_t)pr_below(g, 2);
                e = INT64_MAX;
                break;
            default:
                e = INT64_MAX;
            }
        }
        b->vals[2 * q] = s;
        b->vals[2 * q + 1] = e;
    }
}

FZ_NO_COV static void make_table_ids(prng *g, batch *b, unsigned odd)
{
    for (int64_t t = 0; t < b->table_size; t++) {
        const uint64_t k = pr_below(g, 8);
        b->table[t] = (uint8_t)(k < 3 ? 0 : k < 6 ? 1 : k == 6 ? 2 : pr_next(g));
    }
    for (int64_t q = 0; q < b->nvals; q++) {
        int64_t v = (int64_t)pr_below(g, b->table_size > 0 ? (uint64_t)b->table_size : 1);
        if (pr_chance(g, odd)) {
            static const int64_t ext[] = {-1, INT64_MIN, INT64_MAX};
            v = pr_chance(g, 128) ? ext[pr_below(g, 3)] : b->table_size + (int64_t)pr_below(g, 2);
        }
        b->vals[q] = v;
    }
}

/* ---- the model ----------------------------------------------------------------------------- */

/* Word-start flag of token j >= 1 of a row (q: its item index), section 6. */
FZ_NO_COV static uint8_t flag_of(int kind, const batch *b, int64_t q)
{
    const int64_t *v = b->vals;
    if (kind == K_IDS)
        return v[q] < 0 || v[q] != v[q - 1];
    if (kind == K_SPANS) {
        const int64_t s = v[2 * q], e = v[2 * q + 1], ps = v[2 * q - 2], pe = v[2 * q - 1];
        return s > pe || s < ps || (ps == 0 && pe == 0) || s == e;
    }
    const uint8_t tv = b->table[v[q]], prev = b->table[v[q - 1]];
    return tv != 0 || prev == 2;
}

/*
 * Status and error slots of a word-start call; want[] receives the rows before the error
 * (all of them on success), 0 at padding.
 */
FZ_NO_COV static int model_words(int kind, const batch *b, const args *a, uint8_t *want,
                                 int64_t *er, int64_t *ep)
{
    *er = *ep = -1;
    const int64_t rows = a->rows, width = a->width;
    if (rows < 0 || width < 0)
        return FM_ERR_ARG;
    if (rows > 0) {
        if (!a->have_offsets || b->offsets[0] < 0)
            return FM_ERR_ARG;
        if (width > 0 && (rows > INT64_MAX / width || !a->have_out))
            return FM_ERR_ARG;
        for (int64_t i = 0; i < rows; i++)
            if (b->offsets[i + 1] < b->offsets[i]) {
                *er = i;
                return FM_ERR_ARG;
            }
        if (!a->have_values && b->offsets[rows] > b->offsets[0])
            return FM_ERR_ARG;
    }
    if (kind == K_TABLE && !a->have_table && b->table_size > 0)
        return FM_ERR_ARG;
    for (int64_t i = 0; i < rows; i++) {
        const int64_t first = b->offsets[i], total = b->offsets[i + 1] - first;
        if (kind == K_SPANS)
            for (int64_t j = 0; j < total; j++) {
                const int64_t s = b->vals[2 * (first + j)], e = b->vals[2 * (first + j) + 1];
                if (s < 0 || e < s) {
                    *er = i;
                    *ep = j;
                    return FM_ERR_SPAN;
                }
            }
        if (total > width && !a->truncate) {
            *er = i;
            return FM_ERR_LENGTH;
        }
        const int64_t n = total < width ? total : width;
        if (kind == K_TABLE)
            for (int64_t j = 0; j < n; j++)
                if (b->vals[first + j] < 0 || b->vals[first + j] >= b->table_size) {
                    *er = i;
                    *ep = j;
                    return FM_ERR_ID_RANGE;
                }
        const int64_t off = a->left ? width - n : 0;
        for (int64_t col = 0; col < width; col++) {
            const int64_t j = col - off;
            uint8_t f = 0;
            if (j == 0 && n > 0)
                f = 1;
            else if (j > 0 && j < n)
                f = flag_of(kind, b, first + j);
            want[i * width + col] = f;
        }
    }
    return FM_OK;
}

/* fm_pad_cells / fm_attention: the status; want[] the expected cells, keep[] set where a cell
 * must be left as it was. */
FZ_NO_COV static int model_rows(int kind, const batch *b, const args *a, int64_t pad,
                                int64_t *want, uint8_t *keep)
{
    const int64_t rows = a->rows, width = a->width;
    if (rows < 0 || width < 0 || (rows > 0 && !a->have_lengths))
        return FM_ERR_ARG;
    if (rows == 0 || width == 0)
        return FM_OK;
    if (!a->have_out || rows > INT64_MAX / width)
        return FM_ERR_ARG;
    for (int64_t i = 0; i < rows; i++) {
        const int64_t len = b->lengths[i];
        const int64_t n = len < 0 ? 0 : len > width ? width : len;
        const int64_t off = a->left ? width - n : 0;
        for (int64_t col = 0; col < width; col++) {
            const int inside = col >= off && col < off + n;
            want[i * width + col] = kind == K_ATTENTION ? inside : pad;
            keep[i * width + col] = kind == K_PAD_CELLS && inside;
        }
    }
    return FM_OK;
}

/* ---- one case ------------------------------------------------------------------------------ */

FZ_NO_COV static int64_t cell(const void *out, int esz, size_t q)
{
    return esz == 8 ? ((const int64_t *)out)[q]
           : esz == 4 ? ((const int32_t *)out)[q]
                      : ((const uint8_t *)out)[q];
}

/* the byte pattern SENTINEL read as a cell of esz bytes */
FZ_NO_COV static int64_t sentinel_cell(int esz)
{
    uint8_t raw[8];
    memset(raw, SENTINEL, sizeof raw);
    return cell(raw, esz, 0);
}

FZ_NO_COV static void draw_shape(fz *r, prng *g, batch *b)
{
    b->rows = (int64_t)(fz_below(r, 2) ? fz_below(r, 6) : fz_below(r, MAX_ROWS + 1));
    /* the width: narrow, moderate, or anything up to MAX_WIDTH (two choices in four) */
    static const uint64_t width_bound[4] = {17, 300, MAX_WIDTH + 1, MAX_WIDTH + 1};
    b->width = (int64_t)fz_below(r, width_bound[fz_below(r, 4)]);
    const int64_t maxlen = b->width + 4 + (int64_t)fz_below(r, 8);
    b->offsets[0] = fz_below(r, 4) ? 0 : (int64_t)fz_below(r, 5);
    for (int64_t i = 0; i < b->rows; i++) {
        b->offsets[i + 1] = b->offsets[i] + (int64_t)pr_below(g, (uint64_t)maxlen + 1);
        const uint64_t k = pr_below(g, 16);
        b->lengths[i] = k == 0   ? -(int64_t)pr_below(g, 3) - 1
                        : k == 1 ? INT64_MAX - (int64_t)pr_below(g, 2)
                        : k == 2 ? INT64_MIN
                                 : (int64_t)pr_below(g, (uint64_t)maxlen + 1);
    }
    b->nvals = b->rows ? b->offsets[b->rows] : 0;
    /* offsets that start below 0 or go back (after nvals is fixed: never read past it) */
    if (b->rows > 0 && fz_below(r, 16) == 15) {
        if (fz_below(r, 2))
            b->offsets[0] = -1 - (int64_t)fz_below(r, 3);
        else
            b->offsets[1 + fz_below(r, (uint64_t)b->rows)] = -1;
    }
}

/* breaks one argument now and then: a NULL array, a negative size, an overflowing width */
FZ_NO_COV static void draw_args(fz *r, const batch *b, args *a)
{
    a->rows = b->rows;
    a->width = b->width;
    a->left = (int)fz_below(r, 2);
    a->truncate = (int)fz_below(r, 2);
    a->have_values = a->have_offsets = a->have_out = a->have_table = a->have_lengths = 1;
    /* choices 17 .. 21 each drop one array (pass NULL), in this order */
    int *const drop[] = {&a->have_values, &a->have_offsets, &a->have_out, &a->have_table,
                         &a->have_lengths};
    const int ndrop = (int)(sizeof drop / sizeof drop[0]);
    const int choice = (int)fz_below(r, 24);
    if (choice >= 17 && choice < 17 + ndrop)
        *drop[choice - 17] = 0;
    switch (choice) {
    case 22:
        if (fz_below(r, 2))
            a->rows = -1 - (int64_t)fz_below(r, 2);
        else
            a->width = -1;
        break;
    case 23: /* rows x width overflows: refused before anything is read or written */
        if (b->rows > 1)
            a->width = INT64_MAX / b->rows + 1 + (int64_t)fz_below(r, 1000);
        break;
    default:
        break;
    }
}

FZ_NO_COV static void check_words(int kind, const batch *b, const args *a, int null_err,
                                  const uint8_t *out, int rc, int64_t er, int64_t ep)
{
    uint8_t *want = fz_alloc((size_t)(b->rows * b->width), 0);
    int64_t wer, wep;
    const int wrc = model_words(kind, b, a, want, &wer, &wep);
    FZ_CHECK(rc == wrc, "word starts %d: status %d, expected %d", kind, rc, wrc);
    if (!null_err)
        FZ_CHECK(er == wer && (kind == K_IDS || ep == wep),
                 "word starts %d: error at %lld/%lld, expected %lld/%lld", kind, (long long)er,
                 (long long)ep, (long long)wer, (long long)wep);
    int64_t done = 0;
    if (wrc == FM_OK)
        done = a->rows;
    else if (wrc != FM_ERR_ARG && wer >= 0)
        done = wer;
    if (a->rows != b->rows || a->width != b->width)
        done = 0;
    for (int64_t q = 0; q < done * b->width; q++)
        FZ_CHECK(out[q] == want[q], "word starts %d: row %lld col %lld: %u, expected %u", kind,
                 (long long)(q / b->width), (long long)(q % b->width), out[q], want[q]);
    free(want);
}

FZ_NO_COV static void check_rows(int kind, int esz, const batch *b, const args *a, int64_t pad,
                                 const void *out, int rc)
{
    int64_t *want = fz_alloc((size_t)(b->rows * b->width) * sizeof(int64_t), 0);
    uint8_t *keep = fz_alloc((size_t)(b->rows * b->width), 0);
    const int wrc = model_rows(kind, b, a, pad, want, keep);
    FZ_CHECK(rc == wrc, "rows %d (%d-byte cells): status %d, expected %d", kind, esz, rc, wrc);
    const int64_t untouched = sentinel_cell(esz);
    const int64_t cells = b->rows * b->width;
    for (int64_t q = 0; out != NULL && q < cells; q++) {
        const int written = wrc == FM_OK && a->rows == b->rows && a->width == b->width;
        const int64_t expect = !written || keep[q] ? untouched : want[q];
        FZ_CHECK(cell(out, esz, (size_t)q) == expect,
                 "rows %d (%d-byte cells): row %lld col %lld: %lld, expected %lld", kind, esz,
                 (long long)(q / b->width), (long long)(q % b->width),
                 (long long)cell(out, esz, (size_t)q), (long long)expect);
    }
    free(keep);
    free(want);
}

/* One cell of an esz-byte integer array, as a number (uint8 cells are unsigned). */
FZ_NO_COV static int64_t cell_at(const void *p, int esz, size_t q)
{
    return esz == 8   ? ((const int64_t *)p)[q]
           : esz == 4 ? (int64_t)((const int32_t *)p)[q]
                      : (int64_t)((const uint8_t *)p)[q];
}

/* fm_lengths_of_mask_*: masks with each row's ones at its side, now and then a cell broken (a
 * 2, a -1, a flipped bit); the model follows the header. */
FZ_NO_COV static void run_mask_lengths(fz *r, prng *g, const batch *b, const args *a,
                                       unsigned odd)
{
    const int esz = (int)(fz_below(r, 3) == 0 ? 1 : fz_below(r, 2) ? 8 : 4);
    const size_t cells = (size_t)(b->rows * b->width);
    void *mask = fz_alloc(cells * (size_t)esz + 1, 0);
    for (int64_t i = 0; i < b->rows; i++) {
        const int64_t n = (int64_t)pr_below(g, (uint64_t)b->width + 1);
        const int64_t off = a->left ? b->width - n : 0;
        for (int64_t c = off; c < off + n; c++) {
            const size_t q = (size_t)(i * b->width + c);
            if (esz == 8)
                ((int64_t *)mask)[q] = 1;
            else if (esz == 4)
                ((int32_t *)mask)[q] = 1;
            else
                ((uint8_t *)mask)[q] = 1;
        }
    }
    if (cells > 0 && pr_chance(g, odd + 1)) {
        const size_t q = (size_t)pr_below(g, cells);
        const int64_t v = pr_below(g, 3) == 0 ? 2 : pr_below(g, 2) ? -1 : !cell_at(mask, esz, q);
        if (esz == 8)
            ((int64_t *)mask)[q] = v;
        else if (esz == 4)
            ((int32_t *)mask)[q] = (int32_t)v;
        else
            ((uint8_t *)mask)[q] = (uint8_t)v;
    }
    int64_t *len = a->have_lengths ? fz_alloc((size_t)(b->rows + 1) * sizeof(int64_t), SENTINEL)
                                   : NULL;
    const void *m = a->have_out ? mask : NULL;
    int64_t er = 5, ep = 5;
    const int rc = esz == 8   ? fm_lengths_of_mask_i64(m, a->rows, a->width, a->left, len, &er, &ep)
                   : esz == 4 ? fm_lengths_of_mask_i32(m, a->rows, a->width, a->left, len, &er, &ep)
                              : fm_lengths_of_mask_u8(m, a->rows, a->width, a->left, len, &er, &ep);
    /* the model */
    int want = FM_OK;
    int64_t wr = -1, wp = -1;
    if (a->rows < 0 || a->width < 0 || (a->rows > 0 && len == NULL))
        want = FM_ERR_ARG;
    else if (a->rows > 0 && a->width > 0 && (m == NULL || a->rows > INT64_MAX / a->width))
        want = FM_ERR_ARG;
    if (want == FM_OK && a->rows > 0 && a->width > 0) {
        for (int64_t i = 0; i < a->rows && wr < 0; i++) {
            int64_t n = 0;
            for (int64_t c = 0; c < a->width; c++)
                n += cell_at(mask, esz, (size_t)(i * a->width + c)) == 1;
            const int64_t off = a->left ? a->width - n : 0;
            for (int64_t c = 0; c < a->width && wr < 0; c++) {
                const int64_t v = cell_at(mask, esz, (size_t)(i * a->width + c));
                if (v != 0 && v != 1) {
                    wr = i;
                    wp = c;
                }
            }
            for (int64_t c = 0; c < a->width && wr < 0; c++)
                if ((cell_at(mask, esz, (size_t)(i * a->width + c)) == 1) !=
                    (c >= off && c < off + n)) {
                    wr = i;
                    wp = c;
                }
            if (wr < 0)
                FZ_CHECK(len[i] == n, "mask lengths: row %lld has %lld, want %lld", (long long)i,
                         (long long)len[i], (long long)n);
        }
        if (wr >= 0)
            want = FM_ERR_ARG;
    } else if (want == FM_OK) {
        for (int64_t i = 0; i < a->rows; i++)
            FZ_CHECK(len[i] == 0, "mask lengths: empty rows have length 0");
    }
    FZ_CHECK(rc == want && er == wr && ep == wp,
             "mask lengths: status %d at (%lld, %lld), want %d at (%lld, %lld)", rc,
             (long long)er, (long long)ep, want, (long long)wr, (long long)wp);
    free(len);
    free(mask);
}

/* fm_unpad: random padded cells of 1, 2, 4 or 8 bytes, the batch's lengths (any int64, so some
 * outside [0, width]); the output must be the rows' cells in order, and nothing after them. */
FZ_NO_COV static void run_unpad(fz *r, const batch *b, const args *a)
{
    static const int sizes[4] = {1, 2, 4, 8};
    const int esz = sizes[fz_below(r, 4)];
    const size_t cells = (size_t)(b->rows * b->width);
    uint8_t *src = fz_alloc(cells * (size_t)esz + 1, 0);
    for (size_t q = 0; q < cells * (size_t)esz; q++)
        src[q] = (uint8_t)(q * 131 + 7);
    const int64_t *len = a->have_lengths ? b->lengths : NULL;
    int valid = a->rows >= 0 && a->width >= 0 && (a->rows == 0 || len != NULL);
    int64_t total = 0;
    for (int64_t i = 0; valid && i < a->rows; i++) {
        valid = len[i] >= 0 && len[i] <= a->width;
        total += valid ? len[i] : 0;
    }
    const int empty = a->rows == 0 || a->width == 0;
    if (valid && !empty && (!a->have_values || a->rows > INT64_MAX / a->width ||
                            a->width > INT64_MAX / esz / a->rows))
        valid = 0;
    const size_t out_bytes = valid ? (size_t)total * (size_t)esz : 0;
    uint8_t *out = fz_alloc(out_bytes + 16, SENTINEL);
    const int rc = fm_unpad(a->have_values ? src : NULL, esz, a->rows, a->width, len, a->left, out);
    FZ_CHECK(rc == (valid ? FM_OK : FM_ERR_ARG), "unpad: status %d, valid %d", rc, valid);
    if (rc == FM_OK) {
        size_t at = 0;
        for (int64_t i = 0; i < a->rows; i++) {
            const int64_t off = a->left ? a->width - len[i] : 0;
            const size_t from = (size_t)(i * a->width + off) * (size_t)esz;
            FZ_CHECK(memcmp(out + at, src + from, (size_t)len[i] * (size_t)esz) == 0,
                     "unpad: row %lld differs", (long long)i);
            at += (size_t)len[i] * (size_t)esz;
        }
        for (size_t q = at; q < at + 16; q++)
            FZ_CHECK(out[q] == SENTINEL, "unpad writes past its rows");
    }
    free(out);
    free(src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz r = fz_init(data, size);
    prng g = {fz_take(&r, 8)};
    const int kind = (int)fz_below(&r, K_KINDS);
    batch b;
    memset(&b, 0, sizeof b);
    draw_shape(&r, &g, &b);
    args a;
    draw_args(&r, &b, &a);
    const unsigned odd = fz_below(&r, 2) ? 0u : (unsigned)fz_below(&r, 8);
    const size_t cells = (size_t)(b.rows * b.width);

    if (kind == K_MASK_LENGTHS) {
        run_mask_lengths(&r, &g, &b, &a, odd);
        return 0;
    }
    if (kind == K_UNPAD) {
        run_unpad(&r, &b, &a);
        return 0;
    }
    if (kind == K_PAD_CELLS || kind == K_ATTENTION) {
        const int esz = (int)(fz_below(&r, 3) == 0 ? 1 : fz_below(&r, 2) ? 8 : 4);
        int64_t pad = (int64_t)fz_take(&r, 8);
        pad = esz == 1 ? (uint8_t)pad : esz == 4 ? (int32_t)pad : pad;
        void *out = a.have_out ? fz_alloc(cells * (size_t)esz, SENTINEL) : NULL;
        const int64_t *len = a.have_lengths ? b.lengths : NULL;
        int rc;
        if (kind == K_PAD_CELLS)
            rc = esz == 8   ? fm_pad_cells_i64(out, len, a.rows, a.width, a.left, pad)
                 : esz == 4 ? fm_pad_cells_i32(out, len, a.rows, a.width, a.left, (int32_t)pad)
                            : fm_pad_cells_u8(out, len, a.rows, a.width, a.left, (uint8_t)pad);
        else
            rc = esz == 8   ? fm_attention_i64(out, len, a.rows, a.width, a.left)
                 : esz == 4 ? fm_attention_i32(out, len, a.rows, a.width, a.left)
                            : fm_attention_u8(out, len, a.rows, a.width, a.left);
        check_rows(kind, esz, &b, &a, pad, out, rc);
        free(out);
        return 0;
    }

    b.vals = fz_alloc((size_t)b.nvals * (kind == K_SPANS ? 2 : 1) * sizeof(int64_t), 0);
    if (kind == K_IDS) {
        make_word_ids(&g, &b, odd);
    } else if (kind == K_SPANS) {
        make_spans(&g, &b, odd);
    } else {
        b.table_size = fz_below(&r, 8) == 0 ? (int64_t)fz_below(&r, 3) : 1 + (int64_t)fz_below(&r, 70000);
        b.table = fz_alloc((size_t)b.table_size, 0);
        make_table_ids(&g, &b, odd);
    }
    const int null_err = fz_below(&r, 8) == 7;
    uint8_t *out = a.have_out ? fz_alloc(cells, SENTINEL) : NULL;
    int64_t er = 5, ep = 5;
    int64_t *erp = null_err ? NULL : &er, *epp = null_err ? NULL : &ep;
    const int64_t *vals = a.have_values ? b.vals : NULL, *offs = a.have_offsets ? b.offsets : NULL;
    int rc;
    if (kind == K_IDS)
        rc = fm_word_starts_from_ids(vals, offs, a.rows, a.width, a.left, a.truncate, out, erp);
    else if (kind == K_SPANS)
        rc = fm_word_starts_from_spans(vals, offs, a.rows, a.width, a.left, a.truncate, out, erp,
                                       epp);
    else
        rc = fm_word_starts_from_table(a.have_table ? b.table : NULL, b.table_size, vals, offs,
                                       a.rows, a.width, a.left, a.truncate, out, erp, epp);
    check_words(kind, &b, &a, null_err, out, rc, er, ep);
    free(out);
    free(b.vals);
    free(b.table);
    return 0;
}
