/* builtins.c: bandmate's own parameters and what a change of each does to the engine. The
 * musician's live controls (temperature, top-p, density, key lock, style, seed, memory, swing) go
 * to it as BM_MCMD_CONTROL commands; the voices and morphs build or move the parts' neural voices
 * (docs/osc.md says which parameters today's modes act on). */
#include "engine/control/control_internal.h"
#include "engine/behaviour.h"
#include "engine/voice/voice_bank.h"

#include <stdio.h>
#include <string.h>

static const char *const human_options[] = {"none", "bass", "drums", "comping", "lead", NULL};

static int add(bm_control *c, int *idx, const char *id, const char *name, int type, double min, double max,
               double def, const char *const *options, char *err, size_t errlen)
{
    *idx = params_add(&c->params, id, name, type, min, max, def, options, 1, err, errlen);
    return *idx < 0 ? -1 : 0;
}

int builtins_add(bm_control *c, char *err, size_t errlen)
{
    const bm_engine_config *cfg = engine_config(c->e);
    ctl_builtins *b = &c->b;
    int mode = 0;
    for (int i = 0; bm_mode_names[i]; i++)
        if (!strcmp(bm_mode_names[i], cfg->mode)) mode = i;
    int human = cfg->human_role >= BM_PART_BASS && cfg->human_role < BM_NUM_PARTS ? cfg->human_role : 0;
    double gmax = cfg->master_gain > 2 ? 4 : 2;
    if (add(c, &b->tempo, "tempo", "Tempo (BPM)", BM_PARAM_NUMBER, BM_MIN_BPM, BM_MAX_BPM, cfg->bpm, NULL, err, errlen) ||
        add(c, &b->tap, "tap", "Tap tempo", BM_PARAM_TRIGGER, 0, 1, 0, NULL, err, errlen) ||
        add(c, &b->playing, "playing", "Transport playing", BM_PARAM_TOGGLE, 0, 1, 1, NULL, err, errlen) ||
        add(c, &b->panic, "panic", "All notes off", BM_PARAM_TRIGGER, 0, 1, 0, NULL, err, errlen) ||
        add(c, &b->mode, "mode", "Band mode", BM_PARAM_OPTION, 0, 0, mode, bm_mode_names, err, errlen) ||
        add(c, &b->human, "human", "Part the performer plays", BM_PARAM_OPTION, 0, 0, human, human_options, err, errlen) ||
        add(c, &b->monitor, "monitor", "Monitor the performer", BM_PARAM_TOGGLE, 0, 1, cfg->monitor_human, NULL, err, errlen) ||
        add(c, &b->master_gain, "master_gain", "Master gain", BM_PARAM_NUMBER, 0, gmax, cfg->master_gain, NULL, err, errlen))
        return -1;
    for (int p = 0; p < BM_NUM_PARTS; p++) {
        char id[48], name[64];
        const char *pn = bm_part_name(p);
        b->part_on[p] = -1;
        if (p != BM_PART_HUMAN) {
            snprintf(id, sizeof id, "%s_on", pn);
            snprintf(name, sizeof name, "%s plays", pn);
            if (add(c, &b->part_on[p], id, name, BM_PARAM_TOGGLE, 0, 1, 1, NULL, err, errlen)) return -1;
        }
        snprintf(id, sizeof id, "%s_gain", pn);
        snprintf(name, sizeof name, "%s gain", pn);
        double g = cfg->part_gain[p];
        if (add(c, &b->part_gain[p], id, name, BM_PARAM_NUMBER, 0, g > 2 ? 4 : 2, g, NULL, err, errlen)) return -1;
    }
    if (add(c, &b->temperature, "temperature", "Temperature", BM_PARAM_NUMBER, 0.05, 3, 1, NULL, err, errlen) ||
        add(c, &b->top_p, "top_p", "Top-p", BM_PARAM_NUMBER, 0.05, 1, 0.95, NULL, err, errlen) ||
        add(c, &b->density, "density", "Density", BM_PARAM_NUMBER, 0, 1, 0.5, NULL, err, errlen) ||
        add(c, &b->key, "key", "Key", BM_PARAM_OPTION, 0, 0, 0, bm_key_names, err, errlen) ||
        add(c, &b->scale, "scale", "Scale", BM_PARAM_OPTION, 0, 0, 0, bm_scale_names, err, errlen) ||
        add(c, &b->key_lock, "key_lock", "Lock the band to the key", BM_PARAM_TOGGLE, 0, 1, 0, NULL, err, errlen) ||
        add(c, &b->style, "style", "Style (-1 free)", BM_PARAM_INTEGER, -1, 63, -1, NULL, err, errlen) ||
        add(c, &b->seed, "seed", "Random seed", BM_PARAM_INTEGER, 0, 2147483647, 0, NULL, err, errlen) ||
        add(c, &b->memory, "memory", "Weight of the performer's phrases", BM_PARAM_NUMBER, 0, 1, 0.3, NULL, err, errlen) ||
        add(c, &b->swing, "swing", "Swing", BM_PARAM_NUMBER, 0, 1, 0, NULL, err, errlen) ||
        add(c, &b->follow, "follow", "Follow the performer's tempo", BM_PARAM_NUMBER, 0, 1, cfg->listen.follow, NULL, err,
            errlen) ||
        add(c, &b->end_phrase, "end_phrase", "End the performer's phrase (end of the call)", BM_PARAM_TRIGGER, 0, 1, 0,
            NULL, err, errlen))
        return -1;
    for (int p = 0; p < BM_NUM_PARTS; p++) {
        char id[48], name[64];
        const char *pn = bm_part_name(p);
        snprintf(id, sizeof id, "voice_%s", pn);
        snprintf(name, sizeof name, "%s voice", pn);
        if (add(c, &b->voice[p], id, name, BM_PARAM_TEXT, 0, 0, 0, NULL, err, errlen)) return -1;
        snprintf(id, sizeof id, "morph_%s", pn);
        snprintf(name, sizeof name, "%s voice morph", pn);
        if (add(c, &b->morph[p], id, name, BM_PARAM_NUMBER, 0, 1, 0, NULL, err, errlen)) return -1;
        snprintf(id, sizeof id, "morph_%s_to", pn);
        snprintf(name, sizeof name, "%s morph target", pn);
        if (add(c, &b->morph_to[p], id, name, BM_PARAM_TEXT, 0, 0, 0, NULL, err, errlen)) return -1;
        snprintf(id, sizeof id, "morph_%s_y", pn);
        snprintf(name, sizeof name, "%s voice morph, Y (an XY pad of four voices)", pn);
        if (add(c, &b->morph_y[p], id, name, BM_PARAM_NUMBER, 0, 1, 0, NULL, err, errlen)) return -1;
    }
    return 0;
}

