-- progressions.lua: a generator of idiomatic chord charts (one chorus of a form, in a key).
--
-- Charts are written in a small degree notation and kept relative to the tonic until a song is
-- rendered in a concrete key:  "1:M7 6:m7|2:m7 5:7|%"  is two bars (two chords each, the second
-- on the half bar) and a repeat of the previous bar. A degree is 1..7 of the major scale with an
-- optional b or # in front; the quality is a name from MMA's chord table.
--
-- gen(kind, rng) returns
--   { kind, variant, mode, bars = { { {pos = 0|0.5, r = semitones above tonic, q = quality} } },
--     keys = { {bar, shift, mode} }, sections = { {bar, label} } }
-- where a key's shift is its tonic relative to the song's tonic (key changes inside the form).
local M = {}

local DEG = { 0, 2, 4, 5, 7, 9, 11 }

local function degree(s)
  local acc, d = s:match("^([b#]*)(%d)$")
  if not d then error("bad degree " .. s) end
  local v = DEG[tonumber(d)]
  for c in acc:gmatch(".") do v = v + (c == "b" and -1 or 1) end
  return v % 12
end

-- Parses degree notation into bars, each chord shifted by `shift` semitones.
function M.parse(str, shift)
  shift = shift or 0
  local bars = {}
  for bar in (str .. "|"):gmatch("([^|]*)|") do
    bar = bar:gsub("^%s+", ""):gsub("%s+$", "")
    if bar == "%" then
      local prev = bars[#bars]
      local copy = {}
      for i, c in ipairs(prev) do copy[i] = { pos = c.pos, r = c.r, q = c.q } end
      bars[#bars + 1] = copy
    elseif bar ~= "" then
      local chords = {}
      for tok in bar:gmatch("%S+") do chords[#chords + 1] = tok end
      if #chords > 2 then error("more than two chords in a bar: " .. bar) end
      local b = {}
      for i, tok in ipairs(chords) do
        local d, q = tok:match("^([b#]*%d):(.+)$")
        if not d then error("bad chord token " .. tok) end
        b[#b + 1] = { pos = (i - 1) * 0.5, r = (degree(d) + shift) % 12, q = q }
      end
      bars[#bars + 1] = b
    end
  end
  return bars
end

-- A chart under construction: sections appended in order.
local Chart = {}
Chart.__index = Chart

local function new_chart(kind, variant, mode)
  return setmetatable({ kind = kind, variant = variant, mode = mode, bars = {}, keys = {},
                        sections = {} }, Chart)
end

-- Appends bars in notation `str`, in the key `shift` semitones above the song's tonic.
function Chart:add(label, str, shift, mode)
  shift = shift or 0
  mode = mode or self.mode
  local start = #self.bars + 1
  local last = self.keys[#self.keys]
  if not last or last.shift ~= shift % 12 or last.mode ~= mode then
    self.keys[#self.keys + 1] = { bar = start, shift = shift % 12, mode = mode }
  end
  if label then self.sections[#self.sections + 1] = { bar = start, label = label } end
  for _, b in ipairs(M.parse(str, shift)) do self.bars[#self.bars + 1] = b end
  return self
end

local function join(...) return table.concat({ ... }, "|") end

----------------------------------------------------------------------------------------------
-- Turnarounds (two bars that lead back to the tonic)

M.TURNAROUNDS = {
  major = { "1:M7 6:m7|2:m7 5:7", "1:M7 6:7|2:m7 5:7", "3:m7 6:7|2:m7 5:7", "1:6 b3:7|b6:7 b2:7",
            "1:M7 #1:dim|2:m7 5:7", "1:M7 b3:7|2:m7 b2:7", "1:6 6:7b9|2:m7 5:7b9",
            "3:m7 b3:7|2:m7 b2:7", "1:M7 b7:7|b6:7 5:7" },
  minor = { "1:m7 b6:7|2:m7b5 5:7", "1:m6 6:m7b5|2:m7b5 5:7b9", "1:m7 4:m7|b6:7 5:7",
            "1:m b7:M|b6:M 5:7" },
  blues = { "1:7 4:7|1:7 5:7", "1:7 6:7|2:m7 5:7", "1:7 b6:7|5:7 5:7", "1:7 b3:7|b6:7 b2:7",
            "1:7 #1:dim|2:m7 5:7" },
}

----------------------------------------------------------------------------------------------
-- Blues

local BLUES = {
  basic = "1:7|1:7|1:7|1:7|4:7|4:7|1:7|1:7|5:7|4:7|T",
  quick = "1:7|4:7|1:7|1:7|4:7|4:7|1:7|1:7|5:7|4:7|T",
  jazz = "1:7|4:7|1:7|5:m7 1:7|4:7|#4:dim|1:7|6:7b9|2:m7|5:7|T",
  bird = "1:M7|7:m7b5 3:7|6:m7 2:7|5:m7 1:7|4:7|4:m7 b7:7|3:m7|b3:m7 b6:7|2:m7|5:7|T",
  rock = "1:M|1:M|1:M|1:M|4:M|4:M|1:M|1:M|5:M|4:M|1:M|5:M",
  minor = "1:m7|1:m7|1:m7|1:m7|4:m7|4:m7|1:m7|1:m7|b6:7|5:7|1:m7|5:7",
  minorjazz = "1:m7|4:m7|1:m7|1:m7|4:m7|4:m7|1:m7|1:m7|b6:7|5:7b9|1:m7 b6:7|2:m7b5 5:7b9",
  eightbar = "1:7|5:7|4:7|4:7|1:7|5:7|1:7 4:7|1:7 5:7",
  sixteen = "1:7|1:7|1:7|1:7|1:7|1:7|1:7|1:7|4:7|4:7|1:7|1:7|5:7|4:7|T",
}

local function blues(rng)
  local variant = rng:weighted({ { "basic", 3 }, { "quick", 3 }, { "jazz", 3 }, { "bird", 1 },
                                 { "rock", 2 }, { "minor", 2 }, { "minorjazz", 1 },
                                 { "eightbar", 1 }, { "sixteen", 1 } })
  local mode = variant:find("minor") and "minor" or "major"
  local s = BLUES[variant]
  if s:find("T") then
    local t = variant == "bird" and rng:pick(M.TURNAROUNDS.major) or rng:pick(M.TURNAROUNDS.blues)
    s = s:gsub("T", t)
  end
  -- Colour: ninths and thirteenths on some dominants.
  if variant ~= "rock" and rng:chance(0.3) then
    local ext = rng:pick({ "9", "13" })
    s = s:gsub("1:7|", "1:" .. ext .. "|", 1)
  end
  return new_chart("blues", variant, mode):add("A", s)
end

----------------------------------------------------------------------------------------------
-- ii-V-I chains

local CADENCE = {
  major = { "2:m7|5:7|1:M7|1:M7", "2:m7 5:7|1:M7", "2:m7|5:7|1:6|1:6", "2:m9|5:13|1:M9|1:M9" },
  minor = { "2:m7b5|5:7b9|1:m6|1:m6", "2:m7b5 5:7b9|1:m7", "2:m7b5|5:7|1:mM7|1:m7" },
}


local function iivi(rng)
  local n = rng:int(3, 6)
  local step = rng:weighted({ { -2, 4 }, { -3, 2 }, { 5, 3 }, { -1, 1 }, { 4, 1 }, { 2, 1 } })
  local minor_share = rng:pick({ 0, 0.25, 0.5 })
  local c = new_chart("iivi", "step" .. step, "major")
  local shift = 0
  for k = 1, n do
    local mode = rng:chance(minor_share) and "minor" or "major"
    c:add(k == 1 and "A" or nil, rng:pick(CADENCE[mode]), shift, mode)
    shift = shift + step
  end
  -- Back home: a cadence in the original key closes the chorus.
  c:add("A'", rng:pick(CADENCE.major), 0, "major")
  return c
end

----------------------------------------------------------------------------------------------
-- Standards-like forms: AABA and ABAC with turnarounds

local A_CELLS = {   -- two-bar cells that start anywhere in an A section
  "1:M7 6:m7|2:m7 5:7", "1:M7|6:m7", "1:M7|1:7", "4:M7|4:m6", "3:m7|6:7", "3:m7 6:7|2:m7 5:7",
  "2:m7|5:7", "1:6 #1:dim|2:m7 5:7", "4:M7|b7:7", "2:m7|b2:7", "5:m7|1:7", "#4:m7b5|7:7",
  "1:6|6:m7", "4:6|#4:dim", "3:m7 b3:dim|2:m7 5:7", "6:m7|2:7",
}
local A_OPEN = { "1:M7|%", "1:6|6:m7", "1:M7|4:7", "1:M7 6:m7|2:m7 5:7", "1:6 #1:dim|2:m7 5:7",
                 "3:m7|6:7" }
local A_CLOSE = { "2:m7 5:7|1:6", "2:m7 5:7|1:M7", "2:m7 b2:7|1:6", "4:m6 b7:7|1:M7" }

local BRIDGES = {
  { "3:7|%|6:7|%|2:7|%|5:7|%", 0 },                     -- rhythm-changes bridge
  { "5:m7|1:7|4:M7|%|4:m7|b7:7|3:m7 6:7|2:m7 5:7", 0 }, -- to the subdominant and back
  { "2:m7|5:7|1:M7|%|b7:m7|b3:7|2:m7|5:7", 5 },         -- a fourth up (IV as a new key)
  { "2:m7|5:7|1:M7|%|2:m7|5:7|1:M7|b2:7", 8 },          -- a major third down (bVI)
  { "2:m7|5:7|1:M7|%|2:m7|5:7|1:M7|5:7", 3 },           -- a minor third up (bIII)
  { "6:m7|2:7|2:m7|5:7|3:m7|6:7|2:m7|5:7", 0 },
}

local function a_section(rng, final)
  local bars = { rng:pick(A_OPEN) }
  local count = select(2, bars[1]:gsub("|", "")) + 1
  while count < 6 do
    local cell = rng:pick(A_CELLS)
    bars[#bars + 1] = cell
    count = count + select(2, cell:gsub("|", "")) + 1
  end
  local s = table.concat(bars, "|")
  -- trim to six bars, then two closing bars
  local parts = {}
  for b in (s .. "|"):gmatch("([^|]*)|") do parts[#parts + 1] = b end
  while #parts > 6 do table.remove(parts) end
  local close = final and rng:pick(A_CLOSE) or rng:pick(M.TURNAROUNDS.major)
  if final then
    -- a cadence over the last two bars leaves the tonic sounding to the end of the form
    return table.concat(parts, "|") .. "|" .. close
  end
  return table.concat(parts, "|") .. "|" .. close
end

local MINOR_A = {
  "1:m6|%|2:m7b5|5:7b9|1:m6|4:m7|2:m7b5|5:7b9",
  "1:m7|4:m7|b7:7|b3:M7|b6:M7|2:m7b5|5:7b9|1:m6",
  "1:m|1:mM7|1:m7|1:m6|4:m7|b7:7|b3:M7|5:7",
  "1:m7|%|4:m7|%|b6:7|5:7|1:m7|2:m7b5 5:7",
}
local MINOR_B = { "b3:M7|%|b6:M7|%|2:m7b5|5:7|1:m6|5:7", "4:m7|b7:7|b3:M7|b6:M7|2:m7b5|5:7b9|1:m6|5:7" }

local function standard(rng)
  local variant = rng:weighted({ { "aaba", 5 }, { "abac", 2 }, { "rhythm", 2 }, { "minor", 2 } })
  if variant == "rhythm" then
    local A = "1:6 6:m7|2:m7 5:7|1:6 6:m7|2:m7 5:7|1:6 1:7|4:6 #4:dim|1:6 5:7|1:6 5:7"
    local Af = "1:6 6:m7|2:m7 5:7|1:6 6:m7|2:m7 5:7|1:6 1:7|4:6 #4:dim|1:6 5:7|1:6"
    return new_chart("standard", "rhythm", "major"):add("A", A):add("A", A)
      :add("B", BRIDGES[1][1]):add("A", Af)
  elseif variant == "minor" then
    local A = rng:pick(MINOR_A)
    return new_chart("standard", "minor", "minor"):add("A", A):add("A", A)
      :add("B", rng:pick(MINOR_B)):add("A", A)
  elseif variant == "abac" then
    local A = a_section(rng, false)
    local B = rng:pick(A_CELLS) .. "|" .. rng:pick(A_CELLS) .. "|" .. rng:pick(A_CELLS) .. "|" ..
      rng:pick(M.TURNAROUNDS.major)
    local C = rng:pick(A_CELLS) .. "|" .. rng:pick(A_CELLS) .. "|" .. rng:pick(A_CLOSE)
    return new_chart("standard", "abac", "major"):add("A", A):add("B", B):add("A", A):add("C", C)
  end
  local A1 = a_section(rng, false)
  local A3 = A1:gsub("|[^|]*|[^|]*$", "|" .. rng:pick(A_CLOSE))
  local br = rng:pick(BRIDGES)
  local c = new_chart("standard", "aaba", "major"):add("A", A1):add("A", A1)
  c:add("B", br[1], br[2], "major")
  return c:add("A", A3, 0, "major")
end

----------------------------------------------------------------------------------------------
-- Pop

local POP_LOOPS = {
  "1:M|5:M|6:m|4:M", "6:m|4:M|1:M|5:M", "1:M|6:m|4:M|5:M", "1:M|4:M|5:M|4:M", "1:M|b7:M|4:M|1:M",
  "1:M|5:M|6:m|3:m|4:M|1:M|4:M|5:M", "6:m|5:M|4:M|5:M", "4:M|1:M|5:M|6:m", "1:M|4:M|6:m|5:M",
  "2:m|4:M|1:M|5:M", "1:M|3:m|4:M|5:M", "1:M 5:M|6:m 4:M", "1:M|1:M|4:M|4:M", "1:M|2:m|4:M|5:M",
  "4:M|5:M|3:m|6:m", "1:M|5:M/7|6:m|4:M",
}
local POP_MINOR_LOOPS = { "1:m|b6:M|b3:M|b7:M", "1:m|b7:M|b6:M|b7:M", "1:m|4:m|b7:M|b3:M",
                          "1:m|b6:M|b7:M|1:m", "1:m|b3:M|b7:M|4:m", "1:m|b6:M|4:m|5:M" }
local POP_COLOUR = { M = { "M", "M", "M", "add9", "M7", "sus2" }, m = { "m", "m", "m7", "m9" } }

local function colour(rng, loop)
  return (loop:gsub("(%d):(%a+)", function(d, q)
    local pool = POP_COLOUR[q]
    if pool and rng:chance(0.25) then return d .. ":" .. rng:pick(pool) end
    return d .. ":" .. q
  end))
end

local function pop_loop(rng, minor)
  local l = rng:pick(minor and POP_MINOR_LOOPS or POP_LOOPS)
  l = l:gsub("5:M/7", "5:M")
  return colour(rng, l)
end

local function repeat_to(loop, bars)
  local n = select(2, loop:gsub("|", "")) + 1
  local out = {}
  for _ = 1, math.max(1, bars // n) do out[#out + 1] = loop end
  return table.concat(out, "|")
end

local function pop(rng)
  local minor = rng:chance(0.25)
  local mode = minor and "minor" or "major"
  local verse, chorus = pop_loop(rng, minor), pop_loop(rng, minor)
  local c = new_chart("pop", minor and "minor" or "major", mode)
  c:add("verse", repeat_to(verse, 8))
  if rng:chance(0.4) then
    c:add("pre", minor and "b6:M|b7:M|4:m|5:M" or "4:M|5:M|6:m|5:sus4 5:M")
  end
  c:add("chorus", repeat_to(chorus, 8))
  if rng:chance(0.5) then
    c:add("bridge", repeat_to(pop_loop(rng, not minor and rng:chance(0.2)), 4) .. "|" ..
      (minor and "b6:M|b7:M|5:sus4|5:7" or "4:M|4:M|5:sus4|5:M"))
  end
  return c
end

----------------------------------------------------------------------------------------------
-- Modal vamps

local MODAL = {
  dorian = { "1:m7|4:7", "1:m9|%|4:9|%", "1:m7|b7:M|4:M|1:m7", "1:m7 2:m7|1:m7 2:m7", "1:m7|%|%|%",
             "1:m11|%|b7:M|4:M" },
  mixolydian = { "1:7|b7:M|4:M|1:7", "1:M|b7:M|4:M|1:M", "1:7sus4|1:7", "1:9|4:9", "1:7|%|b7:M 4:M|1:7",
                 "1:M|b7:M|1:M|b7:M" },
  phrygian = { "1:m|b2:M", "1:m7|b2:M7|1:m7|b2:M7", "1:m|b2:M|b3:M|b2:M" },
  lydian = { "1:M7|2:7", "1:M|2:M", "1:M7|%|2:7|%" },
  aeolian = { "1:m|b7:M|b6:M|b7:M", "1:m|b7:M|b6:M|5:7", "1:m|b6:M|b7:M|1:m" },
}

local function modal(rng)
  local mode = rng:weighted({ { "dorian", 4 }, { "mixolydian", 4 }, { "aeolian", 2 },
                              { "phrygian", 1 }, { "lydian", 1 } })
  local vamp = rng:pick(MODAL[mode])
  local c = new_chart("modal", mode, mode)
  if rng:chance(0.35) then
    -- AABA with the bridge a half step (or a fourth) up, as modal tunes do
    local up = rng:pick({ 1, 5, 2 })
    c:add("A", repeat_to(vamp, 8)):add("A", repeat_to(vamp, 8))
    c:add("B", repeat_to(vamp, 8), up, mode):add("A", repeat_to(vamp, 8), 0, mode)
  else
    c:add("A", repeat_to(vamp, 8)):add("B", repeat_to(rng:pick(MODAL[mode]), 8))
  end
  return c
end

----------------------------------------------------------------------------------------------
-- Minor keys

local MINOR_FORMS = {
  "1:m|4:m|5:7|1:m|1:m|4:m|5:7|1:m",
  "1:m|b6:M|2:m7b5|5:7|1:m|b6:M|2:m7b5 5:7|1:m",
  "4:m7|b7:7|b3:M7|b6:M7|2:m7b5|5:7b9|1:m6|%",
  "1:m|b7:M|b6:M|5:7|1:m|b7:M|b6:M|5:7",
  "1:m|1:mM7|1:m7|1:m6|4:m|5:7|1:m|5:7",
  "1:m6|2:m7b5 5:7b9|1:m6|%|4:m7|b7:7|b3:M7|2:m7b5 5:7",
  "1:m7|4:m7|1:m7|b6:M7|2:m7b5|5:7|1:m7|5:7",
}

local function minor(rng)
  local A, B = rng:pick(MINOR_FORMS), rng:pick(MINOR_FORMS)
  local c = new_chart("minor", "minor", "minor"):add("A", A):add("B", B)
  if rng:chance(0.3) then
    -- a section in the relative major, reached through its own ii-V
    c:add("C", "2:m7|5:7|1:M7|4:M7|2:m7|5:7|1:M7|1:M7", 3, "major")
  end
  return c:add("A", A, 0, "minor")
end

----------------------------------------------------------------------------------------------
-- Turnaround studies: the tonic and a turnaround, again and again, in rotating colours

local function turnarounds(rng)
  local c = new_chart("turnaround", "cycle", "major")
  for k = 1, 4 do
    c:add(k == 1 and "A" or nil, rng:pick(M.TURNAROUNDS.major) .. "|" .. rng:pick(M.TURNAROUNDS.major))
  end
  return c:add(nil, "2:m7|5:7|1:M7|%")
end

M.KINDS = { blues = blues, iivi = iivi, standard = standard, pop = pop, modal = modal,
            minor = minor, turnaround = turnarounds }

function M.gen(kind, rng)
  local f = M.KINDS[kind]
  if not f then error("unknown chart kind " .. kind) end
  return f(rng)
end

return M
