-- band.lua: helpers the shipped scripts share: General MIDI drum names, where a beat falls in the
-- chord chart, chord tones in a range, and a little human variation. Load it with
-- require("lib.band") from a script in scripts/.
local band = {}

-- General MIDI drum notes (bandmate's drum kit follows the GM map)
band.drum = {
  kick = 36, rim = 37, snare = 38, clap = 39, low_tom = 45, mid_tom = 47, high_tom = 50,
  hat = 42, pedal_hat = 44, open_hat = 46, crash = 49, ride = 51, bell = 53,
}

-- Where a beat falls in the chart: the chord, the beats already played of it, and the next chord.
-- Returns nil when there is no chart.
function band.position(beat)
  local chart = bm.chords()
  if #chart == 0 then return nil end
  local total = 0
  for _, c in ipairs(chart) do total = total + c.beats end
  local pos = beat % total
  local at = 0
  for i, c in ipairs(chart) do
    if pos < at + c.beats - 1e-9 then
      local nxt = chart[i % #chart + 1]
      return c, pos - at, nxt
    end
    at = at + c.beats
  end
  return chart[#chart], 0, chart[1]
end

-- Every note of a chord (its tones, in any octave) between low and high, ascending.
function band.chord_notes(chord, low, high)
  local out = {}
  for n = low, high do
    local pc = (n - chord.root) % 12
    for _, t in ipairs(chord.tones) do
      if pc == t % 12 then out[#out + 1] = n break end
    end
  end
  return out
end

-- The note of a pitch class nearest to target.
function band.nearest_pc(pc, target)
  local n = target - ((target - pc) % 12)
  if target - n > 6 then n = n + 12 end
  return n
end

-- The element of a list of notes nearest to target.
function band.nearest(notes, target)
  local best, dist = nil, math.huge
  for _, n in ipairs(notes) do
    local d = math.abs(n - target)
    if d < dist then best, dist = n, d end
  end
  return best
end

-- A velocity around base, a little different each time.
function band.vel(base, spread)
  spread = spread or 8
  local v = base + math.random(-spread, spread)
  return math.max(1, math.min(127, v))
end

-- True with probability p.
function band.chance(p) return math.random() < p end

return band
