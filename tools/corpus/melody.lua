-- melody.lua: composes a lead line over a chart, written as MMA Solo notes (one string per bar).
--
-- The line is built from phrases of four bars (two in long bars): a rhythmic motif, its
-- variation, the motif again and a held cadence note. Strong beats and long notes land on chord
-- tones chosen by voice leading; the notes between move by step or small skip through the chord's
-- scale (MMA's own scale for that chord quality), following an arch, falling or rising contour.
local M = {}

-- Rhythm cells per beat, in 16th steps; a negative length is a rest.
local CELLS = {
  sparse = { { 4 }, { 4 }, { 8 }, { -4 }, { 2, 2 }, { 6, 2 }, { 12 } },
  medium = { { 4 }, { 2, 2 }, { 2, 2 }, { 3, 1 }, { 6, 2 }, { -2, 2 }, { 8 }, { 4 }, { -4 } },
  busy   = { { 2, 2 }, { 1, 1, 2 }, { 2, 1, 1 }, { 1, 1, 1, 1 }, { 3, 1 }, { -2, 1, 1 }, { 4 },
             { 2, 2 } },
}

local DUR = { [1] = "16", [2] = "8", [3] = "8.", [4] = "4", [6] = "4.", [8] = "2", [12] = "2.",
              [16] = "1" }
local DUR_ORDER = { 16, 12, 8, 6, 4, 3, 2, 1 }

local function dur_token(steps)
  if DUR[steps] then return DUR[steps] end
  local parts, left = {}, steps
  for _, d in ipairs(DUR_ORDER) do
    while left >= d do parts[#parts + 1] = DUR[d]; left = left - d end
  end
  return table.concat(parts, "+")
end

local NAMES = { "cn", "c#", "dn", "d#", "en", "fn", "f#", "gn", "g#", "an", "a#", "bn" }

-- MMA Solo pitch for MIDI note p, with the track at Octave 5 (c = 60).
local function pitch_token(p)
  local name = NAMES[p % 12 + 1]
  local oct = (p // 12) - 5
  if oct > 0 then name = name .. string.rep("+", oct) elseif oct < 0 then name = name .. string.rep("-", -oct) end
  return name
end

-- One bar's rhythm: a list of {start, len, rest} in steps, filling the bar exactly.
local function bar_rhythm(rng, steps, density)
  local out, s = {}, 0
  while s < steps do
    local cell = rng:pick(CELLS[density])
    local total = 0
    for _, d in ipairs(cell) do total = total + math.abs(d) end
    if s + total > steps then cell = { steps - s }; total = steps - s end
    for _, d in ipairs(cell) do
      out[#out + 1] = { start = s, len = math.abs(d), rest = d < 0 }
      s = s + math.abs(d)
    end
  end
  return out
end

-- A cadence bar: a held note on the downbeat, then rest.
local function cadence_rhythm(rng, steps)
  local hold = math.min(steps, rng:pick({ 8, 12, steps }))
  local out = { { start = 0, len = hold, rest = false } }
  if hold < steps then out[2] = { start = hold, len = steps - hold, rest = true } end
  return out
end

local function chord_at(bar, beat)
  local c = bar[1]
  for _, ch in ipairs(bar) do if ch.beat <= beat then c = ch end end
  return c
end

local function pcs_of(ch, tab)
  local s = {}
  for _, v in ipairs(tab[ch.q] or { 0, 4, 7 }) do s[(ch.r + v) % 12] = true end
  return s
end

local function scale_of(ch, scales)
  local s = {}
  local iv = scales[ch.q] or { 0, 2, 4, 5, 7, 9, 11 }
  for _, v in ipairs(iv) do s[(ch.r + v) % 12] = true end
  return s
end

-- The nearest pitch to `target` inside [lo, hi] whose pitch class is in `set`.
local function nearest(set, target, lo, hi, rng)
  local best, bestd = nil, 1e9
  for p = lo, hi do
    if set[p % 12] then
      local d = math.abs(p - target) + rng:float() * 0.9
      if d < bestd then best, bestd = p, d end
    end
  end
  return best or math.max(lo, math.min(hi, target))
end

-- Scale step from p in direction dir (one or two scale notes).
local function step_in(set, p, dir, n)
  local q = p
  for _ = 1, n do
    repeat q = q + dir until set[q % 12] or math.abs(q - p) > 12
  end
  return q
end

-- bars: list of bars, each a list of chords {beat (within bar), r (pc), q}; time: beats per
-- bar; tonic: pc of the key at the start; tempo in bpm. Returns a list of Solo strings
-- (without braces) per bar, or nil for a bar with nothing to play.
function M.compose(rng, bars, time, tonic, tempo, tab, scales)
  local steps = time * 4
  local density
  if tempo >= 170 then density = rng:pick({ "sparse", "medium" })
  elseif tempo <= 90 then density = rng:pick({ "medium", "busy" })
  else density = rng:pick({ "sparse", "medium", "medium", "busy" }) end
  local phrase_len = time >= 5 and 2 or 4
  local centre = 64 + ((tonic + 6) % 12) - 6 + rng:int(2, 6)
  local lo, hi = centre - 7, centre + 10
  local p = centre
  local out = {}
  local motif, answer
  for b = 1, #bars do
    local k = (b - 1) % phrase_len
    local rhythm
    if k == 0 then
      if not motif or rng:chance(0.45) then motif = bar_rhythm(rng, steps, density) end
      rhythm = motif
    elseif k == phrase_len - 1 then
      rhythm = cadence_rhythm(rng, steps)
    elseif k == 1 then
      if not answer or rng:chance(0.5) then answer = bar_rhythm(rng, steps, density) end
      rhythm = answer
    else
      rhythm = rng:chance(0.7) and motif or bar_rhythm(rng, steps, density)
    end
    if k == 0 and rng:chance(0.12) then rhythm = { { start = 0, len = steps, rest = true } } end
    local dir = (k < phrase_len / 2) and 1 or -1
    if rng:chance(0.25) then dir = -dir end
    local toks, any = {}, false
    for _, n in ipairs(rhythm) do
      if n.rest then
        toks[#toks + 1] = dur_token(n.len) .. "r;"
      else
        local beat = n.start / 4
        local ch = chord_at(bars[b], beat)
        local strong = (n.start % 8 == 0) or n.len >= 6 or k == phrase_len - 1
        if strong then
          local target = p + dir * rng:int(0, 4)
          if k == phrase_len - 1 then target = p - rng:int(0, 3) end
          p = nearest(pcs_of(ch, tab), target, lo, hi, rng)
        else
          local sc = scale_of(ch, scales)
          if rng:chance(0.15) then
            -- repeated note, if it fits the scale
            if not sc[p % 12] then p = nearest(sc, p, lo, hi, rng) end
          else
            p = step_in(sc, p, dir, rng:chance(0.75) and 1 or 2)
          end
          if p > hi then dir = -1; p = step_in(sc, hi, -1, 1)
          elseif p < lo then dir = 1; p = step_in(sc, lo, 1, 1) end
        end
        local vel = (n.start == 0 and 100 or (n.start % 4 == 0 and 92 or 82)) + rng:int(-6, 6)
        toks[#toks + 1] = dur_token(n.len) .. pitch_token(p) .. "/" .. vel .. ";"
        any = true
      end
    end
    out[b] = any and table.concat(toks) or nil
  end
  return out
end

return M
