#!/usr/bin/env python3
"""Writes the PyTorch reference fixtures for nn/'s tests into tests/fixtures/nn/ (run by hand).

Each fixture is a bandmate model file (docs/model-format.md) holding inputs, weights, outputs and
gradients computed by PyTorch (Debian's python3-torch) in float64 and stored as float32; the C tests
(tests/test_nn_ref.c) recompute them with nn/ and compare within the tolerances in docs/nn.md.

    python3 tools/nn_reference.py [OUTDIR]
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nn_model_file  # noqa: E402

torch.set_default_dtype(torch.float64)
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests",
                                                         "fixtures", "nn")
META = {"generator": "tools/nn_reference.py", "torch": torch.__version__}


def rnd(*shape, scale=1.0, gen=None):
    return (torch.rand(*shape, generator=gen) * 2 - 1) * scale


def np32(t):
    return t.detach().numpy().astype(np.float32)


def save(name, tensors, hparams=None):
    tensors = {k: np32(v) if torch.is_tensor(v) else np.asarray(v, np.float32) for k, v in tensors.items()}
    nn_model_file.write(os.path.join(OUT, name), tensors, hparams, META)
    print("wrote", name, sum(v.size for v in tensors.values()) * 4, "bytes of tensors")


def quantised(*shape, scale=1.0):
    """Random values rounded to float32, so float32 inputs in C equal PyTorch's float64 inputs."""
    return torch.tensor(np.float32(rnd(*shape, scale=scale).numpy())).double()


def dense():
    x, w, b, dy = quantised(5, 7), quantised(4, 7, scale=0.5), quantised(4, scale=0.5), quantised(5, 4)
    for t in (x, w, b):
        t.requires_grad_(True)
    y = F.linear(x, w, b)
    (y * dy).sum().backward()
    save("dense.bmnn", {"x": x, "w": w, "b": b, "dy": dy, "y": y, "dx": x.grad, "dw": w.grad, "db": b.grad})


def lstm_cell_step(x, h, c, w_ih, w_hh, b):
    g = x @ w_ih.T + h @ w_hh.T + b
    i, f, gg, o = g.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg)
    return torch.sigmoid(o) * torch.tanh(c), c


def gru_cell_step(x, h, w_ih, w_hh, b_ih, b_hh):
    gx, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    r = torch.sigmoid(gx[..., :h.shape[-1]] + gh[..., :h.shape[-1]])
    H = h.shape[-1]
    z = torch.sigmoid(gx[..., H:2 * H] + gh[..., H:2 * H])
    n = torch.tanh(gx[..., 2 * H:] + r * gh[..., 2 * H:])
    return (1 - z) * n + z * h


def recurrent(kind):
    T, B, I, H = 5, 3, 4, 6
    G = 4 if kind == "lstm" else 3
    x, h0, c0 = quantised(T, B, I), quantised(B, H, scale=0.5), quantised(B, H, scale=0.5)
    w_ih, w_hh = quantised(G * H, I, scale=0.5), quantised(G * H, H, scale=0.5)
    b_ih, b_hh = quantised(G * H, scale=0.3), quantised(G * H, scale=0.3)
    dh = quantised(T, B, H)
    params = [x, h0, c0, w_ih, w_hh, b_ih, b_hh]
    for p in params:
        p.requires_grad_(True)
    # the PyTorch module itself for the plain run
    if kind == "lstm":
        m = torch.nn.LSTM(I, H)
        with torch.no_grad():
            m.weight_ih_l0.copy_(w_ih), m.weight_hh_l0.copy_(w_hh)
            m.bias_ih_l0.copy_(b_ih), m.bias_hh_l0.copy_(b_hh)
        h_mod, (hT_mod, cT_mod) = m(x, (h0[None], c0[None]))
    else:
        m = torch.nn.GRU(I, H)
        with torch.no_grad():
            m.weight_ih_l0.copy_(w_ih), m.weight_hh_l0.copy_(w_hh)
            m.bias_ih_l0.copy_(b_ih), m.bias_hh_l0.copy_(b_hh)
        h_mod, hT_mod = m(x, h0[None])
    # the same by explicit steps, checked against the module, with a sequence restart
    reset = torch.zeros(T, B)
    reset[2, 1] = 1
    h, c, hs = h0, c0, []
    for t in range(T):
        keep = (1 - reset[t])[:, None]
        h, c = h * keep, c * keep
        if kind == "lstm":
            h, c = lstm_cell_step(x[t], h, c, w_ih, w_hh, b_ih + b_hh)
        else:
            h = gru_cell_step(x[t], h, w_ih, w_hh, b_ih, b_hh)
        hs.append(h)
    hseq = torch.stack(hs)
    (hseq * dh).sum().backward()
    # plain run (no restart) for comparison with the module
    with torch.no_grad():
        h2, c2, hs2 = h0, c0, []
        for t in range(T):
            if kind == "lstm":
                h2, c2 = lstm_cell_step(x[t], h2, c2, w_ih, w_hh, b_ih + b_hh)
            else:
                h2 = gru_cell_step(x[t], h2, w_ih, w_hh, b_ih, b_hh)
            hs2.append(h2)
        assert torch.allclose(torch.stack(hs2), h_mod, atol=1e-12)
    out = {"x": x, "h0": h0, "c0": c0, "w_ih": w_ih, "w_hh": w_hh, "dh": dh, "reset": reset,
           "h_plain": h_mod, "h": hseq, "hT": h, "dx": x.grad, "dw_ih": w_ih.grad,
           "dw_hh": w_hh.grad, "dh0": h0.grad}
    if kind == "lstm":
        out.update({"b": b_ih + b_hh, "cT": c, "db": b_ih.grad, "dc0": c0.grad})
    else:
        out.update({"b_ih": b_ih, "b_hh": b_hh, "db_ih": b_ih.grad, "db_hh": b_hh.grad})
    save(kind + ".bmnn", out)


