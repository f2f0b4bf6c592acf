-- parts.lua: which of bandmate's parts an MMA track plays (bass, drums, comping, lead).
--
-- MMA names every MIDI track after its track: Drum-Kick, Bass, Walk, Chord-Piano, Arpeggio,
-- Plectrum-Guitar, Scale, Solo, Aria ... The rule (documented in docs/corpus.md):
--   Drum*                            -> drums   (MMA puts all drum tracks on channel 10)
--   Bass*, Walk*                     -> bass, unless the track's median pitch is at or above
--                                       G3 (55): then it is a riff in the middle register and
--                                       counts as comping
--   Chord*, Arpeggio*, Plectrum*, Scale* -> comping
--   Solo*, Melody*, Aria*            -> lead
--   anything else                    -> drums if on channel 10, otherwise "other"
-- A track whose notes are mostly shorter than a 64th note (ppq/16 ticks) is a percussion
-- pattern on a pitched channel (a few styles converted from Yamaha files have them): "other".
local M = {}

M.BASS_SPLIT = 55

local PREFIX = { drum = "drums", bass = "bass", walk = "bass", chord = "comping",
                 arpeggio = "comping", plectrum = "comping", scale = "comping", solo = "lead",
                 melody = "lead", aria = "lead" }

local function median(notes, field)
  if #notes == 0 then return 0 end
  local p = {}
  for i, n in ipairs(notes) do p[i] = n[field] end
  table.sort(p)
  return p[(#p + 1) // 2]
end

-- track: a track from midi.read; ppq: the file's ticks per quarter note. Returns the part name.
function M.of(track, ppq)
  local name = (track.name or ""):lower()
  local prefix = name:match("^(%a+)")
  local part = prefix and PREFIX[prefix]
  if part and part ~= "drums" and median(track.notes, 2) < (ppq or 192) / 16 then
    return "other"
  end
  if part == "bass" and median(track.notes, 3) >= M.BASS_SPLIT then part = "comping" end
  if not part then
    part = track.channels[10] and "drums" or "other"
  end
  return part
end

return M
