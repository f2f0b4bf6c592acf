#!/usr/bin/env python3
"""Builds bandmate.maxpat, a Max patch that drives bandmate over OSC (docs/osc.md).

    python3 examples/max/make_patch.py            # writes examples/max/bandmate.maxpat
    python3 examples/max/make_patch.py --check    # exits 1 if the committed file differs

The patch sends to bandmate with [udpsend 127.0.0.1 57140] and listens on [udpreceive 7400]: on
load it registers for feedback with "/bm/notify 1 all 7400" (Max cannot hear on the port udpsend
sends from, so bandmate is told where to answer). It has the transport, tempo, the parts, sliders
for the musician's controls that follow bandmate's real state, a mode menu, and a small generative
phrase that plays notes on the lead part through /bm/note.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "bandmate.maxpat")
PORT, LISTEN = 57140, 7400

boxes, lines = [], []


def box(maxclass, rect, text=None, inlets=1, outlets=0, outlettype=None, **extra):
    oid = "obj-%d" % (len(boxes) + 1)
    b = {"id": oid, "maxclass": maxclass, "numinlets": inlets, "numoutlets": outlets,
         "patching_rect": [float(v) for v in rect]}
    if outlets:
        b["outlettype"] = outlettype or [""] * outlets
    if text is not None:
        b["text"] = text
    b.update(extra)
    boxes.append({"box": b})
    return oid


def wire(src, dst, outlet=0, inlet=0):
    lines.append({"patchline": {"source": [src, outlet], "destination": [dst, inlet]}})


def comment(x, y, text, w=300):
    return box("comment", (x, y, w, 20), text, inlets=1)


def message(x, y, text, w=None):
    return box("message", (x, y, w or 8 * len(text) + 20, 22), text, inlets=2, outlets=1)


def obj(x, y, text, inlets=1, outlets=1, w=None):
    return box("newobj", (x, y, w or 8 * len(text) + 20, 22), text, inlets=inlets, outlets=outlets)


def build():
    comment(20, 10, "bandmate over OSC: start bandmate first (bandmate run PATCH), then click the messages", 600)
    send = obj(20, 560, "udpsend 127.0.0.1 %d" % PORT, inlets=1, outlets=0)
    # on load: register for feedback on our listening port, and ask for the state
    lb = obj(20, 40, "loadbang", outlets=1)
    reg = message(20, 70, "/bm/notify 1 all %d" % LISTEN)
    wire(lb, reg)
    wire(reg, send)
    # transport and tempo
    comment(20, 110, "transport")
    for i, text in enumerate(("/bm/transport/play", "/bm/transport/stop", "/bm/tap", "/bm/panic", "/bm/status")):
        m = message(20 + i * 150, 135, text)
        wire(m, send)
    comment(20, 175, "tempo (BPM)")
    tempo = box("number", (20, 200, 60, 22), inlets=1, outlets=2, outlettype=["", "bang"], minimum=20, maximum=400)
    tempo_pre = obj(90, 200, "prepend /bm/tempo")
    wire(tempo, tempo_pre)
    wire(tempo_pre, send)
    # the parts
    comment(260, 175, "parts on / off")
    for i, part in enumerate(("bass", "drums", "comping", "lead")):
        t = box("toggle", (260 + i * 110, 200, 24, 24), inlets=1, outlets=1, outlettype=["int"])
        comment(290 + i * 110, 202, part, 70)
        p = obj(260 + i * 110, 232, "prepend /bm/part/%s" % part)
        wire(t, p)
        wire(p, send)
    # the musician's controls: sliders send normalised values and follow the feedback
    comment(20, 280, "the musician's controls (0..1); they follow bandmate's state")
    recv = obj(700, 40, "udpreceive %d" % LISTEN, outlets=1)
    params = ("temperature", "density", "master_gain")
    route = obj(700, 80, "route " + " ".join("/bm/param/%s/norm" % p for p in params) + " /bm/event/beat",
                outlets=len(params) + 2, w=420)
    printer = obj(980, 120, "print bandmate")
    wire(recv, route)
    wire(route, printer, outlet=len(params) + 1)
    for i, p in enumerate(params):
        s = box("slider", (20 + i * 90, 305, 22, 140), inlets=1, outlets=1, outlettype=[""], floatoutput=1, size=1.0)
        comment(20 + i * 90, 450, p, 90)
        pre = obj(20 + i * 90, 475, "prepend /bm/param/%s/norm" % p, w=80)
        wire(s, pre)
        wire(pre, send)
        follow = obj(700 + i * 120, 120, "prepend set", w=80)
        wire(route, follow, outlet=i)
        wire(follow, s)
    beat = box("button", (700, 170, 24, 24), inlets=1, outlets=1, outlettype=["bang"])
    comment(730, 172, "beat", 60)
    wire(route, beat, outlet=len(params))
    # modes
    comment(300, 280, "mode")
    menu = box("umenu", (300, 305, 120, 22), inlets=1, outlets=3, outlettype=["int", "", ""], items=["echo", ",", "silent"])
    mode_pre = obj(300, 335, "prepend /bm/mode")
    wire(menu, mode_pre, outlet=1)
    wire(mode_pre, send)
    # a little generative phrase on the lead part: a random note of C major pentatonic every 250 ms
    comment(440, 280, "a phrase on the lead part: notes through /bm/note", 360)
    run = box("toggle", (440, 305, 24, 24), inlets=1, outlets=1, outlettype=["int"])
    metro = obj(440, 340, "metro 250", inlets=2)
    rnd = obj(440, 370, "random 5", inlets=2)
    scale = obj(440, 400, "coll pentatonic", inlets=1, outlets=4, w=110)
    note = message(440, 430, "/bm/note lead $1 90 0.25", w=170)
    wire(run, metro)
    wire(metro, rnd)
    wire(rnd, scale)
    wire(scale, note)
    wire(note, send)
    init = message(570, 370, "0 60, 1 62, 2 64, 3 67, 4 69", w=180)
    wire(lb, init)
    wire(init, scale)
    return {"patcher": {"fileversion": 1,
                        "appversion": {"major": 8, "minor": 5, "revision": 0, "architecture": "x64", "modernui": 1},
                        "classnamespace": "box", "rect": [60.0, 80.0, 1160.0, 620.0], "bglocked": 0,
                        "openinpresentation": 0, "default_fontsize": 12.0, "default_fontface": 0,
                        "default_fontname": "Arial", "gridonopen": 1, "gridsize": [15.0, 15.0],
                        "boxes": boxes, "lines": lines}}


def render():
    return (json.dumps(build(), indent="\t") + "\n").encode("utf-8")


def main():
    data = render()
    if "--check" in sys.argv[1:]:
        with open(OUT, "rb") as f:
            same = f.read() == data
        print("bandmate.maxpat is up to date" if same else "bandmate.maxpat differs from make_patch.py's output")
        return 0 if same else 1
    with open(OUT, "wb") as f:
        f.write(data)
    print("wrote %s (%d bytes)" % (OUT, len(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
