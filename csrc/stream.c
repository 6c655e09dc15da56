/*
 * The random stream of the fastmask C core: the instruction-set paths of the Philox batch
 * generators and the choice between them at run time (section 1 of docs/semantics.md), the
 * stream of one sequence and its bounded draws (sections 2 and 4), and the entry points that
 * expose them (fastmask.h, fm_internal.h).
 */
#include "fastmask.h"

#include <stdlib.h>
#include <string.h>

#include "fm_common.h"
#include "fm_internal.h"
#include "philox.h"
#include "philox_portable.h"
#include "philox_simd.h"
#include "ops_portable.h"
#include "ops_simd.h"

/* =============================================================================================
 * 1. Instruction-set paths
 * ========================================================================================== */

/* The batch generators of one path (see philox.h for what each computes). */
typedef struct fm_isa_ops {
    void (*gen_seq)(const fm_philox_base *b, uint32_t first, uint32_t nblocks, uint32_t *out);
    void (*gen_gather)(const fm_philox_base *b, const uint32_t *blocks, uint32_t n, uint32_t *w0,
                       uint32_t *w1);
    void (*bits_lt)(const uint32_t *words, uint32_t ngroups, uint32_t t, uint64_t *bits);
    uint32_t (*bits_pos)(const uint64_t *bits, uint32_t ngroups, uint32_t add, uint32_t *out);
    void (*gap_bits64)(const int64_t *row, uint32_t n, int64_t lo, int64_t len, uint64_t *bits);
    void (*gap_bits32)(const int32_t *row, uint32_t n, int64_t lo, int64_t len, uint64_t *bits);
    uint64_t (*actions)(const uint32_t *w0, uint32_t cnt, uint64_t t_mask,
                        uint64_t t_mask_random, int32_t mask_id, int32_t *rep);
    void (*class_bits)(const uint8_t *kind, uint32_t ngroups, uint64_t *out);
    void (*classes64)(const int64_t *row, uint32_t n, const uint8_t *cls, int64_t vocab,
                      uint8_t *kind);
    void (*classes32)(const int32_t *row, uint32_t n, const uint8_t *cls, int64_t vocab,
                      uint8_t *kind);
} fm_isa_ops;

static const fm_isa_ops OPS[FM_ISA_COUNT] = {
    [FM_ISA_SCALAR] = {fm_gen_seq_scalar, fm_gen_gather_scalar, fm_bits_lt_scalar,
                       fm_bits_pos_scalar, fm_gap_bits64_scalar, fm_gap_bits32_scalar,
                       fm_actions_scalar, fm_class_bits_scalar, fm_classes64_scalar,
                       fm_classes32_scalar},
    [FM_ISA_GENERIC] = {fm_gen_seq_generic, fm_gen_gather_generic, fm_bits_lt_scalar,
                        fm_bits_pos_scalar, fm_gap_bits64_scalar, fm_gap_bits32_scalar,
                        fm_actions_scalar, fm_class_bits_scalar, fm_classes64_scalar,
                       fm_classes32_scalar},
#if FM_HAVE_X86
    /* AVX2 has no compress: its bits_pos is the scalar loop */
    [FM_ISA_AVX2] = {fm_gen_seq_avx2, fm_gen_gather_avx2, fm_bits_lt_avx2, fm_bits_pos_scalar,
                     fm_gap_bits64_avx2, fm_gap_bits32_avx2, fm_actions_avx2,
                     fm_class_bits_avx2, fm_classes64_scalar, fm_classes32_scalar},
    [FM_ISA_AVX512] = {fm_gen_seq_avx512, fm_gen_gather_avx512, fm_bits_lt_avx512,
                       fm_bits_pos_avx512, fm_gap_bits64_avx512, fm_gap_bits32_avx512,
                       fm_actions_avx512, fm_class_bits_avx512, fm_classes64_avx512,
                       fm_classes32_avx512},
#endif
};

/* The operations of a path the caller has checked; the scalar ones for any other value. */
static const fm_isa_ops *ops(int path)
{
    if (path < 0 || path >= FM_ISA_COUNT || OPS[path].gen_seq == NULL)
        return &OPS[FM_ISA_SCALAR];
    return &OPS[path];
}

int fm_i_path_available(int path)
{
    switch (path) {
    case FM_ISA_SCALAR:
    case FM_ISA_GENERIC:
        return 1;
#if FM_HAVE_X86
    case FM_ISA_AVX2:
        return __builtin_cpu_supports("avx2") ? 1 : 0;
    case FM_ISA_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                       __builtin_cpu_supports("popcnt")
                   ? 1
                   : 0;
#endif
    default:
        return 0;
    }
}

/* The path named by FASTMASK_SIMD (scalar, generic, avx2, avx512), or -1 when it is unset or
 * names no path this build and CPU can run. */
