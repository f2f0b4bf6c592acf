#!/usr/bin/env python3
"""PyTorch side of `bandmate bench nn`: the same streaming step and training step, timed here.

Prints one line per figure: `stream H MEDIAN_US P99_US` and `train TOKENS_PER_S`, then `torch VERSION`.
Run by the bench as a subprocess (python3-torch from Debian); usable by hand as well.
"""
import argparse
import time

import torch


def stream(hidden, steps, warmup):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(hidden, hidden, 2)
    x = torch.randn(1, 1, hidden)
    state = (torch.zeros(2, 1, hidden), torch.zeros(2, 1, hidden))
    times = []
    with torch.no_grad():
        for i in range(warmup + steps):
            t0 = time.perf_counter_ns()
            _, state = lstm(x, state)
            t1 = time.perf_counter_ns()
            if i >= warmup:
                times.append((t1 - t0) / 1000.0)
    times.sort()
    return times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))]


def train(steps, warmup, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    vocab, hidden, T, B = 200, 256, 64, 32
    emb = torch.nn.Embedding(vocab, hidden)
    lstm = torch.nn.LSTM(hidden, hidden, 2)
    head = torch.nn.Linear(hidden, vocab)
    params = list(emb.parameters()) + list(lstm.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    ids = torch.randint(0, vocab, (T + 1, B))
    x, y = ids[:-1], ids[1:]
    t_start = None
    for i in range(warmup + steps):
        if i == warmup:
            t_start = time.perf_counter()
        opt.zero_grad()
        out, _ = lstm(emb(x))
        loss = torch.nn.functional.cross_entropy(head(out).reshape(-1, vocab), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    return steps * T * B / (time.perf_counter() - t_start)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="128,256,512")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--train-steps", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    for h in [int(s) for s in a.sizes.split(",") if s]:
        med, p99 = stream(h, a.steps, max(50, a.steps // 10))
        print(f"stream {h} {med:.2f} {p99:.2f}", flush=True)
    if a.train_steps > 0:
        print(f"train {train(a.train_steps, 1, a.threads):.1f}", flush=True)
    print(f"torch {torch.__version__}", flush=True)


if __name__ == "__main__":
    main()
