/* commands.h: the `bandmate voice` subcommands that make and use trained voices (the data-set
 * subcommands live in cmd_voice.c, which dispatches to these). Each is main-like. */
#pragma once

int cmd_voice_train_model(int argc, char **argv); /* train the autoencoder on the data set */
int cmd_voice_place(int argc, char **argv);       /* a voice from data-set notes, placed by the encoder */
int cmd_voice_train_wav(int argc, char **argv);   /* a voice from a performer's recording */
int cmd_voice_list(int argc, char **argv);        /* the voices found, where they lie in the map */
int cmd_voice_render(int argc, char **argv);      /* play a voice (or a morph) into a WAV file */
int cmd_voice_decode(int argc, char **argv);      /* one held-out note through the decoder, to WAV */