static int path_from_env(void)
{
    const char *v = getenv("FASTMASK_SIMD");
    if (v == NULL)
        return -1;
    for (int p = 0; p < FM_ISA_COUNT; p++)
        if (strcmp(v, fm__path_name(p)) == 0)
            return fm_i_path_available(p) ? p : -1;
    return -1;
}

/*
 * The path the public functions use, chosen once. FASTMASK_SIMD forces one (for tests and
 * comparisons; a value naming no available path is ignored). Otherwise: AVX-512 on CPUs whose
 * 512-bit integer multiplies run at full clock (those with AVX512-VBMI2: Intel Ice Lake and
 * later, AMD Zen 4 and later; on Skylake-SP they lower the clock of the core, and AVX2 is used
 * there), then AVX2. Without AVX2, x86-64 compilers (SSE2 only) turn the portable lanes into
 * code no faster than the scalar form at -O3, so x86-64 falls back to scalar; other targets use
 * the portable lanes, which map onto their 32x32->64-bit vector multiplies (e.g. NEON umull).
 * Every path gives the same bits, so the choice changes only the speed.
 */
static int choose_path(void)
{
    const int forced = path_from_env();
    if (forced >= 0)
        return forced;
#if FM_HAVE_X86
    if (fm_i_path_available(FM_ISA_AVX512) && fm_i_path_available(FM_ISA_AVX2) &&
        __builtin_cpu_supports("avx512vbmi2"))
        return FM_ISA_AVX512;
    return fm_i_path_available(FM_ISA_AVX2) ? FM_ISA_AVX2 : FM_ISA_SCALAR;
#elif defined(__x86_64__) || defined(_M_X64)
    return FM_ISA_SCALAR;
#else
    return FM_ISA_GENERIC;
#endif
}

int fm_i_path_best(void)
{
    static int best = -1; /* every thread computes the same value: a race is harmless */
    if (best < 0)
        best = choose_path();
    return best;
}

void fm_i_gen_seq(int path, const fm_philox_base *b, uint32_t first, uint32_t nblocks,
                  uint32_t *out)
{
    ops(path)->gen_seq(b, first, nblocks, out);
}

void fm_i_gen_gather(int path, const fm_philox_base *b, const uint32_t *blocks, uint32_t n,
                     uint32_t *w0, uint32_t *w1)
{
    ops(path)->gen_gather(b, blocks, n, w0, w1);
}

void fm_i_bits_lt(int path, const uint32_t *words, uint32_t ngroups, uint32_t t,
                  uint64_t *bits)
{
    ops(path)->bits_lt(words, ngroups, t, bits);
}

uint32_t fm_i_bits_pos(int path, const uint64_t *bits, uint32_t ngroups, uint32_t add,
                       uint32_t *out)
{
    return ops(path)->bits_pos(bits, ngroups, add, out);
}

void fm_i_gap_bits64(int path, const int64_t *row, uint32_t n, int64_t lo, int64_t len,
                     uint64_t *bits)
{
    ops(path)->gap_bits64(row, n, lo, len, bits);
}

void fm_i_gap_bits32(int path, const int32_t *row, uint32_t n, int64_t lo, int64_t len,
                     uint64_t *bits)
{
    ops(path)->gap_bits32(row, n, lo, len, bits);
}

uint64_t fm_i_actions(int path, const uint32_t *w0, uint32_t cnt, uint64_t t_mask,
                      uint64_t t_mask_random, int32_t mask_id, int32_t *rep)
{
    return ops(path)->actions(w0, cnt, t_mask, t_mask_random, mask_id, rep);
}

void fm_i_class_bits(int path, const uint8_t *kind, uint32_t ngroups, uint64_t *out)
{
    ops(path)->class_bits(kind, ngroups, out);
}

void fm_i_classes64(int path, const int64_t *row, uint32_t n, const uint8_t *cls, int64_t vocab,
                    uint8_t *kind)
{
    ops(path)->classes64(row, n, cls, vocab, kind);
}

void fm_i_classes32(int path, const int32_t *row, uint32_t n, const uint8_t *cls, int64_t vocab,
                    uint8_t *kind)
{
    ops(path)->classes32(row, n, cls, vocab, kind);
}

/* The rejection branch of bounded(): walks the 1024 retry words of (domain, block). */
FM_NOINLINE int fm_i_bounded_retry(const fm_seq *s, uint32_t domain, uint32_t block,
                                   uint32_t range, uint32_t t, uint32_t *result)
{
    for (uint32_t r = 0; r < FM_RETRY_ROUNDS; r++) {
        uint32_t w[4];
        seq_block(s, FM_DOMAIN_RETRY | (domain << 8) | r, block, w);
        for (int i = 0; i < 4; i++) {
            const uint64_t m = (uint64_t)w[i] * range;
            if ((uint32_t)m >= t) {
                *result = (uint32_t)(m >> 32);
                return FM_OK;
            }
        }
    }
    return FM_ERR_RNG;
}

/* ---- generator and bounded draws ---------------------------------------------------------- */

