/*
 * Internal entry points of the fastmask C core, for its own tests and benchmarks only (the
 * Python layer uses fastmask.h). They expose the instruction-set paths one by one so that a
 * test can check that every path produces the same bits as the scalar one.
 */
#ifndef FASTMASK_INTERNAL_H
#define FASTMASK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "fastmask.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Instruction-set paths (same values as FM_ISA_* in philox.h). */
#define FM_PATH_SCALAR 0  /* one Philox call at a time */
#define FM_PATH_GENERIC 1 /* portable structure-of-arrays loops */
#define FM_PATH_AVX2 2    /* x86-64 AVX2 */
#define FM_PATH_AVX512 3  /* x86-64 AVX-512F */
#define FM_PATH_COUNT 4

/* 1 when `path` is compiled in and this CPU can run it. */
int fm__path_available(int path);
/* The path the public functions use on this CPU. */
int fm__path_best(void);
const char *fm__path_name(int path);

/* Blocks first .. first+nblocks-1 of (key, c1, c2, c3), words interleaved: out[4*i + w].
 * out must hold fm__gen_seq_words(nblocks) words (4 per block, nblocks rounded up to the
 * vector width of the widest path). */
size_t fm__gen_seq_words(uint32_t nblocks);
void fm__gen_seq(int path, const uint32_t key[2], uint32_t c1, uint32_t c2, uint32_t c3,
                 uint32_t first, uint32_t nblocks, uint32_t *out);
/* Words 0 and 1 of the blocks blocks[0..n). */
void fm__gen_gather(int path, const uint32_t key[2], uint32_t c1, uint32_t c2, uint32_t c3,
                    const uint32_t *blocks, uint32_t n, uint32_t *w0, uint32_t *w1);
/* bits[q] bit i = words[64q + i] < t, for q < ngroups. */
void fm__bits_lt(int path, const uint32_t *words, uint32_t ngroups, uint32_t t, uint64_t *bits);
/* out[c] = 64q + i + add for each set bit i of bits[q], q < ngroups, in order; returns c. */
uint32_t fm__bits_pos(int path, const uint64_t *bits, uint32_t ngroups, uint32_t add,
                      uint32_t *out);
/* Bit i of bits[q] = row[64q + i] outside [lo, lo + len), ceil(n / 64) words (ids and the run
 * below 2^31). */
void fm__gap_bits64(int path, const int64_t *row, uint32_t n, int64_t lo, int64_t len,
                    uint64_t *bits);
void fm__gap_bits32(int path, const int32_t *row, uint32_t n, int64_t lo, int64_t len,
                    uint64_t *bits);
/* The 80/10/10 decisions of cnt <= 64 words: rep[q] = mask_id when w0[q] < t_mask, else -1;
 * returns the bits of t_mask <= w0[q] < t_mask_random. Thresholds at most 2^32. */
uint64_t fm__actions(int path, const uint32_t *w0, uint32_t cnt, uint64_t t_mask,
                     uint64_t t_mask_random, int32_t mask_id, int32_t *rep);
/* out[3q + b] = bit b of the class bytes kind[64q .. 64q + 64) as a mask (b = 0, 1, 2). */
void fm__class_bits(int path, const uint8_t *kind, uint32_t ngroups, uint64_t *out);
/* kind[j] = cls[row[j]] for j < n (cls: vocab bytes; ids in [0, vocab)). */
void fm__classes64(int path, const int64_t *row, uint32_t n, const uint8_t *cls, int64_t vocab,
                   uint8_t *kind);
void fm__classes32(int path, const int32_t *row, uint32_t n, const uint8_t *cls, int64_t vocab,
                   uint8_t *kind);

/* The r-th id of [0, vocab) not in the sorted list skip (binary search form). */
int64_t fm__allowed_id(const int64_t *skip, int64_t n_skip, int64_t r);

/* The exact/span budget k of a sequence of n tokens (docs/semantics.md, section 7). */
int64_t fm__budget(const fm_config *cfg, int64_t n);

/* The ragged-to-padded copy of fm_pad_<in>_<out> for uint8 rows (fm_pad_u8 calls it). */
int fm__pad_u8_u8(const uint8_t *values, const int64_t *offsets, int64_t rows, int64_t width,
                  int left, int truncate, int64_t pad_id, int64_t vocab_size, uint8_t *out,
                  int64_t *lengths_out, int64_t *err_row, int64_t *err_pos);

/* fm_mask_batch_* forced onto one instruction-set path. */
int fm__mask_batch_i64_path(int path, const fm_config *cfg, const fm_batch *batch,
                            int64_t row_begin, int64_t row_end, int64_t *ids, int64_t *labels,
                            int64_t *attention, void *workspace, size_t workspace_bytes,
                            int64_t *err_row, int64_t *err_pos);
int fm__mask_batch_i32_path(int path, const fm_config *cfg, const fm_batch *batch,
                            int64_t row_begin, int64_t row_end, int32_t *ids, int32_t *labels,
                            int32_t *attention, void *workspace, size_t workspace_bytes,
                            int64_t *err_row, int64_t *err_pos);

#ifdef __cplusplus
}
#endif
#endif /* FASTMASK_INTERNAL_H */
