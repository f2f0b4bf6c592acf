-- call_response.lua: a duet that answers the performer's phrases. It listens to the performer's
-- notes; when they rest for a beat and a half the phrase is over, and from the next bar bandmate
-- answers on the comping part with the same rhythm and the melody turned upside down (inverted
-- around its first note and kept in the key). The patch runs bandmate's echo mode underneath, so
-- each note is also answered at once with a third above; bandmate's "call_response" mode will
-- take over from this script once it exists. The phrase is also primed into the musician
-- (bm.prime), which keeps it for the trained model to come.
local band = require("lib.band")

local GAP = 1.5              -- beats of silence that end a phrase
local phrase = {}            -- the performer's notes: {note, vel, beat, dur}
local sounding = {}          -- note number -> index in phrase, until its release
local answers = 0

function init()
  params.add{id = "answer_gap", name = "Rest that ends a phrase (beats)", min = 0.5, max = 4, default = 1.5,
             action = function(v) GAP = v end}
  clock.run(listen)
end

function on_note(n)
  if n.on then
    phrase[#phrase + 1] = {note = n.note, vel = n.vel, beat = n.beat, dur = 0.5}
    sounding[n.note] = #phrase
  elseif sounding[n.note] then
    local p = phrase[sounding[n.note]]
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
  local start = math.ceil(clock.get_beats() / 4) * 4 + 4 -- the next bar but one, to leave a breath
  if start - clock.get_beats() < 2 then start = start + 4 end
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

function listen()
  while true do
    clock.sync(0.5)
    local now = clock.get_beats()
    local last = phrase[#phrase]
    if last and next(sounding) == nil and now - (last.beat + last.dur) >= GAP then
      local notes = phrase
      phrase = {}
      bm.prime(notes, "human")
      answer(notes)
    end
  end
end
