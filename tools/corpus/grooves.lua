-- grooves.lua: the inventory of MMA grooves, read statically from the installed library.
--
-- For every DefGroove it records the library, the style file, the meter in force (MMA's Time,
-- i.e. beats of one MIDI quarter note each, and the written time signature), the band parts the
-- groove's tracks cover, and its role (main, intro, ending, fill). Styles are grouped into
-- families (one musical style across libraries: casio/jazzwaltz, yamaha/jazzwaltz and
-- stdlib/jazzwaltz are one family) and families into genres, which set tempo ranges.
local M = {}

M.LIB = "/usr/share/mma/lib"

-- Coarse genres, first match on the style file's name wins. Order matters.
local GENRES = {
  { "waltz",    { "waltz", "34$", "^bald34", "^blues34", "^rock34", "vienese", "serenade" } },
  { "march",    { "march", "polka", "^2beat", "quickstep", "hymn", "spiritual" } },
  { "latin",    { "bossa", "samba", "salsa", "mambo", "rhumba", "chacha", "beguine", "bolero",
                  "tango", "son$", "merengue", "calypso", "latin", "afro", "cuban", "ska",
                  "reggae", "zydeco", "desert", "lfusion", "quando" } },
  { "blues",    { "blues", "shuffle", "boogie", "boggie", "strut" } },
  { "swing",    { "swing", "jazz", "bebop", "bigband", "basie", "dixie", "charleston", "foxtrot",
                  "softshoe", "broadway", "showtune", "evans", "ragtime", "jive", "gypsy", "combo",
                  "trio", "^jazz", "descending", "mellow" } },
  { "country",  { "country", "cntry", "count", "western", "bluegrass", "folk", "hillcountry",
                  "bluefolk" } },
  { "funk",     { "funk", "soul", "r%+b", "rnb", "^rb", "motown", "modernrb", "mellowrb", "hip",
                  "dsoul", "bvfunk", "fus" } },
  { "dance",    { "dance", "house", "techno", "trance", "rave", "disco", "dnb", "ambient",
                  "trip", "electric", "digital" } },
  { "ballad",   { "ballad", "lullaby", "slow" } },
  { "rock",     { "rock", "metal", "punk", "twist", "twi$", "hrk", "mtl", "thr", "highfive",
                  "50s", "60s", "^k50" } },
  { "pop",      { "pop", "beat", "mide", "^pop" } },
}

-- Styles that are not accompaniment (click tracks, empty styles, drum-machine fragments).
local SKIP_STYLE = { metronome = true, metronome3 = true, metronome6 = true, metronome68 = true,
                     none = true, ending = true, intro = true }

function M.genre_of(style)
  for _, g in ipairs(GENRES) do
    for _, pat in ipairs(g[2]) do
      if style:find(pat) then return g[1] end
    end
  end
  return "other"
end

-- One family per musical style across libraries: lower case, without digits and punctuation.
function M.family_of(style)
  local f = style:lower():gsub("[%d%-%_%+%.]", "")
  if f == "" then f = style:lower() end
  return f
end

local ROLE_SUFFIX = {
  { "intro", "intro[%w]*$" }, { "ending", "ending[%w]*$" }, { "ending", "end[%d]*$" },
  { "fill", "fill[%w]*$" },
}

function M.role_of(name)
  local l = name:lower()
  for _, r in ipairs(ROLE_SUFFIX) do
    if l:find(r[2]) then return r[1] end
  end
  return "main"
end

-- MMA's `Time a/b` forms (tempo.py): beats per bar and the beats that chord-line slots fall on.
-- A chord line has one slot per tab, so `Time 6/8` bars take two chords (beats 1 and 4).
local TIME_TABLE = {
  ["2/2"] = { 4, { 0, 2 } }, ["2/4"] = { 2, { 0, 1 } }, ["6/4"] = { 6, { 0, 3 } },
  ["6/8"] = { 6, { 0, 3 } }, ["3/2"] = { 6, { 0, 2, 4 } }, ["3/4"] = { 3, { 0, 1, 2 } },
  ["4/4"] = { 4, { 0, 1, 2, 3 } }, ["12/8"] = { 6, { 0, 1.5, 3, 4.5 } },
  ["5/4"] = { 5, { 0, 1, 2, 3, 4 } }, ["7/4"] = { 7, { 0, 1, 2, 3, 4, 5, 6 } },
}

