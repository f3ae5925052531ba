#!/usr/bin/python3
"""make_lm_golden.py: PyTorch reference values for strata's Transformer LM (tests/nn/test_lm_golden.cpp,
tests/nn/test_lm_train.cpp and the `strata lm-check` end-to-end test).

Run with Debian's torch (1.13):  /usr/bin/python3 tests/golden/make_lm_golden.py
It rewrites tests/fixtures/nn/golden/ (a few hundred KB). The C++ tests never run Python.

The model is the CS336 assignment-1 Transformer LM, written here from the handout in plain torch ops
(independently of strata's C++; RoPE is done with complex numbers instead of the real 2x2 rotation):

  x = token_embeddings[ids]                                       (B, T, d)
  per layer (pre-norm):  h = x + attn(ln1(x));  x = h + ffn(ln2(h))
            (post-norm): z = ln1(x + attn(x));  x = ln2(z + ffn(z))
            (no norm):   h = x + attn(x);       x = h + ffn(h)
  logits = lm_head(ln_final(x))   (ln_final dropped only by remove_rmsnorm)
  attn: causal multi-head self-attention, head h owns rows h*dk..(h+1)*dk of q/k/v_proj, RoPE on q and k
        at positions 0..T-1 (pairs (x[2i], x[2i+1]) rotated by pos * theta^(-2i/dk)) unless remove_rope.
  ffn:  SwiGLU  w2(silu(w1 x) * w3 x)   or (ffn_type "silu")  w2(silu(w1 x))
  loss = mean cross-entropy of logits against targets.

Everything is computed in float64, so the stored values are exact to float32 rounding and the C++ float32
results differ from them only by strata's own rounding. Outputs (all float32 tensors, int64 token files):

  tokens.npy, targets.npy                 int64 (B, T), shared by every variant
  <variant>.config.json                    the model config (CS336 model_config.json keys)
  <variant>.weights.safetensors            every parameter by its dotted name
  <variant>.expected.safetensors           exactly what `strata lm-check` writes:
      logits (B, T, V), loss (0-d), grad.<name> for every parameter, and for the variant "base" also
      losses (STEPS,) (the loss before each torch.optim.AdamW step on the same batch) and final.<name>
      (the parameters after those steps). The AdamW settings are in the file's __metadata__.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

from safetensors_file import save_safetensors, torch_entry

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "nn", "golden")

BASE_CONFIG = {
    "vocab_size": 61,       # prime, so a transposed (V, d) layout cannot pass by accident
    "context_length": 16,
    "d_model": 32,
    "num_layers": 2,
    "num_heads": 4,         # d_k = 8
    "d_ff": 40,
    "rope_theta": 10000.0,
    "remove_rmsnorm": False,
    "use_post_norm": False,
    "remove_rope": False,
    "ffn_type": "swiglu",
}
VARIANTS = {
    "base": {},
    "remove_rmsnorm": {"remove_rmsnorm": True},
    "use_post_norm": {"use_post_norm": True},
    "remove_rope": {"remove_rope": True},
    "ffn_silu": {"ffn_type": "silu"},
}
BATCH, SEQ = 3, 12          # T = 12 < context_length = 16: positions need not fill the context
ADAMW = {"steps": 10, "lr": 1e-2, "beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "weight_decay": 0.1}
SEED = 20240603


# ---- the model ---------------------------------------------------------------------------------
def param_shapes(cfg):
    """Dotted name -> shape, in the registration order of the CS336 reference model."""
    d, f, v = cfg["d_model"], cfg["d_ff"], cfg["vocab_size"]
    shapes = {"token_embeddings.weight": (v, d)}
    for i in range(cfg["num_layers"]):
        p = f"layers.{i}."
        if not cfg["remove_rmsnorm"]:
            shapes[p + "ln1.weight"] = (d,)
        for proj in ("q_proj", "k_proj", "v_proj", "output_proj"):
            shapes[p + f"attn.{proj}.weight"] = (d, d)
        if not cfg["remove_rmsnorm"]:
            shapes[p + "ln2.weight"] = (d,)
        shapes[p + "ffn.w1.weight"] = (f, d)
        shapes[p + "ffn.w2.weight"] = (d, f)
        if cfg["ffn_type"] == "swiglu":
            shapes[p + "ffn.w3.weight"] = (f, d)
    if not cfg["remove_rmsnorm"]:
        shapes["ln_final.weight"] = (d,)
    shapes["lm_head.weight"] = (v, d)
    return shapes


def init_params(cfg):
    """The handout's initialisation (torch.nn.init.trunc_normal_, from the global seeded generator), except
    RMSNorm gains U(0.5, 1.5) instead of 1, so the test sees the gains."""
    params = {}
    for name, shape in param_shapes(cfg).items():
        t = torch.empty(shape, dtype=torch.float64)
        if name.endswith("ln1.weight") or name.endswith("ln2.weight") or name.startswith("ln_final"):
            torch.nn.init.uniform_(t, 0.5, 1.5)
        elif name.startswith("token_embeddings"):
            torch.nn.init.trunc_normal_(t, mean=0.0, std=1.0, a=-3.0, b=3.0)
        else:
            std = math.sqrt(2.0 / (shape[0] + shape[1]))
            torch.nn.init.trunc_normal_(t, mean=0.0, std=std, a=-3 * std, b=3 * std)
        # Round to float32 first: the stored weights are float32, and the reference must use exactly them.
        params[name] = t.float().double().requires_grad_(True)
    return params


def rms_norm(x, g, eps=1e-5):
    return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g


def rope(x, theta):
    """x (B, H, T, dk): rotate each pair (x[2i], x[2i+1]) as the complex number x[2i] + i x[2i+1]."""
    T, dk = x.shape[-2], x.shape[-1]
    pos = torch.arange(T, dtype=torch.float64)
    freq = theta ** (-torch.arange(0, dk, 2, dtype=torch.float64) / dk)       # (dk/2,)
    rot = torch.polar(torch.ones(T, dk // 2, dtype=torch.float64), pos[:, None] * freq[None, :])
    xc = torch.view_as_complex(x.reshape(*x.shape[:-1], dk // 2, 2).contiguous())
    return torch.view_as_real(xc * rot).reshape(x.shape)


def attention(x, p, prefix, cfg):
    B, T, d = x.shape
    H = cfg["num_heads"]
    dk = d // H

    def heads(w):  # (B, T, d) @ w.T -> (B, H, T, dk)
        return (x @ p[prefix + w].T).view(B, T, H, dk).transpose(1, 2)

    q, k, v = heads("q_proj.weight"), heads("k_proj.weight"), heads("v_proj.weight")
    if not cfg["remove_rope"]:
        q, k = rope(q, cfg["rope_theta"]), rope(k, cfg["rope_theta"])
    scores = q @ k.transpose(-1, -2) / math.sqrt(dk)                       # (B, H, T, T)
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    scores = scores.masked_fill(~causal, float("-inf"))
    out = torch.softmax(scores, dim=-1) @ v                                 # (B, H, T, dk)
    out = out.transpose(1, 2).reshape(B, T, d)
    return out @ p[prefix + "output_proj.weight"].T


def ffn(x, p, prefix, cfg):
    a = F.silu(x @ p[prefix + "w1.weight"].T)
    if cfg["ffn_type"] == "swiglu":
        a = a * (x @ p[prefix + "w3.weight"].T)
    return a @ p[prefix + "w2.weight"].T


def forward(p, ids, cfg):
    x = p["token_embeddings.weight"][ids]
    for i in range(cfg["num_layers"]):
        pre = f"layers.{i}."
        attn = lambda t: attention(t, p, pre + "attn.", cfg)
        mlp = lambda t: ffn(t, p, pre + "ffn.", cfg)
        if cfg["remove_rmsnorm"]:
            x = x + attn(x)
            x = x + mlp(x)
        elif cfg["use_post_norm"]:
            x = rms_norm(x + attn(x), p[pre + "ln1.weight"])
            x = rms_norm(x + mlp(x), p[pre + "ln2.weight"])
        else:
            x = x + attn(rms_norm(x, p[pre + "ln1.weight"]))
            x = x + mlp(rms_norm(x, p[pre + "ln2.weight"]))
    if not cfg["remove_rmsnorm"]:
        x = rms_norm(x, p["ln_final.weight"])
    return x @ p["lm_head.weight"].T


def loss_of(logits, targets):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


# ---- files -------------------------------------------------------------------------------------
def save_float32(path, tensors, metadata=None):
    """Every tensor as float32 (0-d tensors stay 0-d), in a safetensors file."""
    save_safetensors(path, {name: torch_entry(t.float()) for name, t in tensors.items()}, metadata)


def make_variant(name, overrides, ids, targets):
    cfg = dict(BASE_CONFIG, **overrides)
    params = init_params(cfg)
    with open(os.path.join(OUT_DIR, f"{name}.config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    save_float32(os.path.join(OUT_DIR, f"{name}.weights.safetensors"), params)

    logits = forward(params, ids, cfg)
    loss = loss_of(logits, targets)
    loss.backward()
    out = {"logits": logits, "loss": loss}
    for n, p in params.items():
        out["grad." + n] = p.grad.clone()
    metadata = {"variant": name, "generator": "tests/golden/make_lm_golden.py", "torch": torch.__version__,
                "compute_dtype": "float64"}

    if name == "base":
        opt = torch.optim.AdamW(params.values(), lr=ADAMW["lr"], betas=(ADAMW["beta1"], ADAMW["beta2"]),
                                eps=ADAMW["eps"], weight_decay=ADAMW["weight_decay"])
        losses = []
        for _ in range(ADAMW["steps"]):
            opt.zero_grad()
            step_loss = loss_of(forward(params, ids, cfg), targets)
            losses.append(step_loss.item())
            step_loss.backward()
            opt.step()
        out["losses"] = torch.tensor(losses, dtype=torch.float64)
        for n, p in params.items():
            out["final." + n] = p.detach().clone()
        metadata.update({k: repr(v) for k, v in ADAMW.items()})
        print(f"{name}: losses {[round(x, 5) for x in losses]}")

    save_float32(os.path.join(OUT_DIR, f"{name}.expected.safetensors"), out, metadata)
    print(f"{name}: {len(params)} parameters, loss {loss.item():.6f}")


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    torch.manual_seed(SEED)
    ids = torch.randint(0, BASE_CONFIG["vocab_size"], (BATCH, SEQ))
    targets = torch.randint(0, BASE_CONFIG["vocab_size"], (BATCH, SEQ))
    np.save(os.path.join(OUT_DIR, "tokens.npy"), ids.numpy().astype(np.int64))
    np.save(os.path.join(OUT_DIR, "targets.npy"), targets.numpy().astype(np.int64))
    for name, overrides in VARIANTS.items():
        make_variant(name, overrides, ids, targets)


if __name__ == "__main__":
    main()
