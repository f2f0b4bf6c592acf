-- util.lua: deterministic random numbers, hashing and small helpers for the corpus generator.
--
-- The generator never uses math.random: its own generator (splitmix64) gives the same corpus
-- for the same seed on any Lua 5.4 build.
local M = {}

local Rng = {}
Rng.__index = Rng

-- 64-bit splitmix; Lua 5.4 integers wrap around, which is what the algorithm wants.
function Rng:next64()
  self.s = self.s + 0x9e3779b97f4a7c15
  local z = self.s
  z = (z ~ (z >> 30)) * 0xbf58476d1ce4e5b9
  z = (z ~ (z >> 27)) * 0x94d049bb133111eb
  return z ~ (z >> 31)
end

-- Uniform float in [0, 1).
function Rng:float()
  return (self:next64() >> 11) / 9007199254740992.0
end

-- Uniform integer in [lo, hi].
function Rng:int(lo, hi)
  return lo + (self:next64() >> 1) % (hi - lo + 1)
end

function Rng:chance(p) return self:float() < p end

function Rng:pick(list) return list[self:int(1, #list)] end

-- list of {item, weight} or a map item -> weight (sorted keys for determinism)
function Rng:weighted(pairs_list)
  local total = 0
  for _, p in ipairs(pairs_list) do total = total + p[2] end
  local x = self:float() * total
  for _, p in ipairs(pairs_list) do
    x = x - p[2]
    if x < 0 then return p[1] end
  end
  return pairs_list[#pairs_list][1]
end

function Rng:shuffle(t)
  for i = #t, 2, -1 do
    local j = self:int(1, i)
    t[i], t[j] = t[j], t[i]
  end
  return t
end

function M.rng(seed)
  local r = setmetatable({ s = seed }, Rng)
  r:next64()
  return r
end

-- 32-bit FNV-1a of a string: stable split assignment and per-item seeds.
function M.hash(s)
  local h = 2166136261
  for i = 1, #s do
    h = ((h ~ s:byte(i)) * 16777619) & 0xffffffff
  end
  return h
end

-- A child generator for a named sub-task, independent of how many numbers others drew.
function M.rng_for(seed, name)
  return M.rng(seed * 1000003 + M.hash(name))
end

function M.sorted_keys(t)
  local k = {}
  for key in pairs(t) do k[#k + 1] = key end
  table.sort(k, function(a, b) return tostring(a) < tostring(b) end)
  return k
end

function M.write_file(path, text)
  local f, err = io.open(path, "w")
  if not f then error("cannot write " .. path .. ": " .. tostring(err)) end
  f:write(text)
  f:close()
end

local made = {}
function M.mkdir(path)
  if made[path] then return end
  os.execute("mkdir -p '" .. path .. "'")
  made[path] = true
end

M.SHARP = { "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B" }
M.FLAT  = { "C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B" }

-- Spelling by key: flat keys (F, Bb, Eb, Ab, Db, Gb) spell with flats.
local FLAT_KEYS = { [5] = true, [10] = true, [3] = true, [8] = true, [1] = true, [6] = true }

function M.note_name(pc, key_pc)
  pc = pc % 12
  if FLAT_KEYS[(key_pc or 0) % 12] then return M.FLAT[pc + 1] end
  return M.SHARP[pc + 1]
end

return M
