-- verify.lua: checks a built corpus: layout, manifest, charts, MIDI files, splits and report.
--
-- usage: lua5.4 verify.lua CORPUSDIR
-- Prints one line per failed check and a closing "N passed, M failed"; exits non-zero on failure.
local here = arg[0]:match("^(.*)/[^/]+$") or "."
package.path = here .. "/?.lua;" .. package.path

local midi = require "midi"
local chart = require "chart"
local parts = require "parts"

local dir = arg[1]
if not dir then io.stderr:write("usage: lua5.4 verify.lua CORPUSDIR\n"); os.exit(2) end

local passed, failed = 0, 0
local function check(ok, what)
  if ok then passed = passed + 1 else failed = failed + 1; print("FAIL " .. what) end
  return ok
end

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() return true end
  return false
end

local function read(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- manifest
local rows, header = {}, nil
for line in (read(dir .. "/MANIFEST.tsv") or ""):gmatch("[^\n]+") do
  local r = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do r[#r + 1] = field end
  if not header then header = r else rows[#rows + 1] = r end
end
check(header and header[1] == "id" and header[3] == "path", "MANIFEST.tsv has its header")
check(#rows > 0, "MANIFEST.tsv lists songs")

-- every .mid under the splits is in the manifest, and the other way round
local listed = {}
for _, r in ipairs(rows) do listed[r[3]] = r end
local p = io.popen("cd '" .. dir .. "' && find train valid test -name '*.mid' 2>/dev/null | LC_ALL=C sort")
local on_disk = 0
for l in p:lines() do
  on_disk = on_disk + 1
  check(listed[l:gsub("%.mid$", "")] ~= nil, l .. " is in the manifest")
end
p:close()
check(on_disk == #rows, string.format("%d MIDI files for %d manifest rows", on_disk, #rows))

local split_fams = { train = {}, valid = {}, test = {} }
local chart_split = {}
local sizes = { train = 0, valid = 0, test = 0 }
for _, r in ipairs(rows) do
  local id, split, path, chart_id, family = r[1], r[2], r[3], r[4], r[9]
  sizes[split] = (sizes[split] or 0) + 1
  if split_fams[split] then split_fams[split][family] = true end
  if chart_split[chart_id] then
    check(chart_split[chart_id] == split, "chart " .. chart_id .. " stays in one split")
  end
  chart_split[chart_id] = split
  check(path:match("^" .. split .. "/"), id .. " lies in its split's folder")
  check(exists(dir .. "/" .. path .. ".mma") or exists(dir .. "/" .. path .. ".abc"),
    path .. ": its source (.mma or .abc) exists")
  local c, err = chart.read(dir .. "/" .. path .. ".chart")
  if check(c ~= nil, path .. ".chart parses: " .. tostring(err)) then
    check(c.id == id and c.split == split, path .. ".chart names its song and split")
    local s, merr = midi.read(dir .. "/" .. path .. ".mid")
    if check(s ~= nil, path .. ".mid parses: " .. tostring(merr)) then
      local ts = s.timesigs[1]
      check(ts and ts[2] == c.timesig[1] and ts[3] == c.timesig[2],
        path .. ": MIDI time signature matches the chart")
      local seen, last = {}, 0
      for _, t in ipairs(s.tracks) do
        if #t.notes > 0 then seen[parts.of(t, s.ppq)] = true end
        for _, n in ipairs(t.notes) do if n[1] > last then last = n[1] end end
      end
      check(seen.drums or seen.bass or seen.comping, path .. ": has band parts")
      check(last / s.ppq <= c.beats + 2 * c.beats_per_bar, path .. ": no notes after the chart ends")
      check(last / s.ppq >= c.beats - 4 * c.beats_per_bar, path .. ": notes until near the chart's end")
    end
  end
end

-- splits
for _, s in ipairs({ "train", "valid", "test" }) do
  check(sizes[s] > 0, "split " .. s .. " has songs")
end
for f in pairs(split_fams.test) do
  check(not split_fams.train[f] and not split_fams.valid[f], "test family " .. f .. " is held out")
end

-- report
local rep = read(dir .. "/REPORT.txt") or ""
check(rep:find("songs%s+[%d,]+ %(") ~= nil, "REPORT.txt gives songs and hours")
check(rep:find("grid steps") ~= nil, "REPORT.txt gives grid steps")
check(rep:find("note onsets per part") ~= nil, "REPORT.txt gives notes per part")
check(rep:find("build time") ~= nil, "REPORT.txt gives the build time")
check(rep:find("failures") ~= nil, "REPORT.txt reports failures")
check(exists(dir .. "/REJECTED.tsv"), "REJECTED.tsv exists")

print(string.format("corpus: %d passed, %d failed", passed, failed))
os.exit(failed == 0 and 0 or 1)
