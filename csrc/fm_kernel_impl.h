/*
 * The parts of the masking kernel that touch the id arrays, written once for both element
 * types. mask.c includes this file twice, with
 *
 *   FM_T    element type of ids / labels / attention (int64_t or int32_t)
 *   FM_UT   the unsigned type of the same width
 *   FM_TMIN, FM_TMAX   its range
 *   FM_SFX  name suffix (i64 or i32)
 *
 * Everything that does not depend on the element type (random stream, unit selection, the
 * 80/10/10 draws) lives in mask.c and works on positions and unit tables in the workspace.
 */

#define FM_CAT2(a, b) a##_##b
#define FM_CAT(a, b) FM_CAT2(a, b)
#define FM_FN(name) FM_CAT(name, FM_SFX)

/*
 * The first pass over a row: checks every id against [0, vocab) while it writes ignore_index
 * into the row's labels and 1 into its attention (when att is not NULL), and copies the ids
 * from src into row when they come from ragged rows (src != row). Returns the position of the
 * first id out of range, or -1.
 *
 * With u the id as an unsigned number and vocab <= 2^31: u < vocab exactly when the top bit of
 * (u - vocab) & ~u is set (u - vocab wraps around to a number >= 2^(bits-1) when u < vocab, and
 * ~u keeps its top bit only when u < 2^(bits-1)). So an AND over the row tells whether all ids
 * are in range, with only subtractions and bitwise operations: the loop vectorises on every
 * target, unlike one with an unsigned 64-bit comparison. The position is searched for only on
 * error.
 */
static FM_ALWAYS_INLINE FM_UT FM_FN(first_pass_loop)(const FM_T *src, FM_T *row, uint32_t n,
                                                     FM_UT lim, FM_T *lab, FM_T ignore,
                                                     FM_T *att, int copy, int with_att)
{
    FM_UT all = (FM_UT)1 << (sizeof(FM_UT) * 8 - 1);
    for (uint32_t j = 0; j < n; j++) {
        const FM_UT u = (FM_UT)src[j];
        all &= (FM_UT)(u - lim) & (FM_UT)~u;
        if (copy)
            row[j] = src[j];
        lab[j] = ignore;
        if (with_att)
            att[j] = 1;
    }
    return all;
}

/* The position of the first id of src[0..n) outside [0, vocab), or -1 (the error path). */
static int64_t FM_FN(first_out_of_range)(const FM_T *src, uint32_t n, int64_t vocab)
{
    for (uint32_t j = 0; j < n; j++)
        if ((FM_UT)src[j] >= (FM_UT)vocab)
            return (int64_t)j;
    return -1;
}

static FM_ALWAYS_INLINE int64_t FM_FN(first_pass_body)(const FM_T *src, FM_T *row, uint32_t n,
                                                       int64_t vocab, FM_T *lab, FM_T ignore,
                                                       FM_T *att)
{
    const FM_UT lim = (FM_UT)vocab;
    const int copy = src != row;
    FM_UT all;
    if (att != NULL)
        all = copy ? FM_FN(first_pass_loop)(src, row, n, lim, lab, ignore, att, 1, 1)
                   : FM_FN(first_pass_loop)(src, row, n, lim, lab, ignore, att, 0, 1);
    else
        all = copy ? FM_FN(first_pass_loop)(src, row, n, lim, lab, ignore, att, 1, 0)
                   : FM_FN(first_pass_loop)(src, row, n, lim, lab, ignore, att, 0, 0);
    return all >> (sizeof(FM_UT) * 8 - 1) ? -1 : FM_FN(first_out_of_range)(src, n, vocab);
}

#if FM_HAVE_X86
/*
 * The first pass of a row of token units under Bernoulli selection on the AVX-512 path, with
 * the gap bits of pick_tokens_bernoulli made on the way (bit i of bits[q]: position 64q + i
 * lies outside the special gap): first_pass_body and gap_bits in one read of the ids. The
 * range test is an unsigned comparison with vocab, which AVX-512 has.
 */
