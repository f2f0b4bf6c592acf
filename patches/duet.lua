-- duet.lua: a call-and-response duet with a player on a MIDI keyboard in D dorian. bandmate
-- answers every note at once with a third above (the echo mode) and every phrase with the phrase
-- turned upside down (scripts/call_response.lua). A phrase ends with a rest of a beat and a half,
-- or at once with the sustain pedal (the end of the call).
--
-- bandmate's "call_response" mode will take this over once it exists; until then the echo mode
-- is the closest, and the script adds the phrase-length answers.
return {
  name = "call-and-response duet",
  mode = "echo",              -- "call_response" once it exists
  tempo = 96,
  human = "none",
  monitor = true,
  script = "../scripts/call_response.lua",
  parts = {
    human   = {instrument = "keys", gain = 0.9, pan = -0.2},
    comping = {instrument = "pluck", gain = 0.9, pan = 0.3, voice = "kalimba"},
    lead    = {instrument = "lead", gain = 0.5, pan = 0.2},
    bass    = {audio = false, midi = false},
    drums   = {audio = false, midi = false},
  },
  listen = {phrase_gap = 1.5},
  params = {key = "D", scale = "dorian", bass_on = false, drums_on = false},
  midi_map = {
    end_phrase = {cc = 64},   -- the sustain pedal ends the call: bandmate answers at the next bar
    lead_gain = {cc = 1},     -- the mod wheel sets how loud the echo is
  },
  osc_map = {["/1/push1"] = "end_phrase", ["/1/fader1"] = "lead_gain"},
}
