/*
 * libFuzzer harness: the random-number layer of the C core.
 *
 *   fm_philox4x32_10   against a literal transcription of docs/semantics.md section 1 (and the
 *                      Random123 known answers, once);
 *   fm_stream_block    against Philox with the counter layout of section 2;
 *   fm_bounded         against section 4 written out literally, with the ranges and words that
 *                      reach the rejection loop: x = 0, x * R landing below the threshold by
 *                      construction (odd R), ranges just above 2^31 (about half of the retry
 *                      words rejected, so several rounds), 2^32 - 1, tiny odd ranges, powers
 *                      of two (never a retry); and every argument error;
 *   fm__gen_seq, fm__gen_gather, fm__bits_lt   on every instruction-set path available here,
 *                      against the literal generator (block indices wrapping at 2^32 included);
 *   fm__allowed_id, fm__budget   against the skip-list walk and round-half-even of n * p.
 *
 * Build and run: tools/fuzz.sh (clang -fsanitize=fuzzer,address,undefined over every csrc .c file).
 */
#include <math.h>

#include "../fastmask.h"
#include "../fm_internal.h"
#include "fuzz_common.h"
#include "ref_rng.h"

/* docs/semantics.md section 1: the ten round keys first (the key is bumped by the Weyl
 * constants between rounds), then the rounds on the counter as an array */
FZ_NO_COV static void ref_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    static const uint32_t weyl[2] = {0x9E3779B9u, 0xBB67AE85u};
    static const uint32_t mult[2] = {0xD2511F53u, 0xCD9E8D57u};
    uint32_t rk[10][2];
    rk[0][0] = key[0];
    rk[0][1] = key[1];
    for (int round = 1; round < 10; round++)
        for (int h = 0; h < 2; h++)
            rk[round][h] = rk[round - 1][h] + weyl[h];
    uint32_t x[4];
    memcpy(x, ctr, sizeof x);
    for (int round = 0; round < 10; round++) {
        /* products of the even words: x0 * M0 and x2 * M1 */
        const uint64_t prod[2] = {(uint64_t)mult[0] * x[0], (uint64_t)mult[1] * x[2]};
        uint32_t y[4];
        for (int h = 0; h < 2; h++) {
            /* half h of the output: hi(other product) ^ odd word ^ round key, lo(other product) */
            const uint64_t other = prod[1 - h];
            y[2 * h] = (uint32_t)(other >> 32) ^ x[2 * h + 1] ^ rk[round][h];
            y[2 * h + 1] = (uint32_t)(other & 0xFFFFFFFFu);
        }
        memcpy(x, y, sizeof x);
    }
    memcpy(out, x, sizeof x);
}

/* W(domain, block) of section 2 */
FZ_NO_COV static void ref_block(uint64_t seed, uint32_t epoch, uint64_t sid, uint32_t domain,
                      uint32_t block, uint32_t out[4])
{
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    const uint32_t ctr[4] = {block, epoch, (uint32_t)sid,
                             ((domain & 0xFFFFu) << 16) | (uint32_t)((sid >> 32) & 0xFFFFu)};
    ref_philox(ctr, key, out);
}

/* section 4, with retry words from the reference Philox */
FZ_NO_COV static int ref_bounded(uint64_t seed, uint32_t epoch, uint64_t sid, uint32_t D, uint32_t b,
                       uint32_t R, uint32_t x, uint32_t *out, int *retries)
{
    return ref_bounded_with(ref_block, seed, epoch, sid, D, b, R, x, out, retries);
}

static uint32_t inverse_odd(uint32_t a) /* a * inverse_odd(a) == 1 mod 2^32, a odd */
{
    uint32_t x = a; /* correct to 3 bits; each Newton step doubles that */
    for (int i = 0; i < 5; i++)
        x *= 2u - a * x;
    return x;
}

static uint32_t pick_range(fz *r)
{
    switch (fz_below(r, 9)) {
    case 0:
        return 0x80000000u + 1u + (uint32_t)fz_below(r, 0x10000); /* t ~ 2^31: many retries */
    case 1:
        return 0xFFFFFFFFu - (uint32_t)fz_below(r, 4);
    case 2:
        return 1u + 2u * (uint32_t)fz_below(r, 50); /* small odd */
    case 3:
        return 1u << fz_below(r, 32); /* a power of two: t = 0, never a retry */
    case 4:
        return 30522u - 5u + (uint32_t)fz_below(r, 5);
    case 5:
        return 0x7FFFFFFFu - (uint32_t)fz_below(r, 0x100);
    case 6:
        return 0; /* an argument error */
    default:
        return (uint32_t)fz_take(r, 4);
    }
}