static FM_TARGET_AVX512 FM_NOINLINE int64_t FM_FN(first_gap_avx512)(
    const FM_T *src, FM_T *row, uint32_t n, int64_t vocab, FM_T *lab, FM_T ignore, FM_T *att,
    int64_t lo, int64_t len, uint64_t *bits)
{
    const __m512i vv = FM_VSET1(vocab), vlo = FM_VSET1(lo), vlen = FM_VSET1(len);
    const __m512i vign = FM_VSET1(ignore), one = FM_VSET1(1);
    const int copy = src != row;
    FM_VMASK bad = 0;
    uint32_t j = 0;
    for (uint32_t q = 0; j < n; q++) {
        uint64_t m = 0;
        for (uint32_t k = 0; k < 64 && j < n; k += FM_VL, j += FM_VL) {
            if (n - j >= FM_VL) {
                const __m512i v = _mm512_loadu_si512((const void *)(src + j));
                if (copy)
                    _mm512_storeu_si512((void *)(row + j), v);
                _mm512_storeu_si512((void *)(lab + j), vign);
                if (att != NULL)
                    _mm512_storeu_si512((void *)(att + j), one);
                bad |= FM_VCMPGE(v, vv);
                m |= (uint64_t)FM_VCMPGE(FM_VSUB(v, vlo), vlen) << k;
            } else { /* the last n - j < FM_VL ids, under a mask */
                const FM_VMASK live = (FM_VMASK)((1u << (n - j)) - 1u);
                const __m512i v = FM_VLOADZ(live, src + j);
                if (copy)
                    FM_VSTOREM(row + j, live, v);
                FM_VSTOREM(lab + j, live, vign);
                if (att != NULL)
                    FM_VSTOREM(att + j, live, one);
                bad |= (FM_VMASK)(FM_VCMPGE(v, vv) & live);
                m |= (uint64_t)(FM_VMASK)(FM_VCMPGE(FM_VSUB(v, vlo), vlen) & live) << k;
            }
        }
        bits[q] = m;
    }
    return bad == 0 ? -1 : FM_FN(first_out_of_range)(src, n, vocab);
}
#endif

/*
 * Word units, Bernoulli selection. A unit is picked when the SELECT bit of its first token is
 * set; a set bit anywhere else is discarded. The row is first turned into one byte per position
 * (FM_CLASS_* bits: special, starts a word, stands alone; from the class table, or from
 * special_bits / word_table, with the per-example special mask and word-start flags folded in),
 * then worked on 64 positions at a time as bit masks:
 *
 *   starts = ~sp & (sp << 1 | f)         a candidate after a special, or one with f set
 *   cont   = ~sp & ~(sp << 1 | f)        a candidate that continues the unit before it
 *   first  = bits & starts               the picked units
 *
 * and the tokens of a picked unit after its first are the run of cont bits that begins right
 * after it: adding (first << 1) & cont to cont clears exactly those runs (the carry runs through
 * each one), so they are cont & ~(cont + ((first << 1) & cont)). The carries, and the bits that
 * shift in, pass from one 64-bit word to the next. The picked positions are a mask too, which
 * bits_pos turns into the table; only with want_dblk (each position's unit start) are they
 * walked one by one.
 *
 * Output: the picked positions in ws->pos (in order). With want_dblk also their unit start in
 * ws->dblk and the picked units in ws->ustart/uend, *units receiving their number; without,
 * *units = FM_UNITS_LATER and the masks of the picked positions and of the picked units'
 * starts stay in ws->bits and ws->masks, from which word_unit_tables() builds the tables
 * when they are needed (a cap on the predictions). Returns the number of picked positions.
 */
