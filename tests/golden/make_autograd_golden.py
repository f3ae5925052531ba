#!/usr/bin/python3
"""make_autograd_golden.py: PyTorch values and gradients for strata's fused autograd ops and a few
composed expressions (tests/autograd/test_golden.cpp).

Run with Debian's torch (1.13):  /usr/bin/python3 tests/golden/make_autograd_golden.py
It rewrites tests/fixtures/autograd/autograd_golden.safetensors (about 60 KB). The C++ tests never run
Python.

Every case draws its inputs in float64, rounds them to float32 and stores those float32 values; torch then
computes the output and the gradients in float64 from exactly those values. So the stored results are the
exact answer for the stored inputs up to float64 rounding, and one file serves two C++ checks: strata in
float64 (tight tolerance) and strata in float32 (its own float32 rounding only).

A case's scalar loss is L = sum(out * grad_out) with a fixed random grad_out (for the cross-entropy cases
the output is already the scalar loss and grad_out is absent).

File layout (one safetensors file):
  <case>.in.<name>     float32 input (differentiated)
  <case>.const.<name>  int64 targets / bool mask (not differentiated)
  <case>.grad_out      float64 upstream gradient, the output's shape
  <case>.out           float64 output
  <case>.grad.<name>   float64 dL/d(input)
__metadata__: "cases" (comma-separated case names) and one JSON entry per case with its parameters.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

from safetensors_file import save_safetensors, torch_entry

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "autograd",
                   "autograd_golden.safetensors")
SEED = 20240613

gen = torch.Generator().manual_seed(SEED)


def randn(*shape, scale=1.0, shift=0.0):
    """float64 values that are exactly float32 numbers."""
    return (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale + shift).float().double()


def random_mask(rows, cols):
    """Random bool mask with at least one true entry per row (every query attends somewhere)."""
    m = torch.rand(rows, cols, generator=gen) < 0.6
    m[torch.arange(rows), torch.randint(0, cols, (rows,), generator=gen)] = True
    return m


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def attention(q, k, v, mask):
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf"))
    return torch.softmax(s, -1) @ v


tensors, metadata, names = {}, {}, []


def case(name, inputs, fn, consts=None, params=None, scalar=False):
    """Records inputs, constants, output and gradients of fn(**inputs, **consts)."""
    consts = consts or {}
    leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    out = fn(**leaves, **consts)
    if scalar:
        loss = out
    else:
        grad_out = randn(*out.shape)
        tensors[f"{name}.grad_out"] = grad_out
        loss = (out * grad_out).sum()
    loss.backward()
    for k, v in inputs.items():
        tensors[f"{name}.in.{k}"] = v.float()
        tensors[f"{name}.grad.{k}"] = leaves[k].grad.detach()
    for k, v in consts.items():
        tensors[f"{name}.const.{k}"] = v
    tensors[f"{name}.out"] = out.detach()
    metadata[name] = json.dumps(params or {})
    names.append(name)


# Fused ops.
V = 11
for label, scale in [("cross_entropy", 3.0), ("cross_entropy_x1000", 1000.0)]:
    case(label, {"logits": randn(2, 3, V, scale=scale)},
         lambda logits, targets: F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1)),
         consts={"targets": torch.randint(0, V, (2, 3), generator=gen)}, scalar=True)
case("rms_norm", {"x": randn(2, 3, 16), "weight": randn(16, scale=0.1, shift=1.0)},
     lambda x, weight: rms_norm(x, weight, 1e-5), params={"eps": 1e-5})
case("silu", {"x": randn(4, 7, scale=3.0)}, lambda x: F.silu(x))
case("swiglu", {"a": randn(4, 7, scale=3.0), "b": randn(4, 7)}, lambda a, b: F.silu(a) * b)
case("sdpa_masked", {"q": randn(2, 3, 5, 4), "k": randn(2, 3, 6, 4), "v": randn(2, 3, 6, 3)},
     attention, consts={"mask": random_mask(5, 6)})
case("sdpa_causal_3d", {"q": randn(3, 7, 4), "k": randn(3, 7, 4), "v": randn(3, 7, 4)},
     attention, consts={"mask": torch.tril(torch.ones(7, 7, dtype=torch.bool))})
case("sdpa_nomask", {"q": randn(2, 4, 5), "k": randn(2, 6, 5), "v": randn(2, 6, 3)},
     lambda q, k, v: attention(q, k, v, None))


# Composed expressions (strata builds them from primitive ops).
def mlp(x, w1, b1, w2, targets):
    h = torch.tanh(x @ w1.T + b1)
    logp = torch.log_softmax(h @ w2.T, -1)
    return -logp.gather(-1, targets[:, None]).mean()


case("mlp", {"x": randn(4, 6), "w1": randn(8, 6, scale=0.5), "b1": randn(8, scale=0.1), "w2": randn(5, 8)},
     mlp, consts={"targets": torch.randint(0, 5, (4,), generator=gen)}, scalar=True)


def einsum_attention(q, k, v):
    p = torch.softmax(torch.einsum("bqd,bkd->bqk", q, k), -1)
    o = torch.einsum("bqk,bkd->bqd", p, v)          # (b, q, d)
    return o.permute(1, 0, 2).reshape(o.shape[1], -1)  # rearrange "b q d -> q (b d)"


case("einsum_attention", {"q": randn(2, 3, 4), "k": randn(2, 5, 4), "v": randn(2, 5, 6)}, einsum_attention)


def norm_stats(x):
    mu = x.mean(-1, keepdim=True)
    y = (x - mu) / torch.sqrt(x.var(-1, unbiased=False, keepdim=True) + 1e-5)
    return (F.gelu(y) * torch.sigmoid(x) + torch.clamp(x, -0.5, 0.5) + x.amax(-1, keepdim=True)
            + torch.logsumexp(x, -1, keepdim=True))


case("norm_stats", {"x": randn(3, 8)}, norm_stats)

metadata["cases"] = ",".join(names)
save_safetensors(OUT, {name: torch_entry(t) for name, t in tensors.items()}, metadata)
print(f"wrote {OUT}: {len(names)} cases, {len(tensors)} tensors, {os.path.getsize(OUT)} bytes")
