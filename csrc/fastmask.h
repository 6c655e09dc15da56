/*
 * fastmask C core: padding, selection and 80/10/10 replacement for masked-language-model batches.
 *
 * Plain C11. No Python or NumPy headers, no globals, no allocation: the caller owns every buffer.
 * Every function returns an FM_* status code. The exact semantics (random-stream layout, unit
 * grouping, selection rules) are specified in docs/semantics.md; the pure-Python twin in
 * fastmask/reference implements the same thing bit for bit.
 *
 * Files: stream.c (Philox paths and their run-time choice, the stream of a sequence, bounded
 * draws), mask.c (configuration, selection, 80/10/10, the kernels), pad.c (row layout, padding,
 * truncation, attention), words.c (word starts from word ids, spans and the word table).
 */
#ifndef FASTMASK_H
#define FASTMASK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes ------------------------------------------------------------------------ */
#define FM_OK 0
#define FM_ERR_ARG (-1)      /* NULL buffer, inconsistent sizes, bad enum value */
#define FM_ERR_ID_RANGE (-2) /* an id < 0 or >= vocab_size; *err_row / *err_pos tell where */
#define FM_ERR_LENGTH (-3)   /* a row longer than the padded width; *err_row tells which */
#define FM_ERR_RNG (-4)      /* a bounded draw used up its 1024 retry words (p < 2^-1000) */
#define FM_ERR_WORKSPACE (-5) /* workspace smaller than fm_workspace_bytes(width) */
#define FM_ERR_SPAN (-6)     /* a character span with start < 0 or end < start; *err_row, *err_pos */

/* ---- limits ------------------------------------------------------------------------------- */
#define FM_MAX_SID ((uint64_t)1 << 48)   /* sample ids are < 2^48 (docs/semantics.md, section 2) */
#define FM_MAX_VOCAB ((int64_t)INT32_MAX) /* vocab_size is in [1, FM_MAX_VOCAB] */
/* Longest padded row: keeps every position, and every SPAN attempt number (< 4U + 16), inside
 * a 32-bit block index. */
#define FM_MAX_WIDTH ((int64_t)1 << 30)

/* values of the vocabulary word table (section 6) */
#define FM_WORD_CONTINUES 0    /* the token continues the word before it */
#define FM_WORD_STARTS 1       /* the token starts a word */
#define FM_WORD_STANDS_ALONE 2 /* the token starts a word and so does the token after it */

/* ---- enums -------------------------------------------------------------------------------- */
#define FM_SELECT_BERNOULLI 0
#define FM_SELECT_EXACT 1
#define FM_SELECT_SPAN 2

#define FM_UNITS_TOKENS 0
#define FM_UNITS_WORDS 1

/* random-stream domains (docs/semantics.md section 2) */
#define FM_DOMAIN_SELECT 1u
#define FM_DOMAIN_ACTION 2u
#define FM_DOMAIN_SHUFFLE 3u
#define FM_DOMAIN_SPAN 4u
#define FM_DOMAIN_RETRY 0x8000u

/* ---- generator ---------------------------------------------------------------------------- */
/* Philox4x32-10: out = Philox(ctr, key). */
void fm_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* Word w of W(domain, block) for (seed, epoch, sid): docs/semantics.md section 2. */
void fm_stream_block(uint64_t seed, uint32_t epoch, uint64_t sid, uint32_t domain,
                     uint32_t block, uint32_t out[4]);

/* bounded(R, x, D, b) of docs/semantics.md section 4; returns FM_OK, FM_ERR_RNG, or FM_ERR_ARG
 * for range 0, domain >= 0x80, sid >= 2^48 or a NULL result. */
int fm_bounded(uint64_t seed, uint32_t epoch, uint64_t sid, uint32_t domain, uint32_t block,
               uint32_t range, uint32_t x, uint32_t *result);