static FM_ALWAYS_INLINE void FM_FN(row_kinds)(int path, const fm_config *cfg, const FM_T *row,
                                              uint32_t n, const uint8_t *sm, const uint8_t *wsf,
                                              int use_cls, uint8_t *kind)
{
    const uint8_t *sb = cfg->special_bits, *tab = cfg->word_table;
    if (use_cls) {
        FM_CLASSES(path, row, n, cfg->id_class, cfg->vocab_size, kind);
    } else {
        for (uint32_t j = 0; j < n; j++) {
            const FM_UT y = (FM_UT)row[j];
            unsigned k = fm_special_bit(sb, (uint64_t)y);
            if (wsf == NULL) {
                const unsigned tv = tab[y];
                k |= fm_u8_nonzero(tv) * FM_CLASS_STARTS |
                     fm_u8_eq(tv, FM_WORD_STANDS_ALONE) * FM_CLASS_ALONE;
            }
            kind[j] = (uint8_t)k;
        }
    }
    /* the per-example bytes in loops of their own, which vectorise */
    if (sm != NULL)
        for (uint32_t j = 0; j < n; j++)
            kind[j] |= (uint8_t)fm_u8_nonzero(sm[j]);
    if (wsf != NULL) /* with word-start flags the table's bits are not used */
        for (uint32_t j = 0; j < n; j++)
            kind[j] = (uint8_t)((kind[j] & FM_CLASS_SPECIAL) |
                                fm_u8_eq(wsf[j], 1) * FM_CLASS_STARTS);
    for (uint32_t j = n; j % 64 != 0; j++) /* past the row: special, so neither starts nor cont */
        kind[j] = FM_CLASS_SPECIAL;
}

static FM_ALWAYS_INLINE uint32_t FM_FN(words_walk)(int path, const fm_config *cfg,
                                                   const FM_T *row,
                                                   uint32_t n, const uint8_t *sm,
                                                   const uint8_t *wsf, int use_cls,
                                                   const fm_ws *ws, int want_dblk,
                                                   uint32_t *units)
{
    FM_FN(row_kinds)(path, cfg, row, n, sm, wsf, use_cls, ws->kind);
    uint32_t *pos = ws->pos, *dblk = ws->dblk, *ustart = ws->ustart, *uend = ws->uend;
    const uint32_t ngroups = (n + 63) / 64;
    fm_i_class_bits(path, ws->kind, ngroups, ws->cmasks);
    uint64_t *picked = ws->bits, *pstarts = ws->masks;
    fm_groups g = {1, 0}; /* position -1 is special */
    uint64_t first_in = 0, carry = 0;
    uint32_t U = 0, np = 0, cur = 0;
    for (uint32_t q = 0; q < ngroups; q++) {
        uint64_t starts, cont;
        group_masks(ws->cmasks + 3 * (size_t)q, &g, &starts, &cont);
        const uint64_t first = picked[q] & starts;
        const uint64_t a = ((first << 1) | first_in) & cont;
        const uint64_t t = cont + a;
        const uint64_t sum = t + carry;
        carry = (uint64_t)(t < cont) | (uint64_t)(sum < t);
        first_in = first >> 63;
        uint64_t m = first | (cont & ~sum);
        if (!want_dblk) { /* pos from the mask below; the unit tables only if asked for */
            picked[q] = m;
            pstarts[q] = m & starts;
            continue;
        }
        while (m != 0) {
            const uint32_t bit = fm_ctz64(m);
            m &= m - 1;
            const uint32_t j = 64 * q + bit;
            const uint32_t is_start = (uint32_t)(starts >> bit) & 1u;
            cur = is_start ? j : cur;
            pos[np] = j;
            dblk[np] = cur;
            ustart[U] = j; /* kept only when j starts a unit */
            U += is_start;
            uend[U - 1] = j + 1; /* U >= 1: a picked position follows its unit's start */
            np++;
        }
    }
    if (!want_dblk) {
        np = fm_i_bits_pos(path, picked, ngroups, 0, pos);
        U = FM_UNITS_LATER;
    }
    *units = U;
    return np;
}

/* One instantiation per source of flags, with and without a special mask (the common case
 * without one then has no per-position test of sm), with and without the class table. Kept
 * out of line: inlined into the batch loop it competes for registers, and the spills cost more
 * than the call. */
