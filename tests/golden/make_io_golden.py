"""make_io_golden.py: reference files for tests/tensor/test_io.cpp, written by numpy and torch.

Run from the repository root with Debian's Python (it has numpy and torch):
    /usr/bin/python3 tests/golden/make_io_golden.py
Outputs (small, committed) in tests/fixtures/tensor/:
  v2_header.npy         an int32 (2, 3) array [[0, 1, 2], [3, 4, 5]] written by numpy as format 2.0
  half.safetensors      BF16 and F16 tensors whose 16-bit patterns come from torch's own
                        conversions, plus an F32 tensor; metadata {"source": "make_io_golden.py"}
  half_expected_bf16.npy, half_expected_f16.npy
                        torch's float32 values of those tensors (t.float()), the expected result
                        of loading them
The safetensors container is written by safetensors_file.py (the `safetensors` package is not
installed), as the format's specification describes.
"""
import os

import numpy as np
import torch

from safetensors_file import save_safetensors

OUT = os.path.join("tests", "fixtures", "tensor")


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "v2_header.npy"), "wb") as f:
        np.lib.format.write_array(f, np.arange(6, dtype="<i4").reshape(2, 3), version=(2, 0))

    inf, nan = float("inf"), float("nan")
    # Normal numbers, both zeros, the largest finite value, the smallest normal and subnormal
    # values, a value that rounds, and the non-finite ones.
    f16 = torch.tensor([[0.0, -0.0, 1.0, -2.5], [65504.0, 6.103515625e-05, 5.960464477539063e-08, 0.1],
                        [1e-6, inf, -inf, nan]], dtype=torch.float16)
    bf16 = torch.tensor([1.0, -3.140625, 1e30, 1e-39, -0.0, inf, nan, 3.0e38], dtype=torch.bfloat16)
    f32 = torch.tensor([1.5, -2.0], dtype=torch.float32)
    raw = lambda t, as_int: t.view(as_int).numpy().astype("<u2" if as_int == torch.int16 else "<f4").tobytes()
    save_safetensors(os.path.join(OUT, "half.safetensors"), {
        "bf16": ("BF16", bf16.shape, raw(bf16, torch.int16)),
        "f16": ("F16", f16.shape, raw(f16, torch.int16)),
        "f32": ("F32", f32.shape, f32.numpy().astype("<f4").tobytes()),
    }, {"source": "make_io_golden.py"})
    np.save(os.path.join(OUT, "half_expected_bf16.npy"), bf16.float().numpy())
    np.save(os.path.join(OUT, "half_expected_f16.npy"), f16.float().numpy())


if __name__ == "__main__":
    main()