/* ---- configuration ------------------------------------------------------------------------- */
typedef struct fm_config {
    uint64_t seed;
    uint32_t epoch;
    int selection;            /* FM_SELECT_* */
    int units;                /* FM_UNITS_* */
    int action_per_unit;      /* 0: 80/10/10 decided per token; 1: per unit (its first token) */
    uint64_t t_select;        /* thresholds on the 2^32 scale, each in [0, 2^32] */
    uint64_t t_mask;
    uint64_t t_random;        /* t_mask + t_random <= 2^32 */
    double probability;       /* mlm_probability, for the exact/span budget */
    int64_t max_predictions;  /* < 0: no cap */
    int64_t vocab_size;       /* 1 .. 2^31 - 1 */
    int64_t mask_id;          /* in [0, vocab_size) */
    int64_t pad_id;           /* written into padding; in [0, vocab_size) */
    int64_t ignore_index;     /* label of positions that are not picked */
    /* special set S as a bitset over [0, vocab_size): bit (id & 7) of byte (id >> 3) */
    const uint8_t *special_bits;
    /* sorted, distinct ids excluded from random replacement, all in [0, vocab_size) */
    const int64_t *random_skip;
    int64_t n_random_skip;
    uint32_t random_range;    /* R = vocab_size - n_random_skip, >= 1 */
    /* span-length cdf (section 3): span_cdf[l-1] for l = 1..n_span_lengths, last = 2^32 */
    const uint64_t *span_cdf;
    int32_t n_span_lengths;
    /* optional per-vocabulary word table (values 0/1/2, section 6), length vocab_size;
       used when units == FM_UNITS_WORDS and a batch brings no word_starts */
    const uint8_t *word_table;
    /* optional unigram table (docs/semantics.md section 8): random_cum[i] = sum of the weights of
       ids 0..i, length vocab_size, non-decreasing, random_cum[vocab_size - 1] = random_range;
       special ids weigh 0. NULL: random ids are uniform over the ids not in random_skip. With a
       table, n_random_skip must be 0. */
    const uint32_t *random_cum;
    /* optional, for speed: one byte per id (length vocab_size) as fm_id_classes() fills it from
       special_bits and word_table; NULL: the kernels read those two instead. The kernels trust
       it to match them (fm_config_check_full checks that it does). */
    const uint8_t *id_class;
    /* optional, for speed (token units with exact or span selection): no id in
       [special_gap_lo, special_gap_lo + special_gap_len) is in S, as fm_special_gap() finds the
       longest such run. Length 0: the kernels look every id up. fm_config_check checks that the
       run lies in [0, vocab_size); fm_config_check_full that it holds no special id. */
    int64_t special_gap_lo;
    int64_t special_gap_len;
} fm_config;

/* Bits of an id's class byte: the id is in S; its word_table value (none: 0) is not
 * FM_WORD_CONTINUES; it is FM_WORD_STANDS_ALONE. */
#define FM_CLASS_SPECIAL 1u
#define FM_CLASS_STARTS 2u
#define FM_CLASS_ALONE 4u

/* Checks a configuration (thresholds, ids, skip list, span cdf, enums, probability in [0, 1]);
 * FM_OK or FM_ERR_ARG. Runs on every kernel call, so of the unigram table it checks only the
 * total (the kernel's id search stays inside [0, vocab_size) whatever the table holds). */
int fm_config_check(const fm_config *cfg);

/* fm_config_check, plus the whole unigram table when there is one: non-decreasing, total =
 * random_range, no weight on a special id. Meant to be called once, when a configuration is
 * built (it reads vocab_size entries). It also checks that word_table holds only 0, 1 and 2
 * and that id_class, when there is one, matches special_bits and word_table. */
int fm_config_check_full(const fm_config *cfg);

/* Fills out[0 .. vocab_size) with the class byte (FM_CLASS_* bits) of every id. FM_OK, or
 * FM_ERR_ARG when the configuration does not pass fm_config_check or out is NULL. */
int fm_id_classes(const fm_config *cfg, uint8_t *out);

/* The longest run of ids in [0, vocab_size) that holds no special id, for special_gap_lo /
 * special_gap_len (the first such run when several are longest). Reads the special_bits of the
 * whole vocabulary: meant to be called once, with fm_id_classes. FM_OK or FM_ERR_ARG (a
 * configuration fm_config_check refuses, or a NULL output). */
int fm_special_gap(const fm_config *cfg, int64_t *lo, int64_t *len);

/* Bytes of workspace one thread needs to mask rows of up to `width` tokens (0 for a negative
 * width or one above 2^30). The workspace needs no particular alignment. */
size_t fm_workspace_bytes(int64_t width);

/* ---- a padded batch ------------------------------------------------------------------------- */
/* Zero-initialise it (`fm_batch b = {0};`, designated initializers, or memset) before setting
 * fields, so that optional fields added later start out NULL. */
typedef struct fm_batch {
    int64_t rows;                 /* B */
    int64_t width;                /* L: padded width */
    const int64_t *lengths;       /* [B] real tokens per row, each in [0, L] */
    int left;                     /* 0: row i occupies columns [0, n_i); 1: [L - n_i, L) */
    const uint8_t *special_mask;  /* [B * L] same layout as ids, non-zero = special; or NULL */
    const uint8_t *word_starts;   /* [B * L] word-start flags f; or NULL */
    const uint64_t *sample_ids;   /* [B] each < 2^48 */
    /* optional ragged source of the ids: row i is values[offsets[i] ..] (its first lengths[i]
     * values; lengths[i] <= offsets[i+1] - offsets[i]), elements of the output's type; the
     * kernel copies each row into ids as it masks it. NULL: ids already hold the rows. values
     * must not overlap the outputs. */
    const void *values;
    const int64_t *offsets;       /* [B + 1] when values is not NULL */
} fm_batch;

