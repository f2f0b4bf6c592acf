-- ambient.lua: a generative ambient piece for an installation, steered by sensors over OSC. A pad
-- moves through chords of the key every two bars over a bass drone, and a plucked voice adds
-- sparse notes of the chord. Light (/sensor/light 0..1) brightens the register and fills the
-- texture (bandmate's density); motion (/sensor/motion) sets off a shimmering arpeggio. With no
-- sensor for half a minute the piece drifts by itself. There is no performer.
--
-- No bandmate mode is made for installations: the patch keeps the band's mode silent and this
-- script plays every note.
local band = require("lib.band")

local brightness = 0.5
local last_sensor = -1e9
local chord_degrees = {1, 6, 4, 5, 1, 3, 4, 2}   -- degrees of the key the pad wanders through
local step = 0
local current = {}                               -- the pad's notes now

function init()
  params.add{id = "brightness", name = "Brightness", min = 0, max = 1, default = 0.5,
             action = function(v) brightness = v end}
  clock.run(pad)
  clock.run(plucks)
  clock.run(drift)
end

local function chord_of(degree)
  local notes = {}
  for k = 0, 3 do notes[#notes + 1] = bm.scale_note(degree + 2 * k, 3 + math.floor(brightness * 1.5)) end
  return notes
end

function pad()
  while true do
    clock.sync(8)
    step = step % #chord_degrees + 1
    local degree = chord_degrees[step]
    if band.chance(0.25) then degree = math.random(1, 7) end
    current = chord_of(degree)
    for _, n in ipairs(current) do bm.note("comping", n, band.vel(50, 6), 8.5) end  -- a little overlap
    bm.note("bass", bm.scale_note(degree, 1), band.vel(60, 4), 8)
  end
end

function plucks()
  while true do
    clock.sync(1)
    if #current > 0 and band.chance(bm.density() * 0.6) then
      local n = current[math.random(#current)] + 12 * (1 + math.floor(brightness * 1.99))
      bm.note("lead", math.min(n, 100), band.vel(40 + math.floor(brightness * 30), 8), 3,
              clock.get_beats() + (band.chance(0.5) and 0.5 or 0))
    end
  end
end

local function shimmer()
  if #current == 0 then return end
  local start = clock.get_beats()
  for i = 0, 11 do
    local n = current[i % #current + 1] + 24 + 12 * math.floor(i / #current % 2)
    bm.note("lead", math.min(n, 108), band.vel(55 - i * 3, 4), 0.5, start + i * 0.25)
  end
end

-- With no sensor for half a minute, the texture breathes by itself.
function drift()
  while true do
    clock.sleep(2)
    if bm.time() - last_sensor > 30 then
      bm.density(math.max(0.1, math.min(0.8, bm.density() + (math.random() - 0.5) * 0.1)))
    end
  end
end

function on_osc(path, args)
  local v = tonumber(args[1]) or 0
  v = math.max(0, math.min(1, v))
  if path == "/sensor/light" then
    last_sensor = bm.time()
    params.set("brightness", v)
    bm.density(0.15 + 0.7 * v)
  elseif path == "/sensor/motion" and v > 0.5 then
    last_sensor = bm.time()
    shimmer()
  end
end