#define FM_WALK(sm_, wsf_, use_cls)                                                          \
    FM_FN(words_walk)(path, cfg, row, n, sm_, wsf_, use_cls, ws, want_dblk, units)
static FM_NOINLINE uint32_t FM_FN(pick_words_bernoulli)(int path, const fm_config *cfg,
                                                        const FM_T *row,
                                                        uint32_t n, const uint8_t *sm,
                                                        const uint8_t *wsf, const fm_ws *ws,
                                                        int want_dblk, uint32_t *units)
{
    if (cfg->id_class != NULL) {
        if (sm != NULL)
            return wsf != NULL ? FM_WALK(sm, wsf, 1) : FM_WALK(sm, NULL, 1);
        return wsf != NULL ? FM_WALK(NULL, wsf, 1) : FM_WALK(NULL, NULL, 1);
    }
    if (sm != NULL)
        return wsf != NULL ? FM_WALK(sm, wsf, 0) : FM_WALK(sm, NULL, 0);
    return wsf != NULL ? FM_WALK(NULL, wsf, 0) : FM_WALK(NULL, NULL, 0);
}
#undef FM_WALK

/*
 * The special positions of a row of token units as 64-bit masks, sp[q] bit i for position
 * 64q + i; positions past n count as special. An id in [lo, lo + len) (fm_config.special_gap_*)
 * is never special: the path's gap_bits op marks the others (the first pass has already done
 * so when gap_ready), and only those among the positions of `among` (every position when NULL)
 * are looked up; the per-example mask sm is or-ed in. On return sp is exact at the positions
 * of `among`; elsewhere it is unspecified.
 */
static void FM_FN(token_specials)(int path, const fm_config *cfg, const FM_T *row, uint32_t n,
                                  const uint8_t *sm, const fm_ws *ws, const uint64_t *among,
                                  int gap_ready, uint64_t *sp)
{
    const uint32_t ngroups = (n + 63) / 64;
    if (!gap_ready)
        FM_GAP_BITS(path, row, n, cfg->special_gap_lo, cfg->special_gap_len, sp);
    if (sm != NULL) { /* the per-example mask, as bytes 64-padded with zeros */
        uint8_t *kind = ws->kind;
        for (uint32_t j = 0; j < n; j++)
            kind[j] = (uint8_t)fm_u8_nonzero(sm[j]);
        for (uint32_t j = n; j % 64 != 0; j++)
            kind[j] = 0;
    }
    for (uint32_t q = 0; q < ngroups; q++) {
        uint64_t special = 0;
        for (uint64_t look = sp[q] & (among != NULL ? among[q] : ~(uint64_t)0); look != 0;
             look &= look - 1) {
            const uint32_t bit = fm_ctz64(look);
            const FM_UT y = (FM_UT)row[64 * q + bit];
            special |= (uint64_t)fm_special_bit(cfg->special_bits, (uint64_t)y) << bit;
        }
        if (sm != NULL)
            special |= fm_byte_bits(ws->kind + 64 * (size_t)q, 0);
        sp[q] = special;
    }
    if (n % 64 != 0)
        sp[ngroups - 1] |= ~(uint64_t)0 << (n % 64);
}

/*
 * Token units, Bernoulli selection: the picked positions are the set bits of the SELECT
 * comparison (ws->bits) that are not special; the special test runs only at those positions.
 * ws->bits is left holding the picked bits, which bits_pos lists, in order, in ws->pos.
 * Returns their number.
 */
static FM_NOINLINE uint32_t FM_FN(pick_tokens_bernoulli)(int path, const fm_config *cfg,
                                                         const FM_T *row, uint32_t n,
                                                         const uint8_t *sm, const fm_ws *ws,
                                                         int gap_ready)
{
    uint64_t *bits = ws->bits, *sp = ws->masks;
    const uint32_t ngroups = (n + 63) / 64;
    FM_FN(token_specials)(path, cfg, row, n, sm, ws, bits, gap_ready, sp);
    for (uint32_t q = 0; q < ngroups; q++)
        bits[q] &= ~sp[q];
    return fm_i_bits_pos(path, bits, ngroups, 0, ws->pos);
}