/*
 * Masks rows [row_begin, row_end) of a padded batch in place.
 *
 * On entry ids holds each row's tokens at their place (the padding content is ignored and
 * overwritten with pad_id), or batch->values holds them as ragged rows. On return ids holds the masked tokens, labels the labels
 * (ignore_index at padding) and, when attention is not NULL, 1 at real tokens and 0 at padding.
 * Every id of the rows is checked against [0, vocab_size): on FM_ERR_ID_RANGE, *err_row and
 * *err_pos (position inside the unpadded sequence) say where; the rows before err_row are done,
 * the rest are unspecified. workspace must hold fm_workspace_bytes(width) bytes.
 * FM_ERR_ARG also covers: width > 2^30, ignore_index outside int32 (i32 variant), word units
 * with neither word_starts nor word_table, values without offsets, and (with *err_row set) a
 * negative length, a sample id >= 2^48 or a ragged row shorter than its length. err_row /
 * err_pos may be NULL; they are set to -1 on entry.
 */
int fm_mask_batch_i64(const fm_config *cfg, const fm_batch *batch, int64_t row_begin,
                      int64_t row_end, int64_t *ids, int64_t *labels, int64_t *attention,
                      void *workspace, size_t workspace_bytes, int64_t *err_row,
                      int64_t *err_pos);
int fm_mask_batch_i32(const fm_config *cfg, const fm_batch *batch, int64_t row_begin,
                      int64_t row_end, int32_t *ids, int32_t *labels, int32_t *attention,
                      void *workspace, size_t workspace_bytes, int64_t *err_row,
                      int64_t *err_pos);

/*
 * Copies a ragged batch (row i = values[offsets[i] .. offsets[i+1])) into a padded B x L
 * array, padding with pad_id on the given side. Checks 0 <= value < vocab_size (FM_ERR_ID_RANGE
 * with *err_row, *err_pos) and n_i <= L (FM_ERR_LENGTH with *err_row) unless `truncate` is set,
 * in which case row i keeps its first L values. Offsets must be non-decreasing (FM_ERR_ARG).
 * vocab_size <= 0 disables the range check (used for token_type_ids).
 * lengths_out[i] receives min(n_i, L) when not NULL. Naming: fm_pad_<in>_<out>. pad_id must
 * fit the output type (else FM_ERR_ARG).
 */
/* int64 in and out: the default dtype of ids and labels */
int fm_pad_i64_i64(const int64_t *values, const int64_t *offsets, int64_t rows, int64_t width,
                   int left, int truncate, int64_t pad_id, int64_t vocab_size, int64_t *out,
                   int64_t *lengths_out, int64_t *err_row, int64_t *err_pos);
/* int32 in, widened to int64 out: with vocab_size <= 0 no value is refused */
int fm_pad_i32_i64(const int32_t *values, const int64_t *offsets, int64_t rows, int64_t width,
                   int left, int truncate, int64_t pad_id, int64_t vocab_size, int64_t *out,
                   int64_t *lengths_out, int64_t *err_row, int64_t *err_pos);

/* int64 in, narrowed to int32 out: even with vocab_size <= 0 a value outside the int32 range
 * is FM_ERR_ID_RANGE (with *err_row, *err_pos), never wrapped. */
int fm_pad_i64_i32(const int64_t *values, const int64_t *offsets, int64_t rows, int64_t width,
                   int left, int truncate, int64_t pad_id, int64_t vocab_size,
                   int32_t *out, int64_t *lengths_out, int64_t *err_row, int64_t *err_pos);
/* int32 in and out */
int fm_pad_i32_i32(const int32_t *values, const int64_t *offsets, int64_t rows, int64_t width,
                   int left, int truncate, int64_t pad_id, int64_t vocab_size,
                   int32_t *out, int64_t *lengths_out, int64_t *err_row, int64_t *err_pos);

/* fm_pad_<in>_<out> chosen by the element sizes in bytes (4: int32, 8: int64) of values and
 * out; FM_ERR_ARG for other sizes. */
int fm_pad_ids(const void *values, int value_bytes, const int64_t *offsets, int64_t rows,
               int64_t width, int left, int truncate, int64_t pad_id, int64_t vocab_size,
               void *out, int out_bytes, int64_t *lengths_out, int64_t *err_row,
               int64_t *err_pos);

/* ---- row layout ---------------------------------------------------------------------------- */
/* Every padded output is laid out the same way: a row keeping `kept` tokens in a padded width
 * holds them at columns [off, off + kept), off = width - kept with left padding, else 0. */
static inline int64_t fm_row_offset(int64_t kept, int64_t width, int left)
{
    return left ? width - kept : 0;
}

