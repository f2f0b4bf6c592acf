-- chart.lua: reads and validates a song's chart sidecar (format in docs/corpus.md).
--
-- chart.read(path) returns a table or nil, "path:line: message":
--   { id, source, chart, split, style = {groove, style, family, genre}, beats_per_bar, timesig,
--     tempo, bars, beats, lead, keys = { {beat, tonic, mode} }, sections = { {beat, label} },
--     grooves = { {beat, name} }, chords = { {beat, root, quality, bass, pcs = {[pc]=true}, symbol}
--     or {beat, nc = true} }, ["end"] = beats }
local M = {}

local MODES = { major = true, minor = true, dorian = true, mixolydian = true, aeolian = true,
                phrygian = true, lydian = true }

function M.parse(text, name)
  name = name or "chart"
  local c = { keys = {}, sections = {}, grooves = {}, chords = {} }
  local lineno, last_beat = 0, -1
  local function bad(msg) return nil, string.format("%s:%d: %s", name, lineno, msg) end
  local first = true
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    lineno = lineno + 1
    if first then
      if line ~= "# bandmate chart 1" then return bad("not a bandmate chart (first line)") end
      first = false
    elseif line ~= "" and not line:match("^#") then
      local w, rest = line:match("^(%S+)%s*(.*)$")
      if w == "id" or w == "source" or w == "chart" or w == "split" or w == "lead" then
        c[w] = rest
      elseif w == "style" then
        local g, s, f, ge = rest:match("^(%S+) (%S+) (%S+) (%S+)$")
        if not g then return bad("style needs: groove style family genre") end
        c.style = { groove = g, style = s, family = f, genre = ge }
      elseif w == "meter" then
        local n, a, b = rest:match("^(%d+) (%d+)/(%d+)$")
        if not n then return bad("meter needs: beats-per-bar num/den") end
        c.beats_per_bar, c.timesig = tonumber(n), { tonumber(a), tonumber(b) }
      elseif w == "tempo" or w == "bars" or w == "beats" then
        local v = tonumber(rest)
        if not v or v <= 0 then return bad(w .. " needs a positive number") end
        c[w] = v
      else
        local beat = tonumber(rest:match("^(%S+)"))
        if not beat then return bad("unknown line or missing beat: " .. line) end
        if beat < last_beat then return bad("beats go backwards") end
        last_beat = beat
        local f = {}
        for t in rest:gmatch("%S+") do f[#f + 1] = t end
        if w == "key" then
          local tonic = tonumber(f[2])
          if not tonic or tonic < 0 or tonic > 11 or not MODES[f[3] or ""] then
            return bad("key needs: beat tonic(0-11) mode")
          end
          c.keys[#c.keys + 1] = { beat = beat, tonic = tonic, mode = f[3] }
        elseif w == "section" then
          if not f[2] then return bad("section needs a label") end
          c.sections[#c.sections + 1] = { beat = beat, label = f[2] }
        elseif w == "groove" then
          if not f[2] then return bad("groove needs a name") end
          c.grooves[#c.grooves + 1] = { beat = beat, name = f[2] }
        elseif w == "nc" then
          c.chords[#c.chords + 1] = { beat = beat, nc = true }
        elseif w == "chord" then
          local root, q, bass, pcs, sym = tonumber(f[2]), f[3], tonumber(f[4]), f[5], f[6]
          if not (root and q and bass and pcs and sym) or #f ~= 6 then
            return bad("chord needs: beat root quality bass pcs symbol")
          end
          local set, n = {}, 0
          for p in pcs:gmatch("[^,]+") do
            local v = tonumber(p)
            if not v or v < 0 or v > 11 then return bad("bad pitch class " .. p) end
            set[v] = true
            n = n + 1
          end
          if n < 2 or not set[root] then return bad("chord tones must include the root") end
          c.chords[#c.chords + 1] = { beat = beat, root = root, quality = q, bass = bass, pcs = set,
                                      symbol = sym }
        elseif w == "end" then
          c["end"] = beat
        else
          return bad("unknown line: " .. line)
        end
      end
    end
  end
  for _, k in ipairs({ "id", "split", "style", "beats_per_bar", "tempo", "bars", "beats", "end" }) do
    if c[k] == nil then lineno = 0; return bad("missing " .. k) end
  end
  if c["end"] ~= c.beats or c.bars * c.beats_per_bar ~= c.beats then
    lineno = 0
    return bad("bars, beats and end disagree")
  end
  if #c.chords == 0 or c.chords[1].beat ~= 0 then lineno = 0; return bad("no chord at beat 0") end
  if #c.keys == 0 then lineno = 0; return bad("no key") end
  return c
end

function M.read(path)
  local f, err = io.open(path, "r")
  if not f then return nil, err end
  local s = f:read("a")
  f:close()
  return M.parse(s, path)
end

-- Index of the chord sounding at `beat` (chords sorted by beat), starting the search at `hint`.
function M.at(chords, beat, hint)
  local i = hint or 1
  if i > #chords or chords[i].beat > beat then i = 1 end
  while chords[i + 1] and chords[i + 1].beat <= beat do i = i + 1 end
  return i
end

return M