/* All the units of a row (exact and span selection) into ws->ustart / ws->uend, through the
 * class bytes; with token units and want_end == 0 only ws->ustart. Returns U. */
static FM_NOINLINE uint32_t FM_FN(all_units)(int path, const fm_config *cfg, const FM_T *row,
                                             uint32_t n, const uint8_t *sm, const uint8_t *wsf,
                                             const fm_ws *ws, int want_end)
{
    if (cfg->units == FM_UNITS_TOKENS) {
        FM_FN(token_specials)(path, cfg, row, n, sm, ws, NULL, 0, ws->masks);
        return token_units(ws->masks, n, ws->ustart, want_end ? ws->uend : NULL);
    }
    if (cfg->id_class != NULL)
        FM_FN(row_kinds)(path, cfg, row, n, sm, wsf, 1, ws->kind);
    else
        FM_FN(row_kinds)(path, cfg, row, n, sm, wsf, 0, ws->kind);
    return units_of_kinds(path, ws, n);
}

/*
 * One unpadded row whose ids are known to be in range: picks units, draws 80/10/10. On return
 * ws->pos[0..np) are the picked positions and ws->rep[k] the new id of pos[k] (-1: keeps its
 * id).
 */
static int FM_FN(mask_row)(int path, const fm_config *cfg, const fm_seq *s, const FM_T *row,
                           uint32_t n, const uint8_t *sm, const uint8_t *wsf, const fm_ws *ws,
                           int gap_ready, uint32_t *np_out)
{
    *np_out = 0;
    if (n == 0)
        return FM_OK;

    uint32_t np;
    const uint32_t *dblk = NULL; /* decision blocks; NULL: each token's own position */
    int rc;
    if (cfg->units == FM_UNITS_TOKENS && cfg->selection == FM_SELECT_BERNOULLI) {
        select_bits(path, s, cfg->t_select, n, ws);
        np = FM_FN(pick_tokens_bernoulli)(path, cfg, row, n, sm, ws, gap_ready);
        if (cfg->max_predictions >= 0 && (int64_t)np > cfg->max_predictions) {
            rc = trim_tokens(path, s, cfg->max_predictions, np, ws, &np);
            if (rc != FM_OK)
                return rc;
        }
        /* with token units a token is its own unit: per-unit decisions are per-token ones */
    } else if (cfg->selection == FM_SELECT_BERNOULLI) {
        select_bits(path, s, cfg->t_select, n, ws);
        const int capped = cfg->max_predictions >= 0;
        uint32_t U = 0;
        np = FM_FN(pick_words_bernoulli)(path, cfg, row, n, sm, wsf, ws, cfg->action_per_unit,
                                            &U);
        if (capped && (int64_t)np > cfg->max_predictions) {
            if (U == FM_UNITS_LATER)
                U = word_unit_tables(path, ws, n);
            rc = cap_units(path, s, cfg->max_predictions, U, ws);
            if (rc != FM_OK)
                return rc;
            np = expand_units(ws, U, 0);
        }
        if (cfg->action_per_unit)
            dblk = ws->dblk;
    } else { /* exact or span: every unit of the row */
        const int tokens = cfg->units == FM_UNITS_TOKENS;
        const int fill_positions = tokens && cfg->selection == FM_SELECT_EXACT;
        const uint32_t U = FM_FN(all_units)(path, cfg, row, n, sm, wsf, ws, !fill_positions);
        if (fill_positions) {
            /* one token per unit: fill() shuffles the candidate positions themselves */
            rc = fill_tokens(path, s, ws, ws->ustart, U, budget(cfg, (int64_t)n), &np);
        } else {
            rc = select_units(path, cfg, s, n, U, ws);
            np = expand_units(ws, U, tokens);
        }
        if (rc != FM_OK)
            return rc;
        if (cfg->action_per_unit && !tokens)
            dblk = ws->dblk;
    }
    rc = draw_actions(path, cfg, s, ws->pos, dblk, np, ws->rep);
    if (rc != FM_OK)
        return rc;
    *np_out = np;
    return FM_OK;
}