static void fuzz_bounded(fz *r)
{
    const uint64_t seed = fz_take(r, 8);
    const uint32_t epoch = (uint32_t)fz_take(r, 4);
    uint64_t sid = fz_take(r, 6);
    if (fz_below(r, 16) == 15)
        sid = FZ_TWO48 + fz_take(r, 2); /* out of range */
    uint32_t D = 1u + (uint32_t)fz_below(r, 4);
    if (fz_below(r, 16) == 15)
        D = (uint32_t)fz_below(r, 0x10000); /* 0x80 and above are rejected */
    const uint32_t b = (uint32_t)fz_take(r, 4);
    const uint32_t R = pick_range(r);
    uint32_t x;
    switch (fz_below(r, 4)) {
    case 0:
        x = 0; /* m = 0 < t whenever R is not a power of two */
        break;
    case 1:
        if (R & 1u) { /* x * R = v (mod 2^32) with v below the threshold: a forced retry */
            const uint32_t t = (uint32_t)((FZ_TWO32 - R) % R);
            x = t ? inverse_odd(R) * (uint32_t)fz_below(r, t) : (uint32_t)fz_take(r, 4);
        } else {
            x = (uint32_t)fz_take(r, 4);
        }
        break;
    default:
        x = (uint32_t)fz_take(r, 4);
    }
    const int null_result = fz_below(r, 32) == 31;
    uint32_t got = 0xDEADBEEFu;
    const int rc = fm_bounded(seed, epoch, sid, D, b, R, x, null_result ? NULL : &got);
    if (null_result || R == 0 || D >= 0x80u || sid >= FZ_TWO48) {
        FZ_CHECK(rc == FM_ERR_ARG, "bounded(R=%u, D=%u, sid=%llu): rc %d", R, D,
                 (unsigned long long)sid, rc);
        return;
    }
    uint32_t want = 0;
    int retries = 0;
    const int ok = ref_bounded(seed, epoch, sid, D, b, R, x, &want, &retries);
    FZ_CHECK(ok == 0 ? rc == FM_OK : rc == FM_ERR_RNG, "bounded rc %d, reference %d", rc, ok);
    FZ_CHECK(got == want && got < R, "bounded(R=%u, x=%u, D=%u, b=%u): %u, reference %u", R, x,
             D, b, got, want);
}

static void fuzz_philox(fz *r)
{
    uint32_t ctr[4], key[2], a[4], w[4];
    for (int i = 0; i < 4; i++)
        ctr[i] = (uint32_t)fz_take(r, 4);
    key[0] = (uint32_t)fz_take(r, 4);
    key[1] = (uint32_t)fz_take(r, 4);
    fm_philox4x32_10(ctr, key, a);
    ref_philox(ctr, key, w);
    FZ_CHECK(memcmp(a, w, sizeof a) == 0, "philox(%08x %08x %08x %08x)", ctr[0], ctr[1],
             ctr[2], ctr[3]);
    /* the stream layout, over the same key and counter words */
    const uint64_t seed = (uint64_t)key[0] | (uint64_t)key[1] << 32;
    const uint64_t sid = ctr[2] | (uint64_t)(ctr[3] & 0xFFFFu) << 32;
    const uint32_t domain = ctr[3] >> 16;
    fm_stream_block(seed, ctr[1], sid, domain, ctr[0], a);
    FZ_CHECK(memcmp(a, w, sizeof a) == 0, "stream block (domain %u, block %u)", domain, ctr[0]);
}

