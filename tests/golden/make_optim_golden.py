#!/usr/bin/python3
"""make_optim_golden.py: torch.optim reference trajectories for strata's AdamW and SGD
(tests/optim/test_adamw.cpp, tests/optim/test_sgd.cpp).

Run with Debian's torch (1.13):  /usr/bin/python3 tests/golden/make_optim_golden.py
It rewrites tests/fixtures/optim/optim_golden.safetensors (about 100 KB). The C++ tests never run Python.

Each case runs a torch optimizer for STEPS steps on three parameters of different sizes and gradient
scales, once in float32 and once in float64:

  p0 (3, 5)   gradients ~ N(0, 1)
  p1 (67,)    gradients ~ N(0, 1) * 1e-3   (67 = 4*16 + 3: full SIMD batches plus a partial one)
  p2 (5,)     gradients ~ N(0, 1) * 1e-9   (AdamW: sqrt(v) is below eps, so eps shapes the step)

The initial values and gradients are drawn in float64 and rounded to float32 for the float32 run, so both
runs see the same numbers. Some cases change the learning rate between steps (as a schedule would) and
give a parameter no gradient at one step (torch then skips it: no update, no step count).

File layout (safetensors; float tensors in the case's dtype, "f32" or "f64"):
  <case>.<dtype>.init.<j>            parameter j before the first step
  <case>.<dtype>.grad.<t>.<j>        its gradient at step t = 1..STEPS (absent: no gradient that step)
  <case>.<dtype>.param.<t>.<j>       parameter j after step t
  <case>.<dtype>.state.<j>.<buffer>  the optimizer state after the last step (exp_avg, exp_avg_sq,
                                     momentum_buffer), float; and .step (int64 0-d) for AdamW
__metadata__: one entry per case, a JSON object with "optimizer" ("adamw" or "sgd"), its options
(torch names) and "lr": the learning rate used at each step.
"""
import json
import os

import torch

from safetensors_file import save_safetensors, torch_entry

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "optim",
                   "optim_golden.safetensors")
SEED = 20250611
STEPS = 5
SHAPES = [(3, 5), (67,), (5,)]
GRAD_SCALES = [1.0, 1e-3, 1e-9]

# name -> (optimizer, options without lr, lr per step, {step: [parameters without a gradient]})
CASES = {
    "adamw_defaults": ("adamw", {"betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 1e-2},
                       [1e-3] * STEPS, {}),
    "adamw_custom": ("adamw", {"betas": [0.8, 0.95], "eps": 1e-6, "weight_decay": 0.1},
                     [3e-2, 3e-2, 1.5e-2, 1e-2, 5e-3], {2: [1]}),
    "sgd_plain": ("sgd", {"momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False},
                  [0.1] * STEPS, {}),
    "sgd_momentum_wd": ("sgd", {"momentum": 0.9, "dampening": 0.0, "weight_decay": 1e-2, "nesterov": False},
                        [0.1, 0.1, 0.05, 0.05, 0.02], {3: [0]}),
    "sgd_dampening": ("sgd", {"momentum": 0.5, "dampening": 0.3, "weight_decay": 0.0, "nesterov": False},
                      [0.2] * STEPS, {}),
    "sgd_nesterov": ("sgd", {"momentum": 0.9, "dampening": 0.0, "weight_decay": 1e-3, "nesterov": True},
                     [0.05] * STEPS, {}),
}

def make_optimizer(kind, params, options, lr):
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=tuple(options["betas"]), eps=options["eps"],
                                 weight_decay=options["weight_decay"])
    return torch.optim.SGD(params, lr=lr, **options)


def run_case(name, kind, options, lrs, missing, dtype, init, grads, out):
    prefix = f"{name}.{'f32' if dtype == torch.float32 else 'f64'}"
    params = [torch.nn.Parameter(x.to(dtype).clone()) for x in init]
    opt = make_optimizer(kind, params, options, lrs[0])
    for j, p in enumerate(params):
        out[f"{prefix}.init.{j}"] = p.detach().clone()
    for t in range(1, STEPS + 1):
        for group in opt.param_groups:
            group["lr"] = lrs[t - 1]
        for j, p in enumerate(params):
            if j in missing.get(t, []):
                p.grad = None
            else:
                p.grad = grads[t - 1][j].to(dtype).clone()
                out[f"{prefix}.grad.{t}.{j}"] = p.grad.clone()
        opt.step()
        for j, p in enumerate(params):
            out[f"{prefix}.param.{t}.{j}"] = p.detach().clone()
    for j, p in enumerate(params):
        for key, value in opt.state[p].items():
            if key == "step":  # torch keeps AdamW's step as a float tensor; strata as an integer
                out[f"{prefix}.state.{j}.step"] = torch.tensor(int(value.item()), dtype=torch.int64)
            elif value is not None:
                out[f"{prefix}.state.{j}.{key}"] = value.detach().clone()


def main():
    torch.manual_seed(SEED)
    init = [torch.randn(s, dtype=torch.float64) for s in SHAPES]
    grads = [[torch.randn(s, dtype=torch.float64) * scale for s, scale in zip(SHAPES, GRAD_SCALES)]
             for _ in range(STEPS)]
    # Round once to float32 and use those values for both runs.
    init = [x.float().double() for x in init]
    grads = [[g.float().double() for g in step] for step in grads]

    out, metadata = {}, {}
    for name, (kind, options, lrs, missing) in CASES.items():
        metadata[name] = json.dumps({"optimizer": kind, **options, "lr": lrs,
                                     "torch": torch.__version__})
        for dtype in (torch.float32, torch.float64):
            run_case(name, kind, options, lrs, missing, dtype, init, grads, out)
    save_safetensors(OUT, {name: torch_entry(t) for name, t in out.items()}, metadata)
    print(f"wrote {len(out)} tensors to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
