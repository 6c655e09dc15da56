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

#undef FM_RFN
#undef FM_RCAT
#undef FM_RCAT2
