/* voice_eval_cmd.h: the voices' entry in `bandmate eval`. */
#pragma once

/* `bandmate eval voices`: resynthesis of held-out notes against the baseline. */
int eval_voices_main(int argc, char **argv);
