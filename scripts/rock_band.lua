-- rock_band.lua: a rock rhythm section behind a guitarist: drums (kick on 1 and 3, snare on 2 and
-- 4, eighth-note hi-hats, a crash at the top of every four bars and a tom fill before it) and a
-- bass in driving eighths on the root of each chord of the chart. The guitarist plays into the
-- audio input; the patch maps a foot switch to tap tempo and an expression pedal to intensity.
--
-- bandmate's own "accompany" mode does not exist yet: until it does, this script is the band.
-- on_onset is ready for the listener: a hard strum on the downbeat will bring a crash.
local band = require("lib.band")
local D = band.drum

local intensity = 0.6
local strong_onset_at = -100

function init()
  params.add{id = "intensity", name = "Intensity", min = 0, max = 1, default = 0.6,
             action = function(v) intensity = v end}
  clock.run(drums)
  clock.run(bass)
end

local function fill(bar_start)
  local toms = {D.high_tom, D.high_tom, D.mid_tom, D.mid_tom, D.low_tom, D.low_tom, D.low_tom, D.snare}
  for i, t in ipairs(toms) do
    bm.note("drums", t, band.vel(90 + i * 2, 4), 0.1, bar_start + 3 + (i - 1) / 8)
  end
end

function drums()
  while true do
    clock.sync(4)
    local bar = clock.get_beats()
    local bar_no = math.floor(bar / 4)
    local phrase_end = bar_no % 4 == 3
    if bar_no % 4 == 0 or bar - strong_onset_at < 0.25 then
      bm.note("drums", D.crash, band.vel(110, 5), 1, bar)
    end
    for eighth = 0, 7 do
      local at = bar + eighth / 2
      local in_fill = phrase_end and intensity > 0.4 and eighth >= 6
      if not in_fill then
        if eighth == 0 or eighth == 4 or (eighth == 5 and band.chance(intensity * 0.7)) then
          bm.note("drums", D.kick, band.vel(110, 6), 0.2, at)
        end
        if eighth == 2 or eighth == 6 then bm.note("drums", D.snare, band.vel(105, 6), 0.2, at) end
        local hat = (eighth == 7 and band.chance(intensity * 0.5)) and D.open_hat or D.hat
        bm.note("drums", hat, band.vel(eighth % 2 == 0 and 90 or 70, 6), 0.2, at)
        if intensity > 0.8 then                       -- sixteenths when it gets loud
          bm.note("drums", D.hat, band.vel(50, 6), 0.1, at + 0.25)
        end
      end
    end
    if phrase_end and intensity > 0.4 then fill(bar) end
  end
end

function bass()
  local last = 40
  while true do
    clock.sync(0.5)
    local at = clock.get_beats()
    local chord, into = band.position(at)
    if chord then
      local root = band.nearest_pc(chord.bass, last)
      while root < 28 do root = root + 12 end
      while root > 47 do root = root - 12 end
      local n = root
      if at % 4 == 3.5 and band.chance(0.5) then n = root + 12 end   -- an octave pop before the bar
      bm.note("bass", n, band.vel(into < 0.25 and 105 or 92, 5), 0.45)
      last = root
    end
  end
end

-- The listener will call this for onsets on the audio input (the guitar).
function on_onset(o)
  if o.strength > 0.8 then strong_onset_at = o.beat end
end
