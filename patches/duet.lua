-- duet.lua: a call-and-response duet with a player on a MIDI keyboard in D dorian. bandmate's
-- call-and-response mode answers each phrase on the lead (half a beat of rest ends a phrase, or
-- at once the sustain pedal: the end of the call), over kalimba comping; the script
-- (scripts/call_response.lua) adds a second answer from the next bar, the phrase turned upside
-- down on the kalimba. Turn the mode controller (CC 20) or send /bm/mode duet to play together.
return {
  name = "call-and-response duet",
  mode = "call-and-response",
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
