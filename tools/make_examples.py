#!/usr/bin/env python3
"""Writes the example performances in examples/ (run by hand; the .mid files are committed).

Each file is a format-1 Standard MIDI File with a tempo track and one track named "human":
  melody.mid   Beethoven's "Ode to Joy" theme (public domain), D major, 100 BPM, 16 bars
  chords.mid   a pianist comping a I-vi-IV-V / ii-V-I progression in block chords, 92 BPM
"""
import os
import struct

DIV = 480


def vlq(v):
    out = [v & 0x7F]
    v >>= 7
    while v:
        out.append(0x80 | (v & 0x7F))
        v >>= 7
    return bytes(reversed(out))


def track(events):
    """events: list of (tick, bytes); sorted stably by tick."""
    events = sorted(enumerate(events), key=lambda e: (e[1][0], e[0]))
    data, last = b"", 0
    for _, (tick, msg) in events:
        data += vlq(tick - last) + msg
        last = tick
    data += b"\x00\xff\x2f\x00"
    return b"MTrk" + struct.pack(">I", len(data)) + data


def name(n):
    return (0, b"\xff\x03" + bytes([len(n)]) + n.encode())


def smf(bpm, notes, num=4, den_pow=2):
    """notes: list of (start_beat, length_beats, pitch, velocity)."""
    us = round(60e6 / bpm)
    tempo = [name("tempo"), (0, b"\xff\x51\x03" + us.to_bytes(3, "big")),
             (0, b"\xff\x58\x04" + bytes([num, den_pow, 24, 8]))]
    ev = [name("human")]
    for start, length, pitch, vel in notes:
        t0 = round(start * DIV)
        t1 = round((start + length) * DIV)
        ev.append((t0, bytes([0x90, pitch, vel])))
        ev.append((t1, bytes([0x80, pitch, 0])))
    return b"MThd" + struct.pack(">IHHH", 6, 1, 2, DIV) + track(tempo) + track(ev)


def ode_to_joy():
    D, E, Fs, G, A, Cs = 62, 64, 66, 67, 69, 61
    A3 = 57
    phrase_a = [(Fs, 1), (Fs, 1), (G, 1), (A, 1), (A, 1), (G, 1), (Fs, 1), (E, 1),
                (D, 1), (D, 1), (E, 1), (Fs, 1)]
    end_1 = [(Fs, 1.5), (E, 0.5), (E, 2)]
    end_2 = [(E, 1.5), (D, 0.5), (D, 2)]
    bridge = [(E, 1), (E, 1), (Fs, 1), (D, 1), (E, 1), (Fs, 0.5), (G, 0.5), (Fs, 1), (D, 1),
              (E, 1), (Fs, 0.5), (G, 0.5), (Fs, 1), (E, 1), (D, 1), (E, 1), (A3, 2)]
    seq = phrase_a + end_1 + phrase_a + end_2 + bridge + [(Fs, 2)] + phrase_a + end_2
    notes, beat = [], 0.0
    for i, (p, length) in enumerate(seq):
        vel = 96 if beat % 4 == 0 else 80 if beat % 2 == 0 else 72
        notes.append((beat, length * 0.92, p, vel))
        beat += length
    return notes


def comping():
    # chord tones as MIDI pitches, one chord per bar, played on beats 1 and 3 (and a push on 4+)
    C, Am, F, G = [60, 64, 67], [57, 60, 64], [53, 57, 60], [55, 59, 62]
    Dm7, G7, Cmaj7 = [62, 65, 69, 72], [59, 62, 65, 67], [60, 64, 67, 71]
    bars = [C, Am, F, G] * 2 + [Dm7, G7, Cmaj7, Cmaj7] + [C, Am, F, G]
    notes = []
    for b, chord in enumerate(bars):
        for beat, length, vel in ((0, 1.5, 90), (2, 1.0, 76), (3.5, 0.5, 70)):
            for p in chord:
                notes.append((b * 4 + beat, length * 0.95, p, vel))
    return notes


def main():
    here = os.path.join(os.path.dirname(__file__), "..", "examples")
    with open(os.path.join(here, "melody.mid"), "wb") as f:
        f.write(smf(100, ode_to_joy()))
    with open(os.path.join(here, "chords.mid"), "wb") as f:
        f.write(smf(92, comping()))


if __name__ == "__main__":
    main()
