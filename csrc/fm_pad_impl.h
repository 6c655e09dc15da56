/*
 * Ragged rows (row i = values[offsets[i] .. offsets[i+1])) -> padded B x L array (fastmask.h).
 * pad.c includes this file once per (input, output) type pair, with
 *
 *   FM_ISFX, FM_OSFX  suffixes of the input and output element types (i64, i32 or u8); the
 *                     output one also names its row helpers (fm_rows_impl.h)
 *   FM_PAD_NAME       optional: the function name, fm_pad_<FM_ISFX>_<FM_OSFX> by default
 *
 * and undefines them at its end.
 */

#ifndef FM_PAD_IMPL_TYPES
#define FM_PAD_IMPL_TYPES
/* element type, least and greatest value of each suffix */
#define FM_PTYPE_i64 int64_t
#define FM_PTYPE_i32 int32_t
#define FM_PTYPE_u8 uint8_t
#define FM_PMIN_i64 INT64_MIN
#define FM_PMIN_i32 INT32_MIN
#define FM_PMIN_u8 0
#define FM_PMAX_i64 INT64_MAX
#define FM_PMAX_i32 INT32_MAX
#define FM_PMAX_u8 UINT8_MAX
#endif

#define FM_PCAT2(a, b) a##_##b
#define FM_PCAT(a, b) FM_PCAT2(a, b)

#define FM_IN FM_PCAT(FM_PTYPE, FM_ISFX)
#define FM_OUT FM_PCAT(FM_PTYPE, FM_OSFX)
#define FM_OUT_MIN FM_PCAT(FM_PMIN, FM_OSFX)
#define FM_OUT_MAX FM_PCAT(FM_PMAX, FM_OSFX)
#ifndef FM_PAD_NAME
#define FM_PAD_NAME FM_PCAT(FM_PCAT(fm_pad, FM_ISFX), FM_OSFX)
#endif

/*
 * Copies one row while checking its values; returns 1 when one is out of range. With a
 * vocabulary (lim = number of accepted values, 1 <= lim <= 2^63) u < lim is tested as the top
 * bit of (u - lim) & ~u, like the kernel's first pass: subtractions and bitwise operations
 * only, so the loop vectorises (SSE2 has no 64-bit comparison). Without one, only a narrowing
 * copy (int64 -> int32) has values to refuse.
 */
static FM_ALWAYS_INLINE unsigned FM_PCAT(copy_body, FM_PAD_NAME)(const FM_IN *src, FM_OUT *dst,
                                                                  int64_t n, uint64_t lim)
{
    if (lim != 0) {
        const uint64_t top = (uint64_t)1 << 63;
        uint64_t all = top;
        for (int64_t j = 0; j < n; j++) {
            const uint64_t u = (uint64_t)(int64_t)src[j];
            all &= (u - lim) & ~u;
            dst[j] = (FM_OUT)src[j];
        }
        return (all & top) == 0;
    }
    if (sizeof(FM_OUT) < sizeof(FM_IN)) {
        unsigned bad = 0;
        for (int64_t j = 0; j < n; j++) {
            const int64_t v = (int64_t)src[j];
            bad |= (unsigned)((int64_t)(FM_OUT)v != v);
            dst[j] = (FM_OUT)v;
        }
        return bad;
    }
    for (int64_t j = 0; j < n; j++)
        dst[j] = (FM_OUT)src[j];
    return 0;
}

static unsigned FM_PCAT(copy, FM_PAD_NAME)(const FM_IN *src, FM_OUT *dst, int64_t n,
                                           uint64_t lim)
{
    return FM_PCAT(copy_body, FM_PAD_NAME)(src, dst, n, lim);
}

#if FM_HAVE_X86
/* the same compiled for AVX2, used when the CPU has it (same source, same result) */
static FM_TARGET_AVX2 unsigned FM_PCAT(copy_avx2, FM_PAD_NAME)(const FM_IN *src, FM_OUT *dst,
                                                               int64_t n, uint64_t lim)
{
    return FM_PCAT(copy_body, FM_PAD_NAME)(src, dst, n, lim);
}
#endif

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

    int rc = fm_check_ragged(offsets, rows, width, values != NULL, out != NULL, err_row);
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
    const uint64_t lim = vocab_size > 0 ? (uint64_t)hi + 1 : 0; /* [0, lim) when checking */
#if FM_HAVE_X86
    const int wide = fm_i_path_available(FM_ISA_AVX2);
#endif

    for (int64_t i = 0; i < rows; i++) {
        int64_t n = 0;
        rc = fm_row_kept(offsets[i + 1] - offsets[i], width, truncate, &n);
        if (rc != FM_OK) {
            *err_row = i;
            return rc;
        }
        if (width > 0) { /* with width 0 there is nothing to copy (n is 0) and out may be NULL */
            const FM_IN *src = n > 0 ? values + offsets[i] : values; /* no NULL + 0 */
            FM_OUT *dst_row = out + i * width;
            FM_OUT *dst = dst_row + fm_row_offset(n, width, left);
            /* copy while accumulating an out-of-range flag; find the position only on error */
#if FM_HAVE_X86
            const unsigned bad = wide ? FM_PCAT(copy_avx2, FM_PAD_NAME)(src, dst, n, lim)
                                      : FM_PCAT(copy, FM_PAD_NAME)(src, dst, n, lim);
#else
            const unsigned bad = FM_PCAT(copy, FM_PAD_NAME)(src, dst, n, lim);
#endif
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
            FM_PCAT(fm_pad_row, FM_OSFX)(dst_row, n, width, left, (FM_OUT)pad_id);
        }
        if (lengths_out != NULL)
            lengths_out[i] = n;
    }
    return FM_OK;
}

#undef FM_PAD_NAME
#undef FM_OUT_MAX
#undef FM_OUT_MIN
#undef FM_OUT
#undef FM_IN
#undef FM_PCAT
#undef FM_PCAT2
#undef FM_OSFX
#undef FM_ISFX