static void fuzz_generators(fz *r)
{
    const uint32_t key[2] = {(uint32_t)fz_take(r, 4), (uint32_t)fz_take(r, 4)};
    const uint32_t c1 = (uint32_t)fz_take(r, 4), c2 = (uint32_t)fz_take(r, 4);
    const uint32_t c3 = (uint32_t)fz_take(r, 4);
    uint32_t first = (uint32_t)fz_take(r, 4);
    if (fz_below(r, 4) == 0)
        first = 0u - (uint32_t)fz_below(r, 64); /* blocks wrap around 2^32 */
    const uint32_t nblocks = (uint32_t)fz_below(r, fz_below(r, 4) ? 40 : 700);
    const int path = (int)fz_below(r, FM_PATH_COUNT + 1); /* FM_PATH_COUNT: not a path */
    const int avail = fm__path_available(path);
    if (path >= FM_PATH_COUNT)
        FZ_CHECK(!avail, "path %d reported available", path);
    FZ_CHECK(fm__path_available(fm__path_best()), "best path %d not available",
             fm__path_best());
    FZ_CHECK(fm__path_name(path) != NULL && fm__path_name(-1) != NULL, "path names");

    /* gen_seq: exactly fm__gen_seq_words(nblocks) words, ASan watching the end */
    const size_t nw = fm__gen_seq_words(nblocks);
    FZ_CHECK(nw >= 4 * (size_t)nblocks, "gen_seq_words(%u) = %zu", nblocks, nw);
    uint32_t *seq = fz_alloc(nw * sizeof(uint32_t), 0x5A);
    fm__gen_seq(path, key, c1, c2, c3, first, nblocks, seq);
    for (uint32_t i = 0; i < nblocks; i++) {
        const uint32_t ctr[4] = {first + i, c1, c2, c3};
        uint32_t w[4];
        ref_philox(ctr, key, w);
        FZ_CHECK(memcmp(seq + 4 * (size_t)i, w, sizeof w) == 0, "gen_seq path %s block %u",
                 fm__path_name(path), first + i);
    }
    free(seq);

    /* gen_gather: any list of blocks, repeats allowed */
    const uint32_t n = (uint32_t)fz_below(r, 200);
    uint32_t *blocks = fz_alloc((size_t)n * sizeof(uint32_t), 0);
    uint32_t *w0 = fz_alloc((size_t)n * sizeof(uint32_t), 0x5A);
    uint32_t *w1 = fz_alloc((size_t)n * sizeof(uint32_t), 0x5A);
    prng g = {fz_take(r, 8)};
    for (uint32_t i = 0; i < n; i++)
        blocks[i] = pr_chance(&g, 64) ? (uint32_t)pr_next(&g) : (uint32_t)pr_below(&g, 3000);
    fm__gen_gather(path, key, c1, c2, c3, blocks, n, w0, w1);
    for (uint32_t i = 0; i < n; i++) {
        const uint32_t ctr[4] = {blocks[i], c1, c2, c3};
        uint32_t w[4];
        ref_philox(ctr, key, w);
        FZ_CHECK(w0[i] == w[0] && w1[i] == w[1], "gen_gather path %s entry %u",
                 fm__path_name(path), i);
    }
    free(blocks);
    free(w0);
    free(w1);

    /* bits_lt: words near the threshold */
    const uint32_t ngroups = (uint32_t)fz_below(r, 40);
    uint32_t t = (uint32_t)fz_take(r, 4);
    if (fz_below(r, 4) == 0)
        t = (uint32_t)fz_below(r, 3) * 0x7FFFFFFFu; /* 0, 2^31 - 1, 2^32 - 2 */
    uint32_t *words = fz_alloc((size_t)ngroups * 64 * sizeof(uint32_t), 0);
    uint64_t *bits = fz_alloc((size_t)ngroups * sizeof(uint64_t), 0x5A);
    for (size_t i = 0; i < (size_t)ngroups * 64; i++) {
        const uint64_t d = pr_below(&g, 5);
        words[i] = d < 3 ? t + (uint32_t)d - 1u : (uint32_t)pr_next(&g); /* t-1, t, t+1 */
    }
    fm__bits_lt(path, words, ngroups, t, bits);
    for (uint32_t q = 0; q < ngroups; q++)
        for (int i = 0; i < 64; i++)
            FZ_CHECK(((bits[q] >> i) & 1u) == (words[64 * (size_t)q + i] < t),
                     "bits_lt path %s group %u bit %d", fm__path_name(path), q, i);
    free(words);
    free(bits);
}