local function plain_tabs(n)
  local t = {}
  for i = 0, n - 1 do t[#t + 1] = i end
  return t
end

local KIND_PART = { drum = "drums", bass = "bass", walk = "bass", chord = "comping",
                    arpeggio = "comping", plectrum = "comping", scale = "comping" }

-- A style that renames its MIDI tracks (MidiTName) would hide MMA's track names, which is how
-- the corpus reader finds the parts: such styles are left out.
local function renames_tracks(path)
  local f = io.open(path, "r")
  if not f then return false end
  local s = f:read("a"):lower()
  f:close()
  return s:find("miditname") ~= nil
end

local function scan_file(path, lib, style, out, byname, errors)
  local f = io.open(path, "r")
  if not f then errors[#errors + 1] = path .. ": unreadable"; return end
  local time, tsn, tsd, tabs = 4, 4, 4, plain_tabs(4)
  local parts = {}
  local cont = false   -- inside a continued (backslash) line
  for line in f:lines() do
    local l = line:gsub("//.*$", "")
    local was_cont = cont
    cont = l:find("\\%s*$") ~= nil
    if not was_cont then
      local w1, rest = l:match("^%s*(%S+)%s*(.*)$")
      if w1 then
        local lw = w1:lower()
        if lw == "time" then
          local n, d = rest:match("^(%d+)%s*/%s*(%d+)")
          local known = n and TIME_TABLE[n .. "/" .. d]
          if known then
            time, tabs, tsn, tsd = known[1], known[2], tonumber(n), tonumber(d)
          elseif not n then
            local t = rest:match("^(%d+)")
            if t then time = tonumber(t); tabs = plain_tabs(time); tsn, tsd = time, 4 end
          else
            errors[#errors + 1] = path .. ": unknown time " .. rest
          end
        elseif lw == "timesig" then
          local n, d = rest:match("^(%d+)%s*/?%s*(%d+)")
          if n then tsn, tsd = tonumber(n), tonumber(d) end
        elseif lw == "seqclear" then
          parts = {}
        elseif lw == "groove" then
          local g = byname[(rest:match("^(%S+)") or ""):lower()]
          if g then
            parts = {}
            for p in pairs(g.parts) do parts[p] = true end
            time, tsn, tsd, tabs = g.time, g.tsn, g.tsd, g.tabs
          end
        elseif lw == "defgroove" then
          local name = rest:match("^(%S+)")
          if name and not name:find("[^%w%-%+&_]") then
            local g = { name = name, lib = lib, style = style, time = time, tsn = tsn, tsd = tsd, tabs = tabs,
                        parts = {}, role = M.role_of(name) }
            for p in pairs(parts) do g.parts[p] = true end
            if not byname[name:lower()] then
              byname[name:lower()] = g
              out[#out + 1] = g
            end
          end
        else
          local kind = lw == "begin" and (rest:match("^(%S+)") or ""):lower() or lw
          kind = kind:match("^(%a+)") or ""
          local p = KIND_PART[kind]
          if p and (lw == "begin" or rest:lower():find("^sequence")) then
            -- "Bass-x Sequence -" switches a track off; anything else turns it on.
            if rest:lower():find("^sequence%s*%-%s*$") then parts[p] = parts[p]
            else parts[p] = true end
          end
        end
      end
    end
  end
  f:close()
end

-- Returns { grooves = {...}, styles = { [style] = {genre, family, lib} }, errors = {...},
--           skipped = { {style, reason} } }.
function M.scan(libdir)
  libdir = libdir or M.LIB
  local libs = {}
  local p = io.popen("ls -1 '" .. libdir .. "'")
  for l in p:lines() do libs[#libs + 1] = l end
  p:close()
  table.sort(libs)
  local out, byname, errors, styles, skipped = {}, {}, {}, {}, {}
  for _, lib in ipairs(libs) do
    local files = {}
    local q = io.popen("ls -1 '" .. libdir .. "/" .. lib .. "' 2>/dev/null")
    for l in q:lines() do if l:match("%.mma$") then files[#files + 1] = l end end
    q:close()
    table.sort(files)
    for _, fn in ipairs(files) do
      local style = fn:gsub("%.mma$", "")
      local key = lib .. "/" .. style
      local path = libdir .. "/" .. lib .. "/" .. fn
      if SKIP_STYLE[style:lower()] then
        skipped[#skipped + 1] = { key, "not an accompaniment style (click track, empty or fragment)" }
      elseif renames_tracks(path) then
        skipped[#skipped + 1] = { key, "renames its MIDI tracks (MidiTName), hiding the part names" }
      else
        styles[key] = { genre = M.genre_of(style:lower()), family = M.family_of(style), lib = lib }
        scan_file(path, lib, key, out, byname, errors)
      end
    end
  end
  for _, g in ipairs(out) do
    local s = styles[g.style]
    g.genre, g.family = s.genre, s.family
  end
  return { grooves = out, styles = styles, errors = errors, skipped = skipped }
end

return M
