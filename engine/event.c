/* event.c: part names, MIDI encoding and ordering of bandmate events. */
#include "engine/event.h"

#include <string.h>

static const char *const part_names[BM_NUM_PARTS] = {"human", "bass", "drums", "comping", "lead"};

const char *bm_part_name(int part)
{
    return part >= 0 && part < BM_NUM_PARTS ? part_names[part] : "?";
}

int bm_part_from_name(const char *name)
{
    for (int i = 0; i < BM_NUM_PARTS; i++)
        if (!strcmp(name, part_names[i])) return i;
    return -1;
}

int bm_event_to_midi(const bm_event *ev, uint8_t out[3])
{
    uint8_t ch = ev->channel & 0x0f;
    switch (ev->type) {
    case BM_EV_NOTE_ON:
        out[0] = 0x90 | ch;
        out[1] = ev->note & 0x7f;
        out[2] = ev->velocity ? ev->velocity & 0x7f : 1;
        return 3;
    case BM_EV_NOTE_OFF:
        out[0] = 0x80 | ch;
        out[1] = ev->note & 0x7f;
        out[2] = 0;
        return 3;
    case BM_EV_CC:
        out[0] = 0xb0 | ch;
        out[1] = ev->note & 0x7f;
        out[2] = ev->velocity & 0x7f;
        return 3;
    case BM_EV_ALL_OFF:
        out[0] = 0xb0 | ch;
        out[1] = 123;
        out[2] = 0;
        return 3;
    case BM_EV_PITCH_BEND: {
        int v = ev->value + 8192;
        if (v < 0) v = 0;
        if (v > 16383) v = 16383;
        out[0] = 0xe0 | ch;
        out[1] = v & 0x7f;
        out[2] = (uint8_t)(v >> 7);
        return 3;
    }
    case BM_EV_PROGRAM:
        out[0] = 0xc0 | ch;
        out[1] = ev->note & 0x7f;
        return 2;
    case BM_EV_PRESSURE:
        out[0] = 0xd0 | ch;
        out[1] = ev->velocity & 0x7f;
        return 2;
    case BM_EV_CLOCK:
        out[0] = ev->note;
        return 1;
    default:
        return 0;
    }
}

int bm_event_from_midi(const uint8_t *b, int n, bm_event *ev)
{
    if (n < 1) return -1;
    uint8_t st = b[0];
    ev->flags = 0;
    ev->value = 0;
    if (st >= 0xf8) {
        ev->type = BM_EV_CLOCK;
        ev->note = st;
        ev->channel = 0;
        return 0;
    }
    if (st < 0x80 || st >= 0xf0) return -1;
    ev->channel = st & 0x0f;
    int need = ((st & 0xf0) == 0xc0 || (st & 0xf0) == 0xd0) ? 2 : 3;
    if (n < need) return -1;
    for (int i = 1; i < need; i++)
        if (b[i] & 0x80) return -1;
    switch (st & 0xf0) {
    case 0x90:
        ev->type = b[2] ? BM_EV_NOTE_ON : BM_EV_NOTE_OFF;
        ev->note = b[1];
        ev->velocity = b[2];
        return 0;
    case 0x80:
        ev->type = BM_EV_NOTE_OFF;
        ev->note = b[1];
        ev->velocity = b[2];
        return 0;
    case 0xb0:
        ev->type = (b[1] == 123 || b[1] == 120) ? BM_EV_ALL_OFF : BM_EV_CC;
        ev->note = b[1];
        ev->velocity = b[2];
        return 0;
    case 0xe0:
        ev->type = BM_EV_PITCH_BEND;
        ev->value = (int16_t)((b[1] | b[2] << 7) - 8192);
        return 0;
    case 0xc0:
        ev->type = BM_EV_PROGRAM;
        ev->note = b[1];
        return 0;
    case 0xd0:
        ev->type = BM_EV_PRESSURE;
        ev->velocity = b[1];
        return 0;
    default: /* polyphonic aftertouch: not routed */
        return -1;
    }
}

void bm_events_sort_by_frame(bm_event *ev, int n)
{
    for (int i = 1; i < n; i++) {
        bm_event x = ev[i];
        int j = i - 1;
        while (j >= 0 && ev[j].frame > x.frame) {
            ev[j + 1] = ev[j];
            j--;
        }
        ev[j + 1] = x;
    }
}

void bm_events_sort_by_beat(bm_event *ev, int n)
{
    for (int i = 1; i < n; i++) {
        bm_event x = ev[i];
        int j = i - 1;
        while (j >= 0 && ev[j].beat > x.beat) {
            ev[j + 1] = ev[j];
            j--;
        }
        ev[j + 1] = x;
    }
}
