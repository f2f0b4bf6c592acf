/* fuzz_voice_features.c: the voice feature-file reader must refuse damaged input cleanly (with and
 * without its checksums), and what it accepts must write back and read again. */
#include "engine/voice/features.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    for (unsigned flags = 0; flags <= VOICE_READ_NO_CHECKSUM; flags++) {
        voice_set *s;
        err[0] = 0;
        if (voice_features_read_mem(data, size, flags, &s, err, sizeof err) != 0) {
            if (!err[0] || s) abort(); /* a refusal always says why and returns nothing */
            continue;
        }
        uint8_t *out;
        size_t len;
        if (voice_features_write_mem(s->notes, s->n_notes, &out, &len, err, sizeof err) != 0) abort();
        voice_set *again;
        if (voice_features_read_mem(out, len, 0, &again, err, sizeof err) != 0) abort();
        if (again->n_notes != s->n_notes) abort();
        for (size_t i = 0; i < s->n_notes; i++)
            if (again->notes[i].n_frames != s->notes[i].n_frames ||
                memcmp(again->notes[i].frames, s->notes[i].frames,
                       s->notes[i].n_frames * sizeof *s->notes[i].frames) != 0)
                abort();
        voice_set_free(again);
        free(out);
        voice_set_free(s);
    }
    return 0;
}