static void musician(bm_control *c, int type, int part, int value)
{
    bm_musician_cmd m = {type, part, value, NULL, 0};
    if (engine_musician_command(c->e, &m) != 0 && !c->o.quiet)
        fprintf(stderr, "bandmate: the musician's command queue is full; a change was lost.\n");
}

/* A live control of the musician (enum bm_musician_control). */
static void control(bm_control *c, int which, double value)
{
    bm_musician_cmd m = {BM_MCMD_CONTROL, which, 0, NULL, value};
    if (engine_musician_command(c->e, &m) != 0 && !c->o.quiet)
        fprintf(stderr, "bandmate: the musician's command queue is full; a change was lost.\n");
}

static void command(bm_control *c, int type, int part, double value)
{
    if (ctl_command(c, type, part, value) != 0 && !c->o.quiet)
        fprintf(stderr, "bandmate: the engine's command queue is full; a change was lost.\n");
}

/* A part's voice, morph target or morph moved: build the new voice (a name, or a morph of two)
 * or move the morph of the one playing. Why it could not is kept in c->voice_err. */
static void apply_voice(bm_control *c, int part, int idx)
{
    const ctl_builtins *b = &c->b;
    const char *voice = c->params.p[b->voice[part]].text, *to = c->params.p[b->morph_to[part]].text;
    double x = c->params.p[b->morph[part]].value, y = c->params.p[b->morph_y[part]].value;
    c->voice_err[0] = 0;
    voice_spec now;
    char why[256];
    int playing = c->voice_spec[part][0] && voice_spec_parse(c->voice_spec[part], &now, why, sizeof why) == 0 ? now.n : 0;
    if ((idx == b->morph[part] || idx == b->morph_y[part]) && playing >= 2) { /* live, no rebuild */
        if (voice_part_morph(c->e, part, (float)x, playing > 2 ? (float)y : -1.0f) != 0)
            snprintf(c->voice_err, sizeof c->voice_err, "the engine is busy; move the morph again");
        return;
    }
    if (idx == b->morph_y[part]) return; /* a Y with no pad of voices to move over */
    if (idx == b->morph[part] && !to[0]) return; /* no target to move towards: kept for when one is set */
    char base[256];
    snprintf(base, sizeof base, "%s", voice[0] ? voice : playing ? now.names[0] : "");
    if (!base[0]) {
        snprintf(c->voice_err, sizeof c->voice_err, "the %s part has no voice to morph from; set its voice first",
                 bm_part_name(part));
        return;
    }
    char spec[sizeof c->voice_spec[0]];
    if (to[0]) snprintf(spec, sizeof spec, "%s,%s@%g", base, to, x);
    else snprintf(spec, sizeof spec, "%s", base);
    char err[300];
    if (voice_part_set(c->e, part, spec, err, sizeof err) != 0) {
        snprintf(c->voice_err, sizeof c->voice_err, "%s", err);
        if (!c->o.quiet) fprintf(stderr, "bandmate: the %s part's voice: %s.\n", bm_part_name(part), err);
        return;
    }
    snprintf(c->voice_spec[part], sizeof c->voice_spec[part], "%s", spec);
}

