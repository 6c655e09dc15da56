/*
 * fastmask C core: the configuration checks (fm_config_check, fm_config_check_full) and the
 * per-vocabulary tables a configuration may bring for speed (fm_id_classes, fm_special_gap).
 * Section numbers refer to docs/semantics.md.
 */
#include "fastmask.h"

#include "fm_common.h"

int fm_config_check(const fm_config *cfg)
{
    if (cfg == NULL)
        return FM_ERR_ARG;
    if (cfg->selection != FM_SELECT_BERNOULLI && cfg->selection != FM_SELECT_EXACT &&
        cfg->selection != FM_SELECT_SPAN)
        return FM_ERR_ARG;
    if (cfg->units != FM_UNITS_TOKENS && cfg->units != FM_UNITS_WORDS)
        return FM_ERR_ARG;
    if (cfg->action_per_unit != 0 && cfg->action_per_unit != 1)
        return FM_ERR_ARG;
    if (cfg->t_select > FM_TWO32 || cfg->t_mask > FM_TWO32 || cfg->t_random > FM_TWO32 ||
        cfg->t_mask + cfg->t_random > FM_TWO32)
        return FM_ERR_ARG;
    /* the budget is rint(n * p): p must be a probability (this also rejects NaN) */
    if (!(cfg->probability >= 0.0 && cfg->probability <= 1.0))
        return FM_ERR_ARG;
    if (cfg->vocab_size < 1 || cfg->vocab_size > FM_MAX_VOCAB)
        return FM_ERR_ARG;
    if (cfg->mask_id < 0 || cfg->mask_id >= cfg->vocab_size || cfg->pad_id < 0 ||
        cfg->pad_id >= cfg->vocab_size)
        return FM_ERR_ARG;
    if (cfg->special_bits == NULL)
        return FM_ERR_ARG;
    if (cfg->special_gap_lo < 0 || cfg->special_gap_len < 0 ||
        cfg->special_gap_lo > cfg->vocab_size - cfg->special_gap_len)
        return FM_ERR_ARG; /* the run of non-special ids must lie in [0, vocab_size) */
    /* random_skip: sorted, distinct, in [0, vocab_size); R = vocab_size - n_random_skip >= 1 */
    if (cfg->n_random_skip < 0 || cfg->n_random_skip > cfg->vocab_size)
        return FM_ERR_ARG;
    if (cfg->n_random_skip > 0 && cfg->random_skip == NULL)
        return FM_ERR_ARG;
    for (int64_t i = 0; i < cfg->n_random_skip; i++) {
        const int64_t v = cfg->random_skip[i];
        if (v < 0 || v >= cfg->vocab_size)
            return FM_ERR_ARG;
        if (i > 0 && v <= cfg->random_skip[i - 1])
            return FM_ERR_ARG;
    }
    if (cfg->random_cum != NULL) { /* unigram: R is the total weight, nothing skipped */
        if (cfg->n_random_skip != 0 || cfg->random_range == 0 ||
            cfg->random_cum[cfg->vocab_size - 1] != cfg->random_range)
            return FM_ERR_ARG;
    } else if (cfg->random_range == 0 ||
               (int64_t)cfg->random_range != cfg->vocab_size - cfg->n_random_skip) {
        return FM_ERR_ARG;
    }
    /* span lengths: a cdf on the 2^32 scale, non-decreasing, ending at 2^32 */
    if (cfg->selection == FM_SELECT_SPAN) {
        if (cfg->span_cdf == NULL || cfg->n_span_lengths < 1)
            return FM_ERR_ARG;
        for (int32_t l = 0; l < cfg->n_span_lengths; l++) {
            if (cfg->span_cdf[l] > FM_TWO32)
                return FM_ERR_ARG;
            if (l > 0 && cfg->span_cdf[l] < cfg->span_cdf[l - 1])
                return FM_ERR_ARG;
        }
        if (cfg->span_cdf[cfg->n_span_lengths - 1] != FM_TWO32)
            return FM_ERR_ARG;
    }
    return FM_OK;
}

