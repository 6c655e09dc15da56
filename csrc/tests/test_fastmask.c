/*
 * Tests of the fastmask C core. Plain C, no framework: prints "N passed, N failed" and exits
 * non-zero on failure. Meant to run under -fsanitize=address,undefined (tests/test_c_core.py
 * builds it both with sanitizers and with plain -O2).
 *
 * The central check compares the kernels with ref_mask_row() below, a deliberately naive and
 * literal transcription of docs/semantics.md (lists of units, one Philox call per word, the
 * skip-list walk, nearbyint for the budget) that shares no code with the core except the
 * public fm_stream_block(); that one is itself checked against the Random123 known-answer
 * vectors and a hand-built counter. On top of that, the properties the design promises are
 * checked directly (never a special token, whole words, budgets, padding layout, independence
 * from the batch around a row, every instruction-set path giving the same bits, errors).
 */
#define _DEFAULT_SOURCE /* mmap's MAP_ANONYMOUS under -std=c11 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#define FM_TEST_GUARD_PAGES 1
#endif

#include "../fastmask.h"
#include "../fm_internal.h"
#include "ref_rng.h"

/* ---- harness ---------------------------------------------------------------------------- */

static long n_pass, n_fail;

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (cond) {                                                                          \
            n_pass++;                                                                        \
        } else {                                                                             \
            n_fail++;                                                                        \
            if (n_fail <= 40) {                                                              \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                         \
                fprintf(stderr, __VA_ARGS__);                                                \
                fputc('\n', stderr);                                                         \
            }                                                                                \
        }                                                                                    \
    } while (0)

#define TWO32 ((uint64_t)1 << 32)

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* splitmix64: the test's own random numbers */
typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnext(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* uniform in [0, n), n >= 1 (modulo bias is irrelevant here) */
static int64_t rint_below(rng *r, int64_t n) { return (int64_t)(rnext(r) % (uint64_t)n); }

static double runit(rng *r) { return (double)(rnext(r) >> 11) / 9007199254740992.0; }

/* ---- 1. Philox known answers ------------------------------------------------------------ */

static void test_kat(void)
{
    /* Random123 kat_vectors, philox4x32 with 10 rounds: counter, key, expected output */
    const uint32_t (*kat)[10] = ref_philox_kat;
    for (int i = 0; i < 3; i++) {
        uint32_t out[4];
        fm_philox4x32_10(kat[i], kat[i] + 4, out);
        for (int w = 0; w < 4; w++)
            CHECK(out[w] == kat[i][6 + w], "KAT %d word %d: %08x != %08x", i, w, out[w],
                  kat[i][6 + w]);
        /* every path of the batch generators, on the same counter */
        for (int path = 0; path < FM_PATH_COUNT; path++) {
            if (!fm__path_available(path))
                continue;
            uint32_t seq[64], w0[1], w1[1];
            fm__gen_seq(path, kat[i] + 4, kat[i][1], kat[i][2], kat[i][3], kat[i][0], 1, seq);
            fm__gen_gather(path, kat[i] + 4, kat[i][1], kat[i][2], kat[i][3], kat[i], 1, w0,
                           w1);
            CHECK(memcmp(seq, kat[i] + 6, 16) == 0, "KAT %d via gen_seq path %s", i,
                  fm__path_name(path));
            CHECK(w0[0] == kat[i][6] && w1[0] == kat[i][7], "KAT %d via gen_gather path %s", i,
                  fm__path_name(path));
        }
    }
}

/* fm_stream_block = Philox(counter, key) with the section 2 layout */
static void test_stream_layout(void)
{
    rng r = {1};
    for (int it = 0; it < 2000; it++) {
        const uint64_t seed = rnext(&r);
        const uint32_t epoch = (uint32_t)rnext(&r);
        const uint64_t sid = rnext(&r) >> 16;
        const uint32_t domain = (uint32_t)rint_below(&r, 0x10000);
        const uint32_t block = (uint32_t)rnext(&r);
        const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
        const uint32_t ctr[4] = {block, epoch, (uint32_t)sid,
                                 (domain << 16) | (uint32_t)(sid >> 32)};
        uint32_t a[4], b[4];
        fm_philox4x32_10(ctr, key, a);
        fm_stream_block(seed, epoch, sid, domain, block, b);
        CHECK(memcmp(a, b, sizeof a) == 0, "stream layout, iteration %d", it);
    }
}

/* ---- 2. batch generators: every path equals the scalar one ------------------------------ */

static void test_generators(void)
{
    rng r = {2};
    uint32_t *ref = xmalloc(4 * 1200 * sizeof(uint32_t));
    uint32_t *got = xmalloc(4 * 1200 * sizeof(uint32_t));
    uint32_t *blocks = xmalloc(300 * sizeof(uint32_t));
    uint32_t r0[300], r1[300], g0[300], g1[300];
    uint64_t bref[20], bgot[20];
    for (int it = 0; it < 300; it++) {
        const uint32_t key[2] = {(uint32_t)rnext(&r), (uint32_t)rnext(&r)};
        const uint32_t c1 = (uint32_t)rnext(&r), c2 = (uint32_t)rnext(&r);
        const uint32_t c3 = (uint32_t)rnext(&r);
        /* first blocks near 2^32 check that the block index wraps like a uint32 */
        const uint32_t first = it % 7 == 0 ? 0xFFFFFFF0u : (uint32_t)rnext(&r);
        const uint32_t nblocks = (uint32_t)rint_below(&r, 300);
        const size_t words = fm__gen_seq_words(nblocks);
        fm__gen_seq(FM_PATH_SCALAR, key, c1, c2, c3, first, nblocks, ref);
        for (uint32_t i = 0; i < nblocks; i += 37) { /* spot check against the public one */
            uint32_t ctr[4] = {first + i, c1, c2, c3}, out[4];
            fm_philox4x32_10(ctr, key, out);
            CHECK(memcmp(out, ref + 4 * i, 16) == 0, "scalar gen_seq block %u", i);
        }
        const uint32_t n = (uint32_t)rint_below(&r, 300);
        for (uint32_t i = 0; i < n; i++)
            blocks[i] = it % 2 ? (uint32_t)rnext(&r) : (uint32_t)rint_below(&r, 1000);
        fm__gen_gather(FM_PATH_SCALAR, key, c1, c2, c3, blocks, n, r0, r1);
        const uint32_t t = it % 11 == 0 ? 0u : it % 13 == 0 ? 0xFFFFFFFFu : (uint32_t)rnext(&r);
        const uint32_t ngroups = (uint32_t)(words / 64);
        fm__bits_lt(FM_PATH_SCALAR, ref, ngroups, t, bref);
        for (uint32_t q = 0; q < ngroups; q++)
            for (int i = 0; i < 64; i++)
                CHECK((int)((bref[q] >> i) & 1) == (ref[64 * q + (uint32_t)i] < t),
                      "bits_lt scalar");
        for (int path = 1; path < FM_PATH_COUNT; path++) {
            if (!fm__path_available(path))
                continue;
            memset(got, 0xA5, words * sizeof(uint32_t));
            fm__gen_seq(path, key, c1, c2, c3, first, nblocks, got);
            CHECK(memcmp(ref, got, words * sizeof(uint32_t)) == 0,
                  "gen_seq path %s differs (nblocks %u)", fm__path_name(path), nblocks);
            fm__gen_gather(path, key, c1, c2, c3, blocks, n, g0, g1);
            CHECK(memcmp(r0, g0, n * sizeof(uint32_t)) == 0 &&
                      memcmp(r1, g1, n * sizeof(uint32_t)) == 0,
                  "gen_gather path %s differs (n %u)", fm__path_name(path), n);
            fm__bits_lt(path, ref, ngroups, t, bgot);
            CHECK(memcmp(bref, bgot, ngroups * sizeof(uint64_t)) == 0,
                  "bits_lt path %s differs", fm__path_name(path));
        }
    }
    free(ref);
    free(got);
    free(blocks);
}

/* bits_pos on every path against a bit-by-bit scan: masks of every density (all clear, all
 * set, sparse, dense), and no write past the positions it reports. */
static void test_bits_pos(void)
{
    rng r = {12};
    uint64_t bits[16];
    uint32_t want[16 * 64], got[16 * 64 + 8];
    for (int it = 0; it < 2000; it++) {
        const uint32_t ngroups = (uint32_t)rint_below(&r, 17);
        const uint32_t add = it % 3 == 0 ? 0u : (uint32_t)rint_below(&r, 5);
        const int density = it % 6; /* 0: none, 1: all, 2-5: and-ed / or-ed random words */
        for (uint32_t q = 0; q < ngroups; q++) {
            const uint64_t a = rnext(&r), b = rnext(&r), c = rnext(&r);
            bits[q] = density == 0   ? 0
                      : density == 1 ? ~(uint64_t)0
                      : density == 2 ? a & b & c
                      : density == 3 ? a
                      : density == 4 ? a | b | c
                                     : ~(a & b) & ((uint64_t)1 << (c & 63));
        }
        uint32_t nw = 0;
        for (uint32_t q = 0; q < ngroups; q++)
            for (uint32_t i = 0; i < 64; i++)
                if ((bits[q] >> i) & 1)
                    want[nw++] = 64 * q + i + add;
        for (int path = 0; path < FM_PATH_COUNT; path++) {
            if (!fm__path_available(path))
                continue;
            for (size_t i = 0; i < sizeof got / sizeof got[0]; i++)
                got[i] = 0xDEADBEEFu;
            const uint32_t ng = fm__bits_pos(path, bits, ngroups, add, got);
            CHECK(ng == nw && memcmp(want, got, nw * sizeof(uint32_t)) == 0,
                  "bits_pos path %s differs (%u groups, density %d)", fm__path_name(path),
                  ngroups, density);
            CHECK(got[nw] == 0xDEADBEEFu, "bits_pos path %s writes past its positions",
                  fm__path_name(path));
        }
    }
}

/* gap_bits of every path against the definition, on runs and ids at and next to both ends
 * of the run, every length 0..200 (partial last groups), both element types. */
static void test_gap_bits(void)
{
    rng r = {21};
    int64_t row64[200];
    int32_t row32[200];
    uint64_t want[4], got64[5], got32[5];
    for (int it = 0; it < 3000; it++) {
        const uint32_t n = (uint32_t)(it % 201);
        const int64_t lo = it % 7 == 0 ? 0 : (int64_t)rint_below(&r, 1000);
        const int64_t len = it % 11 == 0 ? 0 : (int64_t)rint_below(&r, 1000);
        const int64_t near[] = {lo - 1, lo, lo + 1, lo + len - 1, lo + len, lo + len + 1, 0,
                                (int64_t)1 << 30, ((int64_t)1 << 31) - 1};
        for (uint32_t j = 0; j < n; j++) {
            int64_t y = rint_below(&r, 3) == 0 ? (int64_t)rint_below(&r, 3000)
                                                 : near[rint_below(&r, 9)];
            if (y < 0)
                y = 0;
            row64[j] = y;
            row32[j] = (int32_t)y;
        }
        memset(want, 0, sizeof want);
        for (uint32_t j = 0; j < n; j++)
            if (!(row64[j] >= lo && row64[j] < lo + len))
                want[j / 64] |= (uint64_t)1 << (j % 64);
        const uint32_t ng = (n + 63) / 64;
        for (int path = 0; path < FM_PATH_COUNT; path++) {
            if (!fm__path_available(path))
                continue;
            memset(got64, 0xA5, sizeof got64);
            memset(got32, 0xA5, sizeof got32);
            fm__gap_bits64(path, row64, n, lo, len, got64);
            fm__gap_bits32(path, row32, n, lo, len, got32);
            CHECK(memcmp(want, got64, ng * sizeof(uint64_t)) == 0 &&
                      memcmp(want, got32, ng * sizeof(uint64_t)) == 0,
                  "gap_bits path %s differs (n %u, lo %ld, len %ld)", fm__path_name(path), n,
                  (long)lo, (long)len);
            CHECK(got64[ng] == 0xA5A5A5A5A5A5A5A5ull && got32[ng] == 0xA5A5A5A5A5A5A5A5ull,
                  "gap_bits path %s writes past its groups", fm__path_name(path));
        }
    }
}

/* actions of every path against the definition: words at and next to both thresholds,
 * thresholds 0, 1 and 2^32 among them, every count 0..64. */
static void test_actions(void)
{
    rng r = {22};
    const uint64_t T32 = (uint64_t)1 << 32;
    uint32_t w0[64];
    int32_t want_rep[64], got[65];
    for (int it = 0; it < 4000; it++) {
        const uint32_t cnt = (uint32_t)(it % 65);
        const uint64_t ts[] = {0, 1, T32 - 1, T32, (uint64_t)rint_below(&r, 1u << 30) << 2,
                               (uint64_t)(uint32_t)rnext(&r)};
        uint64_t tm = ts[rint_below(&r, 6)], tr = ts[rint_below(&r, 6)];
        if (tm > tr) {
            const uint64_t t = tm;
            tm = tr;
            tr = t;
        }
        const int32_t mask_id = (int32_t)rint_below(&r, 1u << 31);
        for (uint32_t q = 0; q < cnt; q++) {
            const uint64_t t = rint_below(&r, 2) ? tm : tr;
            const uint32_t k = (uint32_t)rint_below(&r, 4);
            const uint64_t v = k == 0 ? t - 1 : k == 1 ? t : k == 2 ? t + 1 : rnext(&r);
            w0[q] = (uint32_t)v; /* wraps at 0 - 1 and 2^32 */
        }
        uint64_t want = 0;
        for (uint32_t q = 0; q < cnt; q++) {
            const int is_mask = w0[q] < tm;
            want_rep[q] = is_mask ? mask_id : -1;
            if (!is_mask && w0[q] < tr)
                want |= (uint64_t)1 << q;
        }
        for (int path = 0; path < FM_PATH_COUNT; path++) {
            if (!fm__path_available(path))
                continue;
            for (int q = 0; q < 65; q++)
                got[q] = 0x5EADBEEF;
            const uint64_t bits = fm__actions(path, w0, cnt, tm, tr, mask_id, got);
            CHECK(bits == want && memcmp(want_rep, got, cnt * sizeof(int32_t)) == 0,
                  "actions path %s differs (cnt %u, t_mask %llu, t_mask_random %llu)",
                  fm__path_name(path), cnt, (unsigned long long)tm, (unsigned long long)tr);
            CHECK(got[cnt] == 0x5EADBEEF, "actions path %s writes past its words",
                  fm__path_name(path));
        }
    }
}

/* class_bits of every path against the definition, on bytes with other bits set too. */
static void test_class_bits(void)
{
    rng r = {23};
    uint8_t kind[8 * 64];
    uint64_t want[3 * 8], got[3 * 8 + 1];
    for (int it = 0; it < 2000; it++) {
        const uint32_t ngroups = (uint32_t)rint_below(&r, 9);
        for (uint32_t j = 0; j < 64 * ngroups; j++)
            kind[j] = (uint8_t)(it % 4 == 0 ? rnext(&r) : (uint64_t)rint_below(&r, 8));
        for (uint32_t q = 0; q < ngroups; q++)
            for (uint32_t b = 0; b < 3; b++) {
                uint64_t m = 0;
                for (uint32_t i = 0; i < 64; i++)
                    m |= (uint64_t)((kind[64 * q + i] >> b) & 1u) << i;
                want[3 * q + b] = m;
            }
        for (int path = 0; path < FM_PATH_COUNT; path++) {
            if (!fm__path_available(path))
                continue;
            memset(got, 0xA5, sizeof got);
            fm__class_bits(path, kind, ngroups, got);
            CHECK(memcmp(want, got, 3 * ngroups * sizeof(uint64_t)) == 0,
                  "class_bits path %s differs (%u groups)", fm__path_name(path), ngroups);
            CHECK(got[3 * ngroups] == 0xA5A5A5A5A5A5A5A5ull,
                  "class_bits path %s writes past its groups", fm__path_name(path));
        }
    }
}

/* classes of every path against the definition: every vocabulary size 1..40 and larger ones,
 * ids at both ends of the vocabulary (the gathers read four bytes at an id), every length. */
static void test_classes(void)
{
    rng r = {24};
    uint8_t want[100], got[101];
    int64_t row64[100];
    int32_t row32[100];
    for (int it = 0; it < 3000; it++) {
        const int64_t V = it < 400 ? 1 + it % 40 : 1 + rint_below(&r, 3000);
        const uint32_t n = (uint32_t)(it % 101);
        uint8_t *cls = xmalloc((size_t)V); /* exactly V bytes: a read past it is a bug */
        for (int64_t i = 0; i < V; i++)
            cls[i] = (uint8_t)rnext(&r);
        for (uint32_t j = 0; j < n; j++) {
            const int64_t k = rint_below(&r, 4);
            const int64_t y = k == 0 ? V - 1 - rint_below(&r, V < 4 ? V : 4)
                                     : k == 1 ? rint_below(&r, V < 4 ? V : 4) : rint_below(&r, V);
            row64[j] = y;
            row32[j] = (int32_t)y;
            want[j] = cls[y];
        }
        for (int path = 0; path < FM_PATH_COUNT; path++) {
            if (!fm__path_available(path))
                continue;
            memset(got, 0xA5, sizeof got);
            fm__classes64(path, row64, n, cls, V, got);
            CHECK(memcmp(want, got, n) == 0 && got[n] == 0xA5,
                  "classes64 path %s differs (V %" PRId64 ", n %u)", fm__path_name(path), V, n);
            memset(got, 0xA5, sizeof got);
            fm__classes32(path, row32, n, cls, V, got);
            CHECK(memcmp(want, got, n) == 0 && got[n] == 0xA5,
                  "classes32 path %s differs (V %" PRId64 ", n %u)", fm__path_name(path), V, n);
        }
        free(cls);
    }
}

#ifdef FM_TEST_GUARD_PAGES
/* The class table of the gathers ends right before an inaccessible page: a read of a byte
 * past the table (the four-byte gathers near the end of the vocabulary) would fault. */
static void test_classes_at_page_end(void)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char *map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                              -1, 0);
    CHECK(map != MAP_FAILED, "mmap");
    if (map == MAP_FAILED)
        return;
    CHECK(mprotect(map + page, page, PROT_NONE) == 0, "mprotect");
    int64_t row64[64];
    int32_t row32[64];
    uint8_t got[64];
    for (int64_t V = 1; V <= 70; V++) {
        uint8_t *cls = map + page - V;
        for (int64_t i = 0; i < V; i++)
            cls[i] = (uint8_t)(i * 7 + 1);
        for (int j = 0; j < 64; j++) { /* mostly the last ids */
            row64[j] = j % 3 == 0 ? j % V : V - 1 - j % (V < 4 ? V : 4);
            row32[j] = (int32_t)row64[j];
        }
        for (int path = 0; path < FM_PATH_COUNT; path++) {
            if (!fm__path_available(path))
                continue;
            fm__classes64(path, row64, 64, cls, V, got);
            int right = 1;
            for (int j = 0; j < 64; j++)
                right &= got[j] == cls[row64[j]];
            fm__classes32(path, row32, 64, cls, V, got);
            for (int j = 0; j < 64; j++)
                right &= got[j] == cls[row32[j]];
            CHECK(right, "classes at the page end, path %s, V %" PRId64, fm__path_name(path), V);
        }
    }
    munmap(map, 2 * page);
}
#endif

