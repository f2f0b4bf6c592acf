-- midi.lua: a small Standard MIDI File reader (formats 0 and 1) for checking rendered songs.
--
-- midi.read(path) returns nil, message on a malformed file, or
--   { format, ppq, tracks = { { name, notes = { {tick, dur, pitch, vel, chan}, ... },
--                               programs = { [chan] = first program }, channels = {...} } },
--     timesigs = { {tick, num, den} }, tempos = { {tick, usec_per_quarter} } }
-- Notes are paired note-on/note-off; a note still sounding at the end of its track ends there.
-- Text events (FF 01) are kept in track.texts.
--
-- midi.write(path, { ppq, tempo_bpm, timesig = {num, den}, tracks = { {name, notes} } })
-- writes a format-1 file: a conductor track (tempo, time signature) and one named track per
-- entry, notes given as {tick, dur, pitch, vel, chan}.
local M = {}

local byte, sub = string.byte, string.sub

local function u32(s, i)
  local a, b, c, d = byte(s, i, i + 3)
  return ((a * 256 + b) * 256 + c) * 256 + d
end

local function u16(s, i)
  local a, b = byte(s, i, i + 1)
  return a * 256 + b
end

-- Variable-length quantity at position i: value and the position after it.
local function vlq(s, i)
  local v = 0
  for _ = 1, 4 do
    local b = byte(s, i)
    if not b then return nil, i end
    i = i + 1
    v = v * 128 + (b & 0x7f)
    if b < 0x80 then return v, i end
  end
  return nil, i
end

local function read_track(s, i, stop, song)
  local tr = { name = nil, notes = {}, programs = {}, channels = {}, texts = {} }
  local tick, status = 0, nil
  local open = {}   -- [chan*128+pitch] = stack of note indices still sounding
  while i < stop do
    local dt
    dt, i = vlq(s, i)
    if not dt then return nil, "bad delta time" end
    tick = tick + dt
    local b = byte(s, i)
    if not b then return nil, "truncated track" end
    if b >= 0x80 then status = b; i = i + 1
    elseif not status then return nil, "running status without a status byte" end
    local hi = status & 0xf0
    if status == 0xff then
      local typ = byte(s, i); i = i + 1
      local len; len, i = vlq(s, i)
      if not len or i + len > stop then return nil, "bad meta event" end
      local data = sub(s, i, i + len - 1)
      i = i + len
      if typ == 0x03 and not tr.name then tr.name = data
      elseif typ == 0x01 then tr.texts[#tr.texts + 1] = data
      elseif typ == 0x58 and len >= 2 then
        song.timesigs[#song.timesigs + 1] = { tick, byte(data, 1), 1 << byte(data, 2) }
      elseif typ == 0x51 and len == 3 then
        local a, b2, c = byte(data, 1, 3)
        song.tempos[#song.tempos + 1] = { tick, (a * 256 + b2) * 256 + c }
      elseif typ == 0x2f then break end
      status = nil
    elseif status == 0xf0 or status == 0xf7 then
      local len; len, i = vlq(s, i)
      if not len then return nil, "bad sysex" end
      i = i + len
      status = nil
    else
      local ch = status & 0x0f
      local d1 = byte(s, i)
      local d2 = 0
      if hi == 0xc0 or hi == 0xd0 then i = i + 1
      else d2 = byte(s, i + 1); i = i + 2 end
      if d1 == nil or d2 == nil then return nil, "truncated channel event" end
      tr.channels[ch + 1] = true
      if hi == 0x90 and d2 > 0 then
        local n = { tick, 0, d1, d2, ch + 1 }
        tr.notes[#tr.notes + 1] = n
        local k = ch * 128 + d1
        local st = open[k]
        if not st then st = {}; open[k] = st end
        st[#st + 1] = n
      elseif hi == 0x80 or hi == 0x90 then
        local st = open[ch * 128 + d1]
        if st and #st > 0 then
          local n = table.remove(st, 1)
          n[2] = tick - n[1]
        end
      elseif hi == 0xc0 then
        if tr.programs[ch + 1] == nil then tr.programs[ch + 1] = d1 end
      end
    end
  end
  for _, st in pairs(open) do
    for _, n in ipairs(st) do n[2] = tick - n[1] end
  end
  return tr
end

function M.parse(s)
  if #s < 14 or sub(s, 1, 4) ~= "MThd" then return nil, "not a Standard MIDI File" end
  local hlen = u32(s, 5)
  local song = { format = u16(s, 9), ppq = u16(s, 13), tracks = {}, timesigs = {}, tempos = {} }
  local ntracks = u16(s, 11)
  if song.ppq >= 0x8000 then return nil, "SMPTE time division is not supported" end
  local i = 9 + hlen
  for _ = 1, ntracks do
    if sub(s, i, i + 3) ~= "MTrk" then return nil, "missing track chunk" end
    local len = u32(s, i + 4)
    local stop = i + 8 + len
    if stop - 1 > #s then return nil, "truncated track chunk" end
    local tr, err = read_track(s, i + 8, stop, song)
    if not tr then return nil, err end
    song.tracks[#song.tracks + 1] = tr
    i = stop
  end
  return song
end

function M.read(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("a")
  f:close()
  return M.parse(s)
end

local function vlq_bytes(v)
  local bytes = { v & 0x7f }
  v = v >> 7
  while v > 0 do
    table.insert(bytes, 1, (v & 0x7f) | 0x80)
    v = v >> 7
  end
  return string.char(table.unpack(bytes))
end

local function chunk(kind, body)
  return kind .. string.pack(">I4", #body) .. body
end

local function track_bytes(events)
  -- events: { tick, order, bytes }; offs before ons at the same tick, then the given order
  -- (Lua's sort is not stable and picks random pivots, so every key must be decisive)
  for i, e in ipairs(events) do e[4] = i end
  table.sort(events, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    if a[2] ~= b[2] then return a[2] < b[2] end
    return a[4] < b[4]
  end)
  local out, last = {}, 0
  for _, e in ipairs(events) do
    out[#out + 1] = vlq_bytes(e[1] - last) .. e[3]
    last = e[1]
  end
  out[#out + 1] = vlq_bytes(0) .. "\xff\x2f\x00"
  return chunk("MTrk", table.concat(out))
end

function M.write(path, song)
  local chunks = {}
  local us = math.floor(60000000 / song.tempo_bpm + 0.5)
  local den_pow = 0
  while (1 << den_pow) < song.timesig[2] do den_pow = den_pow + 1 end
  local meta = {
    { 0, 0, "\xff\x51\x03" .. string.char((us >> 16) & 0xff, (us >> 8) & 0xff, us & 0xff) },
    { 0, 0, "\xff\x58\x04" .. string.char(song.timesig[1], den_pow, 24, 8) },
  }
  chunks[#chunks + 1] = track_bytes(meta)
  for _, t in ipairs(song.tracks) do
    local ev = { { 0, 0, "\xff\x03" .. vlq_bytes(#t.name) .. t.name } }
    for _, n in ipairs(t.notes) do
      local ch = (n[5] - 1) & 0x0f
      ev[#ev + 1] = { n[1], 2, string.char(0x90 | ch, n[3], math.max(1, math.min(127, n[4]))) }
      ev[#ev + 1] = { n[1] + math.max(1, n[2]), 1, string.char(0x80 | ch, n[3], 0) }
    end
    chunks[#chunks + 1] = track_bytes(ev)
  end
  local head = chunk("MThd", string.pack(">I2I2I2", 1, #chunks, song.ppq))
  local f = assert(io.open(path, "wb"))
  f:write(head, table.concat(chunks))
  f:close()
end

return M
