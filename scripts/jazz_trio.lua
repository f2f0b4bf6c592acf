-- jazz_trio.lua: the rhythm section of a jazz trio behind a melody player, read from the chord
-- chart: a walking bass (the root on each new chord, chord tones in between, a half step into the
-- next chord), a swung ride cymbal with the hi-hat on 2 and 4, and piano comping in shell
-- voicings (third and seventh) on the Charleston rhythm. The performer plays the melody.
--
-- bandmate's own "accompany" mode does not exist yet: until it does, this script is the band.
-- It follows two of bandmate's parameters, from OSC, MIDI or the patch: swing (0 straight eighths,
-- 1 triplets) and density (busier comping and ride as it rises).
local band = require("lib.band")
local D = band.drum

local last_bass = 41          -- F2: where the walk starts
local last_voicing = 60       -- the centre of the previous piano chord

-- Where the swung eighth after a beat falls: half way when straight, two thirds for triplets.
local function swung() return 0.5 + params.get("swing") / 6 end

function init()
  clock.run(walk)
  clock.run(ride)
  clock.run(comp)
end

-- One bass note per beat.
local function bass_note(beat)
  local chord, into, nxt = band.position(beat)
  if not chord then return nil end
  if into < 0.5 then                                  -- a new chord: its root (or slash bass)
    return band.nearest_pc(chord.bass, last_bass)
  end
  if into + 1 >= chord.beats - 1e-9 and nxt then      -- the last beat: a half step into the next root
    local target = band.nearest_pc(nxt.bass, last_bass)
    return target + (band.chance(0.5) and 1 or -1)
  end
  local tones = band.chord_notes(chord, 31, 50)       -- G1..D3, walking through the chord
  local choices = {}
  for _, n in ipairs(tones) do
    if n ~= last_bass and math.abs(n - last_bass) <= 7 then choices[#choices + 1] = n end
  end
  if #choices == 0 then return band.nearest(tones, last_bass) end
  return choices[math.random(#choices)]
end

function walk()
  while true do
    clock.sync(1)
    local beat = clock.get_beats()
    local n = bass_note(beat)
    if n then
      while n < 28 do n = n + 12 end
      while n > 52 do n = n - 12 end
      bm.note("bass", n, band.vel(92, 6), 0.92)
      last_bass = n
    end
  end
end

function ride()
  while true do
    clock.sync(1)
    local beat = clock.get_beats()
    local in_bar = beat % 4                          -- 0 is beat 1
    local density, swing = bm.density(), swung()
    bm.note("drums", D.ride, band.vel(in_bar % 2 == 0 and 84 or 96, 5), 0.3)
    if in_bar == 1 or in_bar == 3 then
      bm.note("drums", D.pedal_hat, band.vel(70, 4), 0.2)
      bm.note("drums", D.ride, band.vel(70, 6), 0.2, beat + swing)   -- the skip: ding, ding-da-ding
    elseif band.chance(density * 0.3) then
      bm.note("drums", D.ride, band.vel(60, 6), 0.2, beat + swing)
    end
    if band.chance(density * 0.25) then              -- a ghosted snare comp
      bm.note("drums", D.snare, band.vel(38, 6), 0.1, beat + (band.chance(0.5) and swing or 0))
    end
    bm.note("drums", D.kick, band.vel(34, 4), 0.2)   -- feathered
  end
end

-- The third and seventh of a chord (the fifth for triads), voiced near the last chord.
local function shell(chord)
  local third = chord.tones[2] or 4
  local seventh = chord.tones[4] or chord.tones[3] or 7
  local notes = {}
  for _, t in ipairs({third, seventh}) do
    notes[#notes + 1] = band.nearest_pc((chord.root + t) % 12, last_voicing)
  end
  if bm.density() > 0.6 and chord.tones[5] then      -- the ninth on top when it is busy
    notes[#notes + 1] = band.nearest_pc((chord.root + chord.tones[5]) % 12, last_voicing + 7)
  end
  table.sort(notes)
  local centre = 0
  for _, n in ipairs(notes) do centre = centre + n end
  last_voicing = math.max(52, math.min(70, centre / #notes))
  return notes
end

local function hit(chord, at, length, vel)
  for _, n in ipairs(shell(chord)) do bm.note("comping", n, band.vel(vel, 6), length, at) end
end

function comp()
  while true do
    clock.sync(4)                                    -- a bar at a time
    local bar = clock.get_beats()
    local density, swing = bm.density(), swung()
    local c1 = band.position(bar)
    if c1 then
      hit(c1, bar, 0.45, 72)                         -- Charleston: beat 1 ...
      local c2 = band.position(bar + 1 + swing)
      hit(c2, bar + 1 + swing, 0.6, 64)              -- ... and the "and" of 2
      if band.chance(density * 0.6) then
        local c3 = band.position(bar + 3 + swing)
        hit(c3, bar + 3 + swing, 0.4, 58)            -- an anticipation when it is busy
      end
    end
  end
end
