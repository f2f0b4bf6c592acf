-- plan.lua: plans the default training corpus and writes every song's MMA source and chart.
--
-- usage: lua5.4 plan.lua OUTDIR SONGS SEED
-- Writes OUTDIR/{train,valid,test}/GENRE/ID.mma and ID.chart, OUTDIR/MANIFEST.tsv (one line per
-- planned song), OUTDIR/work/jobs.txt (the MMA sources to render, relative to OUTDIR),
-- OUTDIR/work/plan-failures.tsv and OUTDIR/work/plan-info.txt. Deterministic for a given SEED.
local here = arg[0]:match("^(.*)/[^/]+$") or "."
package.path = here .. "/?.lua;" .. package.path

local U = require "util"
local chordtab = require "chordtab"
local grooves = require "grooves"
local progressions = require "progressions"
local melody = require "melody"
local harvest = require "harvest"
local tunes = require "tunes"

local OUT, NSONGS, SEED = arg[1], tonumber(arg[2] or ""), tonumber(arg[3] or "")
if not OUT or not NSONGS or not SEED or NSONGS < 1 then
  io.stderr:write("usage: lua5.4 plan.lua OUTDIR SONGS SEED\n")
  os.exit(2)
end

local tab, scales = chordtab.load()
if not tab then io.stderr:write("plan: " .. scales .. "\n"); os.exit(1) end

