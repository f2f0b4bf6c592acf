#!/usr/bin/env python3
"""Writes the example audio lines in examples/ (run by hand; the .wav files are committed).

Both are the first phrase of the Ode to Joy theme of examples/melody.mid (16 beats at 108 BPM),
rendered from the FluidR3 General MIDI soundfont with fluidsynth and made mono 22.05 kHz with sox
(Debian packages fluidsynth, fluid-soundfont-gm, sox):
  sung-line.wav  a "Voice Oohs" line (a sung vowel, with its scoops and vibrato)
  sax-line.wav   an alto saxophone line
"""
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import make_examples as ex  # noqa: E402

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
BPM = 108
LINES = [("sung-line.wav", 53), ("sax-line.wav", 65)]


def phrase():
    notes = [n for n in ex.ode_to_joy() if n[0] < 16]
    return notes


def smf(program):
    us = round(60e6 / BPM)
    tempo = [ex.name("tempo"), (0, b"\xff\x51\x03" + us.to_bytes(3, "big"))]
    ev = [ex.name("human"), (0, bytes([0xC0, program]))]
    for start, length, pitch, vel in phrase():
        ev.append((round(start * ex.DIV), bytes([0x90, pitch, vel])))
        ev.append((round((start + length) * ex.DIV), bytes([0x80, pitch, 0])))
    return b"MThd" + struct.pack(">IHHH", 6, 1, 2, ex.DIV) + ex.track(tempo) + ex.track(ev)


def main():
    here = os.path.join(os.path.dirname(__file__), "..", "examples")
    with tempfile.TemporaryDirectory() as tmp:
        for wav, program in LINES:
            mid = os.path.join(tmp, "line.mid")
            stereo = os.path.join(tmp, "line.wav")
            with open(mid, "wb") as f:
                f.write(smf(program))
            subprocess.run(["fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-g", "0.8", "-r", "44100",
                            "-O", "s16", "-F", stereo, SOUNDFONT, mid], check=True)
            # mono, 22.05 kHz, trimmed to the phrase and half a second of its tail
            seconds = 16 * 60.0 / BPM + 0.5
            subprocess.run(["sox", stereo, "-c", "1", "-r", "22050", "-b", "16", os.path.join(here, wav),
                            "remix", "1", "trim", "0", "%.3f" % seconds], check=True)


if __name__ == "__main__":
    main()
