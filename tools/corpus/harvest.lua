-- harvest.lua: chord charts taken from the example songs that Debian's mma package ships.
--
-- Each example is expanded by MMA itself (`mma -n -e`: macros, includes and repeats resolved),
-- and its chord lines are read in order, one bar each: bar numbers, `*N` repeats, `/` (same
-- chord), `z` (no chord), `@beat` placements, muting suffixes (`CzDB`), lyrics [..] and solo
-- notes {..} are understood. The chart keeps the song's own meter; its chords are stored
-- relative to the final chord's root, which is taken as the tonic.
local chordtab = require "chordtab"

local M = {}

M.DIRS = { "/usr/share/doc/mma/examples" }

local function list_songs()
  local files = {}
  for _, d in ipairs(M.DIRS) do
    local p = io.popen("find '" .. d .. "' -name '*.mma' -type f 2>/dev/null | LC_ALL=C sort")
    for l in p:lines() do files[#files + 1] = l end
    p:close()
  end
  return files
end

-- Strips decorations from one chord token; returns a symbol, "/" (continue), "z" (no chord)
-- or nil when the token is not part of a chord line.
local function clean_token(tok)
  if tok == "/" then return "/" end
  if tok == "z" or tok == "z!" or tok:match("^z[A-Za-z]*!?$") then return "z" end
  local sym = tok:gsub("^[+-]", "")
  sym = sym:gsub("@[%d%.]+$", "")
  sym = sym:gsub(":[%d]+$", "")
  sym = sym:gsub("z[A-Z]*!?$", "")
  sym = sym:gsub(">%-?%d+$", "")
  return sym
end

local function is_chord(tab, tok)
  local s = clean_token(tok)
  if s == "/" or s == "z" then return true end
  return chordtab.parse(tab, s) ~= nil
end

-- Reads one expanded song. Returns a chart {bars = {{beat, sym}...}, time} or nil, reason.
local function read_expanded(text, tab, groove_time)
  local time = 4
  local bars, unknown = {}, nil
  local last = nil
  for line in text:gmatch("[^\n]+") do
    local l = line:gsub("//.*$", ""):gsub("%b{}", " "):gsub("%b[]", " ")
    local toks = {}
    -- indented lines are continuations (of Doc text and the like), never chord lines
    if not line:match("^%s") then
      for t in l:gmatch("%S+") do toks[#toks + 1] = t end
    end
    if #toks > 0 then
      local w = toks[1]:lower()
      if w == "time" and toks[2] then
        local n = tonumber(toks[2]:match("^(%d+)"))
        if n then time = n end
      elseif w == "groove" and toks[2] and groove_time[toks[2]:lower()] then
        time = groove_time[toks[2]:lower()]
      else
        local i = 1
        if toks[1]:match("^%d+$") then i = 2 end
        if toks[i] and is_chord(tab, toks[i]) and not toks[i]:match("^%d") then
          local slots, rep = {}, 1
          local k = i
          while k <= #toks do
            local t = toks[k]
            if t == "*" and toks[k + 1] then rep = tonumber(toks[k + 1]) or 1; k = k + 2
            elseif t:match("^%*%d+$") then rep = tonumber(t:sub(2)); k = k + 1
            else
              if not is_chord(tab, t) then unknown = unknown or t end
              local at = t:match("@([%d%.]+)$")
              slots[#slots + 1] = { sym = clean_token(t), at = at and tonumber(at) }
              k = k + 1
            end
          end
          -- place the tokens on beats: explicit @beat, otherwise one per beat
          local bar, beat = {}, 0
          for _, s in ipairs(slots) do
            if s.at then beat = s.at - 1 end
            if beat < time and s.sym ~= "/" then
              local sym = s.sym
              if sym ~= last or #bar == 0 and false then
                bar[#bar + 1] = { beat = beat, sym = sym }
                last = sym
              end
            end
            beat = beat + 1
          end
          for _ = 1, math.max(1, rep) do
            bars[#bars + 1] = { time = time, chords = bar }
          end
        end
      end
    end
  end
  if unknown then return nil, "chord symbol '" .. unknown .. "' is not in MMA's chord table" end
  if #bars == 0 then return nil, "no chord lines" end
  return bars
end

-- Returns charts, failures. A chart: { id, title, time, bars = { {pos, r, q, bass} } , tonic }
-- with r relative to the tonic; failures: { {file, reason} }.
function M.harvest(tab, groove_time)
  local charts, failures, seen = {}, {}, {}
  for _, path in ipairs(list_songs()) do
    local dir, base = path:match("^(.*)/([^/]+)%.mma$")
    local p = io.popen("cd '" .. dir .. "' && mma -n -e '" .. base .. ".mma' 2>&1")
    local text = p:read("a")
    p:close()
    local rel = path:gsub("^/usr/share/doc/mma/examples/", "")
    if text:find("\nError") or text:find("^Error") then
      local msg = text:match("Error:?%s*([^\n]*)") or "mma error"
      failures[#failures + 1] = { rel, "mma rejects it: " .. msg }
    else
      local bars, err = read_expanded(text, tab, groove_time)
      if not bars then
        failures[#failures + 1] = { rel, err }
      else
        -- one meter per chart: keep the longest run in the most common meter
        local count = {}
        for _, b in ipairs(bars) do count[b.time] = (count[b.time] or 0) + 1 end
        local time, best = 4, -1
        for t, n in pairs(count) do if n > best or (n == best and t < time) then time, best = t, n end end
        local kept, prev = {}, nil
        for _, b in ipairs(bars) do
          if b.time == time then
            local out = {}
            for _, c in ipairs(b.chords) do
              if c.sym == "z" then out[#out + 1] = { pos = c.beat / time, nc = true }
              else
                local root, q, bass = chordtab.parse(tab, c.sym)
                out[#out + 1] = { pos = c.beat / time, root = root, q = q, bass = bass }
              end
            end
            if #out == 0 or out[1].pos > 0 then
              -- the bar starts with the chord still sounding from before
              if prev then table.insert(out, 1, { pos = 0, root = prev.root, q = prev.q,
                                                  bass = prev.bass, nc = prev.nc }) end
            end
            if #out > 0 then
              prev = out[#out]
              kept[#kept + 1] = out
            end
          end
        end
        -- drop leading/trailing bars without harmony (count-ins, final rests)
        local function empty(b) for _, c in ipairs(b) do if not c.nc then return false end end return true end
        while #kept > 0 and empty(kept[1]) do table.remove(kept, 1) end
        while #kept > 0 and empty(kept[#kept]) do table.remove(kept) end
        local sig = {}
        for _, b in ipairs(kept) do
          for _, c in ipairs(b) do sig[#sig + 1] = c.nc and "z" or (c.root .. c.q .. c.pos) end
          sig[#sig + 1] = "|"
        end
        sig = table.concat(sig, " ")
        if #kept < 8 then
          failures[#failures + 1] = { rel, "fewer than 8 bars with chords (a feature demo)" }
        elseif seen[sig] then
          failures[#failures + 1] = { rel, "same chart as " .. seen[sig] }
        else
          local tonic
          for bi = #kept, 1, -1 do
            for ci = #kept[bi], 1, -1 do
              if not kept[bi][ci].nc then tonic = kept[bi][ci].root; break end
            end
            if tonic then break end
          end
          local out = {}
          for bi, b in ipairs(kept) do
            out[bi] = {}
            for ci, c in ipairs(b) do
              if c.nc then out[bi][ci] = { pos = c.pos, nc = true }
              else
                out[bi][ci] = { pos = c.pos, r = (c.root - tonic) % 12, q = c.q,
                                bass = (c.bass - tonic) % 12 }
              end
            end
          end
          seen[sig] = rel
          charts[#charts + 1] = { id = "mma-" .. rel:gsub("%.mma$", ""):gsub("/", "-"),
                                  title = rel, time = time, bars = out }
        end
      end
    end
  end
  return charts, failures
end

return M
