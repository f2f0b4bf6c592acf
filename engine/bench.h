/* bench.h: the benchmarks `bandmate bench` runs, each a main-like function with its own --help. */
#pragma once

/* `bandmate bench engine`: callback cost live on JACK (dummy backend) and offline render speed. */
int bench_engine_main(int argc, char **argv);

/* `bandmate bench synth`: the neural voices' callback cost and render speed beside fluidsynth. */
int bench_synth_main(int argc, char **argv);

/* `bandmate bench session`: a long live session with voices, a script, OSC and a performer. */
int bench_session_main(int argc, char **argv);

/* `bandmate bench together`: `bandmate eval together --quick`. */
int bench_together_main(int argc, char **argv);