/* ---- 3. bounded draws ------------------------------------------------------------------- */

/* Section 4, literally, with retry words from fm_stream_block. Returns 0 or -1 (exhausted). */
static int ref_bounded(uint64_t seed, uint32_t epoch, uint64_t sid, uint32_t D, uint32_t b,
                       uint32_t R, uint32_t x, uint32_t *out, int *retries)
{
    return ref_bounded_with(fm_stream_block, seed, epoch, sid, D, b, R, x, out, retries);
}

static void test_bounded(void)
{
    rng r = {3};
    uint32_t v;
    /* R = 1: always 0, never a retry */
    for (int it = 0; it < 1000; it++) {
        CHECK(fm_bounded(rnext(&r), 1, 2, 3, 4, 1, (uint32_t)rnext(&r), &v) == FM_OK && v == 0,
              "bounded R=1");
    }
    CHECK(fm_bounded(1, 2, 3, 3, 4, 1, 0, &v) == FM_OK && v == 0, "bounded R=1 x=0");
    /* R = 2^32 - 1, x = 0: m mod 2^32 = 0 < t = 1, so the first retry word decides */
    {
        uint32_t w[4];
        fm_stream_block(5, 6, 7, 0x8000u | (3u << 8), 9, w);
        CHECK(fm_bounded(5, 6, 7, 3, 9, 0xFFFFFFFFu, 0, &v) == FM_OK &&
                  v == (uint32_t)(((uint64_t)w[0] * 0xFFFFFFFFu) >> 32),
              "bounded R=2^32-1 x=0 uses retry word 0");
    }
    /* ranges near 2^31 reject about half of the words: retries in several rounds */
    long total_retries = 0, multi_round = 0;
    const uint32_t ranges[] = {0x80000001u, 0x80000003u, 0x7FFFFFFFu, 0xC0000001u, 3, 5, 7,
                               1000, 30522, 0xFFFFFFFFu, 0xFFFFFFFEu};
    for (int it = 0; it < 40000; it++) {
        const uint64_t seed = rnext(&r), sid = rnext(&r) >> 16;
        const uint32_t epoch = (uint32_t)rnext(&r), block = (uint32_t)rnext(&r);
        const uint32_t D = 1 + (uint32_t)rint_below(&r, 4);
        uint32_t R = ranges[it % (int)(sizeof ranges / sizeof ranges[0])];
        if (it % 5 == 0)
            R = 1 + (uint32_t)rint_below(&r, 0xFFFFFFFF);
        const uint32_t x = (uint32_t)rnext(&r);
        uint32_t want = 0;
        int retries = 0;
        const int ok = ref_bounded(seed, epoch, sid, D, block, R, x, &want, &retries);
        const int rc = fm_bounded(seed, epoch, sid, D, block, R, x, &v);
        CHECK(ok == 0 && rc == FM_OK && v == want && v < R,
              "bounded R=%u x=%u: got %u want %u", R, x, v, want);
        total_retries += retries;
        multi_round += retries > 4;
    }
    CHECK(total_retries > 1000, "retries exercised (%ld)", total_retries);
    CHECK(multi_round > 10, "retries beyond the first round exercised (%ld)", multi_round);
    /* uniformity, roughly: R = 3 */
    long counts[3] = {0, 0, 0};
    for (int it = 0; it < 30000; it++) {
        CHECK(fm_bounded(11, 0, (uint64_t)it, 2, (uint32_t)it, 3, (uint32_t)rnext(&r), &v) ==
                  FM_OK,
              "bounded R=3");
        if (v < 3)
            counts[v]++;
    }
    for (int i = 0; i < 3; i++)
        CHECK(counts[i] > 9400 && counts[i] < 10600, "bounded R=3 bucket %d: %ld", i, counts[i]);
    /* argument errors */
    CHECK(fm_bounded(1, 2, 3, 1, 4, 0, 5, &v) == FM_ERR_ARG, "bounded R=0");
    CHECK(fm_bounded(1, 2, 3, 0x80, 4, 5, 5, &v) == FM_ERR_ARG, "bounded domain 0x80");
    CHECK(fm_bounded(1, 2, TWO32 << 16, 1, 4, 5, 5, &v) == FM_ERR_ARG, "bounded sid 2^48");
    CHECK(fm_bounded(1, 2, 3, 1, 4, 5, 5, NULL) == FM_ERR_ARG, "bounded NULL result");
}

/* ---- 4. small helpers: allowed ids, budget ---------------------------------------------- */

static int64_t ref_allowed(const int64_t *skip, int64_t n, int64_t r)
{
    int64_t id = r;
    for (int64_t i = 0; i < n; i++)
        if (skip[i] <= id)
            id++;
    return id;
}

static void test_allowed_and_budget(void)
{
    rng r = {4};
    int64_t skip[64];
    for (int it = 0; it < 3000; it++) {
        const int64_t V = 1 + rint_below(&r, 200);
        int64_t n = 0;
        const double dens = runit(&r);
        for (int64_t id = 0; id < V && n < 64; id++)
            if (runit(&r) < dens)
                skip[n++] = id;
        if (n == V)
            n--; /* keep R >= 1 */
        const int64_t R = V - n;
        for (int64_t q = 0; q < R; q++) {
            const int64_t got = fm__allowed_id(skip, n, q), want = ref_allowed(skip, n, q);
            CHECK(got == want, "allowed id %" PRId64 ": %" PRId64 " != %" PRId64, q, got,
                  want);
        }
    }
    fm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    for (int it = 0; it < 20000; it++) {
        const int64_t n = rint_below(&r, 5000);
        cfg.probability = it % 3 == 0 ? (double)rint_below(&r, 41) / 40.0 : runit(&r);
        cfg.max_predictions = it % 2 ? -1 : rint_below(&r, 100);
        int64_t want = (int64_t)nearbyint((double)n * cfg.probability);
        if (want < 1)
            want = 1;
        if (cfg.max_predictions >= 0 && cfg.max_predictions < want)
            want = cfg.max_predictions;
        CHECK(fm__budget(&cfg, n) == want, "budget n=%" PRId64 " p=%.17g", n, cfg.probability);
    }
    /* half-way cases go to even */
    cfg.max_predictions = -1;
    cfg.probability = 0.5;
    CHECK(fm__budget(&cfg, 5) == 2 && fm__budget(&cfg, 7) == 4 && fm__budget(&cfg, 1) == 1,
          "budget ties to even");
    cfg.probability = 0.0;
    CHECK(fm__budget(&cfg, 100) == 1, "budget is at least 1");
}

/* ---- 5. test configurations ------------------------------------------------------------- */

typedef struct tcfg {
    fm_config c;
    uint8_t *is_special; /* [V] S as a byte per id */
    uint8_t *bits;
    int64_t *skip;
    uint64_t *cdf;
    uint8_t *table;
    uint32_t *cum; /* unigram table, or NULL */
} tcfg;

static void tcfg_free(tcfg *t)
{
    free(t->is_special);
    free(t->bits);
    free(t->skip);
    free(t->cdf);
    free(t->table);
    free(t->cum);
    memset(t, 0, sizeof *t);
}

static uint64_t threshold(double p) { return (uint64_t)nearbyint(p * 4294967296.0); }

/* A random valid configuration. */
static void tcfg_random(rng *r, tcfg *t)
{
    memset(t, 0, sizeof *t);
    fm_config *c = &t->c;
    const int64_t V = rint_below(r, 8) == 0 ? 1 + rint_below(r, 6) : 8 + rint_below(r, 3000);
    c->seed = rint_below(r, 4) == 0 ? rnext(r) & 0xFF : rnext(r);
    c->epoch = rint_below(r, 3) == 0 ? 0 : (uint32_t)rnext(r);
    c->selection = (int)rint_below(r, 3);
    c->units = (int)rint_below(r, 2);
    c->action_per_unit = (int)rint_below(r, 2);
    const int pk = (int)rint_below(r, 10);
    c->probability = pk == 0 ? 0.0 : pk == 1 ? 1.0 : pk < 5 ? 0.15 : runit(r);
    c->t_select = threshold(c->probability);
    const int ak = (int)rint_below(r, 6);
    if (ak == 0) { /* all random */
        c->t_mask = 0;
        c->t_random = TWO32;
    } else if (ak == 1) { /* all mask */
        c->t_mask = TWO32;
        c->t_random = 0;
    } else if (ak == 2) { /* mask + random = 1 */
        c->t_mask = threshold(runit(r));
        c->t_random = TWO32 - c->t_mask;
    } else {
        c->t_mask = threshold(0.8);
        c->t_random = threshold(0.1);
        if (ak == 5) {
            c->t_mask = threshold(runit(r) * 0.5);
            c->t_random = threshold(runit(r) * 0.5);
        }
    }
    c->max_predictions = rint_below(r, 3) == 0 ? rint_below(r, 25) : -1;
    c->vocab_size = V;
    c->mask_id = rint_below(r, V);
    c->pad_id = rint_below(r, V);
    c->ignore_index = rint_below(r, 4) == 0 ? (int64_t)rnext(r) % 100000 : -100;
    /* S: mask, pad and a few more ids */
    t->is_special = xmalloc((size_t)V);
    memset(t->is_special, 0, (size_t)V);
    t->is_special[c->mask_id] = 1;
    t->is_special[c->pad_id] = 1;
    const int64_t extra = rint_below(r, 6);
    for (int64_t i = 0; i < extra; i++)
        t->is_special[rint_below(r, V)] = 1;
    t->bits = xmalloc((size_t)(V + 7) / 8);
    memset(t->bits, 0, (size_t)(V + 7) / 8);
    for (int64_t id = 0; id < V; id++)
        if (t->is_special[id])
            t->bits[id >> 3] |= (uint8_t)(1u << (id & 7));
    /* random ids: without S (default), all ids, or another subset; R >= 1 */
    t->skip = xmalloc((size_t)V * sizeof(int64_t));
    const int sk = (int)rint_below(r, 3);
    int64_t n = 0;
    for (int64_t id = 0; id < V; id++) {
        const int out = sk == 0 ? t->is_special[id] : sk == 1 ? 0 : rint_below(r, 5) == 0;
        if (out)
            t->skip[n++] = id;
    }
    if (n == V) {
        n--;
        if (n > 0 && sk != 1) { /* drop one entry at random instead of always the last */
            const int64_t drop = rint_below(r, n + 1);
            memmove(t->skip + drop, t->skip + drop + 1, (size_t)(n - drop) * sizeof(int64_t));
        }
    }
    c->random_skip = t->skip;
    c->n_random_skip = n;
    c->random_range = (uint32_t)(V - n);
    c->special_bits = t->bits;
    /* span lengths */
    const int m = 1 + (int)rint_below(r, 10);
    t->cdf = xmalloc((size_t)m * sizeof(uint64_t));
    uint64_t acc = 0;
    for (int l = 0; l < m - 1; l++) {
        acc += rnext(r) % (TWO32 / (uint64_t)m + 1);
        t->cdf[l] = acc;
    }
    t->cdf[m - 1] = TWO32;
    c->span_cdf = t->cdf;
    c->n_span_lengths = m;
    /* word table, 0/1/2 */
    if (rint_below(r, 4) != 0) {
        t->table = xmalloc((size_t)V);
        for (int64_t id = 0; id < V; id++)
            t->table[id] = (uint8_t)(rint_below(r, 4) == 0 ? 0 : rint_below(r, 5) == 0 ? 2 : 1);
        c->word_table = t->table;
    }
}

/* ---- 6. the literal reference ------------------------------------------------------------ */

typedef struct unit {
    int64_t start, len;
} unit;

typedef struct refseq {
    const fm_config *c;
    uint64_t sid;
} refseq;

static uint32_t ref_word(const refseq *s, uint32_t domain, uint32_t block, int w)
{
    uint32_t out[4];
    fm_stream_block(s->c->seed, s->c->epoch, s->sid, domain, block, out);
    return out[w];
}

/* instrumentation of the reference: retries used per domain, span loops cut by the limit */
static long ref_retries[8], ref_span_last_attempt_picks;

static uint32_t ref_bdraw(const refseq *s, uint32_t D, uint32_t b, uint32_t R, uint32_t x)
{
    uint32_t v = 0;
    int used = 0;
    if (ref_bounded(s->c->seed, s->c->epoch, s->sid, D, b, R, x, &v, &used) != 0) {
        fprintf(stderr, "reference bounded draw exhausted its retries\n");
        exit(2);
    }
    ref_retries[D & 7] += used;
    return v;
}

/* fill(A, k): marks picked units in picked_unit[] (indexed by position of start) */
static void ref_fill(const refseq *s, unit *A, int64_t nA, int64_t k, uint8_t *picked_at)
{
    int64_t total = 0;
    for (int64_t i = 0; i < nA; i++) {
        if (total >= k)
            break;
        const uint32_t x = ref_word(s, FM_DOMAIN_SHUFFLE, (uint32_t)(i / 4), (int)(i % 4));
        const int64_t rr = i + ref_bdraw(s, FM_DOMAIN_SHUFFLE, (uint32_t)i, (uint32_t)(nA - i), x);
        const unit tmp = A[i];
        A[i] = A[rr];
        A[rr] = tmp;
        if (total + A[i].len > k)
            continue;
        picked_at[A[i].start] = 1;
        total += A[i].len;
    }
}

