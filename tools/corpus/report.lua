-- report.lua: checks every rendered song against its chart and writes the corpus report.
--
-- usage: lua5.4 report.lua scan OUTDIR LIST STATS     (one worker: songs listed in LIST)
--        lua5.4 report.lua summary OUTDIR SECONDS...  (plan render check total)
-- `scan` writes one tab-separated line per song to STATS. `summary` reads all work/stats.*,
-- moves songs that failed to OUTDIR/rejected/, rewrites MANIFEST.tsv without them and writes
-- REPORT.txt, REJECTED.tsv and work/summary.tsv (machine-readable figures for the docs).
local here = arg[0]:match("^(.*)/[^/]+$") or "."
package.path = here .. "/?.lua;" .. package.path

local midi = require "midi"
local chart = require "chart"
local parts = require "parts"
local U = require "util"

local PARTS = { "bass", "drums", "comping", "lead", "other" }
local MIN_BASS_IN_CHORD = 0.35

local function check_song(out, path)
  local c, err = chart.read(out .. "/" .. path .. ".chart")
  if not c then return nil, "chart: " .. err end
  local song, merr = midi.read(out .. "/" .. path .. ".mid")
  if not song then return nil, "midi: " .. tostring(merr) end
  local r = { c = c, notes = {}, inchord = {}, judged = {}, unknown = {}, ongrid = 0, onsets = 0 }
  for _, p in ipairs(PARTS) do r.notes[p], r.inchord[p], r.judged[p] = 0, 0, 0 end
  local ts = song.timesigs[1]
  if not ts or ts[2] ~= c.timesig[1] or ts[3] ~= c.timesig[2] then
    return nil, string.format("time signature %s in the MIDI file, %d/%d in the chart",
      ts and (ts[2] .. "/" .. ts[3]) or "missing", c.timesig[1], c.timesig[2]), r
  end
  local ppq = song.ppq
  local last_tick = 0
  for _, tr in ipairs(song.tracks) do
    if #tr.notes > 0 then
      local part = parts.of(tr, ppq)
      if part == "other" then r.unknown[tr.name or "?"] = true end
      r.notes[part] = r.notes[part] + #tr.notes
      local judge = part == "bass" or part == "comping" or part == "lead"
      local hint = 1
      table.sort(tr.notes, function(a, b) return a[1] < b[1] end)
      local step = ppq // 4
      for _, n in ipairs(tr.notes) do
        local off = n[1] % step
        r.onsets = r.onsets + 1
        if math.min(off, step - off) <= ppq / 32 then r.ongrid = r.ongrid + 1 end
        local e = n[1] + n[2]
        if e > last_tick then last_tick = e end
        if judge then
          -- a note counts where it starts; notes a 16th early (anticipations) count with the
          -- next chord
          local beat = (n[1] + ppq / 4) / ppq
          hint = chart.at(c.chords, beat, hint)
          local ch = c.chords[hint]
          if not ch.nc then
            r.judged[part] = r.judged[part] + 1
            local pc = n[3] % 12
            if ch.pcs[pc] or pc == ch.bass then r.inchord[part] = r.inchord[part] + 1 end
          end
        end
      end
    end
  end
  if r.notes.bass + r.notes.drums + r.notes.comping + r.notes.lead == 0 then
    return nil, "no notes in any part", r
  end
  local limit = (c.beats + 2 * c.beats_per_bar) * ppq
  if last_tick > limit then
    return nil, string.format("MIDI runs %.1f beats past the chart's end", (last_tick / ppq) - c.beats), r
  end
  if last_tick < (c.beats - 2 * c.beats_per_bar) * ppq then
    return nil, string.format("MIDI ends %.1f beats before the chart's end", c.beats - last_tick / ppq), r
  end
  if r.judged.bass >= 16 and r.inchord.bass / r.judged.bass < MIN_BASS_IN_CHORD then
    return nil, string.format("bass agrees with the chart on only %.0f%% of its notes",
      100 * r.inchord.bass / r.judged.bass), r
  end
  return r
end