void fm_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    fm_philox_scalar(ctr, key[0], key[1], out);
}

void fm_stream_block(uint64_t seed, uint32_t epoch, uint64_t sid, uint32_t domain,
                     uint32_t block, uint32_t out[4])
{
    const fm_seq s = make_seq(seed, epoch, sid);
    seq_block(&s, domain, block, out);
}

int fm_bounded(uint64_t seed, uint32_t epoch, uint64_t sid, uint32_t domain, uint32_t block,
               uint32_t range, uint32_t x, uint32_t *result)
{
    /* the retry domains 0x8000 | (domain << 8) | r must fit in 16 bits */
    if (result == NULL || range == 0 || domain >= 0x80u || sid >= FM_MAX_SID)
        return FM_ERR_ARG;
    const fm_seq s = make_seq(seed, epoch, sid);
    return bounded(&s, domain, block, range, x, result);
}

/* ---- internal entry points (fm_internal.h) ------------------------------------------------ */

int fm__path_available(int path) { return fm_i_path_available(path); }

int fm__path_best(void) { return fm_i_path_best(); }

const char *fm__path_name(int path)
{
    static const char *const names[FM_PATH_COUNT] = {"scalar", "generic", "avx2", "avx512"};
    return path >= 0 && path < FM_PATH_COUNT ? names[path] : "?";
}

size_t fm__gen_seq_words(uint32_t nblocks) { return 4 * (size_t)fm_round_blocks(nblocks); }

static fm_philox_base raw_base(const uint32_t key[2], uint32_t c1, uint32_t c2, uint32_t c3)
{
    fm_philox_base b;
    b.k0 = key[0];
    b.k1 = key[1];
    b.c1 = c1;
    b.c2 = c2;
    b.c3 = c3;
    return b;
}

void fm__gen_seq(int path, const uint32_t key[2], uint32_t c1, uint32_t c2, uint32_t c3,
                 uint32_t first, uint32_t nblocks, uint32_t *out)
{
    const fm_philox_base b = raw_base(key, c1, c2, c3);
    fm_i_gen_seq(fm_i_path_available(path) ? path : FM_ISA_SCALAR, &b, first, nblocks, out);
}

void fm__gen_gather(int path, const uint32_t key[2], uint32_t c1, uint32_t c2, uint32_t c3,
                    const uint32_t *blocks, uint32_t n, uint32_t *w0, uint32_t *w1)
{
    const fm_philox_base b = raw_base(key, c1, c2, c3);
    fm_i_gen_gather(fm_i_path_available(path) ? path : FM_ISA_SCALAR, &b, blocks, n, w0, w1);
}

void fm__bits_lt(int path, const uint32_t *words, uint32_t ngroups, uint32_t t, uint64_t *bits)
{
    fm_i_bits_lt(fm_i_path_available(path) ? path : FM_ISA_SCALAR, words, ngroups, t, bits);
}

uint32_t fm__bits_pos(int path, const uint64_t *bits, uint32_t ngroups, uint32_t add,
                      uint32_t *out)
{
    return fm_i_bits_pos(fm_i_path_available(path) ? path : FM_ISA_SCALAR, bits, ngroups, add,
                         out);
}

void fm__gap_bits64(int path, const int64_t *row, uint32_t n, int64_t lo, int64_t len,
                    uint64_t *bits)
{
    fm_i_gap_bits64(fm_i_path_available(path) ? path : FM_ISA_SCALAR, row, n, lo, len, bits);
}

void fm__gap_bits32(int path, const int32_t *row, uint32_t n, int64_t lo, int64_t len,
                    uint64_t *bits)
{
    fm_i_gap_bits32(fm_i_path_available(path) ? path : FM_ISA_SCALAR, row, n, lo, len, bits);
}

uint64_t fm__actions(int path, const uint32_t *w0, uint32_t cnt, uint64_t t_mask,
                     uint64_t t_mask_random, int32_t mask_id, int32_t *rep)
{
    return fm_i_actions(fm_i_path_available(path) ? path : FM_ISA_SCALAR, w0, cnt, t_mask,
                        t_mask_random, mask_id, rep);
}

void fm__class_bits(int path, const uint8_t *kind, uint32_t ngroups, uint64_t *out)
{
    fm_i_class_bits(fm_i_path_available(path) ? path : FM_ISA_SCALAR, kind, ngroups, out);
}

void fm__classes64(int path, const int64_t *row, uint32_t n, const uint8_t *cls, int64_t vocab,
                   uint8_t *kind)
{
    fm_i_classes64(fm_i_path_available(path) ? path : FM_ISA_SCALAR, row, n, cls, vocab, kind);
}

void fm__classes32(int path, const int32_t *row, uint32_t n, const uint8_t *cls, int64_t vocab,
                   uint8_t *kind)
{
    fm_i_classes32(fm_i_path_available(path) ? path : FM_ISA_SCALAR, row, n, cls, vocab, kind);
}
