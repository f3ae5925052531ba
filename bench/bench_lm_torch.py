"""bench_lm_torch.py: the PyTorch peer of bench_lm.cpp: forward + backward of the CS336 TinyStories LM.

Same config and batch (V=10000, T=256, d=512, L=4, H=16, d_ff=1344, B=8), same loss (mean
cross-entropy), the median of --runs iterations after one warm-up, per thread count.
Run with Debian's torch:  /usr/bin/python3 bench/bench_lm_torch.py --threads 1 2

torch.set_num_threads sets only torch's own (OpenMP) threads; Debian's torch multiplies matrices in
OpenBLAS, whose threads it leaves at all cores. So "N threads" also sets OpenBLAS to N (through its
C API), and each line says how many threads OpenBLAS had.
"""
import argparse
import ctypes
import ctypes.util
import json
import math
import resource
import time

import torch
import torch.nn.functional as F

V, T, D, L, H, DFF, B = 10000, 256, 512, 4, 16, 1344, 8


def rms_norm(x, w, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, pos, theta=10000.0):
    # x (B, H, T, dk); rotate interleaved pairs (x[2k], x[2k+1]) by pos * theta^(-2k/dk)
    dk = x.shape[-1]
    inv = theta ** (-torch.arange(0, dk, 2, dtype=torch.float32) / dk)
    ang = pos[:, None].float() * inv[None, :]
    cos, sin = ang.cos(), ang.sin()
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1).flatten(-2)


def make_params():
    torch.manual_seed(0)

    def lin(o, i):
        std = math.sqrt(2.0 / (i + o))
        return torch.nn.init.trunc_normal_(torch.empty(o, i), 0.0, std, -3 * std, 3 * std)

    p = {'emb': torch.randn(V, D), 'head': lin(V, D), 'lnf': torch.ones(D)}
    for i in range(L):
        for n, shape in [('q', (D, D)), ('k', (D, D)), ('v', (D, D)), ('o', (D, D)),
                         ('w1', (DFF, D)), ('w2', (D, DFF)), ('w3', (DFF, D))]:
            p[f'{i}.{n}'] = lin(*shape)
        p[f'{i}.ln1'] = torch.ones(D)
        p[f'{i}.ln2'] = torch.ones(D)
    for t in p.values():
        t.requires_grad_(True)
    return p


def forward(p, ids):
    x = p['emb'][ids]  # (B, T, D)
    pos = torch.arange(T)
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    for i in range(L):
        h = rms_norm(x, p[f'{i}.ln1'])
        q, k, v = (h @ p[f'{i}.{n}'].T for n in 'qkv')
        q, k, v = (t.view(B, T, H, D // H).transpose(1, 2) for t in (q, k, v))
        q, k = rope(q, pos), rope(k, pos)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(D // H)
        a = s.masked_fill(~mask, float('-inf')).softmax(-1) @ v
        x = x + a.transpose(1, 2).reshape(B, T, D) @ p[f'{i}.o'].T
        h = rms_norm(x, p[f'{i}.ln2'])
        x = x + (F.silu(h @ p[f'{i}.w1'].T) * (h @ p[f'{i}.w3'].T)) @ p[f'{i}.w2'].T
    return rms_norm(x, p['lnf']) @ p['head'].T


def openblas():
    """The OpenBLAS library torch has loaded (dlopen returns the loaded copy), or None."""
    for name in ('libopenblas.so.0', ctypes.util.find_library('openblas')):
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_get_num_threads()
            return lib
        except (OSError, AttributeError, TypeError):
            continue
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    ap.add_argument('--runs', type=int, default=5)
    args = ap.parse_args()
    p = make_params()
    ids = torch.randint(0, V, (B, T + 1), generator=torch.Generator().manual_seed(0))
    inputs, targets = ids[:, :-1], ids[:, 1:]
    blas = openblas()
    for threads in args.threads:
        torch.set_num_threads(threads)
        if blas is not None:
            blas.openblas_set_num_threads(threads)
        times = []
        for r in range(args.runs + 1):
            start = time.perf_counter()
            loss = F.cross_entropy(forward(p, inputs).reshape(-1, V), targets.reshape(-1))
            loss.backward()
            ms = (time.perf_counter() - start) * 1e3
            for t in p.values():
                t.grad = None
            if r > 0:
                times.append(ms)
        times.sort()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({'name': 'lm_forward_backward_B8_T256', 'peer': 'torch', 'peer_ms': round(times[len(times) // 2], 2),
                          'threads': threads, 'blas_threads': blas.openblas_get_num_threads() if blas else None,
                          'peak_rss_mb': round(rss, 1)}))


if __name__ == '__main__':
    main()
