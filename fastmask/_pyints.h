/* Fast reads of Python ints for the Cython layer (fastmask/_core.pyx).
 *
 * This header belongs to the binding layer, not to the C core: it includes Python.h. It reads
 * the value of an exact `int` whose magnitude fits one internal digit without a function call;
 * anything else is left to the caller's general path (PyLong_AsLongLongAndOverflow).
 */
#ifndef FASTMASK_PYINTS_H
#define FASTMASK_PYINTS_H

#include <Python.h>

#if defined(__GNUC__) || defined(__clang__)
#define FM_LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define FM_LIKELY(x) (x)
#endif

/* 1 and *value set when `o` is an exact int with a compact (single-digit) value, else 0. */
static inline int fm_compact_long(PyObject *o, long long *value) {
    if (!FM_LIKELY(PyLong_CheckExact(o))) return 0;
#if PY_VERSION_HEX >= 0x030C0000
    if (FM_LIKELY(PyUnstable_Long_IsCompact((PyLongObject *)o))) {
        *value = (long long)PyUnstable_Long_CompactValue((PyLongObject *)o);
        return 1;
    }
    return 0;
#else
    {
        /* token ids are one positive digit: that case first, and marked likely, so that the
         * compiler keeps it on the straight path of the reading loop */
        Py_ssize_t size = Py_SIZE(o);
        if (FM_LIKELY(size == 1)) { *value = (long long)((PyLongObject *)o)->ob_digit[0]; return 1; }
        if (size == 0) { *value = 0; return 1; }
        if (size == -1) { *value = -(long long)((PyLongObject *)o)->ob_digit[0]; return 1; }
        return 0;
    }
#endif
}

/* The item arrays of an exact list or tuple (borrowed). */
static inline PyObject **fm_list_items(PyObject *o) { return ((PyListObject *)o)->ob_item; }
static inline PyObject **fm_tuple_items(PyObject *o) { return ((PyTupleObject *)o)->ob_item; }

/* Asks for item k of an item array to be brought into cache. The items of a list are separate
 * objects, and reading them is bound by the latency of fetching each one's header. On x86 the
 * prefetch is written as an instruction: GCC 12 at -O2 and above drops a __builtin_prefetch
 * here. */
static inline void fm_prefetch_item(PyObject **items, Py_ssize_t k, Py_ssize_t n) {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    if (k < n) __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)items[k]));
#elif defined(__GNUC__) || defined(__clang__)
    if (k < n) __builtin_prefetch(items[k], 0, 3);
#else
    (void)items; (void)k; (void)n;
#endif
}

#endif