/* The class byte of id i (fm_id_classes). */
static uint8_t id_class_of(const fm_config *cfg, int64_t i)
{
    const unsigned special = fm_special_bit(cfg->special_bits, (uint64_t)i);
    const unsigned word = cfg->word_table != NULL ? cfg->word_table[i] : 0u;
    return (uint8_t)(special * FM_CLASS_SPECIAL | (word >= 1) * FM_CLASS_STARTS |
                     (word == FM_WORD_STANDS_ALONE) * FM_CLASS_ALONE);
}

int fm_id_classes(const fm_config *cfg, uint8_t *out)
{
    const int rc = fm_config_check(cfg);
    if (rc != FM_OK || out == NULL)
        return rc != FM_OK ? rc : FM_ERR_ARG;
    for (int64_t i = 0; i < cfg->vocab_size; i++)
        out[i] = id_class_of(cfg, i);
    return FM_OK;
}

/* Ids 64w .. 64w + 63 of the special set as a 64-bit mask (bit i: id 64w + i). */
static uint64_t special_word(const fm_config *cfg, int64_t w)
{
    const int64_t V = cfg->vocab_size;
    const int64_t nbytes = (V - 64 * w + 7) / 8 < 8 ? (V - 64 * w + 7) / 8 : 8;
    uint64_t m = 0;
    for (int64_t i = 0; i < nbytes; i++)
        m |= (uint64_t)cfg->special_bits[8 * w + i] << (8 * i);
    if (V - 64 * w < 64)
        m &= ((uint64_t)1 << (V - 64 * w)) - 1; /* bits past vocab_size are not ids */
    return m;
}

/*
 * Token units with exact or span selection need the special flag of every position. An id in
 * the run this finds (in real text almost every id) is known not to be special from two
 * subtractions, which vectorise (fm_kernel_impl.h), so only the others are looked up.
 */
int fm_special_gap(const fm_config *cfg, int64_t *lo, int64_t *len)
{
    const int rc = fm_config_check(cfg);
    if (rc != FM_OK || lo == NULL || len == NULL)
        return rc != FM_OK ? rc : FM_ERR_ARG;
    const int64_t V = cfg->vocab_size;
    int64_t prev = -1, best_lo = 0, best_len = 0;
    for (int64_t w = 0; 64 * w < V; w++) {
        for (uint64_t m = special_word(cfg, w); m != 0; m &= m - 1) {
            const int64_t id = 64 * w + fm_ctz64(m);
            if (id - prev - 1 > best_len) {
                best_len = id - prev - 1;
                best_lo = prev + 1;
            }
            prev = id;
        }
    }
    if (V - prev - 1 > best_len) {
        best_len = V - prev - 1;
        best_lo = prev + 1;
    }
    *lo = best_lo;
    *len = best_len;
    return FM_OK;
}

/* 1 when no id of [lo, lo + len) is special. */
static int gap_is_clear(const fm_config *cfg, int64_t lo, int64_t len)
{
    for (int64_t i = lo; i < lo + len; i++)
        if (fm_special_bit(cfg->special_bits, (uint64_t)i))
            return 0;
    return 1;
}

int fm_config_check_full(const fm_config *cfg)
{
    const int rc = fm_config_check(cfg);
    if (rc != FM_OK)
        return rc;
    for (int64_t i = 0; cfg->word_table != NULL && i < cfg->vocab_size; i++)
        if (cfg->word_table[i] > FM_WORD_STANDS_ALONE)
            return FM_ERR_ARG;
    for (int64_t i = 0; cfg->id_class != NULL && i < cfg->vocab_size; i++)
        if (cfg->id_class[i] != id_class_of(cfg, i))
            return FM_ERR_ARG;
    if (!gap_is_clear(cfg, cfg->special_gap_lo, cfg->special_gap_len))
        return FM_ERR_ARG;
    if (cfg->random_cum == NULL)
        return FM_OK;
    uint32_t prev = 0;
    for (int64_t i = 0; i < cfg->vocab_size; i++) {
        const uint32_t c = cfg->random_cum[i];
        if (c < prev)
            return FM_ERR_ARG;
        if (c != prev && fm_special_bit(cfg->special_bits, (uint64_t)i))
            return FM_ERR_ARG; /* a special id must never be drawn */
        prev = c;
    }
    return FM_OK;
}