static FM_ALWAYS_INLINE void FM_FN(fill)(FM_T *p, int64_t count, FM_T v)
{
    for (int64_t c = 0; c < count; c++)
        p[c] = v;
}

/* The padding of a row: columns [0, off) and [off + n, L) of ids, labels and attention. */
static FM_ALWAYS_INLINE void FM_FN(pad_body)(FM_T *id_row, FM_T *lab_row, FM_T *att_row,
                                             int64_t off, int64_t n, int64_t L, FM_T pad,
                                             FM_T ignore)
{
    const int64_t tail = L - off - n;
    FM_FN(fill)(id_row, off, pad);
    FM_FN(fill)(id_row + off + n, tail, pad);
    FM_FN(fill)(lab_row, off, ignore);
    FM_FN(fill)(lab_row + off + n, tail, ignore);
    if (att_row != NULL) {
        FM_FN(fill)(att_row, off, 0);
        FM_FN(fill)(att_row + off + n, tail, 0);
    }
}

/*
 * The streaming parts of a row (first pass, padding) compiled for the baseline instruction set
 * and, on x86-64, for AVX2 and AVX-512F, each used on its own path (the CPU has been checked by
 * then). Same C source, so the same bits: only the width of the vector loops the compiler makes
 * of them differs. FM_STREAMING instantiates them for one target attribute (empty: baseline).
 */
#define FM_STREAMING(sfx, target)                                                            \
    static target int64_t FM_FN(first_pass##sfx)(const FM_T *src, FM_T *row, uint32_t n,      \
                                                  int64_t vocab, FM_T *lab, FM_T ignore,      \
                                                  FM_T *att)                                  \
    {                                                                                        \
        return FM_FN(first_pass_body)(src, row, n, vocab, lab, ignore, att);                 \
    }                                                                                        \
    static target void FM_FN(pad_cells##sfx)(FM_T *id_row, FM_T *lab_row, FM_T *att_row,     \
                                              int64_t off, int64_t n, int64_t L, FM_T pad,    \
                                              FM_T ignore)                                    \
    {                                                                                        \
        FM_FN(pad_body)(id_row, lab_row, att_row, off, n, L, pad, ignore);                   \
    }
FM_STREAMING(, )
#if FM_HAVE_X86
FM_STREAMING(_avx2, FM_TARGET_AVX2)
FM_STREAMING(_avx512, FM_TARGET_AVX512)
#endif
#undef FM_STREAMING

typedef int64_t (*FM_FN(first_pass_fn))(const FM_T *, FM_T *, uint32_t, int64_t, FM_T *, FM_T,
                                         FM_T *);
typedef void (*FM_FN(pad_cells_fn))(FM_T *, FM_T *, FM_T *, int64_t, int64_t, int64_t, FM_T,
                                     FM_T);

typedef struct FM_FN(streaming) {
    FM_FN(first_pass_fn) first_pass;
    FM_FN(pad_cells_fn) pad_cells;
} FM_FN(streaming);

/* The widest streaming code the path allows (the CPU has been checked for the path; AVX-512F
 * does not promise AVX2 by itself, so that is asked separately). */
static FM_FN(streaming) FM_FN(streaming_for)(int path)
{
    FM_FN(streaming) st = {FM_FN(first_pass), FM_FN(pad_cells)};
#if FM_HAVE_X86
    if (path == FM_ISA_AVX512) {
        st.first_pass = FM_FN(first_pass_avx512);
        st.pad_cells = FM_FN(pad_cells_avx512);
    } else if (path == FM_ISA_AVX2 && fm_i_path_available(FM_ISA_AVX2)) {
        st.first_pass = FM_FN(first_pass_avx2);
        st.pad_cells = FM_FN(pad_cells_avx2);
    }
#else
    (void)path;
#endif
    return st;
}

