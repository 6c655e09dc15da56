/*
 * Padded rows of one element type: the padding cells of a row and the attention mask. pad.c
 * includes this file once per output type, with
 *
 *   FM_OUT   element type (int64_t, int32_t or uint8_t)
 *   FM_OSFX  name suffix (i64, i32, u8)
 *
 * Every padded output of the core (ids, labels, attention, side inputs, word starts) is laid out
 * by fm_row_offset() of fastmask.h and padded by the functions below, so the layout rule is
 * written once.
 */

#define FM_RCAT2(a, b) a##_##b
#define FM_RCAT(a, b) FM_RCAT2(a, b)
#define FM_RFN(name) FM_RCAT(name, FM_OSFX)

/* Writes `pad` into the padding cells of one row of `width` cells holding `kept` tokens. */
void FM_RFN(fm_pad_row)(FM_OUT *row, int64_t kept, int64_t width, int left, FM_OUT pad)
{
    const int64_t off = fm_row_offset(kept, width, left);
    for (int64_t c = 0; c < off; c++)
        row[c] = pad;
    for (int64_t c = off + kept; c < width; c++)
        row[c] = pad;
}

/* Row lengths clamped to [0, width]. */
static inline int64_t FM_RFN(kept_of)(int64_t n, int64_t width)
{
    return n < 0 ? 0 : (n > width ? width : n);
}

/* Argument checks of the two batch functions below. *todo receives the number of rows to
 * write: `rows`, or 0 on error and when rows or width is 0 (then `out` may be NULL). */
static inline int FM_RFN(rows_args)(const FM_OUT *out, const int64_t *lengths, int64_t rows,
                                    int64_t width, int64_t *todo)
{
    *todo = 0;
    if (rows < 0 || width < 0 || (rows > 0 && lengths == NULL))
        return FM_ERR_ARG;
    if (rows == 0 || width == 0)
        return FM_OK;
    if (out == NULL || rows > INT64_MAX / width)
        return FM_ERR_ARG;
    *todo = rows;
    return FM_OK;
}

int FM_RFN(fm_pad_cells)(FM_OUT *out, const int64_t *lengths, int64_t rows, int64_t width,
                         int left, FM_OUT pad)
{
    int64_t todo;
    const int rc = FM_RFN(rows_args)(out, lengths, rows, width, &todo);
    for (int64_t i = 0; i < todo; i++)
        FM_RFN(fm_pad_row)(out + i * width, FM_RFN(kept_of)(lengths[i], width), width, left, pad);
    return rc;
}

int FM_RFN(fm_attention)(FM_OUT *out, const int64_t *lengths, int64_t rows, int64_t width,
                         int left)
{
    int64_t todo;
    const int rc = FM_RFN(rows_args)(out, lengths, rows, width, &todo);
    for (int64_t i = 0; i < todo; i++) {
        FM_OUT *row = out + i * width;
        const int64_t kept = FM_RFN(kept_of)(lengths[i], width);
        const int64_t off = fm_row_offset(kept, width, left);
        for (int64_t c = off; c < off + kept; c++)
            row[c] = 1;
        FM_RFN(fm_pad_row)(row, kept, width, left, 0);
    }
    return rc;
}

int FM_RFN(fm_lengths_of_mask)(const FM_OUT *mask, int64_t rows, int64_t width, int left,
                                int64_t *lengths, int64_t *err_row, int64_t *err_pos)
{
    int64_t scratch_row, scratch_pos;
    if (err_row == NULL)
        err_row = &scratch_row;
    if (err_pos == NULL)
        err_pos = &scratch_pos;
    *err_row = *err_pos = -1;
    if (rows < 0 || width < 0 || (rows > 0 && lengths == NULL))
        return FM_ERR_ARG;
    if (rows == 0 || width == 0) {
        for (int64_t i = 0; i < rows; i++)
            lengths[i] = 0;
        return FM_OK;
    }
    if (mask == NULL || rows > INT64_MAX / width)
        return FM_ERR_ARG;
    for (int64_t i = 0; i < rows; i++) {
        const FM_OUT *row = mask + i * width;
        /* the count of ones, and whether any cell has a bit above bit 0 (a value other than 0
         * or 1, negative ones included), in one pass of ANDs, ORs and adds, which vectorises */
        int64_t n = 0;
        uint64_t other = 0;
        for (int64_t c = 0; c < width; c++) {
            const uint64_t v = (uint64_t)(int64_t)row[c];
            n += (int64_t)(v & 1u);
            other |= v & ~(uint64_t)1;
        }
        /* with only 0s and 1s, the ones are in place when the n cells at their side are 1 */
        const int64_t off = fm_row_offset(n, width, left);
        int64_t ones = 0;
        for (int64_t c = off; c < off + n; c++)
            ones += (int64_t)((uint64_t)(int64_t)row[c] & 1u);
        if (other || ones != n) { /* the first cell that is not 0 or 1, else out of place */
            *err_row = i;
            for (int64_t c = 0; c < width; c++)
                if (row[c] != 0 && row[c] != 1) {
                    *err_pos = c;
                    return FM_ERR_ARG;
                }
            for (int64_t c = 0; c < width; c++)
                if ((row[c] == 1) != (c >= off && c < off + n)) {
                    *err_pos = c;
                    return FM_ERR_ARG;
                }
        }
        lengths[i] = n;
    }
    return FM_OK;
}

#undef FM_RFN
#undef FM_RCAT
#undef FM_RCAT2