def activations():
    x = quantised(4, 6, scale=3.0)
    dy = quantised(4, 6)
    out = {"x": x, "dy": dy}
    for name, fn in [("tanh", torch.tanh), ("sigmoid", torch.sigmoid), ("relu", torch.relu),
                     ("gelu", F.gelu)]:
        xx = x.clone().requires_grad_(True)
        y = fn(xx)
        (y * dy).sum().backward()
        out[name + ".y"], out[name + ".dx"] = y, xx.grad
    xx = x.clone().requires_grad_(True)
    out["softmax.y"] = torch.softmax(xx, -1)
    g, b = quantised(6), quantised(6)
    g.requires_grad_(True), b.requires_grad_(True)
    y = F.layer_norm(xx, (6,), g, b, 1e-5)
    (y * dy).sum().backward()
    out.update({"ln.g": g, "ln.b": b, "ln.y": y, "ln.dx": xx.grad, "ln.dg": g.grad, "ln.db": b.grad})
    save("activations.bmnn", out)


def losses():
    n, k = 6, 5
    logits = quantised(n, k, scale=2.0).requires_grad_(True)
    targets = torch.tensor([0, 4, 2, -1, 1, 3])
    mask = torch.tensor([1.0, 0.5, 0.0, 1.0, 2.0, 1.0])
    valid = (targets >= 0).double() * mask
    ce = F.cross_entropy(logits, targets.clamp(min=0), reduction="none")
    l_ce = (ce * valid).sum() / valid.sum()
    l_ce.backward()
    out = {"logits": logits, "targets": targets.double(), "mask": mask, "xent.loss": l_ce.reshape(1),
           "xent.d": logits.grad}
    multi = (torch.rand(n, k) > 0.5).double()
    lg = logits.detach().clone().requires_grad_(True)
    bce = F.binary_cross_entropy_with_logits(lg, multi, reduction="none").sum(-1)
    l_bce = (bce * mask).sum() / mask.sum()
    l_bce.backward()
    out.update({"multi": multi, "bce.loss": l_bce.reshape(1), "bce.d": lg.grad})
    target = quantised(n, k, scale=2.0)
    for name, fn in [("mse", lambda e: e * e), ("l1", lambda e: e.abs())]:
        p = logits.detach().clone().requires_grad_(True)
        l = (fn(p - target) * mask[:, None]).sum() / (mask.sum() * k)
        l.backward()
        out.update({name + ".loss": l.reshape(1), name + ".d": p.grad})
    out["target"] = target
    # multi-scale spectral loss: Hann frames, hop N/4, |.| of rfft, L1 of magnitudes and of logs
    L = 600
    t = torch.arange(L, dtype=torch.float64)
    pred = torch.tensor(np.float32((0.5 * torch.sin(0.05 * t) + 0.2 * rnd(L)).numpy())).double().requires_grad_(True)
    tgt = torch.tensor(np.float32((0.3 * torch.sin(0.11 * t) + 0.1 * rnd(L)).numpy())).double()
    total = 0
    for N in (64, 128, 256):
        w = 0.5 - 0.5 * torch.cos(2 * np.pi * torch.arange(N, dtype=torch.float64) / N)
        w = torch.tensor(np.float32(w.numpy())).double()
        fp = pred.unfold(0, N, N // 4) * w
        ft = tgt.unfold(0, N, N // 4) * w
        mp, mt = torch.fft.rfft(fp).abs(), torch.fft.rfft(ft).abs()
        total = total + ((mp - mt).abs() + (torch.log(mp + 1e-5) - torch.log(mt + 1e-5)).abs()).mean()
    total.backward()
    out.update({"spec.pred": pred, "spec.target": tgt, "spec.loss": total.reshape(1), "spec.d": pred.grad})
    save("losses.bmnn", out)


def adam():
    p0 = quantised(50)
    grads = [quantised(50, scale=0.5 * (i + 1)) for i in range(3)]
    out = {"p0": p0}
    for i, g in enumerate(grads):
        out["g%d" % i] = g
    for name, opt_fn in [("adam", lambda ps: torch.optim.Adam(ps, lr=1e-2)),
                         ("adamw", lambda ps: torch.optim.AdamW(ps, lr=1e-2, weight_decay=0.1))]:
        p = p0.clone().requires_grad_(True)
        opt = opt_fn([p])
        for g in grads:
            opt.zero_grad()
            p.grad = g.clone()
            torch.nn.utils.clip_grad_norm_([p], 1.0)
            opt.step()
        out[name + ".p"] = p
    g = grads[2].clone().requires_grad_(False)
    p = torch.zeros(50, requires_grad=True)
    p.grad = g.clone()
    norm = torch.nn.utils.clip_grad_norm_([p], 1.0)
    out.update({"clip.g": p.grad, "clip.norm": norm.reshape(1)})
    save("adam.bmnn", out)


def seqnet():
    """Two embeddings + dense features -> 2 LSTM layers -> softmax head + sigmoid head."""
    T, B, H = 4, 3, 8
    vocab, dims, dense_in, heads = (6, 5), (3, 2), 2, (5, 3)
    I0 = sum(dims) + dense_in
    P = {"embed0": quantised(vocab[0], dims[0]), "embed1": quantised(vocab[1], dims[1])}
    for l in range(2):
        P["lstm%d.w_ih" % l] = quantised(4 * H, I0 if l == 0 else H, scale=0.35)
        P["lstm%d.w_hh" % l] = quantised(4 * H, H, scale=0.35)
        P["lstm%d.b" % l] = quantised(4 * H, scale=0.35)
    P["heads.w"], P["heads.b"] = quantised(sum(heads), H, scale=0.35), quantised(sum(heads), scale=0.35)
    for p in P.values():
        p.requires_grad_(True)
    g = torch.Generator().manual_seed(5)
    ids = torch.stack([torch.randint(0, vocab[0], (T, B), generator=g),
                       torch.randint(0, vocab[1], (T, B), generator=g)], -1)
    dense = quantised(T, B, dense_in)
    targets = torch.randint(0, heads[0], (T, B), generator=g)
    targets[1, 2] = -1
    multi = (torch.rand(T, B, heads[1], generator=g) > 0.5).double()
    mask = torch.ones(T, B)
    mask[3, 0], mask[0, 1] = 0.0, 0.5
    reset = torch.zeros(T, B)
    reset[2, 1] = 1

    def forward():
        x = torch.cat([P["embed0"][ids[..., 0]], P["embed1"][ids[..., 1]], dense], -1)
        for l in range(2):
            h, c, hs = torch.zeros(B, H), torch.zeros(B, H), []
            for t in range(T):
                keep = (1 - reset[t])[:, None]
                h, c = lstm_cell_step(x[t], h * keep, c * keep, P["lstm%d.w_ih" % l],
                                      P["lstm%d.w_hh" % l], P["lstm%d.b" % l])
                hs.append(h)
            x = torch.stack(hs)
        logits = F.linear(x, P["heads.w"], P["heads.b"])
        valid = (targets >= 0).double() * mask
        ce = F.cross_entropy(logits[..., :heads[0]].reshape(-1, heads[0]), targets.clamp(min=0).reshape(-1),
                             reduction="none").reshape(T, B)
        l0 = (ce * valid).sum() / valid.sum()
        bce = F.binary_cross_entropy_with_logits(logits[..., heads[0]:], multi, reduction="none").sum(-1)
        l1 = (bce * mask).sum() / mask.sum()
        return logits, l0, l1, 1.0 * l0 + 0.5 * l1

    out = {k: v.detach().clone() for k, v in P.items()}
    logits, l0, l1, loss = forward()
    loss.backward()
    out.update({"batch.ids": ids.double(), "batch.dense": dense, "batch.targets": targets.double(),
                "batch.multi": multi, "batch.mask": mask, "batch.reset": reset,
                "expect.logits": logits, "expect.loss": loss.reshape(1),
                "expect.head_loss": torch.stack([l0, l1])})
    for k, v in P.items():
        out["grad." + k] = v.grad.clone()
    opt = torch.optim.Adam(list(P.values()), lr=1e-2)
    for step in range(2):
        opt.zero_grad()
        forward()[3].backward()
        torch.nn.utils.clip_grad_norm_(list(P.values()), 1.0)
        opt.step()
    for k, v in P.items():
        out["after." + k] = v
    hp = {"seqnet.embeds": 2, "seqnet.embed0.vocab": vocab[0], "seqnet.embed0.dim": dims[0],
          "seqnet.embed1.vocab": vocab[1], "seqnet.embed1.dim": dims[1], "seqnet.dense_in": dense_in,
          "seqnet.layers": 2, "seqnet.hidden": H, "seqnet.heads": 2, "seqnet.head0.kind": 1,
          "seqnet.head0.size": heads[0], "seqnet.head0.weight": 1.0, "seqnet.head1.kind": 2,
          "seqnet.head1.size": heads[1], "seqnet.head1.weight": 0.5}
    save("seqnet.bmnn", out, hp)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(1234)
    dense()
    recurrent("lstm")
    recurrent("gru")
    activations()
    losses()
    adam()
    seqnet()


if __name__ == "__main__":
    main()
