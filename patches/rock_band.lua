-- rock_band.lua: a rock rhythm section (drums and bass) behind a guitarist playing into the audio
-- input, over I - V - vi - IV in E. A foot switch taps the tempo; an expression pedal sets the
-- intensity (busier hats, fills, sixteenths).
--
-- The band is played by scripts/rock_band.lua from the chord chart (fills and intensity on the
-- pedal), so bandmate's own mode is silent. Switch to accompany (CC 20, /bm/mode accompany) for
-- the trained band following the guitar through the listener and the chart.
return {
  name = "rock band behind a guitarist",
  mode = "silent",            -- the script is the band; "accompany" is the trained one
  tempo = 124,
  human = "none",             -- the guitar is audio, not one of the band's parts
  audio_inputs = 1,
  auto_connect = true,        -- the guitar from the first capture port, the band to the speakers
  listen = {audio = "poly"},  -- hear the strummed guitar: its onsets reach the script (on_onset)
  script = "../scripts/rock_band.lua",
  parts = {
    bass    = {instrument = "bass", gain = 1.1, voice = "picked"},
    drums   = {gain = 1.0},
    comping = {audio = false, midi = false},
    lead    = {audio = false, midi = false},
  },
  chords = {{"E", 4}, {"B", 4}, {"C#m", 4}, {"A", 4}},
  params = {key = "E", scale = "major", comping_on = false, lead_on = false, intensity = 0.6},
  midi_map = {
    tap = {cc = 64},          -- a sustain-pedal foot switch: tap tempo
    intensity = {cc = 11},    -- an expression pedal
  },
  osc_map = {
    ["/1/fader1"] = "intensity",
    ["/1/push1"] = "tap",
  },
}
