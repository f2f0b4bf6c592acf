-- jazz_trio.lua: a jazz piano trio (walking bass, ride cymbal, piano comping) behind a melody
-- player on a MIDI keyboard, over a twelve-bar blues in F.
--
-- The band is played by scripts/jazz_trio.lua from the chord chart below (a walking bass and
-- a ride pattern written for the blues), so bandmate's own mode is silent. For the trained band
-- instead, switch to accompany (CC 20, /bm/mode accompany or bm.mode("accompany")); the
-- script's notes then play beside it.
return {
  name = "jazz trio behind a melody player",
  mode = "silent",            -- the script is the band; "accompany" is the trained one
  tempo = 150,
  meter = {4, 4},
  human = "lead",             -- the performer plays the melody: the band leaves the lead part to them
  monitor = true,             -- and hears it through bandmate's lead voice
  script = "../scripts/jazz_trio.lua",
  parts = {
    human   = {instrument = "lead", gain = 0.9, pan = 0.1},
    bass    = {instrument = "bass", gain = 1.0, pan = -0.1, voice = "upright"},
    drums   = {gain = 0.8},
    comping = {instrument = "keys", gain = 0.7, pan = -0.35, voice = "rhodes"},
  },
  connect = {midi_in = {}},   -- name your keyboard's JACK port here, or use --midi-in
  chords = {                  -- a jazz blues in F, four beats each
    {"F7", 4}, {"Bb7", 4}, {"F7", 4}, {"F7", 4},
    {"Bb7", 4}, {"Bb7", 4}, {"F7", 4}, {"D7", 4},
    {"Gm7", 4}, {"C7", 4}, {"F7", 2}, {"D7", 2}, {"Gm7", 2}, {"C7", 2},
  },
  params = {key = "F", scale = "mixolydian", density = 0.5, swing = 0.8},
  midi_map = {                -- the keyboard's mod wheel thickens the comping
    density = {cc = 1},
  },
  osc_map = {                 -- TouchOSC's stock "simple" layout, page 1
    ["/1/fader1"] = "density",
    ["/1/fader2"] = "swing",
    ["/1/fader5"] = "master_gain",
  },
}