local function scan(out, list, stats)
  local f = assert(io.open(stats, "w"))
  for path in io.lines(list) do
    if path ~= "" then
      local ok, r, err, partial = pcall(check_song, out, path)
      if not ok then r, err, partial = nil, "checker error: " .. tostring(r), nil end
      local status = r and "ok" or "fail"
      local fields = { path, status, ((err or ""):gsub("\t", " ")) }
      local src = r or partial
      local c = src and src.c
      if c then
        fields[#fields + 1] = c.split
        fields[#fields + 1] = c.style.genre
        fields[#fields + 1] = c.style.family
        fields[#fields + 1] = c.style.style
        fields[#fields + 1] = c.style.groove
        local src_kind = c.source or ""
        if src_kind:match("^harvested") then src_kind = "harvested (MMA examples)"
        elseif src_kind:match("^tune") then src_kind = "tunes (abcmidi examples)"
        else src_kind = src_kind:match("^(%S+ %S+)") or src_kind end
        fields[#fields + 1] = src_kind
        fields[#fields + 1] = string.format("%.3f", c.beats * 60 / c.tempo)
        fields[#fields + 1] = c.beats
        fields[#fields + 1] = c.lead or ""
        for _, p in ipairs(PARTS) do fields[#fields + 1] = src.notes[p] end
        for _, p in ipairs({ "bass", "comping", "lead" }) do
          fields[#fields + 1] = src.inchord[p] .. "/" .. src.judged[p]
        end
        local names = U.sorted_keys(src.unknown)
        fields[#fields + 1] = table.concat(names, ",")
        fields[#fields + 1] = c.beats_per_bar .. ":" .. c.timesig[1] .. "/" .. c.timesig[2]
        fields[#fields + 1] = src.ongrid .. "/" .. src.onsets
      end
      f:write(table.concat(fields, "\t"), "\n")
    end
  end
  f:close()
end

----------------------------------------------------------------------------------------------

local function read_tsv(path)
  local rows = {}
  local f = io.open(path, "r")
  if not f then return rows end
  for line in f:lines() do
    if line ~= "" then
      local row = {}
      for field in (line .. "\t"):gmatch("([^\t]*)\t") do row[#row + 1] = field end
      rows[#rows + 1] = row
    end
  end
  f:close()
  return rows
end

local function fmt_int(n)
  local s = tostring(math.floor(n + 0.5))
  local out = s:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return (out:gsub("^,", ""))
end

local function summary(out, secs)
  local t_plan, t_render, t_check, t_total = table.unpack(secs)
  local info = {}
  for _, row in ipairs(read_tsv(out .. "/work/plan-info.txt")) do info[row[1]] = row[2] end

  local rejected = {}   -- path -> reason
  for _, row in ipairs(read_tsv(out .. "/work/render-failures.tsv")) do
    rejected[row[1]] = "MMA: " .. (row[2] or "")
  end
  local songs = {}
  local p = io.popen("ls '" .. out .. "/work/' 2>/dev/null")
  local stat_files = {}
  for l in p:lines() do if l:match("^stats%.") then stat_files[#stat_files + 1] = l end end
  p:close()
  table.sort(stat_files)
  for _, sf in ipairs(stat_files) do
    for _, row in ipairs(read_tsv(out .. "/work/" .. sf)) do
      if row[2] == "ok" then songs[#songs + 1] = row
      elseif not rejected[row[1]] then rejected[row[1]] = row[3] end
    end
  end
  table.sort(songs, function(a, b) return a[1] < b[1] end)

  -- move rejected songs out of the splits
  local rej_lines = { "path\treason" }
  for _, path in ipairs(U.sorted_keys(rejected)) do
    rej_lines[#rej_lines + 1] = path .. "\t" .. rejected[path]
    local dest = out .. "/rejected/" .. path:match("^(.*)/[^/]+$")
    os.execute("mkdir -p '" .. dest .. "' && mv -f '" .. out .. "/" .. path .. "'.* '" .. dest .. "/' 2>/dev/null")
  end
  U.write_file(out .. "/REJECTED.tsv", table.concat(rej_lines, "\n") .. "\n")
  local manifest = read_tsv(out .. "/MANIFEST.tsv")
  local keep = { table.concat(manifest[1], "\t") }
  for i = 2, #manifest do
    if not rejected[manifest[i][3]] then keep[#keep + 1] = table.concat(manifest[i], "\t") end
  end
  U.write_file(out .. "/MANIFEST.tsv", table.concat(keep, "\n") .. "\n")

  -- aggregate
  local tot = { songs = 0, secs = 0, beats = 0, notes = {}, inchord = {}, judged = {} }
  for _, pp in ipairs(PARTS) do tot.notes[pp] = 0 end
  for _, pp in ipairs({ "bass", "comping", "lead" }) do tot.inchord[pp], tot.judged[pp] = 0, 0 end
  local by = { split = {}, genre = {}, source = {}, lead = {}, meter = {} }
  local families, styles, grooves, unknown = {}, {}, {}, {}
  local split_families = { train = {}, valid = {}, test = {} }
  local function add(t, k, secs, beats)
    local e = t[k]
    if not e then e = { songs = 0, secs = 0, beats = 0 }; t[k] = e end
    e.songs, e.secs, e.beats = e.songs + 1, e.secs + secs, e.beats + beats
  end
  local with_lead, ongrid, onsets = 0, 0, 0
  for _, r in ipairs(songs) do
    local secs, beats = tonumber(r[10]), tonumber(r[11])
    tot.songs, tot.secs, tot.beats = tot.songs + 1, tot.secs + secs, tot.beats + beats
    add(by.split, r[4], secs, beats)
    add(by.genre, r[5], secs, beats)
    add(by.source, r[9], secs, beats)
    add(by.lead, r[12], secs, beats)
    add(by.meter, r[22], secs, beats)
    families[r[6]] = true; styles[r[7]] = true; grooves[r[8]] = true
    split_families[r[4]][r[6]] = true
    for i, pp in ipairs(PARTS) do tot.notes[pp] = tot.notes[pp] + tonumber(r[12 + i]) end
    for i, pp in ipairs({ "bass", "comping", "lead" }) do
      local a, b = r[17 + i]:match("^(%d+)/(%d+)$")
      tot.inchord[pp] = tot.inchord[pp] + tonumber(a)
      tot.judged[pp] = tot.judged[pp] + tonumber(b)
    end
    if tonumber(r[16]) > 0 then with_lead = with_lead + 1 end
    local g1, g2 = (r[23] or ""):match("^(%d+)/(%d+)$")
    if g1 then ongrid, onsets = ongrid + tonumber(g1), onsets + tonumber(g2) end
    for name in (r[21] or ""):gmatch("[^,]+") do unknown[name] = (unknown[name] or 0) + 1 end
  end
  local function count(t) local n = 0 for _ in pairs(t) do n = n + 1 end return n end
  local shared = 0
  for f in pairs(split_families.test) do
    if split_families.train[f] or split_families.valid[f] then shared = shared + 1 end
  end

  local plan_fail = read_tsv(out .. "/work/plan-failures.tsv")
  local L = {}
  local function w(s, ...) L[#L + 1] = string.format(s, ...) end
  w("bandmate default corpus — report written by `make corpus`")
  w("")
  w("songs            %s (%.1f hours of music)", fmt_int(tot.songs), tot.secs / 3600)
  w("beats            %s", fmt_int(tot.beats))
  w("grid steps       %s (4 steps per beat; one LSTM step each)", fmt_int(tot.beats * 4))
  w("charts           %s generated, %s harvested from MMA's example songs", info.generated_charts or "?",
    info.harvested_charts or "?")
  w("grooves used     %d of %s in the library (%s base grooves playable), %d styles, %d families",
    count(grooves), info.library_grooves or "?", info.base_grooves or "?", count(styles), count(families))
  w("songs with lead  %s (%.0f%%)", fmt_int(with_lead), tot.songs > 0 and 100 * with_lead / tot.songs or 0)
  w("on the grid      %.1f%% of note onsets lie within a 32nd note of the 16th-note grid", onsets > 0 and 100 * ongrid / onsets or 0)
  w("")
  w("note onsets per part")
  for _, pp in ipairs(PARTS) do w("  %-8s %12s", pp, fmt_int(tot.notes[pp])) end
  w("")
  w("notes on a chord tone of the chart (the chart is ground truth; walking lines and melodies")
  w("also use passing tones)")
  for _, pp in ipairs({ "bass", "comping", "lead" }) do
    w("  %-8s %5.1f%%  (%s of %s)", pp, tot.judged[pp] > 0 and 100 * tot.inchord[pp] / tot.judged[pp] or 0,
      fmt_int(tot.inchord[pp]), fmt_int(tot.judged[pp]))
  end
  w("")
  local function table_of(title, t)
    w("%-22s %8s %8s %12s", title, "songs", "hours", "grid steps")
    for _, k in ipairs(U.sorted_keys(t)) do
      local e = t[k]
      w("  %-20s %8s %8.1f %12s", k, fmt_int(e.songs), e.secs / 3600, fmt_int(e.beats * 4))
    end
    w("")
  end
  table_of("split", by.split)
  w("Splits are by chart (every rendering of a chart is in one split) and by groove family:")
  w("test uses only the held-out families below, which train and valid never use (%d shared).", shared)
  w("held-out families: %s", info.test_families or "")
  w("")
  table_of("genre", by.genre)
  table_of("source", by.source)
  table_of("lead", by.lead)
  table_of("meter (beats:timesig)", by.meter)
  if next(unknown) then
    w("tracks with no part (songs):")
    for _, k in ipairs(U.sorted_keys(unknown)) do w("  %s (%d)", k, unknown[k]) end
    w("")
  end
  w("failures (counted, with the reason; songs are listed in REJECTED.tsv)")
  local reasons = {}
  for _, path in ipairs(U.sorted_keys(rejected)) do
    local key = rejected[path]:gsub("<Line %d+>", "<Line N>"):gsub("[%w%-/]+%.mma", "SONG.mma")
    reasons[key] = (reasons[key] or 0) + 1
  end
  w("  songs rejected: %d", count(rejected))
  for _, k in ipairs(U.sorted_keys(reasons)) do w("    %4d  %s", reasons[k], k) end
  w("  library and chart sources left out: %d", #plan_fail)
  for _, row in ipairs(plan_fail) do w("    %s: %s", row[1], row[2] or "") end
  w("")
  w("build time       %d s (plan %d s, render %d s, check %d s) with %s jobs; %s CPU seconds", t_total,
    t_plan, t_render, t_check, os.getenv("CORPUS_JOBS") or "?", os.getenv("CORPUS_CPU") or "?")
  U.write_file(out .. "/REPORT.txt", table.concat(L, "\n") .. "\n")

  local S = {}
  S[#S + 1] = "songs\t" .. tot.songs
  S[#S + 1] = string.format("hours\t%.2f", tot.secs / 3600)
  S[#S + 1] = "beats\t" .. tot.beats
  S[#S + 1] = "rejected\t" .. count(rejected)
  for _, k in ipairs({ "train", "valid", "test" }) do
    S[#S + 1] = "split_" .. k .. "\t" .. (by.split[k] and by.split[k].songs or 0)
  end
  S[#S + 1] = "test_families_shared\t" .. shared
  U.write_file(out .. "/work/summary.tsv", table.concat(S, "\n") .. "\n")
  io.stderr:write(string.format("report: %d songs, %.1f hours, %d rejected\n", tot.songs,
    tot.secs / 3600, count(rejected)))
end

local mode = arg[1]
if mode == "scan" and arg[4] then
  scan(arg[2], arg[3], arg[4])
elseif mode == "summary" and arg[2] then
  local secs = {}
  for i = 3, 6 do secs[#secs + 1] = tonumber(arg[i] or "0") or 0 end
  summary(arg[2], secs)
else
  io.stderr:write("usage: lua5.4 report.lua scan OUTDIR LIST STATS | summary OUTDIR PLAN RENDER CHECK TOTAL\n")
  os.exit(2)
end
