-- tunes.lua: real melodies with chord symbols from the ABC tunes Debian's abcmidi package ships.
--
-- Each tune with guitar-chord symbols is converted by abc2midi with our own chord pattern (one
-- fundamental + chord per beat, "b"), so that the chord track shows every chord change with its
-- root; the melody becomes a "Solo" track, the fundamentals "Bass", the chords "Chord", abc2midi's
-- drums (where the tune has them) "Drum". The chart is read back from the chord track (qualities
-- matched against MMA's chord table). A pickup is measured from the tune's first bar and the song
-- shifted so that its bars fall on the chart's bar grid. Each tune is written in three keys and
-- tempos. The tunes are few (a dozen), so they all go to the training split.
local U = require "util"
local midi = require "midi"
local chordtab = require "chordtab"

local M = {}

M.DIRS = { "/usr/share/doc/abcmidi/examples" }
M.VERSIONS = 3

local MODES = { { "mix", "mixolydian" }, { "dor", "dorian" }, { "phr", "phrygian" },
                { "lyd", "lydian" }, { "aeo", "aeolian" }, { "min", "minor" }, { "m", "minor" },
                { "maj", "major" }, { "", "major" } }

local function parse_key(k)
  local l, acc, rest = k:match("^%s*([A-G])([#b]?)%s*(%a*)")
  if not l then return nil end
  local tonic = chordtab.pc(l .. acc)
  rest = rest:lower()
  for _, m in ipairs(MODES) do
    if rest:sub(1, #m[1]) == m[1] then return tonic, m[2] end
  end
  return nil
end

local function parse_meter(m)
  m = m:gsub("%s", "")
  if m == "C" then return 4, 4 end
  if m == "C|" then return 2, 2 end
  local n, d = m:match("^(%d+)/(%d+)$")
  if not n then return nil end
  return tonumber(n), tonumber(d)
end

-- Duration (in whole notes) of the music before the first bar line of the body: a pickup.
local function first_measure(body, unit)
  local s = body:gsub('"[^"]*"', ""):gsub("!%w+!", ""):gsub("%+%w+%+", ""):gsub("%b{}", "")
  s = s:gsub("^[%s|:%[%]12]*", "")   -- leading bar lines and repeat marks
  local stop = s:find("[|:]")
  if not stop then return nil end
  s = s:sub(1, stop - 1)
  s = s:gsub("%[([^%]]-)%]", function(inner) return inner:match("^[%^_=]*[A-Ga-g][,']*") or "" end)
  local total, tuplet, broken = 0, 0, nil
  for tup, acc, note, num, slashes, den, br in
      s:gmatch("(%(?%d?)([%^_=]*)([A-Ga-gzx])[,']*(%d*)(/*)(%d*)([<>]*)") do
    local len = tonumber(num) or 1
    if slashes ~= "" then len = len / (tonumber(den) or (2 ^ #slashes)) end
    if tup == "(3" then tuplet = 3 end
    if tuplet > 0 then len = len * 2 / 3; tuplet = tuplet - 1 end
    if broken then len = len * broken; broken = nil end
    if br == ">" then broken = 0.5; len = len * 1.5 elseif br == "<" then broken = 1.5; len = len * 0.5 end
    total = total + len
  end
  return total * unit
end

-- One tune's text (header lines and body). Returns a table or nil, reason.
local function read_tune(text)
  local t = { fields = {} }
  local body, in_body = {}, false
  for line in text:gmatch("[^\n]*") do
    local f, v = line:match("^(%a):%s*(.*)$")
    if not in_body and f then
      if not t.fields[f] then t.fields[f] = v end
      if f == "K" then in_body = true end
    elseif in_body and not line:match("^%%") and not line:match("^%a:") then
      body[#body + 1] = line
    end
  end
  t.body = table.concat(body, "\n")
  t.title = t.fields.T or "untitled"
  if not t.fields.K then return nil, "no key (K:) field" end
  if not t.body:find('"[A-G]') then return nil, "no chord symbols" end
  local num, den = parse_meter(t.fields.M or "4/4")
  if not num then return nil, "meter M:" .. tostring(t.fields.M) .. " is not a plain time signature" end
  local bpb = num * 4 / den
  if bpb ~= math.floor(bpb) or bpb < 2 or bpb > 6 then
    return nil, string.format("meter %d/%d is %g quarter notes a bar", num, den, bpb)
  end
  t.num, t.den, t.bpb = num, den, math.floor(bpb)
  t.tonic, t.mode = parse_key(t.fields.K)
  if not t.tonic then return nil, "key K:" .. t.fields.K .. " is not a plain key" end
  local unit = 1 / 8
  if t.fields.L then
    local a, b = t.fields.L:match("(%d+)/(%d+)")
    if a then unit = tonumber(a) / tonumber(b) end
  elseif num / den < 0.75 then unit = 1 / 16 end
  local pickup = first_measure(t.body, unit)
  local bar = num / den
  t.pickup = (pickup and pickup > 0 and pickup < bar - 1e-9) and pickup or 0
  return t
end

-- The chord pattern: one "b" (fundamental and chord) per beat of the written meter.
local function with_our_chords(text, t)
  local slots = t.num
  if t.den == 2 then slots = t.num * 2 end
  local out, done = {}, false
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    if not line:match("^%%%%MIDI%s+gchord") then out[#out + 1] = line end
    if not done and line:match("^K:") then
      out[#out + 1] = "%%MIDI gchord " .. string.rep("b", slots)
      out[#out + 1] = "%%MIDI gchordon"
      done = true
    end
  end
  return table.concat(out, "\n")
end

local function match_quality(tab, root, set)
  local best, bestscore = nil, -1
  for _, q in ipairs(U.sorted_keys(tab)) do
    local want, n, hit = {}, 0, 0
    for _, v in ipairs(tab[q]) do
      local p = (root + v) % 12
      if not want[p] then want[p] = true; n = n + 1; if set[p] then hit = hit + 1 end end
    end
    local extra = 0
    for p in pairs(set) do if not want[p] then extra = extra + 1 end end
    local score = hit - extra - (n - hit) - #q * 0.001   -- shortest name among equals
    if score > bestscore then best, bestscore = q, score end
  end
  return best
end

-- Writes the tune's songs; returns manifest rows {id, path, ...} and failures {what, reason}.
function M.build(out, seed, tab, first_index)
  local rows, failures = {}, {}
  local files = {}
  for _, d in ipairs(M.DIRS) do
    local p = io.popen("ls -1 '" .. d .. "'/*.abc 2>/dev/null | LC_ALL=C sort")
    for l in p:lines() do files[#files + 1] = l end
    p:close()
  end
  if #files == 0 then
    failures[#failures + 1] = { "abcmidi examples", "not installed (package abcmidi)" }
    return rows, failures
  end
  local work = out .. "/work/tunes"
  U.mkdir(work)
  local idx = first_index
  for _, path in ipairs(files) do
    local f = io.open(path, "r")
    local src = f:read("a")
    f:close()
    local fname = path:match("([^/]+)%.abc$")
    -- the file header (before the first X:) applies to every tune
    local header, tunes, cur = {}, {}, nil
    for line in (src .. "\n"):gmatch("([^\n]*)\n") do
      if line:match("^X:") then cur = {}; tunes[#tunes + 1] = cur end
      if cur then cur[#cur + 1] = line else header[#header + 1] = line end
    end
    header = table.concat(header, "\n")
    for n, lines in ipairs(tunes) do
      local tune = table.concat(lines, "\n")
      local xnum = tune:match("^X:%s*(%d+)") or tostring(n)
      local what = "tune abcmidi:" .. fname .. ".abc#" .. xnum
      local t, err = read_tune(tune)
      if not t then failures[#failures + 1] = { what, err }
      else
        local base = string.format("%s/%s-%s", work, fname, xnum)
        U.write_file(base .. ".abc", header .. "\n" .. with_our_chords(tune, t) .. "\n")
        local ok = os.execute("abc2midi '" .. base .. ".abc' -o '" .. base .. ".mid' -quiet -silent > '" ..
          base .. ".log' 2>&1")
        local song = ok and midi.read(base .. ".mid")
        if not song then
          failures[#failures + 1] = { what, "abc2midi could not convert it" }
        else
          local r = M.write_versions(out, seed, tab, t, song, base, fname, xnum, idx)
          if type(r) == "string" then failures[#failures + 1] = { what, r }
          else
            for _, row in ipairs(r) do rows[#rows + 1] = row end
            idx = idx + #r
          end
        end
      end
    end
  end
  return rows, failures
end

function M.write_versions(out, seed, tab, t, song, base, fname, xnum, idx)
  local ppq = song.ppq
  local melody, gchord, drums, voices = nil, {}, {}, {}
  for _, tr in ipairs(song.tracks) do
    local kind = table.concat(tr.texts, " ")
    if #tr.notes > 0 then
      if kind:find("gchord") then for _, nn in ipairs(tr.notes) do gchord[#gchord + 1] = nn end
      elseif kind:find("drum") or tr.channels[10] then for _, nn in ipairs(tr.notes) do drums[#drums + 1] = nn end
      elseif not melody then melody = tr.notes
      else voices[#voices + 1] = tr.notes end
    end
  end
  if not melody then return "no melody track in abc2midi's output" end
  if #gchord == 0 then return "abc2midi played no chords" end
  -- a total order: Lua's sort is not stable and picks random pivots
  table.sort(gchord, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    if a[5] ~= b[5] then return a[5] < b[5] end
    if a[3] ~= b[3] then return a[3] < b[3] end
    return a[2] < b[2]
  end)
  -- bar alignment: shift so that the first full bar starts on a bar line
  local bar_ticks = t.num / t.den * 4 * ppq
  local shift = t.pickup > 0 and math.floor(bar_ticks - t.pickup * 4 * ppq + 0.5) or 0
  local function tick192(x) return math.floor((x + shift) * 192 / ppq + 0.5) end
  -- chord timeline from the chord track: groups of notes starting together
  local changes = {}
  local i = 1
  local last_key = nil
  while i <= #gchord do
    local t0 = gchord[i][1]
    local set, low = {}, 200
    while i <= #gchord and gchord[i][1] - t0 <= ppq / 16 do
      set[gchord[i][3] % 12] = true
      if gchord[i][3] < low then low = gchord[i][3] end
      i = i + 1
    end
    local root = low % 12
    local q = match_quality(tab, root, set)
    local key = root .. q
    if key ~= last_key then
      local beat = math.floor(tick192(t0) / 48 + 0.5) / 4
      changes[#changes + 1] = { beat = beat, root = root, q = q }
      last_key = key
    end
  end
  local last_tick = 0
  for _, lst in ipairs({ melody, gchord, drums }) do
    for _, nn in ipairs(lst) do
      local e = tick192(nn[1] + nn[2])
      if e > last_tick then last_tick = e end
    end
  end
  local bars = math.max(1, math.ceil(last_tick / (t.bpb * 192) - 1e-9))
  local beats = bars * t.bpb
  local tempo = song.tempos[1] and (60e6 / song.tempos[1][2]) or 120
  local rows = {}
  local rng = U.rng_for(seed, "tune/" .. fname .. "/" .. xnum)
  for v = 1, M.VERSIONS do
    local k = v == 1 and 0 or rng:pick({ -5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6 })
    local bpm = math.floor(tempo * (v == 1 and 1 or (0.88 + rng:float() * 0.27)) + 0.5)
    local id = string.format("%05d-tune-%s", idx + v - 1, fname:gsub("[^%w]", ""))
    local dir = "train/folk"
    local function moved(lst, name, transpose, minlen)
      local notes = {}
      for _, nn in ipairs(lst) do
        local s = tick192(nn[1])
        notes[#notes + 1] = { s, math.max(minlen, tick192(nn[1] + nn[2]) - s), nn[3] + transpose, nn[4], nn[5] }
      end
      return { name = name, notes = notes }
    end
    local bass, chord = {}, {}
    -- split the chord track back into its fundamentals (lowest of a group) and chords
    local j = 1
    while j <= #gchord do
      local t0, grp = gchord[j][1], {}
      while j <= #gchord and gchord[j][1] - t0 <= ppq / 16 do grp[#grp + 1] = gchord[j]; j = j + 1 end
      table.sort(grp, function(a, b)
        if a[3] ~= b[3] then return a[3] < b[3] end
        return a[5] < b[5]
      end)
      bass[#bass + 1] = grp[1]
      for g = 2, #grp do chord[#chord + 1] = grp[g] end
    end
    local tracks = { moved(melody, "Solo", k, 1), moved(bass, "Bass", k, 1), moved(chord, "Chord", k, 1) }
    for vi, vv in ipairs(voices) do tracks[#tracks + 1] = moved(vv, "Chord-Voice" .. (vi + 1), k, 1) end
    if #drums > 0 then tracks[#tracks + 1] = moved(drums, "Drum", 0, 1) end
    U.mkdir(out .. "/" .. dir)
    midi.write(out .. "/" .. dir .. "/" .. id .. ".mid",
      { ppq = 192, tempo_bpm = bpm, timesig = { t.num, t.den }, tracks = tracks })
    local tonic = (t.tonic + k) % 12
    local key_pc = tonic
    local lines = {
      "# bandmate chart 1", "id " .. id, "source tune abcmidi:" .. fname .. ".abc#" .. xnum,
      "chart tune-" .. fname .. "-" .. xnum, "split train",
      "style abc2midi abcmidi/gchord abctune folk",
      string.format("meter %d %d/%d", t.bpb, t.num, t.den), "tempo " .. bpm, "bars " .. bars,
      "beats " .. beats, "lead solo",
      "groove 0 abc2midi",
      string.format("key 0 %d %s", tonic, t.mode),
    }
    if changes[1].beat > 0 then lines[#lines + 1] = "nc 0" end
    for _, c in ipairs(changes) do
      if c.beat < beats then
        local root = (c.root + k) % 12
        local sym = U.note_name(root, key_pc) .. (c.q == "M" and "" or c.q)
        local r, q, bass_pc, pcs = chordtab.parse(tab, sym)
        if not r then return "chord " .. sym .. " has no MMA name" end
        lines[#lines + 1] = string.format("chord %g %d %s %d %s %s", c.beat, r, q, bass_pc,
          table.concat(pcs, ","), sym)
      end
    end
    lines[#lines + 1] = "end " .. beats
    U.write_file(out .. "/" .. dir .. "/" .. id .. ".chart", table.concat(lines, "\n") .. "\n")
    os.execute("cp '" .. base .. ".abc' '" .. out .. "/" .. dir .. "/" .. id .. ".abc'")
    rows[#rows + 1] = { id = id, path = dir .. "/" .. id, split = "train",
      chart = "tune-" .. fname .. "-" .. xnum, kind = "tune", variant = t.title:gsub("[\t\n]", " "),
      groove = "abc2midi", style = "abcmidi/gchord", family = "abctune", genre = "folk",
      time = t.bpb, ts = t.num .. "/" .. t.den, tempo = bpm, key = tonic, bars = bars,
      beats = beats, lead = "solo", choruses = 1 }
  end
  return rows
end

return M