void builtins_apply(bm_control *c, int idx)
{
    const ctl_builtins *b = &c->b;
    const bm_param *p = &c->params.p[idx];
    double v = p->value;
    if (idx == b->tempo) command(c, BM_CMD_TEMPO, 0, v);
    else if (idx == b->tap) command(c, BM_CMD_TAP, 0, (double)(c->now > 0 ? c->now : 0));
    else if (idx == b->playing) command(c, BM_CMD_ROLLING, 0, v);
    else if (idx == b->panic) {
        if (engine_panic(c->e) != 0 && !c->o.quiet) fprintf(stderr, "bandmate: the engine is busy; panic again.\n");
        memset(c->held, 0, sizeof c->held); /* the engine forgets every pending note */
    } else if (idx == b->mode) {
        char err[256];
        const char *name = params_option_name(&c->params, idx);
        if (engine_set_mode(c->e, name, err, sizeof err) != 0) {
            if (!c->o.quiet) fprintf(stderr, "bandmate: mode %s: %s.\n", name, err);
        } else if (c->status) {
            snprintf(c->status->mode, sizeof c->status->mode, "%s", name);
        }
    } else if (idx == b->human) musician(c, BM_MCMD_HUMAN_ROLE, (int)v, 0);
    else if (idx == b->monitor) command(c, BM_CMD_PART_AUDIO, BM_PART_HUMAN, v);
    else if (idx == b->master_gain) command(c, BM_CMD_GAIN, -1, v);
    else if (idx == b->temperature) control(c, BM_CTL_TEMPERATURE, v);
    else if (idx == b->top_p) control(c, BM_CTL_TOP_P, v);
    else if (idx == b->density) control(c, BM_CTL_DENSITY, v);
    else if (idx == b->style) control(c, BM_CTL_STYLE, v);
    else if (idx == b->seed) control(c, BM_CTL_SEED, v);
    else if (idx == b->memory) control(c, BM_CTL_MEMORY, v);
    else if (idx == b->swing) control(c, BM_CTL_SWING, v);
    else if (idx == b->end_phrase) {
        if (engine_end_phrase(c->e) != 0 && !c->o.quiet) fprintf(stderr, "bandmate: the engine is busy; a change was lost.\n");
    } else if (idx == b->follow) {
        if (engine_set_follow(c->e, v) != 0 && !c->o.quiet) fprintf(stderr, "bandmate: the engine is busy; a change was lost.\n");
    }
    for (int part = 0; part < BM_NUM_PARTS; part++) /* a part's voice, its morph and target */
        if (idx == b->voice[part] || idx == b->morph[part] || idx == b->morph_to[part] || idx == b->morph_y[part]) {
            apply_voice(c, part, idx);
            return;
        }
    if (idx == b->key || idx == b->scale || idx == b->key_lock) {
        control(c, BM_CTL_SCALE, c->params.p[b->scale].value);
        control(c, BM_CTL_KEY, c->params.p[b->key_lock].value != 0 ? c->params.p[b->key].value : -1);
    } else {
        for (int part = 0; part < BM_NUM_PARTS; part++) {
            if (idx == b->part_on[part]) {
                if (v != 0) c->parts_on |= 1u << part;
                else {
                    c->parts_on &= ~(1u << part);
                    memset(c->held[part], 0, sizeof c->held[part]); /* the musician releases the part */
                }
                musician(c, BM_MCMD_PART_ENABLE, part, v != 0);
                if (c->status) c->status->parts_on = c->parts_on;
                if (v == 0) { /* and notes the script scheduled still ring out: cut them */
                    bm_command cmd = {BM_CMD_PART_AUDIO, part, 0, NULL};
                    engine_command(c->e, &cmd);
                    cmd.value = (engine_config(c->e)->audio_parts >> part) & 1;
                    engine_command(c->e, &cmd);
                }
            }
            if (idx == b->part_gain[part]) command(c, BM_CMD_GAIN, part, v);
        }
    }
}