static int FM_FN(mask_batch)(int path, const fm_config *cfg, const fm_batch *b,
                             int64_t row_begin, int64_t row_end, FM_T *ids, FM_T *labels,
                             FM_T *attention, void *workspace, size_t workspace_bytes,
                             int64_t *err_row, int64_t *err_pos)
{
    int64_t scratch_row, scratch_pos;
    if (err_row == NULL)
        err_row = &scratch_row;
    if (err_pos == NULL)
        err_pos = &scratch_pos;
    *err_row = -1;
    *err_pos = -1;

    int rc = fm_config_check(cfg);
    if (rc != FM_OK)
        return rc;
    if (b == NULL || b->rows < 0 || b->width < 0 || b->width > FM_MAX_WIDTH)
        return FM_ERR_ARG;
    if (row_begin < 0 || row_begin > row_end || row_end > b->rows)
        return FM_ERR_ARG;
    if (row_begin == row_end)
        return FM_OK;
    const int64_t L = b->width;
    if (L > 0 && b->rows > INT64_MAX / L)
        return FM_ERR_ARG;
    if (b->lengths == NULL || b->sample_ids == NULL)
        return FM_ERR_ARG;
    if (b->values != NULL && b->offsets == NULL)
        return FM_ERR_ARG;
    if (L == 0) { /* nothing to write (the arrays may then be NULL); rows must be empty */
        for (int64_t i = row_begin; i < row_end; i++) {
            if (b->lengths[i] != 0 || b->sample_ids[i] >= FM_MAX_SID) {
                *err_row = i;
                return b->lengths[i] > 0 ? FM_ERR_LENGTH : FM_ERR_ARG;
            }
        }
        return FM_OK;
    }
    if (ids == NULL || labels == NULL)
        return FM_ERR_ARG;
    if (cfg->ignore_index < FM_TMIN || cfg->ignore_index > FM_TMAX)
        return FM_ERR_ARG; /* an int32 output cannot hold this ignore_index */
    if (cfg->units == FM_UNITS_WORDS && b->word_starts == NULL && cfg->word_table == NULL)
        return FM_ERR_ARG; /* word units need word-start flags or a word table */

    const size_t need = fm_workspace_bytes(L);
    if (need > 0 && workspace == NULL)
        return FM_ERR_ARG;
    if (workspace_bytes < need)
        return FM_ERR_WORKSPACE;
    fm_ws ws;
    ws_layout(L, workspace, &ws);

    const FM_T pad = (FM_T)cfg->pad_id;
    const FM_T ignore = (FM_T)cfg->ignore_index;
    const FM_FN(streaming) st = FM_FN(streaming_for)(path);
    if (cfg->units == FM_UNITS_WORDS && cfg->id_class != NULL)
        fm_prefetch_table(cfg->id_class, cfg->vocab_size);
    /* token units, Bernoulli, AVX-512: the first pass also makes the gap bits of the picks */
    const int fused_gap = FM_HAVE_X86 && path == FM_ISA_AVX512 &&
                          cfg->units == FM_UNITS_TOKENS && cfg->selection == FM_SELECT_BERNOULLI;
    for (int64_t i = row_begin; i < row_end; i++) {
        const int64_t n64 = b->lengths[i];
        if (n64 < 0) {
            *err_row = i;
            return FM_ERR_ARG;
        }
        if (n64 > L) {
            *err_row = i;
            return FM_ERR_LENGTH;
        }
        if (b->sample_ids[i] >= FM_MAX_SID) {
            *err_row = i;
            return FM_ERR_ARG;
        }
        const uint32_t n = (uint32_t)n64;
        const int64_t off = fm_row_offset(n64, L, b->left); /* column of position 0 */
        FM_T *id_row = ids + i * L;
        FM_T *row = id_row + off;
        const uint8_t *sm = b->special_mask ? b->special_mask + i * L + off : NULL;
        const uint8_t *wsf = b->word_starts ? b->word_starts + i * L + off : NULL;
        const fm_seq s = make_seq(cfg->seed, cfg->epoch, b->sample_ids[i]);

        FM_T *lab_row = labels + i * L;
        FM_T *lab = lab_row + off;
        FM_T *att_row = attention != NULL ? attention + i * L : NULL;

        /* one pass: range check, labels = ignore_index, attention = 1 */
        FM_T *att_real = att_row != NULL ? att_row + off : NULL;
        const FM_T *src = row; /* ragged rows: the kernel copies them into ids itself */
        if (b->values != NULL) {
            const int64_t start = b->offsets[i];
            if (start < 0 || b->offsets[i + 1] - start < n64) {
                *err_row = i;
                return FM_ERR_ARG;
            }
            src = (const FM_T *)b->values + start;
        }
        int64_t bad;
        const int gap_ready = fused_gap;
#if FM_HAVE_X86
        if (fused_gap)
            bad = FM_FN(first_gap_avx512)(src, row, n, cfg->vocab_size, lab, ignore, att_real,
                                          cfg->special_gap_lo, cfg->special_gap_len, ws.masks);
        else
#endif
            bad = st.first_pass(src, row, n, cfg->vocab_size, lab, ignore, att_real);
        if (bad >= 0) {
            *err_row = i;
            *err_pos = bad;
            return FM_ERR_ID_RANGE;
        }
        uint32_t np = 0;
        rc = FM_FN(mask_row)(path, cfg, &s, row, n, sm, wsf, &ws, gap_ready, &np);
        if (rc != FM_OK) {
            *err_row = i;
            return rc;
        }
        /* picked positions: label = original id, then the replacement */
        for (uint32_t k = 0; k < np; k++) {
            const uint32_t j = ws.pos[k];
            const FM_T y = row[j];
            const FM_T r = (FM_T)ws.rep[k];
            const FM_T keep = (FM_T)(r >> (sizeof(FM_T) * 8 - 1)); /* -1 when r < 0, else 0 */
            lab[j] = y;
            /* y when r < 0 (keeps its id), else r: as arithmetic, since compilers make a
             * mispredicted branch of a ?: here */
            row[j] = (FM_T)((y & keep) | (r & ~keep));
        }
        /* padding: columns [0, off) and [off + n, L) */
        st.pad_cells(id_row, lab_row, att_row, off, n64, L, pad, ignore);
    }
    return FM_OK;
}

