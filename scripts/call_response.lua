-- call_response.lua: a duet that answers the performer's phrases. It keeps the performer's notes;
-- when bandmate's listener says a phrase has ended (a rest, a bar line in a rest, or the end of
-- the call asked for with the end_phrase parameter, a foot switch in the patch), bandmate answers
-- from the next bar on the comping part with the same rhythm and the melody turned upside down
-- (inverted around its first note and kept in the key). The patch runs bandmate's
-- call-and-response mode underneath, whose lead answers first, at once; this answer follows it a
-- bar later. The phrase is also primed into the musician (bm.prime).
local band = require("lib.band")

local heard = {}             -- the performer's recent notes: {note, vel, beat, dur}
local sounding = {}          -- note number -> its entry in heard, until its release
local answers = 0

function on_note(n)
  if n.on then
    heard[#heard + 1] = {note = n.note, vel = n.vel, beat = n.beat, dur = 0.5}
    sounding[n.note] = heard[#heard]
    if #heard > 256 then table.remove(heard, 1) end
  elseif sounding[n.note] then
    local p = sounding[n.note]
    p.dur = math.max(0.1, n.beat - p.beat)
    sounding[n.note] = nil
  end
end

-- The scale degree nearest to a note in the current key and scale, as a MIDI note.
local function in_key(note)
  local best, dist = note, math.huge
  for degree = -14, 21 do
    local n = bm.scale_note(degree, 4)
    if math.abs(n - note) < dist then best, dist = n, math.abs(n - note) end
  end
  return best
end

local function answer(notes)
  local now = clock.get_beats()
  local start = math.ceil(now / 4) * 4               -- the next bar, with at least a beat to breathe
  if start - now < 1 then start = start + 4 end
  local first = notes[1]
  for _, p in ipairs(notes) do
    local mirrored = in_key(first.note - (p.note - first.note))
    while mirrored < 48 do mirrored = mirrored + 12 end
    while mirrored > 84 do mirrored = mirrored - 12 end
    bm.note("comping", mirrored, band.vel(math.floor(p.vel * 0.85), 4), math.min(p.dur, 2), start + (p.beat - first.beat))
  end
  answers = answers + 1
  osc.notify("/duet/answer", answers, #notes, start)
end

-- bandmate's listener found the end of a phrase: answer what was played in it.
function on_phrase(p)
  if p.part ~= "human" then return end
  local notes = {}
  for _, n in ipairs(heard) do
    if n.beat >= p.start - 1e-6 and n.beat <= p.stop + 1e-6 then notes[#notes + 1] = n end
  end
  heard = {}
  if #notes == 0 then return end
  bm.prime(notes, "human")
  answer(notes)
end
