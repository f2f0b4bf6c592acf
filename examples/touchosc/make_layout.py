#!/usr/bin/env python3
"""Builds bandmate.tosc, a TouchOSC (Mk2) layout for bandmate's OSC address space (docs/osc.md).

A .tosc file is zlib-compressed XML. This script writes the same bytes every time (node IDs are
derived from the controls' names), so the committed layout can be checked against it:

    python3 examples/touchosc/make_layout.py            # writes examples/touchosc/bandmate.tosc
    python3 examples/touchosc/make_layout.py --check    # exits 1 if the committed file differs

In TouchOSC: add an OSC UDP connection to the computer running bandmate, send port 57140
(bandmate's default), receive port 9000; then press SYNC once so bandmate sends its state back
(/bm/notify 1 params,beats,state 9000) and the faders follow it.
"""
import os
import sys
import uuid
import zlib
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "bandmate.tosc")
NS = uuid.UUID("6f1c2e4a-5b7d-4e8f-9a0b-1c2d3e4f5a6b")
RECEIVE_PORT = 9000
MODES = ["echo", "silent"]           # bandmate's modes today; add new ones here as they arrive
PARTS = ["bass", "drums", "comping", "lead"]

W, H = 1024, 768
DARK = (0.08, 0.09, 0.11, 1)
COLOURS = {"bass": (0.2, 0.6, 1, 1), "drums": (1, 0.45, 0.2, 1), "comping": (0.4, 0.85, 0.4, 1),
           "lead": (0.9, 0.3, 0.8, 1), "master": (0.9, 0.9, 0.9, 1), "music": (1, 0.8, 0.2, 1)}


def prop(parent, ptype, key, value):
    p = ET.SubElement(parent, "property", type=ptype)
    ET.SubElement(p, "key").text = key
    v = ET.SubElement(p, "value")
    if ptype == "c":
        for k, x in zip("rgba", value):
            ET.SubElement(v, k).text = fmt(x)
    elif ptype == "r":
        for k, x in zip("xywh", value):
            ET.SubElement(v, k).text = fmt(x)
    else:
        v.text = value if isinstance(value, str) else fmt(value)


def fmt(x):
    if isinstance(x, bool):
        return "1" if x else "0"
    if isinstance(x, float) and x != int(x):
        return repr(x)
    return str(int(x))


def value(parent, key, default):
    v = ET.SubElement(parent, "value")
    ET.SubElement(v, "key").text = key
    ET.SubElement(v, "locked").text = "0"
    ET.SubElement(v, "lockedDefaultCurrent").text = "0"
    ET.SubElement(v, "default").text = default
    ET.SubElement(v, "defaultPull").text = "0"


def partial(parent, ptype, conversion, val):
    p = ET.SubElement(parent, "partial")
    ET.SubElement(p, "type").text = ptype
    ET.SubElement(p, "conversion").text = conversion
    ET.SubElement(p, "value").text = val
    ET.SubElement(p, "scaleMin").text = "0"
    ET.SubElement(p, "scaleMax").text = "1"


def osc(messages, path, args, trigger="x", receive=True):
    """One OSC message: path, then arguments as (kind, conversion, value) partials."""
    o = ET.SubElement(messages, "osc")
    for k, v in (("enabled", "1"), ("send", "1"), ("receive", "1" if receive else "0"), ("feedback", "0"),
                 ("noDuplicates", "0"), ("connections", "1111111111")):
        ET.SubElement(o, k).text = v
    t = ET.SubElement(ET.SubElement(o, "triggers"), "trigger")
    ET.SubElement(t, "var").text = trigger
    ET.SubElement(t, "condition").text = "RISE" if trigger == "touch" else "ANY"
    partial(ET.SubElement(o, "path"), "CONSTANT", "STRING", path)
    a = ET.SubElement(o, "arguments")
    for kind, conversion, val in args:
        partial(a, kind, conversion, val)


def node(parent, ntype, name, frame, colour, values=("x",)):
    n = ET.SubElement(parent, "node", ID=str(uuid.uuid5(NS, name)), type=ntype)
    props = ET.SubElement(n, "properties")
    prop(props, "b", "background", True)
    prop(props, "c", "color", colour)
    prop(props, "f", "cornerRadius", 4)
    prop(props, "r", "frame", frame)
    prop(props, "b", "interactive", ntype not in ("LABEL", "GROUP"))
    prop(props, "s", "name", name)
    prop(props, "b", "outline", True)
    prop(props, "b", "visible", True)
    vals = ET.SubElement(n, "values")
    for key in values:
        value(vals, key, "0")
    value(vals, "touch", "false")
    return n, props


