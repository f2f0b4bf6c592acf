-- ambient_installation.lua: a generative ambient piece for a room with sensors, no performer.
-- Sensors send OSC (/sensor/light, /sensor/motion) from the local network; see
-- examples/installation/ for a stand-in sensor feed and the walkthrough.
--
-- No bandmate mode is made for installations: the band's mode stays silent and
-- scripts/ambient.lua plays every note.
return {
  name = "ambient installation",
  mode = "silent",
  tempo = 60,
  human = "none",
  audio_inputs = 0,
  auto_connect = true,
  script = "../scripts/ambient.lua",
  parts = {
    bass    = {instrument = "bass", gain = 0.6},
    comping = {instrument = "pad", gain = 0.8, voice = "glass"},
    lead    = {instrument = "pluck", gain = 0.6, pan = 0.4},
    drums   = {audio = false, midi = false},
  },
  params = {key = "A", scale = "minor", density = 0.3, drums_on = false},
  osc = {
    port = 57140,
    allow = {"127.0.0.1", "192.168.0.0/16", "10.0.0.0/8"},  -- the sensors' network only
  },
  osc_map = {["/1/fader1"] = "brightness"},
}
