-- chordtab.lua: MMA's own chord-quality table, read from the installed mma package, and a
-- parser for chord symbols as MMA writes them (root, quality, optional /bass).
--
-- Reading the table from MMA itself keeps the chart's chord tones identical to what MMA plays.
local M = {}

M.TABLE = "/usr/share/mma/MMA/chordtable.py"

local NOTE = { C = 0, D = 2, E = 4, F = 5, G = 7, A = 9, B = 11 }

-- Tone symbols used in the table: C, Eb, Fs, Bbb, D+12 ...
local function tone_value(tok)
  local name, off = tok:match("^(%a+)%s*([+-]?%s*%d*)$")
  if not name then return nil end
  local v = NOTE[name:sub(1, 1)]
  if not v then return nil end
  local rest = name:sub(2)
  for c in rest:gmatch(".") do
    if c == "b" then v = v - 1 elseif c == "s" then v = v + 1 else return nil end
  end
  off = off:gsub("%s", "")
  if off ~= "" then v = v + tonumber(off) end
  return v
end

-- Returns { [quality] = { intervals... } } with intervals in semitones above the root
-- (may exceed 11 for extensions), and { [quality] = { 7 scale intervals } } (the scale MMA's
-- bass, walk, scale and aria tracks use over that chord); or nil, message.
function M.load(path)
  path = path or M.TABLE
  local f, err = io.open(path, "r")
  if not f then return nil, "cannot read MMA's chord table: " .. tostring(err) end
  local src = f:read("a")
  f:close()
  local tab, scales = {}, {}
  local body = src:match("chordlist%s*=%s*(%b{})")
  if not body then return nil, "no chordlist in " .. path end
  local function tones_of(name, list)
    local iv = {}
    for tok in list:gmatch("[^,]+") do
      tok = tok:gsub("^%s+", ""):gsub("%s+$", "")
      if tok ~= "" then
        local v = tone_value(tok)
        if not v then return nil, "unreadable tone '" .. tok .. "' in chord " .. name end
        iv[#iv + 1] = v
      end
    end
    return iv
  end
  for name, tones, scale in body:gmatch("'([^']+)'%s*:%s*%(%s*%(([^)]*)%)%s*,%s*%(([^)]*)%)") do
    local iv, err = tones_of(name, tones)
    if not iv then return nil, err end
    local sc, err2 = tones_of(name, scale)
    if not sc then return nil, err2 end
    tab[name], scales[name] = iv, sc
  end
  local aliases = src:match("aliases%s*=%s*(%b())")
  if aliases then
    for a, b in aliases:gmatch("%(%s*'([^']*)'%s*,%s*'([^']*)'") do
      if tab[b] then tab[a], scales[a] = tab[b], scales[b] end
    end
    -- The degree-sign aliases are written as chr(176) / chr(248) expressions.
    for code, rest, b in aliases:gmatch("%(%s*chr%((%d+)%)%s*%+?%s*'?([^',]*)'?%s*,%s*'([^']*)'") do
      local a = utf8.char(tonumber(code)) .. rest
      if tab[b] then tab[a], scales[a] = tab[b], scales[b] end
    end
  end
  if not tab["M"] or not tab["m7"] or not tab["7"] then
    return nil, "chord table in " .. path .. " lacks the basic chords"
  end
  return tab, scales
end

-- Pitch class of a note name (C, F#, Bb, B&), or nil.
function M.pc(name)
  local l, acc = name:match("^([A-Ga-g])([#b&]?)$")
  if not l then return nil end
  local v = NOTE[l:upper()]
  if acc == "#" then v = v + 1 elseif acc == "b" or acc == "&" then v = v - 1 end
  return v % 12
end

-- Parses an MMA chord symbol. Returns root pc, quality (table key; "M" for plain major),
-- bass pc (the root's unless a /bass is given), sorted distinct tone pcs; or nil, reason.
function M.parse(tab, sym)
  local s = sym:gsub("&", "b")
  local inv
  s, inv = s:match("^([^>]*)>?(%d*)$")
  if not s then return nil, "bad inversion in '" .. sym .. "'" end
  local main, slash = s:match("^([^/]+)/(.+)$")
  if not main then main = s end
  local l, acc, q = main:match("^([A-G])([#b]?)(.*)$")
  if not l then return nil, "no root note in '" .. sym .. "'" end
  local root = M.pc(l .. acc)
  if q == "" then q = "M" end
  local iv = tab[q]
  if not iv then return nil, "unknown chord quality '" .. q .. "' in '" .. sym .. "'" end
  local bass = root
  if slash then
    bass = M.pc(slash)
    if not bass then
      -- MMA also allows a slash number (a chord degree) — not used by our charts.
      return nil, "unsupported slash bass '" .. slash .. "' in '" .. sym .. "'"
    end
  elseif inv ~= "" then
    local k = tonumber(inv) % #iv
    bass = (root + iv[k + 1]) % 12
  end
  local seen, pcs = {}, {}
  for _, v in ipairs(iv) do
    local p = (root + v) % 12
    if not seen[p] then seen[p] = true; pcs[#pcs + 1] = p end
  end
  table.sort(pcs)
  return root, q, bass, pcs
end

return M