/*
 * One unpadded sequence: out/lab receive the masked ids and labels. sm, ws may be NULL.
 * picked_at[j] = 1 for the start position of every picked unit (for the invariants).
 */
static void ref_mask_row(const fm_config *c, uint64_t sid, const int64_t *ids, int64_t n,
                         const uint8_t *sm, const uint8_t *ws, int64_t *out, int64_t *lab,
                         uint8_t *picked_at, unit *units, int64_t *n_units_out)
{
    const refseq s = {c, sid};
    *n_units_out = 0;
    if (n <= 0)
        return;
    uint8_t *special = xmalloc((size_t)n);
    for (int64_t j = 0; j < n; j++) {
        const int64_t y = ids[j];
        special[j] = (uint8_t)((sm != NULL && sm[j] != 0) ||
                               ((c->special_bits[y >> 3] >> (y & 7)) & 1));
    }
    /* units (section 6) */
    int64_t U = 0;
    for (int64_t j = 0; j < n; j++) {
        if (special[j])
            continue;
        int f = 1;
        if (c->units == FM_UNITS_WORDS) {
            if (ws != NULL)
                f = ws[j] == 1;
            else
                f = j == 0 || c->word_table[ids[j]] >= 1 || c->word_table[ids[j - 1]] == 2;
        }
        if (c->units == FM_UNITS_TOKENS || j == 0 || special[j - 1] || f) {
            units[U].start = j;
            units[U].len = 1;
            U++;
        } else {
            units[U - 1].len++;
        }
    }
    *n_units_out = U;
    memset(picked_at, 0, (size_t)n);
    /* selection (section 7) */
    if (U > 0) {
        int64_t k = (int64_t)nearbyint((double)n * c->probability);
        if (k < 1)
            k = 1;
        if (c->max_predictions >= 0 && c->max_predictions < k)
            k = c->max_predictions;
        unit *A = xmalloc((size_t)U * sizeof(unit));
        if (c->selection == FM_SELECT_BERNOULLI) {
            int64_t nA = 0, total = 0;
            for (int64_t u = 0; u < U; u++) {
                const int64_t st = units[u].start;
                if (ref_word(&s, FM_DOMAIN_SELECT, (uint32_t)(st / 4), (int)(st % 4)) <
                    c->t_select) {
                    A[nA++] = units[u];
                    total += units[u].len;
                }
            }
            if (c->max_predictions >= 0 && total > c->max_predictions) {
                ref_fill(&s, A, nA, c->max_predictions, picked_at);
            } else {
                for (int64_t q = 0; q < nA; q++)
                    picked_at[A[q].start] = 1;
            }
        } else if (c->selection == FM_SELECT_EXACT) {
            memcpy(A, units, (size_t)U * sizeof(unit));
            ref_fill(&s, A, U, k, picked_at);
        } else {
            uint8_t *picked = xmalloc((size_t)U);
            memset(picked, 0, (size_t)U);
            int64_t total = 0, npicked = 0;
            for (int64_t i = 0; i <= 4 * U + 15; i++) {
                if (total >= k || npicked == U)
                    break;
                const uint32_t x0 = ref_word(&s, FM_DOMAIN_SPAN, (uint32_t)i, 0);
                int64_t l = 1;
                while (!(x0 < c->span_cdf[l - 1]))
                    l++;
                const int64_t a =
                    ref_bdraw(&s, FM_DOMAIN_SPAN, (uint32_t)i, (uint32_t)U,
                              ref_word(&s, FM_DOMAIN_SPAN, (uint32_t)i, 1));
                if (picked[a])
                    continue;
                int64_t cnt = 0, u = a;
                while (cnt < l && u < U && !picked[u] &&
                       (u == a || units[u].start == units[u - 1].start + units[u - 1].len)) {
                    if (total + units[u].len > k)
                        break;
                    picked[u] = 1;
                    npicked++;
                    total += units[u].len;
                    cnt++;
                    u++;
                }
                if (i == 4 * U + 15 && cnt > 0)
                    ref_span_last_attempt_picks++;
            }
            for (int64_t u = 0; u < U; u++)
                if (picked[u])
                    picked_at[units[u].start] = 1;
            free(picked);
        }
        free(A);
    }
    /* replacement and labels (section 8) */
    for (int64_t j = 0; j < n; j++) {
        out[j] = ids[j];
        lab[j] = c->ignore_index;
    }
    for (int64_t u = 0; u < U; u++) {
        if (!picked_at[units[u].start])
            continue;
        for (int64_t j = units[u].start; j < units[u].start + units[u].len; j++) {
            const uint32_t db = (uint32_t)(c->action_per_unit ? units[u].start : j);
            const uint64_t d = ref_word(&s, FM_DOMAIN_ACTION, db, 0);
            if (d < c->t_mask) {
                out[j] = c->mask_id;
            } else if (d < c->t_mask + c->t_random) {
                const uint32_t rr =
                    ref_bdraw(&s, FM_DOMAIN_ACTION, (uint32_t)j, c->random_range,
                              ref_word(&s, FM_DOMAIN_ACTION, (uint32_t)j, 1));
                if (c->random_cum == NULL) {
                    out[j] = ref_allowed(c->random_skip, c->n_random_skip, rr);
                } else { /* the first id whose cumulative weight exceeds rr, by a plain walk */
                    int64_t id = 0;
                    while (c->random_cum[id] <= rr)
                        id++;
                    out[j] = id;
                }
            }
            lab[j] = ids[j];
        }
    }
    free(special);
}

/* ---- 7. a random batch ------------------------------------------------------------------ */

typedef struct tbatch {
    int64_t B, L;
    int left;
    int64_t *len;
    uint64_t *sids;
    int64_t **seq;   /* unpadded rows */
    uint8_t **sm;    /* unpadded special masks (or NULL) */
    uint8_t **wsf;   /* unpadded word starts (or NULL) */
    int has_sm, has_ws;
} tbatch;

static void tbatch_free(tbatch *b)
{
    for (int64_t i = 0; i < b->B; i++) {
        free(b->seq[i]);
        free(b->sm[i]);
        free(b->wsf[i]);
    }
    free(b->seq);
    free(b->sm);
    free(b->wsf);
    free(b->len);
    free(b->sids);
    memset(b, 0, sizeof *b);
}

static void tbatch_random(rng *r, const tcfg *t, tbatch *b, int64_t max_len)
{
    const fm_config *c = &t->c;
    b->B = rint_below(r, 7);
    b->left = (int)rint_below(r, 2);
    b->has_sm = rint_below(r, 3) == 0;
    b->has_ws = c->units == FM_UNITS_WORDS && (t->table == NULL || rint_below(r, 2) == 0);
    b->len = xmalloc((size_t)(b->B + 1) * sizeof(int64_t));
    b->sids = xmalloc((size_t)(b->B + 1) * sizeof(uint64_t));
    b->seq = xmalloc((size_t)(b->B + 1) * sizeof(int64_t *));
    b->sm = xmalloc((size_t)(b->B + 1) * sizeof(uint8_t *));
    b->wsf = xmalloc((size_t)(b->B + 1) * sizeof(uint8_t *));
    int64_t maxn = 0;
    const double special_rate = runit(r) * 0.3;
    for (int64_t i = 0; i < b->B; i++) {
        const int64_t n = rint_below(r, 5) == 0 ? rint_below(r, 4) : rint_below(r, max_len + 1);
        b->len[i] = n;
        b->sids[i] = rint_below(r, 3) == 0 ? (uint64_t)i : rnext(r) >> 16;
        b->seq[i] = xmalloc((size_t)n * sizeof(int64_t));
        b->sm[i] = b->has_sm ? xmalloc((size_t)n) : NULL;
        b->wsf[i] = b->has_ws ? xmalloc((size_t)n) : NULL;
        for (int64_t j = 0; j < n; j++) {
            int64_t y = rint_below(r, c->vocab_size);
            if (runit(r) < special_rate) /* a special id or the pad id */
                y = rint_below(r, 2) ? c->pad_id : c->mask_id;
            b->seq[i][j] = y;
            if (b->has_sm)
                b->sm[i][j] = (uint8_t)(runit(r) < special_rate ? 1 + rint_below(r, 255) : 0);
            if (b->has_ws) /* mostly 0/1; a few 2s, which are not word starts (f == 1 only) */
                b->wsf[i][j] = (uint8_t)(rint_below(r, 10) == 0 ? 2 : rint_below(r, 3) != 0);
        }
        if (n > maxn)
            maxn = n;
    }
    b->L = maxn + (rint_below(r, 3) == 0 ? rint_below(r, 70) : 0);
}

/* Padded arrays of a batch at width L (>= every length), side `left`, garbage in padding. */
typedef struct tpadded {
    int64_t *ids;
    uint8_t *sm, *wsf;
    int64_t L;
} tpadded;

static void tpad(rng *r, const tbatch *b, int64_t L, int left, tpadded *p)
{
    p->L = L;
    const size_t cells = (size_t)(b->B * L);
    p->ids = xmalloc(cells * sizeof(int64_t));
    p->sm = b->has_sm ? xmalloc(cells) : NULL;
    p->wsf = b->has_ws ? xmalloc(cells) : NULL;
    for (size_t q = 0; q < cells; q++) { /* padding content must be ignored: make it bad */
        p->ids[q] = (int64_t)rnext(r);
        if (p->sm)
            p->sm[q] = (uint8_t)rnext(r);
        if (p->wsf)
            p->wsf[q] = (uint8_t)rnext(r);
    }
    for (int64_t i = 0; i < b->B; i++) {
        const int64_t off = left ? L - b->len[i] : 0;
        for (int64_t j = 0; j < b->len[i]; j++) {
            p->ids[i * L + off + j] = b->seq[i][j];
            if (p->sm)
                p->sm[i * L + off + j] = b->sm[i][j];
            if (p->wsf)
                p->wsf[i * L + off + j] = b->wsf[i][j];
        }
    }
}

static void tpad_free(tpadded *p)
{
    free(p->ids);
    free(p->sm);
    free(p->wsf);
    memset(p, 0, sizeof *p);
}

/* Runs the kernel (type i64 or i32, a path) on a padded batch. Outputs are B*L int64 arrays. */
/* One kernel call. With `fast`, the configuration also brings the per-id class table and the
 * batch brings its rows as ragged values (of the output's type) instead of in ids, whose real
 * cells of rows r0..r1-1 then start out holding a pattern the kernel must overwrite. */
static int kernel_once(const fm_config *c, const tbatch *b, const tpadded *p, int left, int is32,
                       int path, int64_t r0, int64_t r1, int64_t *ids, int64_t *lab,
                       int64_t *att, int64_t *err_row, int64_t *err_pos, size_t ws_shift,
                       int fast)
{
    const int64_t L = p->L, B = b->B;
    const size_t cells = (size_t)(B * L);
    fm_config cf = *c;
    uint8_t *classes = NULL;
    int64_t *offsets = xmalloc((size_t)(B + 1) * sizeof(int64_t));
    int64_t *v64 = xmalloc(cells * sizeof(int64_t) + 8);
    int32_t *v32 = xmalloc(cells * sizeof(int32_t) + 4);
    int64_t *start = xmalloc(cells * sizeof(int64_t) + 8); /* ids before the call */
    memcpy(start, p->ids, cells * sizeof(int64_t));
    offsets[0] = 0;
    for (int64_t i = 0; i < B; i++) {
        const int64_t n = b->len[i] < 0 ? 0 : b->len[i] > L ? L : b->len[i];
        const int64_t off = fm_row_offset(n, L, left);
        for (int64_t j = 0; j < n; j++) {
            v64[offsets[i] + j] = p->ids[i * L + off + j];
            v32[offsets[i] + j] = (int32_t)p->ids[i * L + off + j];
            if (fast && i >= r0 && i < r1)
                start[i * L + off + j] = 0x3333;
        }
        offsets[i + 1] = offsets[i] + n;
    }
    if (fast && fm_config_check(c) == FM_OK) {
        classes = xmalloc((size_t)c->vocab_size);
        CHECK(fm_id_classes(c, classes) == FM_OK, "fm_id_classes");
        cf.id_class = classes;
        CHECK(fm_special_gap(c, &cf.special_gap_lo, &cf.special_gap_len) == FM_OK,
              "fm_special_gap");
    }
    fm_batch fb;
    memset(&fb, 0, sizeof fb);
    fb.rows = B;
    fb.width = L;
    fb.lengths = b->len;
    fb.left = left;
    fb.special_mask = p->sm;
    fb.word_starts = p->wsf;
    fb.sample_ids = b->sids;
    if (fast) {
        fb.values = is32 ? (const void *)v32 : (const void *)v64;
        fb.offsets = offsets;
    }
    const size_t wsb = fm_workspace_bytes(L);
    unsigned char *ws = xmalloc(wsb + ws_shift);
    int rc;
    if (!is32) {
        memcpy(ids, start, cells * sizeof(int64_t));
        for (size_t q = 0; q < cells; q++)
            lab[q] = att[q] = 0x5555;
        rc = fm__mask_batch_i64_path(path, &cf, &fb, r0, r1, ids, lab, att, ws + ws_shift, wsb,
                                     err_row, err_pos);
    } else {
        int32_t *i32 = xmalloc(cells * sizeof(int32_t));
        int32_t *l32 = xmalloc(cells * sizeof(int32_t));
        int32_t *a32 = xmalloc(cells * sizeof(int32_t));
        for (size_t q = 0; q < cells; q++) {
            i32[q] = (int32_t)start[q];
            l32[q] = a32[q] = 0x5555;
        }
        rc = fm__mask_batch_i32_path(path, &cf, &fb, r0, r1, i32, l32, a32, ws + ws_shift, wsb,
                                     err_row, err_pos);
        for (size_t q = 0; q < cells; q++) {
            ids[q] = i32[q];
            lab[q] = l32[q];
            att[q] = a32[q];
        }
        free(i32);
        free(l32);
        free(a32);
    }
    free(ws);
    free(classes);
    free(offsets);
    free(v64);
    free(v32);
    free(start);
    return rc;
}

/* Runs the kernel (type i64 or i32, a path) on a padded batch. Outputs are B*L int64 arrays.
 * Every call also runs with the class table and ragged rows, which must give the same status,
 * error position and (when it succeeds) the same outputs. */
static int run_kernel(const fm_config *c, const tbatch *b, const tpadded *p, int left, int is32,
                      int path, int64_t r0, int64_t r1, int64_t *ids, int64_t *lab,
                      int64_t *att, int64_t *err_row, int64_t *err_pos, size_t ws_shift)
{
    const size_t cells = (size_t)(b->B * p->L);
    const int rc = kernel_once(c, b, p, left, is32, path, r0, r1, ids, lab, att, err_row,
                               err_pos, ws_shift, 0);
    int64_t *fi = xmalloc(cells * sizeof(int64_t) + 8);
    int64_t *fl = xmalloc(cells * sizeof(int64_t) + 8);
    int64_t *fa = xmalloc(cells * sizeof(int64_t) + 8);
    int64_t fer = -7, fep = -7;
    const int frc = kernel_once(c, b, p, left, is32, path, r0, r1, fi, fl, fa,
                                err_row ? &fer : NULL, err_pos ? &fep : NULL, ws_shift, 1);
    CHECK(frc == rc, "class table + ragged rows: status %d, plain %d", frc, rc);
    if (err_row != NULL && err_pos != NULL)
        CHECK(fer == *err_row && fep == *err_pos, "class table + ragged rows: error position");
    if (rc == FM_OK && cells > 0)
        CHECK(memcmp(fi, ids, cells * 8) == 0 && memcmp(fl, lab, cells * 8) == 0 &&
                  memcmp(fa, att, cells * 8) == 0,
              "class table + ragged rows: outputs differ (path %s, %s)", fm__path_name(path),
              is32 ? "int32" : "int64");
    free(fi);
    free(fl);
    free(fa);
    return rc;
}

/* ---- 8. kernel vs reference, and the invariants ----------------------------------------- */

static long stat_picked, stat_cand, stat_mask, stat_rand, stat_keep;