/* Writes `pad` into the padding cells of each row of a B x L array whose row i holds
 * lengths[i] tokens (clamped to [0, L]) placed by fm_row_offset. */
int fm_pad_cells_i64(int64_t *out, const int64_t *lengths, int64_t rows, int64_t width,
                     int left, int64_t pad);
int fm_pad_cells_i32(int32_t *out, const int64_t *lengths, int64_t rows, int64_t width,
                     int left, int32_t pad);
int fm_pad_cells_u8(uint8_t *out, const int64_t *lengths, int64_t rows, int64_t width,
                    int left, uint8_t pad);

/* The attention mask of such a batch: 1 over each row's tokens, 0 over its padding. */
int fm_attention_i64(int64_t *out, const int64_t *lengths, int64_t rows, int64_t width,
                     int left);
int fm_attention_i32(int32_t *out, const int64_t *lengths, int64_t rows, int64_t width,
                     int left);
int fm_attention_u8(uint8_t *out, const int64_t *lengths, int64_t rows, int64_t width,
                    int left);

/* The inverse: the row lengths of a B x L attention mask. Every cell must be 0 or 1 and each
 * row's ones contiguous at the side fm_row_offset puts tokens; otherwise FM_ERR_ARG with
 * *err_row, the first row that breaks a rule, and *err_pos, its first cell that is not 0 or 1
 * or, when there is none, its first cell out of place. */
int fm_lengths_of_mask_i64(const int64_t *mask, int64_t rows, int64_t width, int left,
                           int64_t *lengths, int64_t *err_row, int64_t *err_pos);
int fm_lengths_of_mask_i32(const int32_t *mask, int64_t rows, int64_t width, int left,
                           int64_t *lengths, int64_t *err_row, int64_t *err_pos);
int fm_lengths_of_mask_u8(const uint8_t *mask, int64_t rows, int64_t width, int left,
                          int64_t *lengths, int64_t *err_row, int64_t *err_pos);

/* The real cells of a padded B x L array (elements of elem_bytes bytes; row i holds lengths[i]
 * of them, each in [0, L], placed by fm_row_offset), one row after the other into out, which
 * holds the sum of the lengths. */
int fm_unpad(const void *padded, int elem_bytes, int64_t rows, int64_t width,
             const int64_t *lengths, int left, void *out);

/* The same for uint8 side arrays (special_tokens_mask, word-start flags): copies ragged uint8
 * rows into a padded B x L uint8 array, writing `fill` at padding. Rows longer than L are an
 * FM_ERR_LENGTH error (with *err_row) unless `truncate` is set. */
int fm_pad_u8(const uint8_t *values, const int64_t *offsets, int64_t rows, int64_t width,
              int left, int truncate, uint8_t fill, uint8_t *out, int64_t *err_row);

/* ---- word starts (docs/semantics.md, section 6) ---------------------------------------------
 * Word-start flags of a ragged batch (row i = items offsets[i] .. offsets[i+1]) written into a
 * padded B x L uint8 array laid out like the ids (fm_row_offset), 0 at padding. Position 0 of a
 * row always starts a word. A row longer than L is FM_ERR_LENGTH (*err_row) unless `truncate`
 * is set, in which case it keeps its first L tokens. Offsets as for fm_pad_* (FM_ERR_ARG). */

/* From word ids (negative = None, a token outside any word): token j starts a word when its id
 * is negative or differs from token j-1's. */
int fm_word_starts_from_ids(const int64_t *word_ids, const int64_t *offsets, int64_t rows,
                            int64_t width, int left, int truncate, uint8_t *out,
                            int64_t *err_row);

/* From character spans, two int64 per token (start, end): token j starts a word when
 * start_j > end_{j-1} (a gap), start_j < start_{j-1} (the second text of a pair), token j-1 is a
 * (0, 0) special, or start_j == end_j. Every span of a row must have 0 <= start <= end, also
 * those truncation drops (FM_ERR_SPAN with *err_row, *err_pos). */
int fm_word_starts_from_spans(const int64_t *spans, const int64_t *offsets, int64_t rows,
                              int64_t width, int left, int truncate, uint8_t *out,
                              int64_t *err_row, int64_t *err_pos);

/* From the vocabulary word table (values 0/1/2, table_size entries): token j starts a word when
 * table[ids[j]] >= 1 or table[ids[j-1]] == 2. Ids outside [0, table_size) are FM_ERR_ID_RANGE
 * (*err_row, *err_pos). */
int fm_word_starts_from_table(const uint8_t *table, int64_t table_size, const int64_t *ids,
                              const int64_t *offsets, int64_t rows, int64_t width, int left,
                              int truncate, uint8_t *out, int64_t *err_row, int64_t *err_pos);

#ifdef __cplusplus
}
#endif
#endif /* FASTMASK_H */
