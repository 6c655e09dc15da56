/*
 * libFuzzer harness: the padding functions fm_pad_i64_i64, fm_pad_i32_i64, fm_pad_i64_i32,
 * fm_pad_i32_i32 and fm_pad_u8.
 *
 * Build and run: tools/fuzz.sh. Ragged batches of up to 64 rows and widths up to 2048 (values,
 * offsets and garbage from a generator seeded by the input); offsets that start below 0, go
 * back, or are NULL; values outside the vocabulary or outside the output type; vocab_size <= 0
 * (no range check); pad ids that the output type cannot hold; NULL outputs, NULL lengths_out,
 * NULL error pointers; rows x width that overflows. Every call is compared with a literal model
 * of the header's description: the status, the error row and position, the whole output of
 * the rows before an error (the rest is unspecified), and lengths_out.
 */
#include "../fastmask.h"
#include "fuzz_common.h"

#define MAX_ROWS 64
#define MAX_WIDTH 2048

typedef struct ragged {
    int64_t rows, width;
    int64_t offsets[MAX_ROWS + 1];
    int64_t nvals;
    int64_t *v64;
    int32_t *v32;
    uint8_t *v8;
} ragged;

/* The model: status, error row / position, and the expected output (int64 cells). */
FZ_NO_COV static int model(const ragged *g, int in32, int out32, int is_u8, int truncate, int left,
                 int64_t pad, int64_t vocab, int have_values, int have_offsets, int have_out,
                 int64_t *want, int64_t *lens, int64_t *er, int64_t *ep)
{
    const int64_t rows = g->rows, width = g->width;
    *er = -1;
    *ep = -1;
    const int64_t omin = out32 ? INT32_MIN : INT64_MIN, omax = out32 ? INT32_MAX : INT64_MAX;
    if (rows < 0 || width < 0)
        return FM_ERR_ARG;
    if (rows == 0) /* nothing to read; a pad id the output cannot hold is still an error */
        return !is_u8 && (pad < omin || pad > omax) ? FM_ERR_ARG : FM_OK;
    if (!have_offsets || g->offsets[0] < 0)
        return FM_ERR_ARG;
    if (width > 0 && (rows > INT64_MAX / width || !have_out))
        return FM_ERR_ARG;
    for (int64_t i = 0; i < rows; i++)
        if (g->offsets[i + 1] < g->offsets[i]) {
            *er = i;
            return FM_ERR_ARG;
        }
    if (!have_values && g->offsets[rows] > g->offsets[0])
        return FM_ERR_ARG;
    if (!is_u8 && (pad < omin || pad > omax))
        return FM_ERR_ARG;
    int64_t lo = omin, hi = omax;
    if (!is_u8 && vocab > 0) {
        lo = 0;
        hi = vocab - 1 < omax ? vocab - 1 : omax;
    }
    for (int64_t i = 0; i < rows; i++) {
        int64_t n = g->offsets[i + 1] - g->offsets[i];
        if (n > width) {
            if (!truncate) {
                *er = i;
                return FM_ERR_LENGTH;
            }
            n = width;
        }
        const int64_t off = left ? width - n : 0;
        for (int64_t col = 0; col < width; col++) {
            int64_t v = is_u8 ? (uint8_t)pad : pad;
            if (col >= off && col < off + n) {
                const int64_t q = g->offsets[i] + col - off;
                v = is_u8 ? g->v8[q] : in32 ? g->v32[q] : g->v64[q];
                if (!is_u8 && (v < lo || v > hi)) {
                    *er = i;
                    *ep = col - off;
                    return FM_ERR_ID_RANGE;
                }
            }
            want[i * width + col] = v;
        }
        lens[i] = n;
    }
    return FM_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz r = fz_init(data, size);
    prng g = {fz_take(&r, 8)};
    ragged rg;
    memset(&rg, 0, sizeof rg);
    rg.rows = (int64_t)(fz_below(&r, 2) ? fz_below(&r, 6) : fz_below(&r, MAX_ROWS + 1));
    switch (fz_below(&r, 4)) {
    case 0:
        rg.width = (int64_t)fz_below(&r, 17);
        break;
    case 1:
        rg.width = (int64_t)fz_below(&r, 300);
        break;
    default:
        rg.width = (int64_t)fz_below(&r, MAX_WIDTH + 1);
    }
    /* row lengths around the width, so truncation matters */
    const int64_t maxlen = rg.width + 4 + (int64_t)fz_below(&r, 8);
    rg.offsets[0] = fz_below(&r, 4) ? 0 : (int64_t)fz_below(&r, 5);
    for (int64_t i = 0; i < rg.rows; i++)
        rg.offsets[i + 1] = rg.offsets[i] + (int64_t)pr_below(&g, (uint64_t)maxlen + 1);
    rg.nvals = rg.rows ? rg.offsets[rg.rows] : 0;
    /* bad offsets: start below 0, or one step back (after nvals is fixed: never read past) */
    if (rg.rows > 0 && fz_below(&r, 16) == 15) {
        if (fz_below(&r, 2))
            rg.offsets[0] = -1 - (int64_t)fz_below(&r, 3);
        else
            rg.offsets[1 + fz_below(&r, (uint64_t)rg.rows)] = -1;
    }
    int64_t vocab;
    switch (fz_below(&r, 6)) {
    case 0:
        vocab = -(int64_t)fz_below(&r, 3); /* <= 0: no range check */
        break;
    case 1:
        vocab = 2147483647;
        break;
    case 2:
        vocab = (int64_t)1 << 40; /* above int32: the int32 outputs still check their range */
        break;
    default:
        vocab = 1 + (int64_t)fz_below(&r, 70000);
    }
    const unsigned bad = fz_below(&r, 2) ? 0u : (unsigned)fz_below(&r, 8);
    rg.v64 = fz_alloc((size_t)rg.nvals * sizeof(int64_t), 0);
    rg.v32 = fz_alloc((size_t)rg.nvals * sizeof(int32_t), 0);
    rg.v8 = fz_alloc((size_t)rg.nvals, 0);
    for (int64_t q = 0; q < rg.nvals; q++) {
        int64_t v = vocab > 0 ? (int64_t)pr_below(&g, (uint64_t)(vocab < 100000 ? vocab : 100000))
                              : (int64_t)pr_next(&g);
        if (pr_chance(&g, bad)) {
            static const int64_t odd[] = {-1, INT32_MIN, INT32_MAX, (int64_t)1 << 31, INT64_MIN,
                                          INT64_MAX, -((int64_t)1 << 31) - 1};
            v = pr_chance(&g, 128) ? odd[pr_below(&g, 7)] : vocab + (int64_t)pr_below(&g, 3);
        }
        rg.v64[q] = v;
        rg.v32[q] = (int32_t)pr_next(&g);
        if (vocab > 0 && !pr_chance(&g, bad))
            rg.v32[q] = (int32_t)(v & 0x7FFFFFFF) % (int32_t)(vocab < INT32_MAX ? vocab : INT32_MAX);
        rg.v8[q] = (uint8_t)pr_next(&g);
    }
    const int truncate = (int)fz_below(&r, 2), left = (int)fz_below(&r, 2);
    int64_t pad;
    switch (fz_below(&r, 4)) {
    case 0:
        pad = (int64_t)fz_take(&r, 8); /* often outside int32 */
        break;
    case 1:
        pad = fz_below(&r, 2) ? INT32_MIN : INT32_MAX;
        break;
    default:
        pad = (int64_t)fz_below(&r, 1000);
    }
    const int which = (int)fz_below(&r, 5); /* i64_i64, i32_i64, i64_i32, i32_i32, u8 */
    const int in32 = which == 1 || which == 3, out32 = which == 2 || which == 3, is_u8 = which == 4;
    int have_values = 1, have_offsets = 1, have_out = 1;
    int64_t rows_arg = rg.rows, width_arg = rg.width;
    switch (fz_below(&r, 24)) {
    case 18:
        have_values = 0;
        break;
    case 19:
        have_offsets = 0;
        break;
    case 20:
        have_out = 0;
        break;
    case 21:
        rows_arg = -1 - (int64_t)fz_below(&r, 2);
        break;
    case 22:
        width_arg = -1;
        break;
    case 23: /* rows x width overflows: rejected before anything is read or written */
        if (rg.rows > 1) {
            width_arg = INT64_MAX / rg.rows + 1 + (int64_t)fz_below(&r, 1000);
            have_out = 1;
        }
        break;
    default:
        break;
    }
    const int null_lens = fz_below(&r, 8) == 7, null_err = fz_below(&r, 8) == 7;
    ragged arg = rg;
    arg.rows = rows_arg;
    arg.width = width_arg;

    const size_t cells = (size_t)(rg.rows * rg.width);
    int64_t *want = fz_alloc(cells * sizeof(int64_t), 0);
    int64_t wlens[MAX_ROWS], wer, wep;
    const int wrc = model(&arg, in32, out32, is_u8, truncate, left, pad, vocab, have_values,
                          have_offsets, have_out, want, wlens, &wer, &wep);

    /* the output: exact size (width_arg only differs when the call must fail first) */
    const size_t esz = is_u8 ? 1 : out32 ? 4 : 8;
    void *out = have_out ? fz_alloc(cells * esz, 0xEE) : NULL;
    int64_t lens[MAX_ROWS + 1];
    for (int i = 0; i <= MAX_ROWS; i++)
        lens[i] = -7;
    int64_t er = 5, ep = 5;
    int64_t *erp = null_err ? NULL : &er, *epp = null_err ? NULL : &ep;
    int64_t *lensp = null_lens ? NULL : lens;
    const int64_t *offp = have_offsets ? rg.offsets : NULL;
    /* the four typed variants take the same arguments; only the value and output types differ */
#define PAD_CALL(fn, vals)                                                                       \
    fn(have_values ? (vals) : NULL, offp, rows_arg, width_arg, left, truncate, pad, vocab, out,  \
       lensp, erp, epp)
    int rc;
    if (which == 4) {
        rc = fm_pad_u8(have_values ? rg.v8 : NULL, offp, rows_arg, width_arg, left, truncate,
                       (uint8_t)pad, out, erp);
        ep = wep; /* fm_pad_u8 has no position */
    } else if (in32) {
        rc = out32 ? PAD_CALL(fm_pad_i32_i32, rg.v32) : PAD_CALL(fm_pad_i32_i64, rg.v32);
    } else {
        rc = out32 ? PAD_CALL(fm_pad_i64_i32, rg.v64) : PAD_CALL(fm_pad_i64_i64, rg.v64);
    }
#undef PAD_CALL
    FZ_CHECK(rc == wrc, "fm_pad variant %d: status %d, expected %d", which, rc, wrc);
    if (!null_err)
        FZ_CHECK(er == wer && ep == wep, "variant %d: error at %lld/%lld, expected %lld/%lld",
                 which, (long long)er, (long long)ep, (long long)wer, (long long)wep);
    /* rows written: all on success, those before the failing row otherwise */
    int64_t done = 0;
    if (wrc == FM_OK)
        done = rows_arg > 0 ? rows_arg : 0;
    else if ((wrc == FM_ERR_LENGTH || wrc == FM_ERR_ID_RANGE) && wer >= 0)
        done = wer;
    if (width_arg != rg.width || rows_arg != rg.rows)
        done = 0;
    for (int64_t i = 0; i < done; i++) {
        for (int64_t col = 0; col < rg.width; col++) {
            const size_t q = (size_t)(i * rg.width + col);
            const int64_t got = is_u8   ? ((uint8_t *)out)[q]
                                : out32 ? ((int32_t *)out)[q]
                                        : ((int64_t *)out)[q];
            FZ_CHECK(got == want[q], "variant %d row %lld col %lld: %lld, expected %lld", which,
                     (long long)i, (long long)col, (long long)got, (long long)want[q]);
        }
        if (lensp && !is_u8)
            FZ_CHECK(lens[i] == wlens[i], "variant %d row %lld: length %lld, expected %lld",
                     which, (long long)i, (long long)lens[i], (long long)wlens[i]);
    }
    free(out);
    free(want);
    free(rg.v64);
    free(rg.v32);
    free(rg.v8);
    return 0;
}