static void check_batch(rng *r, const tcfg *t, const tbatch *b, int iter)
{
    const fm_config *c = &t->c;
    const int64_t B = b->B;
    /* expected unpadded outputs from the reference */
    int64_t **want_ids = xmalloc((size_t)(B + 1) * sizeof(int64_t *));
    int64_t **want_lab = xmalloc((size_t)(B + 1) * sizeof(int64_t *));
    for (int64_t i = 0; i < B; i++) {
        const int64_t n = b->len[i];
        want_ids[i] = xmalloc((size_t)n * sizeof(int64_t));
        want_lab[i] = xmalloc((size_t)n * sizeof(int64_t));
        uint8_t *picked_at = xmalloc((size_t)n);
        unit *units = xmalloc((size_t)(n + 1) * sizeof(unit));
        int64_t U = 0;
        ref_mask_row(c, b->sids[i], b->seq[i], n, b->sm[i], b->wsf[i], want_ids[i],
                     want_lab[i], picked_at, units, &U);

        /* invariants of the reference result itself (the kernel must equal it) */
        int64_t total = 0;
        for (int64_t j = 0; j < n; j++) {
            const int64_t y = b->seq[i][j];
            const int special = (b->sm[i] && b->sm[i][j]) || t->is_special[y];
            if (special)
                CHECK(want_lab[i][j] == c->ignore_index && want_ids[i][j] == y,
                      "special token picked (iter %d row %" PRId64 " pos %" PRId64 ")", iter, i,
                      j);
            else
                stat_cand++;
        }
        for (int64_t u = 0; u < U; u++) {
            const int pk = picked_at[units[u].start];
            for (int64_t j = units[u].start; j < units[u].start + units[u].len; j++) {
                const int64_t y = b->seq[i][j];
                if (pk) {
                    CHECK(want_lab[i][j] == y, "picked label is the original id");
                    const int64_t o = want_ids[i][j];
                    CHECK(o >= 0 && o < c->vocab_size, "replacement in range");
                    if (o == c->mask_id && y != c->mask_id)
                        stat_mask++;
                    else if (o == y)
                        stat_keep++;
                    else
                        stat_rand++;
                    int in_skip = 0;
                    for (int64_t q = 0; q < c->n_random_skip; q++)
                        in_skip |= c->random_skip[q] == o;
                    if (o != y && o != c->mask_id)
                        CHECK(!in_skip, "random id %" PRId64 " is in the skip list", o);
                    if (o != y && o != c->mask_id && c->random_cum != NULL)
                        CHECK(c->random_cum[o] != (o ? c->random_cum[o - 1] : 0u),
                              "unigram draw %" PRId64 " has weight 0", o);
                    stat_picked++;
                } else {
                    CHECK(want_lab[i][j] == c->ignore_index && want_ids[i][j] == y,
                          "unpicked token changed");
                }
            }
            total += pk ? units[u].len : 0;
        }
        /* budgets */
        if (U > 0 && c->selection != FM_SELECT_BERNOULLI) {
            int64_t k = (int64_t)nearbyint((double)n * c->probability);
            if (k < 1)
                k = 1;
            if (c->max_predictions >= 0 && c->max_predictions < k)
                k = c->max_predictions;
            CHECK(total <= k, "budget exceeded");
            if (c->selection == FM_SELECT_EXACT) {
                /* fill is maximal: no unpicked unit would still fit */
                for (int64_t u = 0; u < U; u++)
                    if (!picked_at[units[u].start])
                        CHECK(total + units[u].len > k, "exact: a unit that fits was left out");
                if (c->units == FM_UNITS_TOKENS)
                    CHECK(total == (k < U ? k : U), "exact token count");
            }
        }
        if (c->selection == FM_SELECT_BERNOULLI && c->max_predictions >= 0)
            CHECK(total <= c->max_predictions, "bernoulli cap exceeded");
        free(picked_at);
        free(units);
    }

    /* kernel, every layout variant, both types, every path */
    const int64_t L0 = b->L;
    for (int variant = 0; variant < 2; variant++) {
        const int left = variant == 0 ? b->left : !b->left;
        const int64_t L = variant == 0 ? L0 : L0 + 1 + rint_below(r, 9);
        tpadded p;
        tpad(r, b, L, left, &p);
        const size_t cells = (size_t)(B * L);
        int64_t *ids = xmalloc(cells * sizeof(int64_t));
        int64_t *lab = xmalloc(cells * sizeof(int64_t));
        int64_t *att = xmalloc(cells * sizeof(int64_t));
        int64_t *ids0 = xmalloc(cells * sizeof(int64_t));
        int64_t *lab0 = xmalloc(cells * sizeof(int64_t));
        int64_t *att0 = xmalloc(cells * sizeof(int64_t));
        int first = 1;
        for (int path = 0; path < FM_PATH_COUNT; path++) {
            if (!fm__path_available(path))
                continue;
            for (int is32 = 0; is32 < 2; is32++) {
                if (is32 && (c->ignore_index < INT32_MIN || c->ignore_index > INT32_MAX))
                    continue;
                int64_t er = 7, ep = 7;
                const int rc = run_kernel(c, b, &p, left, is32, path, 0, B, ids, lab, att, &er,
                                          &ep, (size_t)rint_below(r, 64));
                CHECK(rc == FM_OK, "kernel rc %d (iter %d path %s i32 %d)", rc, iter,
                      fm__path_name(path), is32);
                if (rc != FM_OK)
                    continue;
                CHECK(er == -1 && ep == -1, "err_row/err_pos reset on success");
                if (first) {
                    first = 0;
                    for (int64_t i = 0; i < B; i++) {
                        const int64_t n = b->len[i], off = left ? L - n : 0;
                        for (int64_t col = 0; col < L; col++) {
                            const int64_t q = i * L + col, j = col - off;
                            if (j >= 0 && j < n) {
                                CHECK(ids[q] == want_ids[i][j] && lab[q] == want_lab[i][j],
                                      "kernel != reference: iter %d row %" PRId64
                                      " pos %" PRId64 " ids %" PRId64 "/%" PRId64
                                      " lab %" PRId64 "/%" PRId64 " (sel %d units %d apu %d)",
                                      iter, i, j, ids[q], want_ids[i][j], lab[q],
                                      want_lab[i][j], c->selection, c->units,
                                      c->action_per_unit);
                                CHECK(att[q] == 1, "attention 1 at a token");
                            } else {
                                CHECK(ids[q] == c->pad_id && lab[q] == c->ignore_index &&
                                          att[q] == 0,
                                      "padding layout (iter %d row %" PRId64 " col %" PRId64
                                      ")",
                                      iter, i, col);
                            }
                        }
                    }
                    memcpy(ids0, ids, cells * sizeof(int64_t));
                    memcpy(lab0, lab, cells * sizeof(int64_t));
                    memcpy(att0, att, cells * sizeof(int64_t));
                } else {
                    CHECK(memcmp(ids, ids0, cells * sizeof(int64_t)) == 0 &&
                              memcmp(lab, lab0, cells * sizeof(int64_t)) == 0 &&
                              memcmp(att, att0, cells * sizeof(int64_t)) == 0,
                          "path %s / i32 %d differs from the first run (iter %d)",
                          fm__path_name(path), is32, iter);
                }
            }
        }
        /* a sub-range of rows: only those rows are written */
        if (B >= 2) {
            const int64_t r0 = rint_below(r, B), r1 = r0 + rint_below(r, B - r0 + 1);
            int64_t er, ep;
            const int rc = run_kernel(c, b, &p, left, 0, fm__path_best(), r0, r1, ids, lab, att,
                                      &er, &ep, 0);
            CHECK(rc == FM_OK, "row range rc");
            for (int64_t i = 0; i < B; i++) {
                const int inside = i >= r0 && i < r1;
                for (int64_t col = 0; col < L; col++) {
                    const int64_t q = i * L + col;
                    if (inside)
                        CHECK(ids[q] == ids0[q] && lab[q] == lab0[q] && att[q] == att0[q],
                              "row range: row inside differs");
                    else
                        CHECK(ids[q] == p.ids[q] && lab[q] == 0x5555 && att[q] == 0x5555,
                              "row range: row outside written");
                }
            }
        }
        free(ids);
        free(lab);
        free(att);
        free(ids0);
        free(lab0);
        free(att0);
        tpad_free(&p);
    }

    /* each row alone, unpadded, in a batch of one: the same tokens */
    for (int64_t i = 0; i < B; i++) {
        const int64_t n = b->len[i];
        tbatch one;
        memset(&one, 0, sizeof one);
        one.B = 1;
        one.L = n;
        one.len = &b->len[i];
        one.sids = &b->sids[i];
        one.has_sm = b->has_sm;
        one.has_ws = b->has_ws;
        tpadded p;
        p.L = n;
        p.ids = xmalloc((size_t)n * sizeof(int64_t) + 1);
        memcpy(p.ids, b->seq[i], (size_t)n * sizeof(int64_t));
        p.sm = b->sm[i];
        p.wsf = b->wsf[i];
        int64_t *ids = xmalloc((size_t)n * sizeof(int64_t) + 1);
        int64_t *lab = xmalloc((size_t)n * sizeof(int64_t) + 1);
        int64_t *att = xmalloc((size_t)n * sizeof(int64_t) + 1);
        int64_t er, ep;
        const int rc = run_kernel(c, &one, &p, 0, 0, fm__path_best(), 0, 1, ids, lab, att, &er,
                                  &ep, 0);
        CHECK(rc == FM_OK, "single row rc");
        CHECK(n == 0 || (memcmp(ids, want_ids[i], (size_t)n * sizeof(int64_t)) == 0 &&
                         memcmp(lab, want_lab[i], (size_t)n * sizeof(int64_t)) == 0),
              "row alone differs from row in batch");
        free(p.ids);
        free(ids);
        free(lab);
        free(att);
    }

    for (int64_t i = 0; i < B; i++) {
        free(want_ids[i]);
        free(want_lab[i]);
    }
    free(want_ids);
    free(want_lab);
}

static void test_kernel_vs_reference(void)
{
    rng r = {5};
    for (int iter = 0; iter < 600; iter++) {
        tcfg t;
        tcfg_random(&r, &t);
        CHECK(fm_config_check(&t.c) == FM_OK, "random config is valid (iter %d)", iter);
        tbatch b;
        tbatch_random(&r, &t, &b, iter % 10 == 0 ? 700 : 90);
        check_batch(&r, &t, &b, iter);
        tbatch_free(&b);
        tcfg_free(&t);
    }
}

/* Compares kernel and reference on one row of n tokens (no specials, all ids = 1+..). */
static int kernel_equals_reference_row(const fm_config *c, uint64_t sid, const int64_t *seq,
                                       int64_t n)
{
    int64_t *want = xmalloc((size_t)n * sizeof(int64_t));
    int64_t *wlab = xmalloc((size_t)n * sizeof(int64_t));
    uint8_t *picked_at = xmalloc((size_t)n);
    unit *units = xmalloc((size_t)n * sizeof(unit));
    int64_t U;
    ref_mask_row(c, sid, seq, n, NULL, NULL, want, wlab, picked_at, units, &U);
    int64_t *ids = xmalloc((size_t)n * sizeof(int64_t));
    int64_t *lab = xmalloc((size_t)n * sizeof(int64_t));
    memcpy(ids, seq, (size_t)n * sizeof(int64_t));
    fm_batch fb = {.rows = 1, .width = n, .lengths = &n, .sample_ids = &sid};
    const size_t wsb = fm_workspace_bytes(n);
    void *ws = xmalloc(wsb);
    const int rc = fm_mask_batch_i64(c, &fb, 0, 1, ids, lab, NULL, ws, wsb, NULL, NULL);
    const int same = rc == FM_OK && memcmp(ids, want, (size_t)n * sizeof(int64_t)) == 0 &&
                     memcmp(lab, wlab, (size_t)n * sizeof(int64_t)) == 0;
    free(want);
    free(wlab);
    free(picked_at);
    free(units);
    free(ids);
    free(lab);
    free(ws);
    return same;
}

/* A range in [lo, hi) whose rejection threshold (2^32 - R) mod R is the largest. */
static uint32_t worst_range(uint32_t lo, uint32_t hi)
{
    uint32_t best = lo;
    uint64_t bt = 0;
    for (uint32_t R = lo; R < hi; R++) {
        const uint64_t t = (TWO32 - R) % R;
        if (t > bt) {
            bt = t;
            best = R;
        }
    }
    return best;
}

/*
 * Rejected words are rare with small ranges (probability < R / 2^32), so the random tests
 * hardly ever see a retry in the SHUFFLE, SPAN and ACTION domains. Here sample ids are searched
 * for rows whose draws do get rejected, and kernel and reference are compared on those rows;
 * the reference counts the retries it used to show that they were exercised.
 */
static void test_retries_in_kernel(void)
{
    rng r = {10};
    tcfg t;
    tcfg_random(&r, &t);
    tcfg_free(&t);
    memset(&t, 0, sizeof t);
    /* a vocabulary with a large R, only id 0 special */
    const uint32_t V = worst_range(3000000, 3001000);
    t.bits = xmalloc((V + 7) / 8);
    memset(t.bits, 0, (V + 7) / 8);
    t.bits[0] = 1;
    int64_t skip[1] = {0};
    uint64_t cdf1[1] = {TWO32};
    fm_config c;
    memset(&c, 0, sizeof c);
    c.seed = 0x0123456789ABCDEFull;
    c.epoch = 3;
    c.t_select = TWO32;
    c.probability = 1.0;
    c.t_mask = 0;
    c.t_random = TWO32; /* every picked token draws a random id */
    c.max_predictions = -1;
    c.vocab_size = V;
    c.mask_id = 0;
    c.pad_id = 0;
    c.ignore_index = -100;
    c.special_bits = t.bits;
    c.random_skip = skip;
    c.n_random_skip = 1;
    c.random_range = V - 1;
    c.span_cdf = cdf1;
    c.n_span_lengths = 1;
    CHECK(fm_config_check(&c) == FM_OK, "retry config");

    const int64_t n = worst_range(900, 1000); /* U = n units of one token */
    int64_t *seq = xmalloc((size_t)n * sizeof(int64_t));
    for (int64_t j = 0; j < n; j++)
        seq[j] = 1 + rint_below(&r, V - 1);

    const int domains[3] = {FM_DOMAIN_SHUFFLE, FM_DOMAIN_SPAN, FM_DOMAIN_ACTION};
    for (int d = 0; d < 3; d++) {
        const int D = domains[d];
        c.selection = D == FM_DOMAIN_SPAN ? FM_SELECT_SPAN : FM_SELECT_EXACT;
        /* SHUFFLE: budget about n / 2, so that the draws before the budget is reached
         * decide which units are picked */
        c.probability = D == FM_DOMAIN_SHUFFLE ? 0.5 : 1.0;
        const int64_t kb = fm__budget(&c, n);
        long tested = 0;
        const long before = ref_retries[D];
        for (uint64_t sid = 0; sid < 200000 && ref_retries[D] == before; sid++) {
            /* cheap filter: does some draw of this row get rejected? */
            int hit = 0;
            const uint32_t nblocks = D == FM_DOMAIN_SHUFFLE ? (uint32_t)(n + 3) / 4
                                     : D == FM_DOMAIN_SPAN  ? (uint32_t)(4 * n + 16)
                                                            : (uint32_t)n;
            for (uint32_t b = 0; b < nblocks && !hit; b++) {
                uint32_t w[4];
                fm_stream_block(c.seed, c.epoch, sid, (uint32_t)D, b, w);
                for (int k = 0; k < 4 && !hit; k++) {
                    uint32_t R;
                    if (D == FM_DOMAIN_SHUFFLE) {
                        const int64_t i = 4 * (int64_t)b + k;
                        if (i >= kb)
                            break;
                        R = (uint32_t)(n - i);
                    } else {
                        if (k != 1)
                            continue;
                        R = D == FM_DOMAIN_SPAN ? (uint32_t)n : c.random_range;
                    }
                    const uint64_t m = (uint64_t)w[k] * R;
                    hit = (m & 0xFFFFFFFFu) < (TWO32 - R) % R;
                }
            }
            if (!hit)
                continue;
            tested++;
            CHECK(kernel_equals_reference_row(&c, sid, seq, n),
                  "kernel != reference with retries (domain %d, sid %" PRIu64 ")", D, sid);
        }
        CHECK(ref_retries[D] > before, "no retry exercised in domain %d (%ld rows)", D, tested);
    }

    /* the span attempt limit 4U + 16: rows of 60 one-token units, spans of length 1,
     * budget = all; coupon collecting needs more attempts than the limit allows */
    c.selection = FM_SELECT_SPAN;
    c.probability = 1.0;
    c.t_random = 0;
    c.t_mask = TWO32;
    const long before = ref_span_last_attempt_picks;
    for (uint64_t sid = 0; sid < 400; sid++) {
        CHECK(kernel_equals_reference_row(&c, sid, seq, 60), "span attempt limit (sid %" PRIu64
              ")", sid);
    }
    CHECK(ref_span_last_attempt_picks > before, "the last span attempt never picked");
    free(seq);
    tcfg_free(&t);
}

