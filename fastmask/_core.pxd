# Declarations of the C core (csrc/fastmask.h) for Cython.
from cpython.object cimport PyObject
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t


cdef extern from "fastmask.h" nogil:
    int FM_OK
    int FM_ERR_ARG
    int FM_ERR_ID_RANGE
    int FM_ERR_LENGTH
    int FM_ERR_RNG
    int FM_ERR_WORKSPACE
    int FM_ERR_SPAN
    int FM_SELECT_BERNOULLI
    int FM_SELECT_EXACT
    int FM_SELECT_SPAN
    int FM_UNITS_TOKENS
    int FM_UNITS_WORDS
    unsigned int FM_DOMAIN_SELECT
    unsigned int FM_DOMAIN_ACTION
    unsigned int FM_DOMAIN_SHUFFLE
    unsigned int FM_DOMAIN_SPAN
    unsigned int FM_DOMAIN_RETRY

    ctypedef struct fm_config:
        uint64_t seed
        uint32_t epoch
        int selection
        int units
        int action_per_unit
        uint64_t t_select
        uint64_t t_mask
        uint64_t t_random
        double probability
        int64_t max_predictions
        int64_t vocab_size
        int64_t mask_id
        int64_t pad_id
        int64_t ignore_index
        const uint8_t *special_bits
        const int64_t *random_skip
        int64_t n_random_skip
        uint32_t random_range
        const uint64_t *span_cdf
        int32_t n_span_lengths
        const uint8_t *word_table
        const uint32_t *random_cum
        const uint8_t *id_class
        int64_t special_gap_lo
        int64_t special_gap_len

    ctypedef struct fm_batch:
        int64_t rows
        int64_t width
        const int64_t *lengths
        int left
        const uint8_t *special_mask
        const uint8_t *word_starts
        const uint64_t *sample_ids
        const void *values
        const int64_t *offsets

    void fm_philox4x32_10(const uint32_t *ctr, const uint32_t *key, uint32_t *out)
    void fm_stream_block(uint64_t seed, uint32_t epoch, uint64_t sid, uint32_t domain,
                         uint32_t block, uint32_t *out)
    int fm_bounded(uint64_t seed, uint32_t epoch, uint64_t sid, uint32_t domain, uint32_t block,
                   uint32_t range, uint32_t x, uint32_t *result)
    int fm_config_check(const fm_config *cfg)
    int fm_config_check_full(const fm_config *cfg)
    int fm_id_classes(const fm_config *cfg, uint8_t *out)
    int fm_special_gap(const fm_config *cfg, int64_t *lo, int64_t *len)
    size_t fm_workspace_bytes(int64_t width)
    int fm_mask_batch_i64(const fm_config *cfg, const fm_batch *batch, int64_t row_begin,
                          int64_t row_end, int64_t *ids, int64_t *labels, int64_t *attention,
                          void *workspace, size_t workspace_bytes, int64_t *err_row,
                          int64_t *err_pos)
    int fm_mask_batch_i32(const fm_config *cfg, const fm_batch *batch, int64_t row_begin,
                          int64_t row_end, int32_t *ids, int32_t *labels, int32_t *attention,
                          void *workspace, size_t workspace_bytes, int64_t *err_row,
                          int64_t *err_pos)
    int fm_pad_ids(const void *values, int value_bytes, const int64_t *offsets, int64_t rows,
                   int64_t width, int left, int truncate, int64_t pad_id, int64_t vocab_size,
                   void *out, int out_bytes, int64_t *lengths_out, int64_t *err_row,
                   int64_t *err_pos)
    int fm_pad_u8(const uint8_t *values, const int64_t *offsets, int64_t rows, int64_t width,
                  int left, int truncate, uint8_t fill, uint8_t *out, int64_t *err_row)

    int64_t fm_row_offset(int64_t kept, int64_t width, int left)
    int fm_pad_cells_i64(int64_t *out, const int64_t *lengths, int64_t rows, int64_t width,
                         int left, int64_t pad)
    int fm_pad_cells_i32(int32_t *out, const int64_t *lengths, int64_t rows, int64_t width,
                         int left, int32_t pad)
    int fm_pad_cells_u8(uint8_t *out, const int64_t *lengths, int64_t rows, int64_t width,
                        int left, uint8_t pad)
    int fm_attention_i64(int64_t *out, const int64_t *lengths, int64_t rows, int64_t width,
                         int left)
    int fm_attention_i32(int32_t *out, const int64_t *lengths, int64_t rows, int64_t width,
                         int left)
    int fm_attention_u8(uint8_t *out, const int64_t *lengths, int64_t rows, int64_t width,
                        int left)
    int fm_lengths_of_mask_i64(const int64_t *mask, int64_t rows, int64_t width, int left,
                               int64_t *lengths, int64_t *err_row, int64_t *err_pos)
    int fm_lengths_of_mask_i32(const int32_t *mask, int64_t rows, int64_t width, int left,
                               int64_t *lengths, int64_t *err_row, int64_t *err_pos)
    int fm_lengths_of_mask_u8(const uint8_t *mask, int64_t rows, int64_t width, int left,
                              int64_t *lengths, int64_t *err_row, int64_t *err_pos)
    int fm_unpad(const void *padded, int elem_bytes, int64_t rows, int64_t width,
                 const int64_t *lengths, int left, void *out)

    int fm_word_starts_from_ids(const int64_t *word_ids, const int64_t *offsets, int64_t rows,
                                int64_t width, int left, int truncate, uint8_t *out,
                                int64_t *err_row)
    int fm_word_starts_from_spans(const int64_t *spans, const int64_t *offsets, int64_t rows,
                                  int64_t width, int left, int truncate, uint8_t *out,
                                  int64_t *err_row, int64_t *err_pos)
    int fm_word_starts_from_table(const uint8_t *table, int64_t table_size, const int64_t *ids,
                                  const int64_t *offsets, int64_t rows, int64_t width, int left,
                                  int truncate, uint8_t *out, int64_t *err_row,
                                  int64_t *err_pos)


# reading Python lists and ints without a call (fastmask/_pyints.h)
cdef extern from "fm_internal.h" nogil:
    int fm__path_best()
    const char *fm__path_name(int path)


cdef extern from "Python.h":
    Py_ssize_t Py_SIZE(object)

cdef extern from "_pyints.h":
    bint fm_compact_long(PyObject *o, long long *value) nogil
    void fm_prefetch_item(PyObject **items, Py_ssize_t k, Py_ssize_t n) nogil
    PyObject **_list_items "fm_list_items"(object)
    PyObject **_tuple_items "fm_tuple_items"(object)


ctypedef fused out_t:
    int32_t
    int64_t


cdef class CoreConfig:
    cdef fm_config cfg
    cdef object _owned