local failures = {}   -- { what, reason }
local function fail(what, reason) failures[#failures + 1] = { what, reason } end

----------------------------------------------------------------------------------------------
-- Grooves: base grooves with their variants, intros, endings and fills

local inv = grooves.scan()
for _, e in ipairs(inv.errors) do fail("library", e) end
for _, e in ipairs(inv.skipped) do fail("style " .. e[1], e[2]) end

local ROLE_STRIP = { intro = "intro[%w]*$", ending = "end[%w]*$", fill = "fill[%w]*$" }

local by_style = {}
for _, g in ipairs(inv.grooves) do
  local s = by_style[g.style]
  if not s then s = { main = {}, intro = {}, ending = {}, fill = {} }; by_style[g.style] = s end
  table.insert(s[g.role], g)
end

local function variant_kind(rest)
  rest = rest:lower()
  if rest:find("sus") then return "sus" end
  if rest:find("plus") then return "plus" end
  if rest:find("walk") then return "walk" end
  return "other"
end

local bases = {}
local METER_OK = { [2] = true, [3] = true, [4] = true, [5] = true, [6] = true }
for _, style in ipairs(U.sorted_keys(by_style)) do
  local s = by_style[style]
  local function stemmed_match(list, base, role)
    local best, bestlen = {}, -1
    for _, g in ipairs(list) do
      local stem = g.name:lower():gsub(ROLE_STRIP[role] or "$^", "")
      if stem ~= "" and base:lower():sub(1, #stem) == stem then
        if #stem > bestlen then best, bestlen = { g }, #stem
        elseif #stem == bestlen then best[#best + 1] = g end
      end
    end
    return best
  end
  for _, g in ipairs(s.main) do
    local is_variant = false
    for _, b in ipairs(s.main) do
      local bl, gl = b.name:lower(), g.name:lower()
      if #bl < #gl and gl:sub(1, #bl) == bl and not gl:sub(#bl + 1, #bl + 1):match("%d") then
        is_variant = true
      end
    end
    local nparts = 0
    for _ in pairs(g.parts) do nparts = nparts + 1 end
    if not is_variant and nparts > 0 and METER_OK[g.time] and not (g.time == 2 and g.tsd ~= 8) then
      local b = { g = g, variants = { sus = {}, plus = {}, walk = {}, other = {} },
                  intro = stemmed_match(s.intro, g.name, "intro"),
                  ending = stemmed_match(s.ending, g.name, "ending"),
                  fill = stemmed_match(s.fill, g.name, "fill"),
                  weight = nparts == 3 and 1.0 or (nparts == 2 and 0.5 or 0.25) }
      for _, v in ipairs(s.main) do
        local bl, vl = g.name:lower(), v.name:lower()
        if #bl < #vl and vl:sub(1, #bl) == bl and not vl:sub(#bl + 1, #bl + 1):match("%d")
           and v.time == g.time then
          table.insert(b.variants[variant_kind(vl:sub(#bl + 1))], v)
        end
      end
      bases[#bases + 1] = b
    end
  end
end

----------------------------------------------------------------------------------------------
-- Families and the held-out test families (stratified by genre)

local fam_genre, genre_fams = {}, {}
for _, b in ipairs(bases) do
  if not fam_genre[b.g.family] then
    fam_genre[b.g.family] = b.g.genre
    genre_fams[b.g.genre] = genre_fams[b.g.genre] or {}
    table.insert(genre_fams[b.g.genre], b.g.family)
  end
end
local test_family = {}
for _, genre in ipairs(U.sorted_keys(genre_fams)) do
  local fams = genre_fams[genre]
  table.sort(fams)
  U.rng_for(SEED, "families/" .. genre):shuffle(fams)
  local n = #fams >= 3 and math.max(1, math.floor(#fams * 0.12 + 0.5)) or 0
  for i = 1, n do test_family[fams[i]] = true end
end

----------------------------------------------------------------------------------------------
-- Charts: generated and harvested; split by chart (80/10/10, exact by rank)

local KIND_WEIGHTS = { { "blues", 20 }, { "standard", 20 }, { "pop", 22 }, { "iivi", 10 },
                       { "modal", 10 }, { "minor", 12 }, { "turnaround", 4 } }
local RENDERS_PER_CHART = 3

local groove_time = {}
for _, g in ipairs(inv.grooves) do groove_time[g.name:lower()] = g.time end
local harvested, hfail = harvest.harvest(tab, groove_time)
for _, f in ipairs(hfail) do fail("example " .. f[1], f[2]) end

local n_harv_songs = math.min(math.floor(NSONGS * 0.06 + 0.5), #harvested * 12)
if NSONGS >= 20 and n_harv_songs < 1 and #harvested > 0 then n_harv_songs = 1 end
local n_gen_songs = NSONGS - n_harv_songs
local n_gen_charts = math.ceil(n_gen_songs / RENDERS_PER_CHART)

local charts = {}
local crng = U.rng_for(SEED, "charts")
for i = 1, n_gen_charts do
  local kind = crng:weighted(KIND_WEIGHTS)
  local c = progressions.gen(kind, U.rng_for(SEED, "chart/" .. i))
  c.id = string.format("gen-%05d", i)
  c.source = "generated " .. c.kind .. "/" .. c.variant
  c.time = nil
  charts[#charts + 1] = c
end
for _, h in ipairs(harvested) do
  h.kind, h.variant, h.mode = "harvested", h.title, "major"
  h.keys = { { bar = 1, shift = 0, mode = "major" } }
  h.sections = { { bar = 1, label = "A" } }
  h.source = "harvested mma:" .. h.title
  charts[#charts + 1] = h
end

local function assign_splits(list)
  local order = {}
  for i, c in ipairs(list) do order[i] = { U.hash(SEED .. "/" .. c.id), c } end
  table.sort(order, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[2].id < b[2].id
  end)
  for rank, o in ipairs(order) do
    local k = (rank - 1) % 10
    o[2].split = k == 0 and "test" or (k == 1 and "valid" or "train")
  end
end
local gen_list, harv_list = {}, {}
for _, c in ipairs(charts) do
  if c.kind == "harvested" then harv_list[#harv_list + 1] = c else gen_list[#gen_list + 1] = c end
end
assign_splits(gen_list)
assign_splits(harv_list)

----------------------------------------------------------------------------------------------
-- Groove choice, tempo and form

local AFFINITY = {
  blues = { blues = 3, swing = 2, rock = 2, funk = 1.5, country = 1.5, dance = 0.5, ballad = 0.5,
            march = 0.5, latin = 0.7 },
  iivi = { swing = 3, latin = 2, ballad = 2, waltz = 2, pop = 0.5, rock = 0.3, funk = 0.7,
           dance = 0.3, country = 0.5, march = 0.5 },
  standard = { swing = 3, latin = 2, ballad = 2, waltz = 2, pop = 0.7, rock = 0.4, funk = 0.5,
               dance = 0.3 },
  pop = { pop = 3, rock = 3, ballad = 2, dance = 2, country = 2, funk = 1.5, swing = 0.5,
          blues = 0.7 },
  modal = { funk = 3, dance = 3, latin = 2, rock = 2, swing = 1.5, country = 0.7, march = 0.5,
            ballad = 0.7, waltz = 0.7 },
  minor = { latin = 2, ballad = 2, swing = 2, march = 1.5, waltz = 2, country = 0.5 },
  turnaround = { swing = 3, ballad = 2, latin = 1.5, waltz = 1.5, rock = 0.5, pop = 0.5,
                 dance = 0.5, funk = 0.5, country = 0.5, march = 0.5 },
  harvested = {},
}

local TEMPO = {   -- beats per minute (MMA beats), by genre
  swing = { 100, 210 }, latin = { 90, 150 }, rock = { 90, 160 }, pop = { 80, 130 },
  ballad = { 56, 84 }, blues = { 70, 140 }, country = { 90, 170 }, funk = { 84, 116 },
  dance = { 110, 135 }, waltz = { 100, 180 }, march = { 96, 132 }, other = { 80, 140 },
}

local function tempo_for(g, rng)
  local r = TEMPO[g.genre] or TEMPO.other
  local lo, hi = r[1], r[2]
  local name = (g.style .. " " .. g.name):lower()
  if name:find("fast") then lo, hi = hi * 0.9, hi * 1.3 end
  if name:find("slow") or name:find("ballad") then lo, hi = math.min(lo, 56), math.min(hi, 90) end
  if g.time == 6 and g.tsd == 8 then lo, hi = lo * 1.6, hi * 1.8 end   -- eighth-note beats
  if g.time == 2 then lo, hi = lo * 0.6, hi * 0.7 end                  -- dotted-quarter beats
  local t = math.floor(lo + rng:float() * (hi - lo) + 0.5)
  return math.max(48, math.min(300, t))
end

local function pick_base(rng, chart, split)
  local list = {}
  for _, b in ipairs(bases) do
    local held = test_family[b.g.family] == true
    if held == (split == "test") then
      local ok = true
      if chart.time then ok = b.g.time == chart.time and #b.g.tabs == chart.time end
      if ok then
        local a = AFFINITY[chart.kind][b.g.genre] or 1
        list[#list + 1] = { b, b.weight * a }
      end
    end
  end
  if #list == 0 then return nil end
  return rng:weighted(list)
end

----------------------------------------------------------------------------------------------
-- Writing one song

local LEAD_VOICES = { "TenorSax", "AltoSax", "SopranoSax", "Trumpet", "MutedTrumpet", "Trombone",
                      "Flute", "Clarinet", "Oboe", "Vibraphone", "JazzGuitar", "CleanGuitar",
                      "Piano1", "EPiano", "Violin", "Harmonica", "Accordion", "Marimba",
                      "Ocarina", "Recorder", "SquareWave", "SawWave" }
local ARIA_DIRECTIONS = { "1", "1 1 -1", "1 1 1 -1 -1 -1", "2 -1", "1 2 -2 -1", "r", "1 -1 r 2",
                          "1 1 -2 1 r" }

local function chord_symbol(r, q, key_pc)
  return U.note_name(r, key_pc) .. (q == "M" and "" or q)
end

-- Aria rhythm: one bar of {beat dur vel} triples from the melody cells.
local function aria_pattern(rng, time)
  local dur = { [1] = "16", [2] = "8", [3] = "8.", [4] = "4", [6] = "4.", [8] = "2", [12] = "2." }
  local cells = { { 4 }, { 2, 2 }, { 3, 1 }, { 6, 2 }, { -2, 2 }, { 8 }, { -4 }, { 2, 1, 1 } }
  local out, s = {}, 0
  while s < time * 4 do
    local cell = rng:pick(cells)
    local total = 0
    for _, d in ipairs(cell) do total = total + math.abs(d) end
    if s + total > time * 4 then cell = { time * 4 - s } end
    for _, d in ipairs(cell) do
      local len = math.abs(d)
      if d > 0 and dur[len] then
        out[#out + 1] = string.format("%g %s %d", 1 + s / 4, dur[len], rng:int(75, 100))
      end
      s = s + len
    end
  end
  if #out == 0 then out[1] = "1 4 90" end
  return "{" .. table.concat(out, "; ") .. "}"
end

-- A song's bars: { chords = { {beat, r, q, bass, nc} }, groove, section, key = {tonic, mode},
--                 chorus }. Chord r/bass are absolute pitch classes here.
local function build_song(rng, chart, base, tonic)
  local g = base.g
  local time = g.time
  local form = chart.bars
  local stretch = (chart.time == nil) and (time == 3 or time == 2)
  local form_beats = #form * (stretch and 2 or 1) * time
  local tempo = tempo_for(g, rng)
  local form_sec = form_beats * 60 / tempo
  local target = 90 + rng:float() * 150
  local choruses = math.max(1, math.min(6, math.floor(target / form_sec + 0.5)))

  -- key of each form bar (relative shift, mode) from the chart's key list
  local bar_key = {}
  local ki = 1
  for i = 1, #form do
    while chart.keys[ki + 1] and chart.keys[ki + 1].bar <= i do ki = ki + 1 end
    bar_key[i] = chart.keys[ki]
  end
  local sec_at = {}
  for _, s in ipairs(chart.sections) do sec_at[s.bar] = s.label end

  local bars = {}
  local function push(src_bar, shift, groove_role, section, key, chorus)
    local chords = {}
    for _, c in ipairs(src_bar) do
      if c.nc then chords[#chords + 1] = { pos = c.pos, nc = true }
      else
        chords[#chords + 1] = { pos = c.pos, r = (c.r + shift + tonic) % 12, q = c.q,
                                bass = ((c.bass or c.r) + shift + tonic) % 12 }
      end
    end
    bars[#bars + 1] = { chords = chords, role = groove_role, section = section,
                        key = { tonic = (key.shift + shift + tonic) % 12, mode = key.mode },
                        chorus = chorus }
  end

  local use_intro = #base.intro > 0 and rng:chance(0.55)
  local use_end = #base.ending > 0 and rng:chance(0.6)
  local use_fill = #base.fill > 0 and rng:chance(0.7)
  local use_sus = #base.variants.sus > 0 and rng:chance(0.5)
  local modulate_at, mod_shift = nil, 0
  if chart.kind ~= "harvested" and choruses >= 2 and rng:chance(0.22) then
    modulate_at = rng:int(2, choruses)
    mod_shift = rng:pick({ 1, 2, 5, 10, 3 })
  end

  if use_intro then
    local first = math.max(1, #form - 3)
    for i = first, #form do push(form[i], 0, "intro", i == first and "intro" or nil, bar_key[i], 0) end
  end
  local shift = 0
  for c = 1, choruses do
    if modulate_at == c then shift = (shift + mod_shift) % 12 end
    local variant = "base"
    if c > 1 and c < choruses then
      variant = rng:weighted({ { "base", 2 }, { "plus", 1 }, { "walk", 1 }, { "other", 1 } })
      if variant ~= "base" and #base.variants[variant] == 0 then variant = "base" end
    end
    for i = 1, #form do
      local role = variant
      if use_sus and (bar_key[i].shift ~= 0 or (sec_at[i] or ""):find("B")) then role = "sus" end
      local section = sec_at[i]
      if i == 1 then section = section or "A" end
      if use_fill and i == #form and c < choruses then role = "fill" end
      local src = form[i]
      if modulate_at == c + 1 and i == #form then
        -- pivot: the new key's ii-V in the chorus's last bar
        local ns = (shift + mod_shift) % 12
        src = { { pos = 0, r = (2 + ns - shift) % 12, q = "m7" }, { pos = 0.5, r = (7 + ns - shift) % 12, q = "7" } }
      end
      push(src, shift, role, section, bar_key[i], c)
    end
  end
  if use_end then
    -- end on the tonic chord of the last key
    local last = bars[#bars]
    local q = (last.key.mode == "major" or last.key.mode == "mixolydian" or last.key.mode == "lydian")
      and "M" or "m"
    for k = 1, 2 do
      bars[#bars + 1] = { chords = { { pos = 0, r = last.key.tonic, q = q, bass = last.key.tonic } },
                          role = "ending", section = k == 1 and "ending" or nil, key = last.key,
                          chorus = choruses + 1 }
    end
  end

  if stretch then
    local out = {}
    for _, b in ipairs(bars) do
      local first = { b.chords[1] }
      local second = { b.chords[2] or b.chords[1] }
      first[1] = { pos = 0, r = first[1].r, q = first[1].q, bass = first[1].bass, nc = first[1].nc }
      second[1] = { pos = 0, r = second[1].r, q = second[1].q, bass = second[1].bass, nc = second[1].nc }
      out[#out + 1] = { chords = first, role = b.role, section = b.section, key = b.key, chorus = b.chorus }
      out[#out + 1] = { chords = second, role = b.role == "fill" and "base" or b.role, key = b.key,
                        chorus = b.chorus }
      if b.role == "fill" then out[#out - 1].role = "base"; out[#out].role = "fill" end
    end
    bars = out
  end
  -- Chords go to the slots of the groove's chord line (its tabs): the last tab at or before
  -- the chord's position; a chord that shares a slot with a later one gives way to it.
  local tabs = g.tabs
  for _, b in ipairs(bars) do
    local placed = {}
    for _, c in ipairs(b.chords) do
      local want = c.pos * time + 1e-6
      local k = 1
      while tabs[k + 1] and tabs[k + 1] <= want do k = k + 1 end
      c.slot, c.beat = k, tabs[k]
      if placed[#placed] and placed[#placed].slot == k then placed[#placed] = c
      else placed[#placed + 1] = c end
    end
    b.chords = placed
  end
  return { bars = bars, tempo = tempo, choruses = choruses, time = time,
           modulated = modulate_at ~= nil }
end

local function groove_for(rng, base, role, cache)
  if cache[role] then return cache[role] end
  local list
  if role == "base" then list = { base.g }
  elseif role == "intro" or role == "ending" or role == "fill" then list = base[role]
  else list = base.variants[role] end
  if not list or #list == 0 then list = { base.g } end
  cache[role] = rng:pick(list)
  return cache[role]
end

local function write_song(idx, chart, rng)
  local base = pick_base(rng, chart, chart.split)
  if not base then
    fail(chart.id, "no groove of meter " .. tostring(chart.time) .. " in the " .. chart.split .. " families")
    return nil
  end
  local g = base.g
  local tonic = rng:int(0, 11)
  local song = build_song(rng, chart, base, tonic)
  local id = string.format("%05d-%s-%s", idx, chart.kind, g.family)
  local dir = chart.split .. "/" .. g.genre
  local time = song.time

  -- lead plan
  local triplet_feel = g.tsd == 8 and time ~= 6
  local lead = rng:weighted({ { "none", 25 }, { "solo", 35 }, { "aria", 25 }, { "solo-all", 15 } })
  if triplet_feel and lead:find("solo") then lead = "aria" end
  local aria_chorus = {}
  if lead == "aria" then
    for c = 0, song.choruses + 1 do aria_chorus[c] = true end
  elseif lead == "solo" and song.choruses >= 3 and rng:chance(0.6) then
    for c = 2, song.choruses - 1 do aria_chorus[c] = true end
  end
  local any_aria = next(aria_chorus) ~= nil

  -- composed melody per chorus (head choruses share it unless the key moved)
  local solo_bars = {}
  if lead == "solo" or lead == "solo-all" then
    local by_chorus = {}
    for i, b in ipairs(song.bars) do
      local c = b.chorus
      if c >= 1 and c <= song.choruses then
        by_chorus[c] = by_chorus[c] or {}
        table.insert(by_chorus[c], i)
      end
    end
    local head
    for c = 1, song.choruses do
      local play = lead == "solo-all" or c == 1 or c == song.choruses
      if aria_chorus[c] then play = false end
      if play and by_chorus[c] then
        local mb = {}
        for k, i in ipairs(by_chorus[c]) do
          mb[k] = {}
          for _, ch in ipairs(song.bars[i].chords) do
            if not ch.nc then mb[k][#mb[k] + 1] = { beat = ch.beat, r = ch.r, q = ch.q } end
          end
          if #mb[k] == 0 then mb[k][1] = { beat = 0, r = song.bars[i].key.tonic, q = "M" } end
        end
        local lines
        if head and lead == "solo" and not song.modulated then lines = head
        else
          lines = melody.compose(U.rng_for(SEED, id .. "/melody/" .. c), mb, time,
                                 song.bars[by_chorus[c][1]].key.tonic, song.tempo, tab, scales)
          head = head or lines
        end
        for k, i in ipairs(by_chorus[c]) do solo_bars[i] = lines[k] end
      end
    end
  end

  -- MMA source
  local mma = {}
  local function w(s) mma[#mma + 1] = s end
  w(string.format("// bandmate corpus song %s: chart %s (%s), groove %s (%s)", id, chart.id,
                  chart.source, g.name, g.style))
  w("Tempo " .. song.tempo)
  w("RndSeed " .. rng:int(1, 999999))
  -- The lead tracks are set up after the first Groove line: an Aria sequence is read in the
  -- meter in force, which is the groove's.
  local main_lines = mma
  mma = {}
  if next(solo_bars) then
    w("Begin Solo")
    w("  Voice " .. rng:pick(LEAD_VOICES))
    w("  Octave 5")
    w("  Articulate " .. rng:int(80, 98))
    w("  Rtime 4")
    w("  Rvolume 8")
    w("End")
  end
  if any_aria then
    w("Begin Aria")
    w("  Voice " .. rng:pick(LEAD_VOICES))
    w("  Octave " .. rng:pick({ 5, 5, 6 }))
    w("  Range " .. rng:pick({ "1", "1.5", "1.5", "2" }))
    w("  ScaleType " .. rng:pick({ "Chord", "Scale", "Scale" }))
    w("  Direction " .. rng:pick(ARIA_DIRECTIONS))
    w("  Articulate " .. rng:int(80, 100))
    w("  Rskip " .. rng:int(0, 15))
    w("  Rtime 5")
    w("  Rvolume 10")
    w("  Sequence " .. aria_pattern(rng, time))
    w("End")
    w("Aria Off")
  end

  local lead_lines = mma
  mma = main_lines
  local lead_pending = true
  local chart_lines = {}
  local function cl(s) chart_lines[#chart_lines + 1] = s end
  local cache = {}
  local cur_groove, cur_key, aria_on = nil, nil, false
  local last_sym = nil
  local beat0 = 0
  local key_mode_pc = tonic
  for i, b in ipairs(song.bars) do
    local gr = groove_for(rng, base, b.role, cache)
    if gr ~= cur_groove then
      w("Groove " .. gr.name)
      -- Some styles set Time but not TimeSig; the MIDI file should say what the bars hold.
      w(string.format("TimeSig %d %d", gr.tsn, gr.tsd))
      if lead_pending then
        for _, l in ipairs(lead_lines) do w(l) end
        lead_pending = false
      end
      cl(string.format("groove %d %s", beat0, gr.name))
      cur_groove = gr
    end
    local want_aria = aria_chorus[b.chorus] == true
    if want_aria ~= aria_on then
      w(want_aria and "Aria On" or "Aria Off")
      aria_on = want_aria
    end
    if not cur_key or cur_key.tonic ~= b.key.tonic or cur_key.mode ~= b.key.mode then
      cl(string.format("key %d %d %s", beat0, b.key.tonic, b.key.mode))
      cur_key = b.key
      key_mode_pc = b.key.tonic
      if b.key.mode == "minor" or b.key.mode == "dorian" or b.key.mode == "aeolian" or b.key.mode == "phrygian" then
        key_mode_pc = (b.key.tonic + 3) % 12
      elseif b.key.mode == "mixolydian" then key_mode_pc = (b.key.tonic + 5) % 12
      elseif b.key.mode == "lydian" then key_mode_pc = (b.key.tonic + 7) % 12 end
    end
    if b.section then cl(string.format("section %d %s", beat0, b.section)) end
    local slots = {}
    for k = 1, #g.tabs do slots[k] = "/" end
    for _, c in ipairs(b.chords) do
      local sym
      if c.nc then sym = "z" else
        sym = chord_symbol(c.r, c.q, key_mode_pc)
        if c.bass ~= c.r then sym = sym .. "/" .. U.note_name(c.bass, key_mode_pc) end
      end
      slots[c.slot] = sym
      if sym ~= last_sym then
        if c.nc then cl(string.format("nc %g", beat0 + c.beat))
        else
          local root, q, bass, pcs = chordtab.parse(tab, sym)
          if not root then error("internal: unparseable chord " .. sym .. ": " .. tostring(q)) end
          cl(string.format("chord %g %d %s %d %s %s", beat0 + c.beat, root, q, bass,
                           table.concat(pcs, ","), sym))
        end
        last_sym = sym
      end
    end
    local line = string.format("%-4d %s", i, table.concat(slots, " "))
    if solo_bars[i] then line = line .. "  {" .. solo_bars[i] .. "}" end
    w(line)
    beat0 = beat0 + time
  end

  local nbars = #song.bars
  local head = {
    "# bandmate chart 1",
    "id " .. id,
    "source " .. chart.source,
    "chart " .. chart.id,
    "split " .. chart.split,
    string.format("style %s %s %s %s", g.name, g.style, g.family, g.genre),
    string.format("meter %d %d/%d", time, g.tsn, g.tsd),
    "tempo " .. song.tempo,
    "bars " .. nbars,
    "beats " .. nbars * time,
    "lead " .. (lead == "solo-all" and "solo" or lead) .. (lead == "solo" and any_aria and "+aria" or ""),
  }
  local text = table.concat(head, "\n") .. "\n" .. table.concat(chart_lines, "\n") ..
    "\nend " .. nbars * time .. "\n"
  U.mkdir(OUT .. "/" .. dir)
  U.write_file(OUT .. "/" .. dir .. "/" .. id .. ".mma", table.concat(mma, "\n") .. "\n")
  U.write_file(OUT .. "/" .. dir .. "/" .. id .. ".chart", text)
  return { id = id, path = dir .. "/" .. id, split = chart.split, chart = chart.id,
           kind = chart.kind, variant = chart.variant, groove = g.name, style = g.style,
           family = g.family, genre = g.genre, time = time, ts = g.tsn .. "/" .. g.tsd,
           tempo = song.tempo, key = tonic, bars = nbars, beats = nbars * time,
           lead = lead, choruses = song.choruses }
end

----------------------------------------------------------------------------------------------
-- Plan all songs

local plan = {}   -- list of {chart}
for i = 1, n_gen_songs do plan[#plan + 1] = gen_list[(i - 1) // RENDERS_PER_CHART + 1] end
for i = 1, n_harv_songs do plan[#plan + 1] = harv_list[(i - 1) % #harv_list + 1] end

U.mkdir(OUT .. "/work")
local manifest = { "id\tsplit\tpath\tchart\tkind\tvariant\tgroove\tstyle\tfamily\tgenre\tbeats_per_bar\ttimesig\ttempo\tkey\tbars\tbeats\tlead\tchoruses" }
local jobs, songs = {}, {}
for i, chart in ipairs(plan) do
  local rng = U.rng_for(SEED, "song/" .. i)
  local ok, s = pcall(write_song, i, chart, rng)
  if not ok then fail(chart.id, "planning failed: " .. tostring(s))
  elseif s then
    manifest[#manifest + 1] = table.concat({ s.id, s.split, s.path, s.chart, s.kind, s.variant,
      s.groove, s.style, s.family, s.genre, s.time, s.ts, s.tempo, s.key, s.bars, s.beats, s.lead,
      s.choruses }, "\t")
    jobs[#jobs + 1] = s.path .. ".mma"
    songs[#songs + 1] = s.path
  end
end

-- Real melodies: the ABC tunes of the abcmidi package, converted by abc2midi (train only).
local trows, tfail = tunes.build(OUT, SEED, tab, #plan + 1)
for _, f in ipairs(tfail) do fail(f[1], f[2]) end
for _, s in ipairs(trows) do
  manifest[#manifest + 1] = table.concat({ s.id, s.split, s.path, s.chart, s.kind, s.variant,
    s.groove, s.style, s.family, s.genre, s.time, s.ts, s.tempo, s.key, s.bars, s.beats, s.lead,
    s.choruses }, "\t")
  songs[#songs + 1] = s.path
end
U.write_file(OUT .. "/MANIFEST.tsv", table.concat(manifest, "\n") .. "\n")
U.write_file(OUT .. "/work/jobs.txt", table.concat(jobs, "\n") .. (#jobs > 0 and "\n" or ""))
U.write_file(OUT .. "/work/songs.txt", table.concat(songs, "\n") .. (#songs > 0 and "\n" or ""))

local fl = {}
for _, f in ipairs(failures) do fl[#fl + 1] = f[1] .. "\t" .. f[2] end
U.write_file(OUT .. "/work/plan-failures.tsv", table.concat(fl, "\n") .. (#fl > 0 and "\n" or ""))

-- facts for the report
local info = {}
local nb, nstyles, fams = 0, {}, {}
for _, b in ipairs(bases) do nb = nb + 1; nstyles[b.g.style] = true; fams[b.g.family] = true end
local function count(t) local n = 0 for _ in pairs(t) do n = n + 1 end return n end
info[#info + 1] = "library_grooves\t" .. #inv.grooves
info[#info + 1] = "base_grooves\t" .. nb
info[#info + 1] = "styles\t" .. count(nstyles)
info[#info + 1] = "families\t" .. count(fams)
local tf = U.sorted_keys(test_family)
info[#info + 1] = "test_families\t" .. table.concat(tf, " ")
info[#info + 1] = "generated_charts\t" .. #gen_list
info[#info + 1] = "harvested_charts\t" .. #harv_list
info[#info + 1] = "harvest_failures\t" .. #hfail
local ntunes = {}
for _, r in ipairs(trows) do ntunes[r.chart] = true end
local nt = 0
for _ in pairs(ntunes) do nt = nt + 1 end
info[#info + 1] = "tunes\t" .. nt
info[#info + 1] = "tune_songs\t" .. #trows
U.write_file(OUT .. "/work/plan-info.txt", table.concat(info, "\n") .. "\n")
io.stderr:write(string.format("plan: %d songs planned (%d charts generated, %d harvested, %d tunes), %d failures\n",
  #songs, #gen_list, #harv_list, nt, #failures))