/* Statistics of the default configuration: 15 % picked, 80/10/10. */
/*
 * 80/10/10 on a realistic vocabulary: bert-base-uncased's layout (30522 ids; [PAD] 0, [UNK]
 * 100, [CLS] 101, [SEP] 102, [MASK] 103 special and excluded from random replacement), 256 rows
 * of 512 tokens, p = 0.15. Bounds: each rate is checked within about 5 standard deviations of
 * its binomial count (selection: sd 0.0010 over ~131k candidates, band 0.005; mask / random /
 * keep among ~19.7k picks: sd 0.0029 / 0.0021 / 0.0021, bands 0.015 / 0.011 / 0.011), so a
 * correct kernel fails with probability below 1e-5 per check and the seed is fixed. The three
 * outcomes must add up to the picks, and every random replacement must be a non-special id.
 */
static void test_rates(void)
{
    rng r = {6};
    enum { V = 30522, B = 256, L = 512 };
    static const int64_t specials[5] = {0, 100, 101, 102, 103};
    uint8_t *is_special = xmalloc(V), *bits = xmalloc((V + 7) / 8);
    memset(is_special, 0, V);
    memset(bits, 0, (V + 7) / 8);
    for (int k = 0; k < 5; k++) {
        is_special[specials[k]] = 1;
        bits[specials[k] >> 3] |= (uint8_t)(1u << (specials[k] & 7));
    }
    fm_config c;
    memset(&c, 0, sizeof c);
    c.seed = 1234;
    c.epoch = 3;
    c.selection = FM_SELECT_BERNOULLI;
    c.units = FM_UNITS_TOKENS;
    c.probability = 0.15;
    c.t_select = threshold(0.15);
    c.t_mask = threshold(0.8);
    c.t_random = threshold(0.1);
    c.max_predictions = -1;
    c.vocab_size = V;
    c.mask_id = 103;
    c.pad_id = 0;
    c.ignore_index = -100;
    c.special_bits = bits;
    c.random_skip = specials;
    c.n_random_skip = 5;
    c.random_range = V - 5;
    CHECK(fm_config_check(&c) == FM_OK, "rates config");
    const size_t cells = (size_t)B * L;
    int64_t *ids = xmalloc(cells * sizeof(int64_t)), *lab = xmalloc(cells * sizeof(int64_t));
    int64_t *orig = xmalloc(cells * sizeof(int64_t)), *len = xmalloc(B * sizeof(int64_t));
    uint64_t *sid = xmalloc(B * sizeof(uint64_t));
    int64_t cand = 0;
    for (int64_t i = 0; i < B; i++) {
        len[i] = L;
        sid[i] = (uint64_t)i;
        for (int64_t j = 0; j < L; j++) { /* [CLS] text [SEP] */
            const int64_t y = j == 0 ? 101 : j == L - 1 ? 102 : 999 + rint_below(&r, V - 999);
            ids[i * L + j] = orig[i * L + j] = y;
            cand += !is_special[y];
        }
    }
    fm_batch fb = {.rows = B, .width = L, .lengths = len, .sample_ids = sid};
    const size_t wsb = fm_workspace_bytes(L);
    void *ws = xmalloc(wsb);
    int64_t er, ep;
    CHECK(fm_mask_batch_i64(&c, &fb, 0, B, ids, lab, NULL, ws, wsb, &er, &ep) == FM_OK,
          "rates rc");
    int64_t picked = 0, masked = 0, randomized = 0, kept = 0, bad_random = 0, special_picked = 0;
    for (size_t q = 0; q < cells; q++) {
        if (lab[q] == c.ignore_index) {
            CHECK(ids[q] == orig[q], "an unpicked token changed");
            continue;
        }
        picked++;
        special_picked += is_special[orig[q]];
        CHECK(lab[q] == orig[q], "label is not the original id");
        if (ids[q] == c.mask_id) {
            masked++;
        } else if (ids[q] == orig[q]) {
            kept++; /* includes a random draw of the same id (p = 1/30517 per random pick) */
        } else {
            randomized++;
            bad_random += ids[q] < 0 || ids[q] >= V || is_special[ids[q]];
        }
    }
    const double pr = (double)picked / (double)cand;
    const double mr = (double)masked / (double)picked, rr = (double)randomized / (double)picked;
    const double kr = (double)kept / (double)picked;
    printf("80/10/10 on %" PRId64 " candidates: picked %.4f; of the picks mask %.4f, random "
           "%.4f, kept %.4f\n",
           cand, pr, mr, rr, kr);
    CHECK(masked + randomized + kept == picked, "outcomes do not add up");
    CHECK(special_picked == 0 && bad_random == 0, "special picked %" PRId64 ", bad random %" PRId64,
          special_picked, bad_random);
    CHECK(pr > 0.145 && pr < 0.155, "selection rate %.4f", pr);
    CHECK(mr > 0.785 && mr < 0.815, "mask rate %.4f", mr);
    CHECK(rr > 0.089 && rr < 0.111, "random rate %.4f", rr);
    CHECK(kr > 0.089 && kr < 0.111, "keep rate %.4f", kr);
    free(ids);
    free(lab);
    free(orig);
    free(len);
    free(sid);
    free(ws);
    free(is_special);
    free(bits);
}

/* ---- 9. errors --------------------------------------------------------------------------- */

/* A random config with at least min_vocab ids and min_skip ids excluded from random
 * replacement: tcfg_random drawn again until it has them. */
static void tcfg_random_at_least(rng *r, tcfg *t, int64_t min_vocab, int64_t min_skip)
{
    memset(t, 0, sizeof *t);
    do {
        tcfg_free(t);
        tcfg_random(r, t);
    } while (t->c.vocab_size < min_vocab || t->c.n_random_skip < min_skip);
}

/* The class table: one byte per id from special_bits and word_table; fm_config_check_full
 * refuses a table that disagrees, and a word table holding a value above 2. A batch whose
 * ragged rows are shorter than their lengths is refused at that row. */
static void test_class_table_and_ragged(void)
{
    rng r = {77};
    tcfg t;
    tcfg_random_at_least(&r, &t, 20, 2);
    fm_config c = t.c;
    const int64_t V = c.vocab_size;
    uint8_t *wt = xmalloc((size_t)V), *cls = xmalloc((size_t)V);
    for (int64_t i = 0; i < V; i++)
        wt[i] = (uint8_t)(i % 3);
    c.word_table = wt;
    CHECK(fm_id_classes(&c, cls) == FM_OK && fm_id_classes(&c, NULL) == FM_ERR_ARG,
          "fm_id_classes status");
    int right = 1;
    for (int64_t i = 0; i < V; i++) {
        const unsigned special = (c.special_bits[i >> 3] >> (i & 7)) & 1u;
        const unsigned want = special * FM_CLASS_SPECIAL | (wt[i] >= 1) * FM_CLASS_STARTS |
                              (wt[i] == 2) * FM_CLASS_ALONE;
        right &= cls[i] == want;
    }
    CHECK(right, "class bytes");
    c.id_class = cls;
    CHECK(fm_config_check_full(&c) == FM_OK, "a matching class table passes");
    cls[V / 2] ^= FM_CLASS_ALONE;
    CHECK(fm_config_check_full(&c) == FM_ERR_ARG && fm_config_check(&c) == FM_OK,
          "a class table that disagrees is refused by the full check only");
    cls[V / 2] ^= FM_CLASS_ALONE;
    wt[1] = 3;
    CHECK(fm_config_check_full(&c) == FM_ERR_ARG, "a word table value of 3 is refused");
    wt[1] = 1;

    const int64_t B = 2, L = 4, len[2] = {2, 3}, offsets[3] = {0, 2, 4};
    const uint64_t sid[2] = {0, 1};
    const int64_t values[4] = {5, 6, 7, 8};
    int64_t ids[8], lab[8], att[8], er = -5, ep = -5;
    fm_batch fb = {.rows = B, .width = L, .lengths = len, .sample_ids = sid,
                   .values = values, .offsets = offsets};
    unsigned char *ws = xmalloc(fm_workspace_bytes(L));
    CHECK(fm_mask_batch_i64(&t.c, &fb, 0, B, ids, lab, att, ws, fm_workspace_bytes(L), &er,
                            &ep) == FM_ERR_ARG && er == 1,
          "a ragged row shorter than its length is refused at that row");
    fb.offsets = NULL;
    CHECK(fm_mask_batch_i64(&t.c, &fb, 0, B, ids, lab, att, ws, fm_workspace_bytes(L), &er,
                            &ep) == FM_ERR_ARG,
          "values without offsets are refused");
    int64_t out[8], lens[2];
    CHECK(fm_pad_ids(values, 8, offsets, B, L, 0, 1, 0, V, out, 4, lens, &er, &ep) == FM_OK &&
              fm_pad_ids(values, 2, offsets, B, L, 0, 1, 0, V, out, 8, lens, &er, &ep) ==
                  FM_ERR_ARG,
          "fm_pad_ids: sizes 8 -> 4 work, 2 is refused");
    free(ws);
    free(wt);
    free(cls);
    tcfg_free(&t);
}

/* fm_special_gap against a brute-force search for the first longest run of non-special ids
 * (random sets, none, all, and a set at both ends), and the checks of the gap fields:
 * fm_config_check refuses a run outside [0, vocab_size), fm_config_check_full one that holds
 * a special id. */
static void test_special_gap(void)
{
    rng r = {21};
    for (int it = 0; it < 400; it++) {
        tcfg t;
        tcfg_random(&r, &t);
        fm_config c = t.c;
        const int64_t V = c.vocab_size;
        uint8_t *bits = xmalloc((size_t)(V + 7) / 8);
        const int kind = it % 4; /* 0: the random set, 1: none, 2: all, 3: ends + a middle */
        for (int64_t i = 0; i < (V + 7) / 8; i++)
            bits[i] = kind == 0 ? t.bits[i] : kind == 2 ? 0xFF : 0;
        if (kind == 3) {
            bits[0] |= 1;
            bits[(V - 1) >> 3] |= (uint8_t)(1u << ((V - 1) & 7));
            bits[(V / 3) >> 3] |= (uint8_t)(1u << ((V / 3) & 7));
        }
        c.special_bits = bits;
        int64_t want_lo = 0, want_len = 0, run = 0;
        for (int64_t i = 0; i <= V; i++) {
            if (i < V && !((bits[i >> 3] >> (i & 7)) & 1)) {
                run++;
                continue;
            }
            if (run > want_len) {
                want_len = run;
                want_lo = i - run;
            }
            run = 0;
        }
        int64_t lo = -1, len = -1;
        if (fm_config_check(&c) != FM_OK) { /* e.g. all special: a mask id must still exist */
            CHECK(fm_special_gap(&c, &lo, &len) == fm_config_check(&c), "gap of a bad config");
            free(bits);
            tcfg_free(&t);
            continue;
        }
        CHECK(fm_special_gap(&c, &lo, &len) == FM_OK && lo == want_lo && len == want_len,
              "special gap (kind %d, V %lld): got [%lld, +%lld), want [%lld, +%lld)", kind,
              (long long)V, (long long)lo, (long long)len, (long long)want_lo,
              (long long)want_len);
        c.special_gap_lo = lo;
        c.special_gap_len = len;
        CHECK(fm_config_check_full(&c) == FM_OK, "the found gap passes the full check");
        if (len > 0 && lo > 0) {
            c.special_gap_lo = lo - 1; /* now covers the special id before it */
            CHECK(fm_config_check(&c) == FM_OK && fm_config_check_full(&c) == FM_ERR_ARG,
                  "a gap holding a special id is refused by the full check only");
        }
        c.special_gap_lo = V - len + 1;
        CHECK(fm_config_check(&c) == FM_ERR_ARG, "a gap past vocab_size is refused");
        c.special_gap_lo = -1;
        CHECK(fm_config_check(&c) == FM_ERR_ARG, "a negative gap start is refused");
        c.special_gap_lo = 0;
        c.special_gap_len = -1;
        CHECK(fm_config_check(&c) == FM_ERR_ARG, "a negative gap length is refused");
        CHECK(fm_special_gap(&c, NULL, &len) == FM_ERR_ARG, "fm_special_gap: NULL output");
        free(bits);
        tcfg_free(&t);
    }
}

static void test_config_errors(void)
{
    rng r = {7};
    tcfg t;
    tcfg_random_at_least(&r, &t, 20, 2);
    const fm_config good = t.c;
    CHECK(fm_config_check(&good) == FM_OK, "base config valid");
    CHECK(fm_config_check(NULL) == FM_ERR_ARG, "NULL config");
    fm_config c;
#define BAD(stmt, what)                                                                      \
    do {                                                                                     \
        c = good;                                                                            \
        stmt;                                                                                \
        CHECK(fm_config_check(&c) == FM_ERR_ARG, "config not rejected: %s", what);           \
    } while (0)
#define FINE(stmt, what)                                                                     \
    do {                                                                                     \
        c = good;                                                                            \
        stmt;                                                                                \
        CHECK(fm_config_check(&c) == FM_OK, "config rejected: %s", what);                    \
    } while (0)
    BAD(c.t_select = TWO32 + 1, "t_select > 2^32");
    BAD(c.t_mask = TWO32 + 1; c.t_random = 0, "t_mask > 2^32");
    BAD(c.t_random = TWO32 + 1; c.t_mask = 0, "t_random > 2^32");
    BAD(c.t_mask = TWO32 / 2 + 1; c.t_random = TWO32 / 2, "t_mask + t_random > 2^32");
    FINE(c.t_mask = TWO32 / 2; c.t_random = TWO32 / 2, "t_mask + t_random == 2^32");
    FINE(c.t_select = TWO32, "t_select == 2^32");
    BAD(c.vocab_size = 0, "vocab 0");
    BAD(c.vocab_size = (int64_t)INT32_MAX + 1, "vocab 2^31");
    BAD(c.mask_id = -1, "mask -1");
    BAD(c.mask_id = c.vocab_size, "mask = vocab");
    BAD(c.pad_id = -1, "pad -1");
    BAD(c.pad_id = c.vocab_size, "pad = vocab");
    BAD(c.random_range = c.random_range + 1, "R too big");
    BAD(c.random_range = c.random_range - 1, "R too small");
    BAD(c.random_range = 0, "R = 0");
    BAD(c.n_random_skip = -1, "negative skip count");
    BAD(c.random_skip = NULL, "skip NULL");
    BAD(c.selection = 3, "selection 3");
    BAD(c.selection = -1, "selection -1");
    BAD(c.units = 2, "units 2");
    BAD(c.action_per_unit = 2, "action_per_unit 2");
    BAD(c.special_bits = NULL, "special_bits NULL");
    BAD(c.probability = -0.1, "p < 0");
    BAD(c.probability = 1.5, "p > 1");
    BAD(c.probability = nan(""), "p NaN");
    /* skip list: unsorted, duplicate, out of range */
    {
        int64_t *s2 = xmalloc((size_t)good.n_random_skip * sizeof(int64_t));
        memcpy(s2, good.random_skip, (size_t)good.n_random_skip * sizeof(int64_t));
        const int64_t a = s2[0];
        s2[0] = s2[1];
        s2[1] = a;
        BAD(c.random_skip = s2, "unsorted skip");
        s2[1] = s2[0];
        BAD(c.random_skip = s2, "duplicate skip");
        memcpy(s2, good.random_skip, (size_t)good.n_random_skip * sizeof(int64_t));
        s2[good.n_random_skip - 1] = good.vocab_size;
        BAD(c.random_skip = s2, "skip id = vocab");
        s2[good.n_random_skip - 1] = good.random_skip[good.n_random_skip - 1];
        s2[0] = -1;
        BAD(c.random_skip = s2, "skip id -1");
        free(s2);
    }
    /* span cdf */
    {
        uint64_t cdf[3] = {TWO32 / 2, TWO32 / 4, TWO32};
        BAD(c.selection = FM_SELECT_SPAN; c.span_cdf = cdf; c.n_span_lengths = 3,
            "decreasing cdf");
        cdf[1] = TWO32 / 2;
        FINE(c.selection = FM_SELECT_SPAN; c.span_cdf = cdf; c.n_span_lengths = 3,
             "flat cdf step");
        cdf[2] = TWO32 - 1;
        BAD(c.selection = FM_SELECT_SPAN; c.span_cdf = cdf; c.n_span_lengths = 3,
            "cdf not ending at 2^32");
        cdf[2] = TWO32 + 1;
        BAD(c.selection = FM_SELECT_SPAN; c.span_cdf = cdf; c.n_span_lengths = 3,
            "cdf beyond 2^32");
        cdf[2] = TWO32;
        BAD(c.selection = FM_SELECT_SPAN; c.span_cdf = NULL, "span without cdf");
        BAD(c.selection = FM_SELECT_SPAN; c.span_cdf = cdf; c.n_span_lengths = 0,
            "span with 0 lengths");
        FINE(c.selection = FM_SELECT_BERNOULLI; c.span_cdf = NULL; c.n_span_lengths = 0,
             "no cdf needed without span");
    }
#undef BAD
#undef FINE
    /* a rejected configuration is rejected by the kernel too */
    {
        c = good;
        c.mask_id = c.vocab_size;
        int64_t len[1] = {3}, ids[3] = {0, 0, 0}, lab[3];
        uint64_t sid[1] = {0};
        fm_batch fb = {.rows = 1, .width = 3, .lengths = len, .sample_ids = sid};
        const size_t wsb = fm_workspace_bytes(3);
        void *ws = xmalloc(wsb);
        CHECK(fm_mask_batch_i64(&c, &fb, 0, 1, ids, lab, NULL, ws, wsb, NULL, NULL) ==
                  FM_ERR_ARG,
              "kernel rejects a bad config");
        free(ws);
    }
    tcfg_free(&t);
}

