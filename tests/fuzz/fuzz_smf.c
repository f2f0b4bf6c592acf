/* fuzz_smf.c: the Standard MIDI File reader must refuse damaged input cleanly, and round-trip what it accepts. */
#include "engine/smf.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smf *s;
    char err[256];
    if (smf_read_mem(data, size, &s, err, sizeof err) != 0) return 0;
    smf_tempo_map map;
    if (smf_tempo_map_build(s, &map) == 0) {
        (void)smf_tempo_map_seconds(&map, 1u << 20);
        smf_tempo_map_free(&map);
    }
    uint8_t *out;
    size_t len;
    if (smf_write_mem(s, &out, &len) == 0) {
        smf *again;
        if (smf_read_mem(out, len, &again, err, sizeof err) != 0) abort(); /* we must read what we write */
        smf_free(again);
        free(out);
    }
    smf_free(s);
    return 0;
}
