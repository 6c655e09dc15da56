/*
 * Word-start flags of a padded batch from the three sources of docs/semantics.md, section 6:
 * per-token word ids, per-token character spans, and the vocabulary word table. The rules
 * themselves are the one-liners of fm_word_rules.h, which the masking kernel uses as well.
 *
 * Inputs are ragged (row i = its items offsets[i] .. offsets[i+1]), outputs padded B x L uint8
 * arrays laid out like the ids (fm_row_offset) with 0 at padding.
 */
#include "fastmask.h"

#include <stdint.h>
#include <string.h>

#include "fm_common.h"
#include "fm_word_rules.h"

/* Shared start of the three functions: checks the ragged layout, resets the error slots. */
static int starts_begin(const void *values, const int64_t *offsets, int64_t rows, int64_t width,
                        uint8_t *out, int64_t **err_row, int64_t **err_pos, int64_t *scratch)
{
    if (*err_row == NULL)
        *err_row = &scratch[0];
    if (*err_pos == NULL)
        *err_pos = &scratch[1];
    **err_row = -1;
    **err_pos = -1;
    return fm_check_ragged(offsets, rows, width, values != NULL, out != NULL, *err_row);
}

/* Kept length (>= 0) of row i holding `total` >= 0 items (fm_row_kept), or a negative FM_ERR_*
 * code with *err_row = i. */
static inline int64_t starts_kept(int64_t total, int64_t width, int truncate, int64_t i,
                                  int64_t *err_row)
{
    int64_t n = 0;
    const int rc = fm_row_kept(total, width, truncate, &n);
    if (rc != FM_OK) {
        *err_row = i;
        return rc;
    }
    return n;
}

/* Lays out row i of `out` (width > 0) for n kept tokens: zeroes its padding cells, flags its
 * first token, which always starts a word, and returns where that token goes; the caller
 * fills dst[1 .. n) with its rule. */
static inline uint8_t *starts_row(uint8_t *out, int64_t i, int64_t n, int64_t width, int left)
{
    uint8_t *row = out + i * width;
    fm_pad_row_u8(row, n, width, left, 0);
    uint8_t *dst = row + fm_row_offset(n, width, left);
    if (n > 0)
        dst[0] = 1;
    return dst;
}

int fm_word_starts_from_ids(const int64_t *word_ids, const int64_t *offsets, int64_t rows,
                            int64_t width, int left, int truncate, uint8_t *out,
                            int64_t *err_row)
{
    int64_t scratch[2], *err_pos = NULL;
    const int rc = starts_begin(word_ids, offsets, rows, width, out, &err_row, &err_pos, scratch);
    if (rc != FM_OK)
        return rc;
    for (int64_t i = 0; i < rows; i++) {
        const int64_t n = starts_kept(offsets[i + 1] - offsets[i], width, truncate, i, err_row);
        if (n < 0)
            return (int)n;
        if (width == 0)
            continue;
        const int64_t *w = n > 0 ? word_ids + offsets[i] : word_ids; /* no NULL + k */
        uint8_t *dst = starts_row(out, i, n, width, left);
        for (int64_t j = 1; j < n; j++)
            dst[j] = (uint8_t)fm_rule_word_id(w[j], w[j - 1]);
    }
    return FM_OK;
}

int fm_word_starts_from_spans(const int64_t *spans, const int64_t *offsets, int64_t rows,
                              int64_t width, int left, int truncate, uint8_t *out,
                              int64_t *err_row, int64_t *err_pos)
{
    int64_t scratch[2];
    const int rc = starts_begin(spans, offsets, rows, width, out, &err_row, &err_pos, scratch);
    if (rc != FM_OK)
        return rc;
    for (int64_t i = 0; i < rows; i++) {
        const int64_t total = offsets[i + 1] - offsets[i];
        const int64_t *sp = total > 0 ? spans + 2 * offsets[i] : spans;
        /* every span of the row is checked, also the ones truncation drops */
        for (int64_t j = 0; j < total; j++) {
            if (sp[2 * j] < 0 || sp[2 * j + 1] < sp[2 * j]) {
                *err_row = i;
                *err_pos = j;
                return FM_ERR_SPAN;
            }
        }
        const int64_t n = starts_kept(total, width, truncate, i, err_row);
        if (n < 0)
            return (int)n;
        if (width == 0)
            continue;
        uint8_t *dst = starts_row(out, i, n, width, left);
        for (int64_t j = 1; j < n; j++)
            dst[j] = (uint8_t)fm_rule_span(sp[2 * j], sp[2 * j + 1], sp[2 * j - 2],
                                           sp[2 * j - 1]);
    }
    return FM_OK;
}

int fm_word_starts_from_table(const uint8_t *table, int64_t table_size, const int64_t *ids,
                              const int64_t *offsets, int64_t rows, int64_t width, int left,
                              int truncate, uint8_t *out, int64_t *err_row, int64_t *err_pos)
{
    int64_t scratch[2];
    const int rc = starts_begin(ids, offsets, rows, width, out, &err_row, &err_pos, scratch);
    if (rc != FM_OK)
        return rc;
    if (table_size < 0 || (table_size > 0 && table == NULL))
        return FM_ERR_ARG;
    for (int64_t i = 0; i < rows; i++) {
        const int64_t n = starts_kept(offsets[i + 1] - offsets[i], width, truncate, i, err_row);
        if (n < 0)
            return (int)n;
        const int64_t *y = n > 0 ? ids + offsets[i] : ids;
        for (int64_t j = 0; j < n; j++) {
            if (y[j] < 0 || y[j] >= table_size) {
                *err_row = i;
                *err_pos = j;
                return FM_ERR_ID_RANGE;
            }
        }
        if (width == 0)
            continue;
        uint8_t *dst = starts_row(out, i, n, width, left);
        for (int64_t j = 1; j < n; j++)
            dst[j] = (uint8_t)fm_rule_table(table[y[j]], table[y[j - 1]]);
    }
    return FM_OK;
}