static void test_kernel_errors(void)
{
    rng r = {8};
    tcfg t;
    tcfg_random_at_least(&r, &t, 20, 0);
    fm_config *c = &t.c;
    c->units = FM_UNITS_TOKENS;
    /* lengths with partial vectors at their ends on every path (8 and 16 lanes) */
    const int64_t B = 3, L = 47;
    int64_t len[3] = {47, 21, 0};
    uint64_t sid[3] = {1, 2, 3};
    int64_t *base = xmalloc((size_t)(B * L) * sizeof(int64_t));
    for (int64_t q = 0; q < B * L; q++)
        base[q] = rint_below(&r, c->vocab_size);
    int64_t *ids = xmalloc((size_t)(B * L) * sizeof(int64_t));
    int64_t *lab = xmalloc((size_t)(B * L) * sizeof(int64_t));
    int32_t *i32 = xmalloc((size_t)(B * L) * sizeof(int32_t));
    int32_t *l32 = xmalloc((size_t)(B * L) * sizeof(int32_t));
    const size_t wsb = fm_workspace_bytes(L);
    void *ws = xmalloc(wsb);
    const int sels[3] = {FM_SELECT_BERNOULLI, FM_SELECT_EXACT, FM_SELECT_SPAN};
    for (int left = 0; left < 2; left++) {
        fm_batch fb = {.rows = B, .width = L, .lengths = len, .left = left, .sample_ids = sid};
        for (int path = 0; path < FM_PATH_COUNT; path++) {
            if (!fm__path_available(path))
                continue;
            for (int si = 0; si < 3; si++) {
                fm_config cs = *c;
                cs.selection = sels[si];
                if (cs.selection == FM_SELECT_SPAN && cs.span_cdf == NULL)
                    continue;
                for (int64_t row = 0; row < 2; row++) {
                    const int64_t off = left ? L - len[row] : 0;
                    for (int64_t j = 0; j < len[row]; j++) {
                        const int64_t badv[3] = {-1, c->vocab_size, INT64_MIN};
                        for (int k = 0; k < 3; k++) {
                            memcpy(ids, base, (size_t)(B * L) * sizeof(int64_t));
                            ids[row * L + off + j] = badv[k];
                            int64_t er = -7, ep = -7;
                            int rc = fm__mask_batch_i64_path(path, &cs, &fb, 0, B, ids, lab, NULL,
                                                             ws, wsb, &er, &ep);
                            CHECK(rc == FM_ERR_ID_RANGE && er == row && ep == j,
                                  "id range i64 path %s sel %d left %d row %" PRId64
                                  " pos %" PRId64 ": rc %d %" PRId64 " %" PRId64,
                                  fm__path_name(path), cs.selection, left, row, j, rc, er, ep);
                            for (int64_t q = 0; q < B * L; q++)
                                i32[q] = (int32_t)base[q];
                            i32[row * L + off + j] = k == 1   ? (int32_t)c->vocab_size
                                                     : k == 0 ? -1
                                                              : INT32_MIN;
                            er = ep = -7;
                            rc = fm__mask_batch_i32_path(path, &cs, &fb, 0, B, i32, l32, NULL, ws,
                                                         wsb, &er, &ep);
                            CHECK(rc == FM_ERR_ID_RANGE && er == row && ep == j,
                                  "id range i32 path %s sel %d", fm__path_name(path),
                                  cs.selection);
                        }
                    }
                }
            }
        }
        /* garbage in the padding is not an error */
        memcpy(ids, base, (size_t)(B * L) * sizeof(int64_t));
        const int64_t padcol = left ? 0 : L - 1;
        ids[1 * L + padcol] = -12345;
        ids[2 * L + 5] = INT64_MAX;
        int64_t er, ep;
        CHECK(fm_mask_batch_i64(c, &fb, 0, B, ids, lab, NULL, ws, wsb, &er, &ep) == FM_OK,
              "padding content is ignored");
        CHECK(ids[1 * L + padcol] == c->pad_id, "padding overwritten");
    }
    fm_batch fb = {.rows = B, .width = L, .lengths = len, .sample_ids = sid};
    int64_t er, ep;
    memcpy(ids, base, (size_t)(B * L) * sizeof(int64_t));
    /* workspace */
    CHECK(fm_mask_batch_i64(c, &fb, 0, B, ids, lab, NULL, ws, wsb - 1, &er, &ep) ==
              FM_ERR_WORKSPACE,
          "short workspace");
    CHECK(fm_mask_batch_i64(c, &fb, 0, B, ids, lab, NULL, NULL, wsb, &er, &ep) == FM_ERR_ARG,
          "NULL workspace");
    CHECK(fm_workspace_bytes(-1) == 0, "workspace for a negative width");
    CHECK(fm_workspace_bytes(1000) >= fm_workspace_bytes(10), "workspace grows");
    /* lengths */
    len[1] = L + 1;
    CHECK(fm_mask_batch_i64(c, &fb, 0, B, ids, lab, NULL, ws, wsb, &er, &ep) == FM_ERR_LENGTH &&
              er == 1,
          "row longer than the width");
    len[1] = -1;
    CHECK(fm_mask_batch_i64(c, &fb, 0, B, ids, lab, NULL, ws, wsb, &er, &ep) == FM_ERR_ARG &&
              er == 1,
          "negative length");
    len[1] = 17;
    /* sample ids */
    sid[2] = (uint64_t)1 << 48;
    CHECK(fm_mask_batch_i64(c, &fb, 0, B, ids, lab, NULL, ws, wsb, &er, &ep) == FM_ERR_ARG &&
              er == 2,
          "sample id 2^48");
    sid[2] = ((uint64_t)1 << 48) - 1;
    CHECK(fm_mask_batch_i64(c, &fb, 0, B, ids, lab, NULL, ws, wsb, &er, &ep) == FM_OK,
          "sample id 2^48 - 1");
    /* rows and pointers */
    CHECK(fm_mask_batch_i64(c, &fb, 1, 0, ids, lab, NULL, ws, wsb, &er, &ep) == FM_ERR_ARG,
          "row_begin > row_end");
    CHECK(fm_mask_batch_i64(c, &fb, 0, B + 1, ids, lab, NULL, ws, wsb, &er, &ep) == FM_ERR_ARG,
          "row_end > rows");
    CHECK(fm_mask_batch_i64(c, &fb, -1, B, ids, lab, NULL, ws, wsb, &er, &ep) == FM_ERR_ARG,
          "row_begin < 0");
    CHECK(fm_mask_batch_i64(c, &fb, 0, B, NULL, lab, NULL, ws, wsb, &er, &ep) == FM_ERR_ARG,
          "NULL ids");
    CHECK(fm_mask_batch_i64(c, &fb, 0, B, ids, NULL, NULL, ws, wsb, &er, &ep) == FM_ERR_ARG,
          "NULL labels");
    CHECK(fm_mask_batch_i64(c, NULL, 0, 0, ids, lab, NULL, ws, wsb, &er, &ep) == FM_ERR_ARG,
          "NULL batch");
    CHECK(fm_mask_batch_i64(c, &fb, 1, 1, ids, lab, NULL, ws, wsb, &er, &ep) == FM_OK,
          "empty row range");
    fb.sample_ids = NULL;
    CHECK(fm_mask_batch_i64(c, &fb, 0, B, ids, lab, NULL, ws, wsb, &er, &ep) == FM_ERR_ARG,
          "NULL sample ids");
    fb.sample_ids = sid;
    /* i32 outputs cannot hold an ignore_index outside int32 */
    const int64_t ig = c->ignore_index;
    c->ignore_index = (int64_t)INT32_MAX + 1;
    for (int64_t q = 0; q < B * L; q++)
        i32[q] = (int32_t)base[q];
    CHECK(fm_mask_batch_i32(c, &fb, 0, B, i32, l32, NULL, ws, wsb, &er, &ep) == FM_ERR_ARG,
          "ignore_index beyond int32");
    CHECK(fm_mask_batch_i64(c, &fb, 0, B, ids, lab, NULL, ws, wsb, &er, &ep) == FM_OK,
          "ignore_index beyond int32 is fine in int64");
    c->ignore_index = ig;
    /* word units without flags or table */
    c->units = FM_UNITS_WORDS;
    const uint8_t *tab = c->word_table;
    c->word_table = NULL;
    CHECK(fm_mask_batch_i64(c, &fb, 0, B, ids, lab, NULL, ws, wsb, &er, &ep) == FM_ERR_ARG,
          "word units without word starts");
    c->word_table = tab;
    c->units = FM_UNITS_TOKENS;
    /* width 0: only empty rows, NULL arrays allowed */
    {
        int64_t zl[2] = {0, 0};
        fm_batch z = {.rows = 2, .width = 0, .lengths = zl, .sample_ids = sid};
        CHECK(fm_mask_batch_i64(c, &z, 0, 2, NULL, NULL, NULL, NULL, 0, &er, &ep) == FM_OK,
              "width 0");
        zl[1] = 1;
        CHECK(fm_mask_batch_i64(c, &z, 0, 2, NULL, NULL, NULL, NULL, 0, &er, &ep) ==
                      FM_ERR_LENGTH &&
                  er == 1,
              "width 0 with a token");
    }
    free(base);
    free(ids);
    free(lab);
    free(i32);
    free(l32);
    free(ws);
    tcfg_free(&t);
}

/* ---- 10. padding functions ---------------------------------------------------------------- */

static void test_pad(void)
{
    rng r = {9};
    for (int it = 0; it < 400; it++) {
        const int64_t rows = rint_below(&r, 6);
        int64_t offsets[8] = {0};
        offsets[0] = rint_below(&r, 3);
        for (int64_t i = 0; i < rows; i++)
            offsets[i + 1] = offsets[i] + rint_below(&r, 30);
        const int64_t total = offsets[rows];
        int64_t maxn = 0;
        for (int64_t i = 0; i < rows; i++)
            if (offsets[i + 1] - offsets[i] > maxn)
                maxn = offsets[i + 1] - offsets[i];
        const int truncate = (int)rint_below(&r, 2);
        const int left = (int)rint_below(&r, 2);
        const int64_t width = truncate ? rint_below(&r, maxn + 5) : maxn + rint_below(&r, 5);
        const int64_t vocab = it % 5 == 0 ? 0 : 1000;
        const int64_t pad = rint_below(&r, 1000);
        int64_t *v64 = xmalloc((size_t)total * sizeof(int64_t));
        int32_t *v32 = xmalloc((size_t)total * sizeof(int32_t));
        uint8_t *v8 = xmalloc((size_t)total);
        for (int64_t q = 0; q < total; q++) {
            v64[q] = rint_below(&r, 1000);
            v32[q] = (int32_t)v64[q];
            v8[q] = (uint8_t)v64[q];
        }
        const size_t cells = (size_t)(rows * width);
        int64_t *want = xmalloc(cells * sizeof(int64_t));
        int64_t wantlen[8];
        int64_t errcase = -1;
        for (int64_t i = 0; i < rows; i++) {
            int64_t n = offsets[i + 1] - offsets[i];
            if (n > width) {
                if (!truncate && errcase < 0)
                    errcase = i;
                n = width;
            }
            wantlen[i] = n;
            const int64_t off = left ? width - n : 0;
            for (int64_t col = 0; col < width; col++) {
                const int64_t j = col - off;
                want[i * width + col] = (j >= 0 && j < n) ? v64[offsets[i] + j] : pad;
            }
        }
        int64_t *o64 = xmalloc(cells * sizeof(int64_t));
        int32_t *o32 = xmalloc(cells * sizeof(int32_t));
        uint8_t *o8 = xmalloc(cells);
        int64_t lens[8], er, ep;
        for (int variant = 0; variant < 5; variant++) {
            int rc;
            memset(lens, 0xFF, sizeof lens);
            if (variant == 0)
                rc = fm_pad_i64_i64(v64, offsets, rows, width, left, truncate, pad, vocab, o64,
                                    lens, &er, &ep);
            else if (variant == 1)
                rc = fm_pad_i32_i64(v32, offsets, rows, width, left, truncate, pad, vocab, o64,
                                    lens, &er, &ep);
            else if (variant == 2)
                rc = fm_pad_i64_i32(v64, offsets, rows, width, left, truncate, pad, vocab, o32,
                                    lens, &er, &ep);
            else if (variant == 3)
                rc = fm_pad_i32_i32(v32, offsets, rows, width, left, truncate, pad, vocab, o32,
                                    lens, &er, &ep);
            else
                rc = fm_pad_u8(v8, offsets, rows, width, left, truncate, (uint8_t)pad, o8, &er);
            if (errcase >= 0) {
                CHECK(rc == FM_ERR_LENGTH && er == errcase, "pad variant %d: length error",
                      variant);
                continue;
            }
            CHECK(rc == FM_OK, "pad variant %d rc %d", variant, rc);
            for (size_t q = 0; q < cells; q++) {
                const int64_t got = variant <= 1 ? o64[q] : variant <= 3 ? o32[q] : o8[q];
                const int64_t exp = variant == 4 ? (int64_t)(uint8_t)want[q] : want[q];
                CHECK(got == exp, "pad variant %d cell %zu", variant, q);
            }
            if (variant < 4)
                for (int64_t i = 0; i < rows; i++)
                    CHECK(lens[i] == wantlen[i], "pad lengths_out");
        }
        /* an out-of-range value in each row position */
        if (errcase < 0 && vocab > 0 && total > offsets[0]) {
            const int64_t q = offsets[0] + rint_below(&r, total - offsets[0]);
            int64_t row = 0;
            while (offsets[row + 1] <= q)
                row++;
            const int64_t j = q - offsets[row];
            if (j < wantlen[row]) { /* a truncated value is not checked */
                v64[q] = it % 2 ? vocab : -1;
                v32[q] = (int32_t)v64[q];
                CHECK(fm_pad_i64_i64(v64, offsets, rows, width, left, truncate, pad, vocab, o64,
                                     NULL, &er, &ep) == FM_ERR_ID_RANGE &&
                          er == row && ep == j,
                      "pad i64 id range");
                CHECK(fm_pad_i32_i32(v32, offsets, rows, width, left, truncate, pad, vocab, o32,
                                     NULL, &er, &ep) == FM_ERR_ID_RANGE &&
                          er == row && ep == j,
                      "pad i32 id range");
                /* with the check disabled the value goes through */
                CHECK(fm_pad_i64_i64(v64, offsets, rows, width, left, truncate, pad, 0, o64,
                                     NULL, &er, &ep) == FM_OK,
                      "pad without range check");
                /* narrowing: a value beyond int32 is refused even without a vocabulary */
                v64[q] = (int64_t)INT32_MAX + 1;
                CHECK(fm_pad_i64_i32(v64, offsets, rows, width, left, truncate, pad, 0, o32,
                                     NULL, &er, &ep) == FM_ERR_ID_RANGE &&
                          er == row && ep == j,
                      "pad i64->i32 narrowing");
            }
        }
        /* decreasing offsets */
        if (rows >= 2 && offsets[2] > offsets[1]) {
            int64_t bad[8];
            memcpy(bad, offsets, sizeof bad);
            bad[1] = offsets[2] + 1;
            CHECK(fm_pad_i64_i64(v64, bad, rows, width + 100, left, truncate, pad, 0, o64, NULL,
                                 &er, &ep) == FM_ERR_ARG,
                  "decreasing offsets");
        }
        free(v64);
        free(v32);
        free(v8);
        free(want);
        free(o64);
        free(o32);
        free(o8);
    }
    int64_t er, ep, off1[2] = {0, 2};
    const int64_t v[2] = {1, 2};
    int32_t o[4];
    CHECK(fm_pad_i64_i32(v, off1, 1, 4, 0, 0, (int64_t)INT32_MAX + 1, 0, o, NULL, &er, &ep) ==
              FM_ERR_ARG,
          "pad_id beyond int32");
    CHECK(fm_pad_i64_i32(v, off1, -1, 4, 0, 0, 0, 0, o, NULL, &er, &ep) == FM_ERR_ARG,
          "negative rows");
    CHECK(fm_pad_i64_i32(v, NULL, 1, 4, 0, 0, 0, 0, o, NULL, &er, &ep) == FM_ERR_ARG,
          "NULL offsets");
    CHECK(fm_pad_i64_i32(NULL, off1, 1, 4, 0, 0, 0, 0, o, NULL, &er, &ep) == FM_ERR_ARG,
          "NULL values");
    CHECK(fm_pad_i64_i32(v, off1, 1, 4, 0, 0, 0, 0, NULL, NULL, &er, &ep) == FM_ERR_ARG,
          "NULL out");
    CHECK(fm_pad_i64_i32(v, off1, 1, 0, 0, 1, 0, 0, NULL, NULL, &er, &ep) == FM_OK,
          "width 0, truncated");
}