/* The entry points of this element type: fm_mask_batch_<sfx> (fastmask.h) on the best path,
 * fm__mask_batch_<sfx>_path (fm_internal.h) on a chosen one. */
int FM_CAT(fm_mask_batch, FM_SFX)(const fm_config *cfg, const fm_batch *batch, int64_t row_begin,
                                  int64_t row_end, FM_T *ids, FM_T *labels, FM_T *attention,
                                  void *workspace, size_t workspace_bytes, int64_t *err_row,
                                  int64_t *err_pos)
{
    return FM_FN(mask_batch)(fm_i_path_best(), cfg, batch, row_begin, row_end, ids, labels,
                             attention, workspace, workspace_bytes, err_row, err_pos);
}

int FM_CAT(FM_CAT(fm__mask_batch, FM_SFX), path)(int path, const fm_config *cfg,
                                                 const fm_batch *batch, int64_t row_begin,
                                                 int64_t row_end, FM_T *ids, FM_T *labels,
                                                 FM_T *attention, void *workspace,
                                                 size_t workspace_bytes, int64_t *err_row,
                                                 int64_t *err_pos)
{
    if (!fm_i_path_available(path))
        return FM_ERR_ARG;
    return FM_FN(mask_batch)(path, cfg, batch, row_begin, row_end, ids, labels, attention,
                             workspace, workspace_bytes, err_row, err_pos);
}

#undef FM_FN
#undef FM_CAT
#undef FM_CAT2