static void fuzz_helpers(fz *r)
{
    /* allowed_id: the r-th id not in a sorted, distinct list, against the literal walk */
    prng g = {fz_take(r, 8)};
    const int64_t V = 1 + (int64_t)(fz_below(r, 2) ? fz_below(r, 5000) : fz_take(r, 4) % INT32_MAX);
    int64_t n = (int64_t)fz_below(r, 64);
    if (n > V - 1)
        n = V - 1;
    int64_t *skip = fz_alloc((size_t)(n + 1) * sizeof(int64_t), 0);
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) { /* distinct by construction, then sorted */
        const int64_t v = pr_chance(&g, 128) ? (int64_t)pr_below(&g, 64 < V ? 64 : (uint64_t)V)
                                              : (int64_t)pr_below(&g, (uint64_t)V);
        int dup = 0;
        for (int64_t k = 0; k < m; k++)
            dup |= skip[k] == v;
        if (!dup)
            skip[m++] = v;
    }
    for (int64_t i = 1; i < m; i++) /* insertion sort */
        for (int64_t k = i; k > 0 && skip[k - 1] > skip[k]; k--) {
            const int64_t tmp = skip[k];
            skip[k] = skip[k - 1];
            skip[k - 1] = tmp;
        }
    for (int it = 0; it < 8; it++) {
        int64_t q = (int64_t)pr_below(&g, (uint64_t)(V - m));
        if (it == 0)
            q = V - m - 1; /* the last allowed id */
        int64_t id = q;
        for (int64_t k = 0; k < m; k++)
            if (skip[k] <= id)
                id++;
        const int64_t got = fm__allowed_id(skip, m, q);
        FZ_CHECK(got == id, "allowed_id(%lld) = %lld, walk %lld", (long long)q, (long long)got,
                 (long long)id);
        for (int64_t k = 0; k < m; k++)
            FZ_CHECK(skip[k] != got, "allowed_id returned a skipped id %lld", (long long)got);
        FZ_CHECK(got >= 0 && got < V, "allowed_id out of range");
    }
    free(skip);

    /* budget: min(max_predictions, max(1, round_half_even(n * p))) */
    fm_config c;
    memset(&c, 0, sizeof c);
    switch (fz_below(r, 4)) {
    case 0:
        c.probability = (double)fz_below(r, 1001) / 1000.0;
        break;
    case 1: {
        const uint64_t bits = fz_take(r, 8) >> 12; /* a double in [1, 2) minus 1 */
        c.probability = (double)bits / 4503599627370496.0;
        break;
    }
    case 2:
        c.probability = 0.5; /* n * p lands on halves: the tie rule */
        break;
    default:
        c.probability = fz_below(r, 2) ? 1.0 : 0.0;
    }
    c.max_predictions = fz_below(r, 2) ? -1 : (int64_t)fz_below(r, 100);
    const int64_t len = fz_below(r, 2) ? (int64_t)fz_below(r, 4096) : (int64_t)fz_below(r, 1 << 30);
    const double x = (double)len * c.probability;
    int64_t k = (int64_t)nearbyint(x); /* the default rounding mode: half to even */
    if (k < 1)
        k = 1;
    if (c.max_predictions >= 0 && c.max_predictions < k)
        k = c.max_predictions;
    FZ_CHECK(fm__budget(&c, len) == k, "budget(n=%lld, p=%.17g, cap=%lld) = %lld, want %lld",
             (long long)len, c.probability, (long long)c.max_predictions,
             (long long)fm__budget(&c, len), (long long)k);
}

static void check_kat_once(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    for (int i = 0; i < 3; i++) {
        uint32_t out[4], lit[4];
        fm_philox4x32_10(ref_philox_kat[i], ref_philox_kat[i] + 4, out);
        ref_philox(ref_philox_kat[i], ref_philox_kat[i] + 4, lit);
        FZ_CHECK(memcmp(out, ref_philox_kat[i] + 6, 16) == 0 &&
                     memcmp(lit, ref_philox_kat[i] + 6, 16) == 0,
                 "known-answer vector %d", i);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_kat_once();
    fz r = fz_init(data, size);
    switch (fz_take(&r, 1) % 4) {
    case 0:
        fuzz_philox(&r);
        break;
    case 1:
        fuzz_bounded(&r);
        break;
    case 2:
        fuzz_generators(&r);
        break;
    default:
        fuzz_helpers(&r);
    }
    return 0;
}