/* ---- 10b. row layout: padding cells and attention (pad.c) ----------------------------------- */

/* fm_pad_cells_* write pad exactly at the padding cells and leave the row's tokens alone;
 * fm_attention_* write 1 at the tokens and 0 at the padding; lengths are clamped to [0, L]. */
static void test_pad_cells_attention(void)
{
    rng r = {21};
    for (int it = 0; it < 300; it++) {
        const int64_t rows = rint_below(&r, 7), width = rint_below(&r, 70);
        const int left = (int)rint_below(&r, 2);
        int64_t lens[8];
        for (int64_t i = 0; i < rows; i++)
            lens[i] = rint_below(&r, 10) == 0 ? -rint_below(&r, 3) - 1
                                              : rint_below(&r, width + 3); /* may exceed L */
        const size_t cells = (size_t)(rows * width);
        int64_t *o64 = xmalloc(cells * sizeof(int64_t));
        int32_t *o32 = xmalloc(cells * sizeof(int32_t));
        uint8_t *o8 = xmalloc(cells);
        int64_t *a64 = xmalloc(cells * sizeof(int64_t));
        int32_t *a32 = xmalloc(cells * sizeof(int32_t));
        uint8_t *a8 = xmalloc(cells);
        for (size_t q = 0; q < cells; q++) { /* sentinels: must survive at token cells */
            o64[q] = 7777;
            o32[q] = 7777;
            o8[q] = 77;
            a64[q] = a32[q] = 55;
            a8[q] = 55;
        }
        const int64_t pad = rint_below(&r, 1000);
        CHECK(fm_pad_cells_i64(o64, lens, rows, width, left, pad) == FM_OK, "pad_cells i64");
        CHECK(fm_pad_cells_i32(o32, lens, rows, width, left, (int32_t)pad) == FM_OK,
              "pad_cells i32");
        CHECK(fm_pad_cells_u8(o8, lens, rows, width, left, (uint8_t)pad) == FM_OK,
              "pad_cells u8");
        CHECK(fm_attention_i64(a64, lens, rows, width, left) == FM_OK, "attention i64");
        CHECK(fm_attention_i32(a32, lens, rows, width, left) == FM_OK, "attention i32");
        CHECK(fm_attention_u8(a8, lens, rows, width, left) == FM_OK, "attention u8");
        for (int64_t i = 0; i < rows; i++) {
            const int64_t n = lens[i] < 0 ? 0 : lens[i] > width ? width : lens[i];
            const int64_t off = left ? width - n : 0;
            CHECK(fm_row_offset(n, width, left) == off, "row offset");
            for (int64_t col = 0; col < width; col++) {
                const size_t q = (size_t)(i * width + col);
                const int real = col >= off && col < off + n;
                CHECK(o64[q] == (real ? 7777 : pad), "pad_cells i64 row %" PRId64 " col %" PRId64,
                      i, col);
                CHECK(o32[q] == (real ? 7777 : (int32_t)pad), "pad_cells i32");
                CHECK(o8[q] == (real ? 77 : (uint8_t)pad), "pad_cells u8");
                CHECK(a64[q] == real && a32[q] == real && a8[q] == real,
                      "attention row %" PRId64 " col %" PRId64, i, col);
            }
        }
        free(o64);
        free(o32);
        free(o8);
        free(a64);
        free(a32);
        free(a8);
    }
    int64_t one = 1, x = 0;
    CHECK(fm_pad_cells_i64(NULL, &one, 1, 1, 0, 0) == FM_ERR_ARG, "pad_cells NULL out");
    CHECK(fm_pad_cells_i64(&x, NULL, 1, 1, 0, 0) == FM_ERR_ARG, "pad_cells NULL lengths");
    CHECK(fm_attention_i64(&x, &one, -1, 1, 0) == FM_ERR_ARG, "attention negative rows");
    CHECK(fm_attention_i64(NULL, &one, 1, 0, 0) == FM_OK, "attention width 0");
}

/* ---- 10c. word starts (words.c) ------------------------------------------------------------ */

/* The rules written out naively (docs/semantics.md, section 6), position 0 always 1. */
static uint8_t ref_word_id_flag(const int64_t *w, int64_t j)
{
    if (j == 0)
        return 1;
    const int64_t a = w[j] < 0 ? -1 : w[j], b = w[j - 1] < 0 ? -1 : w[j - 1];
    return a == -1 || a != b;
}

static uint8_t ref_span_flag(const int64_t *sp, int64_t j)
{
    if (j == 0)
        return 1;
    const int64_t s = sp[2 * j], e = sp[2 * j + 1], ps = sp[2 * j - 2], pe = sp[2 * j - 1];
    if (s > pe) /* a gap */
        return 1;
    if (s < ps) /* back to the start: second text */
        return 1;
    if (ps == 0 && pe == 0) /* after a (0, 0) special */
        return 1;
    return s == e; /* an empty span */
}

static uint8_t ref_table_flag(const uint8_t *tab, const int64_t *y, int64_t j)
{
    if (j == 0)
        return 1;
    return tab[y[j]] == FM_WORD_STARTS || tab[y[j]] == FM_WORD_STANDS_ALONE ||
           tab[y[j - 1]] == FM_WORD_STANDS_ALONE;
}

/* Checks one padded flag array against the reference flags of each row. */
static void check_flags(const char *what, const uint8_t *out, const uint8_t *want,
                        const int64_t *offsets, int64_t rows, int64_t width, int left)
{
    for (int64_t i = 0; i < rows; i++) {
        int64_t n = offsets[i + 1] - offsets[i];
        n = n > width ? width : n;
        const int64_t off = left ? width - n : 0;
        for (int64_t col = 0; col < width; col++) {
            const int64_t j = col - off;
            const uint8_t exp = (j >= 0 && j < n) ? want[offsets[i] + j] : 0;
            CHECK(out[i * width + col] == exp, "%s row %" PRId64 " col %" PRId64, what, i, col);
        }
    }
}

/* fm_lengths_of_mask_* and fm_unpad against their definitions: random valid masks of both
 * sides, then one broken cell (a 2, a -1, a hole, a one out of place), every element type. */
static void test_mask_lengths_and_unpad(void)
{
    rng r = {41};
    for (int it = 0; it < 600; it++) {
        const int64_t B = rint_below(&r, 6), L = rint_below(&r, 40);
        const int left = it % 2;
        int64_t *len = xmalloc((size_t)(B + 1) * sizeof(int64_t));
        int64_t *m64 = xmalloc((size_t)(B * L + 1) * sizeof(int64_t));
        int32_t *m32 = xmalloc((size_t)(B * L + 1) * sizeof(int32_t));
        uint8_t *m8 = xmalloc((size_t)(B * L + 1));
        int64_t *got = xmalloc((size_t)(B + 1) * sizeof(int64_t));
        for (int64_t i = 0; i < B; i++) {
            len[i] = rint_below(&r, L + 1);
            for (int64_t c = 0; c < L; c++) {
                const int64_t off = left ? L - len[i] : 0;
                m64[i * L + c] = c >= off && c < off + len[i];
            }
        }
        /* one cell broken in a third of the cases */
        if (B > 0 && L > 0 && it % 3 == 0) {
            const int64_t bad_row = rint_below(&r, B), bad_col = rint_below(&r, L);
            const int64_t k = rint_below(&r, 3);
            int64_t *cell = &m64[bad_row * L + bad_col];
            *cell = k == 0 ? 2 : k == 1 ? -1 : !*cell;
        }
        for (int64_t q = 0; q < B * L; q++) {
            m32[q] = (int32_t)m64[q];
            m8[q] = (uint8_t)m64[q];
        }
        /* the definition: values 0/1, and the ones a run at the row's side */
        int64_t want_row = -1, want_pos = -1;
        for (int64_t i = 0; i < B && want_row < 0; i++) {
            int64_t n = 0;
            for (int64_t c = 0; c < L; c++)
                n += m64[i * L + c] == 1;
            len[i] = n; /* a flip at the end of a run leaves a valid mask of another length */
            const int64_t off = left ? L - n : 0;
            for (int64_t c = 0; c < L && want_row < 0; c++)
                if (m64[i * L + c] != 0 && m64[i * L + c] != 1) {
                    want_row = i;
                    want_pos = c;
                }
            for (int64_t c = 0; c < L && want_row < 0; c++)
                if ((m64[i * L + c] == 1) != (c >= off && c < off + n)) {
                    want_row = i;
                    want_pos = c;
                }
        }
        int64_t er, ep;
        const int want_rc = want_row < 0 ? FM_OK : FM_ERR_ARG;
        int rc = fm_lengths_of_mask_i64(m64, B, L, left, got, &er, &ep);
        CHECK(rc == want_rc && er == want_row && ep == want_pos &&
                  (rc != FM_OK || B == 0 || memcmp(got, len, (size_t)B * sizeof(int64_t)) == 0),
              "lengths_of_mask i64 (iter %d)", it);
        rc = fm_lengths_of_mask_i32(m32, B, L, left, got, &er, &ep);
        CHECK(rc == want_rc && er == want_row && ep == want_pos, "lengths_of_mask i32 (iter %d)",
              it);
        /* as uint8, -1 is 255: still neither 0 nor 1, at the same cell */
        rc = fm_lengths_of_mask_u8(m8, B, L, left, got, &er, &ep);
        CHECK(rc == want_rc && er == want_row && ep == want_pos, "lengths_of_mask u8 (iter %d)",
              it);
        if (want_row < 0) { /* fm_unpad of a padded batch of ids, 8- and 4-byte elements */
            int64_t *ids = xmalloc((size_t)(B * L + 1) * sizeof(int64_t));
            int64_t *want = xmalloc((size_t)(B * L + 1) * sizeof(int64_t));
            int64_t *out = xmalloc((size_t)(B * L + 1) * sizeof(int64_t));
            int32_t *ids32 = xmalloc((size_t)(B * L + 1) * sizeof(int32_t));
            int32_t *out32 = xmalloc((size_t)(B * L + 1) * sizeof(int32_t));
            int64_t total = 0;
            for (int64_t q = 0; q < B * L; q++) {
                ids[q] = (int64_t)rnext(&r);
                ids32[q] = (int32_t)ids[q];
            }
            for (int64_t i = 0; i < B; i++)
                for (int64_t c = 0; c < L; c++)
                    if (m64[i * L + c])
                        want[total++] = ids[i * L + c];
            CHECK(fm_unpad(ids, 8, B, L, len, left, out) == FM_OK &&
                      memcmp(out, want, (size_t)total * sizeof(int64_t)) == 0,
                  "unpad int64 (iter %d)", it);
            CHECK(fm_unpad(ids32, 4, B, L, len, left, out32) == FM_OK, "unpad int32 status");
            int same = 1;
            for (int64_t q = 0; q < total; q++)
                same &= out32[q] == (int32_t)want[q];
            CHECK(same, "unpad int32 (iter %d)", it);
            if (B > 0) {
                const int64_t keep = len[0];
                len[0] = L + 1;
                CHECK(fm_unpad(ids, 8, B, L, len, left, out) == FM_ERR_ARG,
                      "unpad refuses a length above the width");
                len[0] = keep;
            }
            free(ids);
            free(want);
            free(out);
            free(ids32);
            free(out32);
        }
        free(len);
        free(m64);
        free(m32);
        free(m8);
        free(got);
    }
}

