"""make_format_golden.py: the expected strings of tests/tensor/test_format.cpp, printed by torch.

Run from the repository root with Debian's Python (it has torch):
    /usr/bin/python3 tests/golden/make_format_golden.py
It prints one C++ raw string literal per case; they are pasted into test_format.cpp (no file is
written). Each string is torch's own repr machinery (torch._tensor_str, default print options)
applied to the same tensor that the C++ test builds, with strata's two suffixes
"shape=[...]" and "dtype=..." placed by torch's suffix rule (_add_suffixes), which is what
strata's to_string promises: PyTorch's printing plus shape and dtype.
"""
import torch
from torch import _tensor_str as ts

NAMES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64", torch.int32: "int32",
         torch.uint8: "uint8", torch.bool: "bool"}


def strata_repr(t):
    prefix = "tensor("
    body = ts._tensor_str(t, len(prefix))
    suffixes = [f"shape=[{', '.join(str(s) for s in t.shape)}]", f"dtype={NAMES[t.dtype]}"]
    return ts._add_suffixes(prefix + body, suffixes, len(prefix), False)


inf, nan = float("inf"), float("nan")
CASES = {
    "int_mode_matrix": torch.tensor([[1.0, 2.0], [3.0, 4.0]]),
    "four_decimals": torch.tensor([1.5, -2.25, 3.0]),
    "sci_mode_small": torch.tensor([1e-5, 1.0, 123.456]),
    "sci_mode_int_large": torch.tensor([1e9, 1.0]),
    "nonfinite_f64": torch.tensor([0.1, nan, inf, -inf, 0.0], dtype=torch.float64),
    "zeros": torch.zeros(3),
    "nan_only": torch.tensor([nan]),
    "row_wraps": torch.arange(30, dtype=torch.float32) * 1.25 - 10,
    "bools": torch.tensor([[True, False], [False, True]]),
    "scalar": torch.tensor(3.5),
    "empty": torch.zeros(0),
    "empty_2d": torch.zeros(2, 0),
    "ints_i32": torch.tensor([-5, 10, 300], dtype=torch.int32),
    "u8": torch.tensor([[0, 7], [255, 12]], dtype=torch.uint8),
    "transposed_view": torch.arange(6).view(2, 3).t(),
    "four_dims": torch.arange(16, dtype=torch.float32).view(2, 2, 2, 2),
    "suffix_wraps": torch.full((6,), 1000000000, dtype=torch.int64),
    "summarized_1d": torch.arange(2000, dtype=torch.float32) / 8,
    "summarized_3d_i64": torch.arange(2000).view(10, 10, 20),
    "summarized_2d_f64": torch.arange(1500, dtype=torch.float64).view(50, 30) * 0.25,
}

for name, t in CASES.items():
    print(f'// {name}\nR"({strata_repr(t)})"\n')
