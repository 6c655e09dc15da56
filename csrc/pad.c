/*
 * Padding, truncation and the attention mask (fastmask.h): the one place that lays rows out in
 * a padded batch. The masking kernel (fm_kernel_impl.h) and the bindings place rows with the
 * same fm_row_offset() and pad them with the functions here.
 */
#include "fastmask.h"

#include <stdint.h>
#include <string.h>

#include "fm_common.h"
#include "fm_internal.h"
#include "philox.h" /* FM_HAVE_X86, FM_TARGET_AVX2, FM_ALWAYS_INLINE */

int fm_check_ragged(const int64_t *offsets, int64_t rows, int64_t width, int have_values,
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

/* ---- per output type: padding cells and attention (fm_rows_impl.h) ------------------------ */

#define FM_OUT int64_t
#define FM_OSFX i64
#include "fm_rows_impl.h"
#undef FM_OUT
#undef FM_OSFX

#define FM_OUT int32_t
#define FM_OSFX i32
#include "fm_rows_impl.h"
#undef FM_OUT
#undef FM_OSFX

#define FM_OUT uint8_t
#define FM_OSFX u8
#include "fm_rows_impl.h"
#undef FM_OUT
#undef FM_OSFX

/* ---- padded arrays -> ragged rows --------------------------------------------------------- */

int fm_unpad(const void *padded, int elem_bytes, int64_t rows, int64_t width,
             const int64_t *lengths, int left, void *out)
{
    if (rows < 0 || width < 0 || elem_bytes <= 0 || (rows > 0 && lengths == NULL))
        return FM_ERR_ARG;
    for (int64_t i = 0; i < rows; i++)
        if (lengths[i] < 0 || lengths[i] > width)
            return FM_ERR_ARG;
    if (rows == 0 || width == 0)
        return FM_OK;
    if (padded == NULL || rows > INT64_MAX / width || width > INT64_MAX / elem_bytes / rows)
        return FM_ERR_ARG;
    const unsigned char *src = (const unsigned char *)padded;
    unsigned char *dst = (unsigned char *)out;
    const size_t es = (size_t)elem_bytes;
    for (int64_t i = 0; i < rows; i++) {
        const size_t n = (size_t)lengths[i];
        if (n > 0)
            memcpy(dst, src + ((size_t)(i * width + fm_row_offset(lengths[i], width, left))) * es,
                   n * es);
        dst += n * es;
    }
    return FM_OK;
}

/* ---- ragged rows -> padded arrays (fm_pad_impl.h): fm_pad_<in>_<out> --------------------- */

#define FM_ISFX i64
#define FM_OSFX i64
#include "fm_pad_impl.h"

#define FM_ISFX i32
#define FM_OSFX i64
#include "fm_pad_impl.h"

#define FM_ISFX i64
#define FM_OSFX i32
#include "fm_pad_impl.h"

#define FM_ISFX i32
#define FM_OSFX i32
#include "fm_pad_impl.h"

/* behind fm_pad_u8, which has neither vocabulary nor lengths */
#define FM_ISFX u8
#define FM_OSFX u8
#define FM_PAD_NAME fm__pad_u8_u8
#include "fm_pad_impl.h"

int fm_pad_u8(const uint8_t *values, const int64_t *offsets, int64_t rows, int64_t width,
              int left, int truncate, uint8_t fill, uint8_t *out, int64_t *err_row)
{
    return fm__pad_u8_u8(values, offsets, rows, width, left, truncate, fill, 0, out, NULL,
                         err_row, NULL);
}

int fm_pad_ids(const void *values, int value_bytes, const int64_t *offsets, int64_t rows,
               int64_t width, int left, int truncate, int64_t pad_id, int64_t vocab_size,
               void *out, int out_bytes, int64_t *lengths_out, int64_t *err_row,
               int64_t *err_pos)
{
#define FM_ROWS offsets, rows, width, left, truncate, pad_id, vocab_size
#define FM_ERRS lengths_out, err_row, err_pos
    /* one case per pair of element sizes (in, out) */
    switch (value_bytes * 10 + out_bytes) {
    case 88: return fm_pad_i64_i64((const int64_t *)values, FM_ROWS, (int64_t *)out, FM_ERRS);
    case 48: return fm_pad_i32_i64((const int32_t *)values, FM_ROWS, (int64_t *)out, FM_ERRS);
    case 84: return fm_pad_i64_i32((const int64_t *)values, FM_ROWS, (int32_t *)out, FM_ERRS);
    case 44: return fm_pad_i32_i32((const int32_t *)values, FM_ROWS, (int32_t *)out, FM_ERRS);
    default: return FM_ERR_ARG;
    }
#undef FM_ROWS
#undef FM_ERRS
}