def label(parent, name, text, frame, size=14):
    n, props = node(parent, "LABEL", "label_" + name, frame, (0, 0, 0, 0), values=())
    prop(props, "s", "text", text)
    prop(props, "i", "textSize", size)
    prop(props, "c", "textColor", (0.85, 0.85, 0.85, 1))
    return n


def fader(parent, name, param, frame, colour):
    n, props = node(parent, "FADER", "fader_" + name, frame, colour)
    prop(props, "i", "orientation", 0)
    osc(ET.SubElement(n, "messages"), "/bm/param/%s/norm" % param, [("VALUE", "FLOAT", "x")])
    label(parent, name, name.replace("_", " "), (frame[0], frame[1] + frame[3] + 4, frame[2], 22), 12)


def button(parent, name, path, args, frame, colour, toggle=False):
    n, props = node(parent, "BUTTON", "button_" + name, frame, colour)
    prop(props, "i", "buttonType", 1 if toggle else 0)
    trigger = "x" if toggle else "touch"
    osc(ET.SubElement(n, "messages"), path, args, trigger=trigger, receive=toggle)
    label(parent, name, name.upper(), frame, 14)


def build():
    root = ET.Element("lexml", version="3")
    top = ET.SubElement(root, "node", ID=str(uuid.uuid5(NS, "bandmate")), type="GROUP")
    props = ET.SubElement(top, "properties")
    prop(props, "b", "background", True)
    prop(props, "c", "color", DARK)
    prop(props, "r", "frame", (0, 0, W, H))
    prop(props, "s", "name", "bandmate")
    ET.SubElement(top, "values")
    kids = ET.SubElement(top, "children")

    label(kids, "title", "bandmate", (16, 8, 300, 40), 24)
    # transport and housekeeping
    x = 340
    for name, path, args in (("play", "/bm/transport/play", []), ("stop", "/bm/transport/stop", []),
                             ("tap", "/bm/tap", []), ("panic", "/bm/panic", []),
                             ("sync", "/bm/notify", [("CONSTANT", "INTEGER", "1"),
                                                      ("CONSTANT", "STRING", "params,beats,state"),
                                                      ("CONSTANT", "INTEGER", str(RECEIVE_PORT))])):
        button(kids, name, path, args, (x, 8, 120, 44), COLOURS["music"] if name != "panic" else (1, 0.2, 0.2, 1))
        x += 134
    # faders: master, tempo and the four parts
    x = 16
    for name, param, colour in (("tempo", "tempo", COLOURS["music"]), ("master", "master_gain", COLOURS["master"])) + tuple(
            (p, p + "_gain", COLOURS[p]) for p in PARTS):
        fader(kids, name, param, (x, 80, 96, 380), colour)
        x += 110
    # the parts on and off
    x = 236
    for p in PARTS:
        button(kids, p + "_on", "/bm/param/%s_on/norm" % p, [("VALUE", "FLOAT", "x")], (x, 500, 96, 56), COLOURS[p],
               toggle=True)
        x += 110
    # the musician's controls: temperature across, density up
    xy, xyprops = node(kids, "XY", "xy_temperature_density", (700, 80, 300, 300), COLOURS["music"], values=("x", "y"))
    msgs = ET.SubElement(xy, "messages")
    osc(msgs, "/bm/param/temperature/norm", [("VALUE", "FLOAT", "x")])
    osc(msgs, "/bm/param/density/norm", [("VALUE", "FLOAT", "y")], trigger="y")
    label(kids, "xy", "temperature  /  density", (700, 384, 300, 22), 12)
    # modes
    x = 16
    for m in MODES:
        button(kids, "mode_" + m, "/bm/mode", [("CONSTANT", "STRING", m)], (x, 600, 150, 56), (0.5, 0.5, 0.6, 1))
        x += 164
    label(kids, "modes", "mode", (16, 664, 150, 22), 12)
    return root


def render():
    root = build()
    ET.indent(root, "")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=False)
    xml = "<?xml version='1.0' encoding='UTF-8'?>\n" + body
    return zlib.compress(xml.encode("utf-8"), 9)


def main():
    data = render()
    if "--check" in sys.argv[1:]:
        with open(OUT, "rb") as f:
            same = f.read() == data
        print("bandmate.tosc is up to date" if same else "bandmate.tosc differs from make_layout.py's output")
        return 0 if same else 1
    with open(OUT, "wb") as f:
        f.write(data)
    print("wrote %s (%d bytes)" % (OUT, len(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