static void test_word_starts(void)
{
    rng r = {23};
    const int64_t V = 50;
    uint8_t tab[50];
    for (int it = 0; it < 400; it++) {
        const int64_t rows = rint_below(&r, 6);
        int64_t offsets[8] = {0};
        int64_t maxn = 0;
        for (int64_t i = 0; i < rows; i++) {
            offsets[i + 1] = offsets[i] + rint_below(&r, 25);
            if (offsets[i + 1] - offsets[i] > maxn)
                maxn = offsets[i + 1] - offsets[i];
        }
        const int64_t total = offsets[rows];
        const int truncate = (int)rint_below(&r, 2), left = (int)rint_below(&r, 2);
        const int64_t width = truncate ? rint_below(&r, maxn + 4) : maxn + rint_below(&r, 4);
        int64_t *wid = xmalloc((size_t)total * sizeof(int64_t));
        int64_t *sp = xmalloc((size_t)(2 * total) * sizeof(int64_t));
        int64_t *ids = xmalloc((size_t)total * sizeof(int64_t));
        uint8_t *want = xmalloc((size_t)total);
        uint8_t *out = xmalloc((size_t)(rows * (width > maxn ? width : maxn)));
        for (int64_t v = 0; v < V; v++)
            tab[v] = (uint8_t)rint_below(&r, 3);
        for (int64_t i = 0; i < rows; i++) {
            int64_t w = 0, pos = 0;
            for (int64_t q = offsets[i]; q < offsets[i + 1]; q++) {
                const int64_t k = rint_below(&r, 10);
                wid[q] = k == 0 ? -1 : k == 1 ? -(int64_t)rint_below(&r, 5) - 2
                                 : (w += rint_below(&r, 2));
                const int64_t kind = rint_below(&r, 8);
                if (kind == 0) { /* a (0, 0) special */
                    sp[2 * q] = sp[2 * q + 1] = 0;
                } else if (kind == 1) { /* back to the start: a second text */
                    pos = rint_below(&r, 3);
                    sp[2 * q] = pos;
                    sp[2 * q + 1] = (pos += rint_below(&r, 4));
                } else { /* touching, overlapping, gapped or empty */
                    const int64_t s = pos + rint_below(&r, 3) - (pos > 0 && kind == 2);
                    sp[2 * q] = s;
                    sp[2 * q + 1] = (pos = s + rint_below(&r, 4));
                }
                ids[q] = rint_below(&r, V);
            }
        }
        int64_t er, ep;
        /* word ids */
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < offsets[i + 1] - offsets[i]; j++)
                want[offsets[i] + j] = ref_word_id_flag(wid + offsets[i], j);
        CHECK(fm_word_starts_from_ids(wid, offsets, rows, width, left, truncate, out, &er) ==
                  FM_OK,
              "word ids rc");
        check_flags("word ids", out, want, offsets, rows, width, left);
        /* spans */
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < offsets[i + 1] - offsets[i]; j++)
                want[offsets[i] + j] = ref_span_flag(sp + 2 * offsets[i], j);
        CHECK(fm_word_starts_from_spans(sp, offsets, rows, width, left, truncate, out, &er,
                                        &ep) == FM_OK,
              "spans rc");
        check_flags("spans", out, want, offsets, rows, width, left);
        /* table */
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < offsets[i + 1] - offsets[i]; j++)
                want[offsets[i] + j] = ref_table_flag(tab, ids + offsets[i], j);
        CHECK(fm_word_starts_from_table(tab, V, ids, offsets, rows, width, left, truncate, out,
                                        &er, &ep) == FM_OK,
              "table rc");
        check_flags("table", out, want, offsets, rows, width, left);

        /* errors: a row longer than the width without truncation */
        if (maxn > 0 && rows > 0) {
            int64_t i = 0;
            while (offsets[i + 1] - offsets[i] != maxn)
                i++;
            CHECK(fm_word_starts_from_ids(wid, offsets, rows, maxn - 1, left, 0, out, &er) ==
                          FM_ERR_LENGTH &&
                      er <= i,
                  "word ids length");
            CHECK(fm_word_starts_from_spans(sp, offsets, rows, maxn - 1, left, 0, out, &er,
                                            &ep) == FM_ERR_LENGTH,
                  "spans length");
            CHECK(fm_word_starts_from_table(tab, V, ids, offsets, rows, maxn - 1, left, 0, out,
                                            &er, &ep) == FM_ERR_LENGTH,
                  "table length");
        }
        /* a bad span anywhere, also beyond the truncated width, is reported where it is */
        if (total > 0) {
            const int64_t q = rint_below(&r, total);
            int64_t row = 0;
            while (offsets[row + 1] <= q)
                row++;
            const int64_t s0 = sp[2 * q], e0 = sp[2 * q + 1];
            if (it % 2) {
                sp[2 * q] = -1;
            } else {
                sp[2 * q] = e0 + 1;
            }
            /* earlier rows have good spans: the first error is this one */
            CHECK(fm_word_starts_from_spans(sp, offsets, rows, width, left, 1, out, &er, &ep) ==
                          FM_ERR_SPAN &&
                      er == row && ep == q - offsets[row],
                  "bad span at %" PRId64 "/%" PRId64 ": er %" PRId64 " ep %" PRId64, row,
                  q - offsets[row], er, ep);
            sp[2 * q] = s0;
            sp[2 * q + 1] = e0;
            /* an id outside the table, inside the kept part of its row */
            const int64_t j = q - offsets[row];
            if (j < width) {
                const int64_t y0 = ids[q];
                ids[q] = it % 2 ? V : -1;
                CHECK(fm_word_starts_from_table(tab, V, ids, offsets, rows, width, left, 1, out,
                                                &er, &ep) == FM_ERR_ID_RANGE &&
                          er == row && ep == j,
                      "table id range");
                ids[q] = y0;
            }
        }
        free(wid);
        free(sp);
        free(ids);
        free(want);
        free(out);
    }
    int64_t off1[2] = {0, 1}, w1 = 0, er, ep;
    uint8_t o1 = 9;
    CHECK(fm_word_starts_from_ids(NULL, off1, 1, 1, 0, 0, &o1, &er) == FM_ERR_ARG,
          "word ids NULL values");
    CHECK(fm_word_starts_from_ids(&w1, off1, 1, 1, 0, 0, NULL, &er) == FM_ERR_ARG,
          "word ids NULL out");
    CHECK(fm_word_starts_from_table(NULL, 5, &w1, off1, 1, 1, 0, 0, &o1, &er, &ep) ==
              FM_ERR_ARG,
          "table NULL");
    CHECK(fm_word_starts_from_ids(&w1, off1, 1, 1, 0, 0, &o1, NULL) == FM_OK && o1 == 1,
          "word ids, NULL err_row");
    /* NULL values are allowed when every row is empty, also when the offsets do not start at 0:
     * no row may then form a pointer from them (undefined behaviour, seen by UBSan) */
    const int64_t empty[3] = {3, 3, 3};
    uint8_t o8[8];
    memset(o8, 7, sizeof o8);
    CHECK(fm_word_starts_from_ids(NULL, empty, 2, 4, 1, 0, o8, &er) == FM_OK, "ids, empty rows");
    CHECK(fm_word_starts_from_spans(NULL, empty, 2, 4, 0, 0, o8, &er, &ep) == FM_OK,
          "spans, empty rows");
    CHECK(fm_word_starts_from_table(NULL, 0, NULL, empty, 2, 4, 0, 0, o8, &er, &ep) == FM_OK,
          "table, empty rows");
    for (int q = 0; q < 8; q++)
        CHECK(o8[q] == 0, "empty rows: cell %d is %u, expected padding 0", q, o8[q]);
}

/* Whole-word masking from the vocabulary table inside the kernel gives the same bits as
 * masking with the flags fm_word_starts_from_table computes: one rule, two callers. */
static void test_table_flags_match_kernel(void)
{
    rng r = {29};
    for (int it = 0; it < 60; it++) {
        tcfg t;
        tcfg_random(&r, &t);
        fm_config *c = &t.c;
        c->units = FM_UNITS_WORDS;
        uint8_t *tab = xmalloc((size_t)c->vocab_size);
        for (int64_t v = 0; v < c->vocab_size; v++)
            tab[v] = (uint8_t)rint_below(&r, 3);
        const int64_t B = 1 + rint_below(&r, 4), L = rint_below(&r, 200);
        const size_t cells = (size_t)(B * L);
        int64_t *ids = xmalloc(cells * sizeof(int64_t)), *ids2 = xmalloc(cells * sizeof(int64_t));
        int64_t *lab = xmalloc(cells * sizeof(int64_t)), *lab2 = xmalloc(cells * sizeof(int64_t));
        int64_t *vals = xmalloc(cells * sizeof(int64_t));
        uint8_t *flags = xmalloc(cells);
        int64_t len[4], offsets[5] = {0};
        uint64_t sid[4];
        const int left = (int)rint_below(&r, 2);
        for (int64_t i = 0; i < B; i++) {
            len[i] = rint_below(&r, L + 1);
            sid[i] = rnext(&r) & 0xFFFFFFu;
            offsets[i + 1] = offsets[i] + len[i];
            const int64_t off = left ? L - len[i] : 0;
            for (int64_t j = 0; j < len[i]; j++) {
                const int64_t y = rint_below(&r, c->vocab_size);
                vals[offsets[i] + j] = y;
                ids[i * L + off + j] = ids2[i * L + off + j] = y;
            }
        }
        int64_t er, ep;
        CHECK(fm_word_starts_from_table(tab, c->vocab_size, vals, offsets, B, L, left, 0, flags,
                                        &er, &ep) == FM_OK,
              "table flags rc");
        const size_t wsb = fm_workspace_bytes(L);
        void *ws = xmalloc(wsb);
        c->word_table = tab;
        fm_batch with_table = {.rows = B, .width = L, .lengths = len, .left = left,
                               .sample_ids = sid};
        const int rc1 = fm_mask_batch_i64(c, &with_table, 0, B, ids, lab, NULL, ws, wsb, &er, &ep);
        c->word_table = NULL;
        fm_batch with_flags = {.rows = B, .width = L, .lengths = len, .left = left,
                               .word_starts = flags, .sample_ids = sid};
        const int rc2 =
            fm_mask_batch_i64(c, &with_flags, 0, B, ids2, lab2, NULL, ws, wsb, &er, &ep);
        CHECK(rc1 == rc2, "table vs flags rc %d %d", rc1, rc2);
        if (rc1 == FM_OK && rc2 == FM_OK)
            CHECK(memcmp(ids, ids2, cells * sizeof(int64_t)) == 0 &&
                      memcmp(lab, lab2, cells * sizeof(int64_t)) == 0,
                  "table vs flags masks differ (it %d)", it);
        free(tab);
        free(ids);
        free(ids2);
        free(lab);
        free(lab2);
        free(vals);
        free(flags);
        free(ws);
        tcfg_free(&t);
    }
}

/* ---- main ------------------------------------------------------------------------------ */

/* Turns a random configuration into a unigram one: weights in [0, wmax] (0 on S and on about a
 * third of the ids), at least one non-zero; nothing skipped. 0 when every id is special. */
static int tcfg_unigram(rng *r, tcfg *t, uint32_t wmax)
{
    fm_config *c = &t->c;
    const int64_t V = c->vocab_size;
    int64_t free_id = -1;
    for (int64_t id = 0; id < V && free_id < 0; id++)
        if (!t->is_special[id])
            free_id = id;
    if (free_id < 0)
        return 0;
    t->cum = xmalloc((size_t)V * sizeof(uint32_t));
    uint64_t acc = 0;
    for (int64_t id = 0; id < V; id++) {
        uint64_t w = t->is_special[id] || rint_below(r, 3) == 0 ? 0 : rnext(r) % ((uint64_t)wmax + 1);
        if (id == free_id && w == 0)
            w = 1;
        if (acc + w > UINT32_MAX)
            w = 0;
        acc += w;
        t->cum[id] = (uint32_t)acc;
    }
    c->random_cum = t->cum;
    c->n_random_skip = 0;
    c->random_range = (uint32_t)acc;
    return 1;
}

/* random_ids = unigram: kernel == reference, draws follow the weights, bad tables refused */
static void test_unigram(void)
{
    rng r = {29};
    for (int iter = 0; iter < 300; iter++) {
        tcfg t;
        tcfg_random(&r, &t);
        const uint32_t wmax = iter % 3 == 0 ? 3 : iter % 3 == 1 ? 1000 : UINT32_MAX / 2;
        if (tcfg_unigram(&r, &t, wmax)) {
            CHECK(fm_config_check_full(&t.c) == FM_OK, "unigram config valid (iter %d)", iter);
            tbatch b;
            tbatch_random(&r, &t, &b, iter % 10 == 0 ? 700 : 90);
            check_batch(&r, &t, &b, iter);
            tbatch_free(&b);
        }
        tcfg_free(&t);
    }
    /* frequencies: V = 8, weights 0 0 1 0 2 3 0 4 (ids 0, 1 special), every token random */
    enum { V = 8, N = 4000, ROWS = 10 };
    static const uint32_t w[V] = {0, 0, 1, 0, 2, 3, 0, 4};
    uint32_t cum[V];
    uint32_t acc = 0;
    for (int i = 0; i < V; i++)
        cum[i] = acc += w[i];
    uint8_t bits[1] = {0x03};
    fm_config c;
    memset(&c, 0, sizeof c);
    c.seed = 12345;
    c.t_select = TWO32;
    c.t_random = TWO32;
    c.probability = 1.0;
    c.max_predictions = -1;
    c.vocab_size = V;
    c.mask_id = 1;
    c.ignore_index = -100;
    c.special_bits = bits;
    c.random_cum = cum;
    c.random_range = acc;
    CHECK(fm_config_check_full(&c) == FM_OK, "unigram config valid");
    int64_t *ids = xmalloc((size_t)N * ROWS * sizeof(int64_t));
    int64_t *lab = xmalloc((size_t)N * ROWS * sizeof(int64_t));
    int64_t lens[ROWS];
    uint64_t sids[ROWS];
    for (int i = 0; i < ROWS; i++) {
        lens[i] = N;
        sids[i] = (uint64_t)i;
    }
    for (int64_t k = 0; k < (int64_t)N * ROWS; k++)
        ids[k] = 2 + k % 6;
    fm_batch fb = {.rows = ROWS, .width = N, .lengths = lens, .sample_ids = sids};
    const size_t wsb = fm_workspace_bytes(N);
    void *ws = xmalloc(wsb);
    CHECK(fm_mask_batch_i64(&c, &fb, 0, ROWS, ids, lab, NULL, ws, wsb, NULL, NULL) == FM_OK,
          "unigram batch");
    long seen[V] = {0};
    for (int64_t k = 0; k < (int64_t)N * ROWS; k++)
        if (ids[k] >= 0 && ids[k] < V)
            seen[ids[k]]++;
    /* chi-square with 3 degrees of freedom below 40 (p < 1e-8 for a correct draw) */
    double chi2 = 0.0;
    for (int i = 0; i < V; i++) {
        if (w[i] == 0) {
            CHECK(seen[i] == 0, "id %d of weight 0 drawn %ld times", i, seen[i]);
            continue;
        }
        const double e = (double)N * ROWS * w[i] / acc;
        chi2 += (seen[i] - e) * (seen[i] - e) / e;
    }
    CHECK(chi2 < 40.0, "unigram chi-square %.2f", chi2);
    /* tables the full check refuses; the per-call check looks at the total only */
    fm_config bad = c;
    uint32_t cum2[V];
    memcpy(cum2, cum, sizeof cum);
    cum2[1] = 1; /* weight on special id 1 */
    bad.random_cum = cum2;
    CHECK(fm_config_check_full(&bad) == FM_ERR_ARG, "weight on a special id refused");
    memcpy(cum2, cum, sizeof cum);
    cum2[4] = cum2[5] + 1; /* decreasing */
    CHECK(fm_config_check_full(&bad) == FM_ERR_ARG, "decreasing table refused");
    bad = c;
    bad.random_range = acc - 1;
    CHECK(fm_config_check(&bad) == FM_ERR_ARG, "total != R refused");
    bad = c;
    bad.random_range = 0;
    CHECK(fm_config_check(&bad) == FM_ERR_ARG, "R = 0 refused");
    int64_t skip1 = 0;
    bad = c;
    bad.random_skip = &skip1;
    bad.n_random_skip = 1;
    CHECK(fm_config_check(&bad) == FM_ERR_ARG, "table with a skip list refused");
    free(ids);
    free(lab);
    free(ws);
}

int main(void)
{
    printf("instruction-set paths:");
    for (int p = 0; p < FM_PATH_COUNT; p++)
        if (fm__path_available(p))
            printf(" %s%s", fm__path_name(p), p == fm__path_best() ? "*" : "");
    printf("\n");
    test_kat();
    test_stream_layout();
    test_generators();
    test_bits_pos();
    test_gap_bits();
    test_actions();
    test_class_bits();
    test_classes();
#ifdef FM_TEST_GUARD_PAGES
    test_classes_at_page_end();
#endif
    test_bounded();
    test_allowed_and_budget();
    test_config_errors();
    test_class_table_and_ragged();
    test_special_gap();
    test_kernel_errors();
    test_pad();
    test_pad_cells_attention();
    test_mask_lengths_and_unpad();
    test_word_starts();
    test_table_flags_match_kernel();
    test_kernel_vs_reference();
    test_retries_in_kernel();
    test_rates();
    test_unigram();
    printf("picked %ld of %ld candidate tokens: %ld mask, %ld random, %ld kept\n", stat_picked,
           stat_cand, stat_mask, stat_rand, stat_keep);
    printf("reference retries: SHUFFLE %ld, SPAN %ld, ACTION %ld; span limit reached %ld times\n",
           ref_retries[FM_DOMAIN_SHUFFLE], ref_retries[FM_DOMAIN_SPAN],
           ref_retries[FM_DOMAIN_ACTION], ref_span_last_attempt_picks);
    printf("%ld passed, %ld failed\n", n_pass, n_fail);
    return n_fail == 0 ? 0 : 1;
}
