/*
 * Reproducer of a defect found by csrc/tests/fuzz_fastmask.c (input: fuzz_fastmask-word-walk-
 * overflow in this directory). Exit status 1 while the defect is present, 0 once it is fixed.
 *
 *   cc -std=c11 -I csrc csrc/[a-z]*.c csrc/tests/crashes/repro_word_walk_overflow.c -o /tmp/repro
 *   /tmp/repro
 *
 * Word units, Bernoulli selection. words_walk() (fm_kernel_impl.h) visits every set SELECT bit;
 * for a bit that does *not* start a unit it still stores the positions that follow it
 * (pos[np + k] for k < FM_EXPAND and, when the next three tokens continue the unit, the
 * `while (FM_CONT(e))` loop over the rest of the unit), at index np + (e - s), where np already
 * counts the tokens of the picked unit that contains s. Only `starts` decides whether they are
 * kept, but the stores happen anyway: for a long picked unit with further set bits inside it,
 * np + (e - s) runs past the L + FM_EXPAND entries of ws->pos into ws->dblk (and the dblk stores
 * past ws->dblk into ws->rep). The stores stay inside the caller's workspace, so AddressSanitizer
 * is silent, but with per-unit decisions (action_per_unit = 1) the decision blocks of the
 * tokens picked first are overwritten with positions: tokens of one unit get different
 * decisions, i.e. wrong output. Each such bit also costs a walk to the end of the unit (quadratic
 * time for one long unit).
 *
 * Realistic trigger: whole-word masking where a row is mostly one long unit (offset_mapping of
 * text without spaces, e.g. Chinese without chinese_ref; word_ids of one long word) and a high
 * mlm_probability; here one 64-token unit with probability 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fastmask.h"
#include "../../fm_internal.h"

int main(void)
{
    enum { L = 64, V = 1000 };
    static uint8_t special_bits[(V + 7) / 8]; /* no special ids */
    const fm_config c = {
        .seed = 1,
        .selection = FM_SELECT_BERNOULLI,
        .units = FM_UNITS_WORDS,
        .action_per_unit = 1,          /* one decision per unit: W(ACTION, unit start)[0] */
        .t_select = (uint64_t)1 << 32, /* probability 1: every unit is picked */
        .t_mask = (uint64_t)1 << 31,   /* half of the decisions are [MASK] */
        .probability = 1.0,
        .max_predictions = -1,
        .vocab_size = V,
        .mask_id = 999,
        .pad_id = 0,
        .ignore_index = -100,
        .special_bits = special_bits,
        .random_range = V,
    };

    int64_t ids[L], labels[L], length = L;
    uint8_t word_starts[L];
    uint64_t sid = 0;
    memset(word_starts, 0, sizeof word_starts); /* one unit: the whole row */
    fm_batch b = {.rows = 1, .width = L, .lengths = &length, .word_starts = word_starts,
                  .sample_ids = &sid};
    const size_t wsb = fm_workspace_bytes(L);
    void *work = malloc(wsb);

    int failures = 0;
    for (int path = 0; path < FM_PATH_COUNT; path++) {
        if (!fm__path_available(path))
            continue;
        for (int j = 0; j < L; j++)
            ids[j] = 1 + j;
        int64_t er, ep;
        const int rc = fm__mask_batch_i64_path(path, &c, &b, 0, 1, ids, labels, NULL, work, wsb,
                                               &er, &ep);
        /* the unit's decision is W(ACTION, 0)[0]: all 64 tokens masked, or none */
        uint32_t w[4];
        fm_stream_block(c.seed, c.epoch, sid, FM_DOMAIN_ACTION, 0, w);
        const int want_mask = w[0] < c.t_mask;
        int masked = 0;
        for (int j = 0; j < L; j++)
            masked += ids[j] == c.mask_id;
        const int ok = rc == FM_OK && masked == (want_mask ? L : 0);
        printf("%-8s status %d: %d of %d tokens masked, expected %d%s\n", fm__path_name(path), rc,
               masked, L, want_mask ? L : 0, ok ? "" : "  <-- wrong");
        failures += !ok;
    }
    free(work);
    return failures ? 1 : 0;
}
