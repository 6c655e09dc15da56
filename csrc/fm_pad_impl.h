/*
 * fm_pad_<in>_<out>: ragged rows -> padded B x L array (fastmask.h). fastmask.c includes this
 * file once per (input, output) type pair, with
 *
 *   FM_IN, FM_OUT          element types
 *   FM_OUT_MIN, FM_OUT_MAX range of FM_OUT
 *   FM_PAD_NAME            the function name
 */

int FM_PAD_NAME(const FM_IN *values, const int64_t *offsets, int64_t rows, int64_t width,
                int left, int truncate, int64_t pad_id, int64_t vocab_size, FM_OUT *out,
                int64_t *lengths_out, int64_t *err_row, int64_t *err_pos)
{
    int64_t scratch_row, scratch_pos;
    if (err_row == NULL)
        err_row = &scratch_row;
    if (err_pos == NULL)
        err_pos = &scratch_pos;
    *err_row = -1;
    *err_pos = -1;

    int rc = check_ragged(offsets, rows, width, values != NULL, out != NULL, err_row);
    if (rc != FM_OK)
        return rc;
    if (pad_id < FM_OUT_MIN || pad_id > FM_OUT_MAX)
        return FM_ERR_ARG;
    /* accepted values: [0, vocab_size) when vocab_size > 0, else anything FM_OUT can hold */
    int64_t lo = FM_OUT_MIN, hi = FM_OUT_MAX;
    if (vocab_size > 0) {
        lo = 0;
        hi = vocab_size - 1 < FM_OUT_MAX ? vocab_size - 1 : FM_OUT_MAX;
    }

    for (int64_t i = 0; i < rows; i++) {
        int64_t n = offsets[i + 1] - offsets[i];
        if (n > width) {
            if (!truncate) {
                *err_row = i;
                return FM_ERR_LENGTH;
            }
            n = width;
        }
        if (width > 0) { /* with width 0 there is nothing to copy (n is 0) and out may be NULL */
            const FM_IN *src = n > 0 ? values + offsets[i] : values; /* no NULL + 0 */
            FM_OUT *dst_row = out + i * width;
            const int64_t off = left ? width - n : 0;
            FM_OUT *dst = dst_row + off;
            /* copy while accumulating an out-of-range flag; find the position only on error */
            unsigned bad = 0;
            for (int64_t j = 0; j < n; j++) {
                const int64_t v = (int64_t)src[j];
                bad |= (unsigned)((v < lo) | (v > hi));
                dst[j] = (FM_OUT)v;
            }
            if (bad) {
                for (int64_t j = 0; j < n; j++) {
                    const int64_t v = (int64_t)src[j];
                    if (v < lo || v > hi) {
                        *err_row = i;
                        *err_pos = j;
                        return FM_ERR_ID_RANGE;
                    }
                }
            }
            const FM_OUT p = (FM_OUT)pad_id;
            for (int64_t c = 0; c < off; c++)
                dst_row[c] = p;
            for (int64_t c = off + n; c < width; c++)
                dst_row[c] = p;
        }
        if (lengths_out != NULL)
            lengths_out[i] = n;
    }
    return FM_OK;
}
