-- band.lua: the whole band on bandmate's neural voices, following whatever the performer plays.
-- The mode is the musician's "accompany" unless the command line names another
-- (bandmate render --patch examples/band.lua --mode NAME); make demo plays it in every mode.
return {
  name = "the band on neural voices",
  mode = "accompany",
  parts = {
    human   = {instrument = "keys", voice = "epiano", gain = 0.8, pan = 0.15},
    bass    = {instrument = "bass", voice = "bass", gain = 1.0, pan = -0.1},
    drums   = {gain = 0.75},
    comping = {instrument = "keys", voice = "guitar", gain = 0.6, pan = -0.35},
    lead    = {instrument = "lead", voice = "trumpet", gain = 0.7, pan = 0.35},
  },
}
