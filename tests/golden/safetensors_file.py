"""safetensors_file.py: the safetensors writer of the golden generators (the `safetensors` package is
not installed). The format: an 8-byte little-endian header length, a JSON header (name -> dtype, shape,
data_offsets, then an optional "__metadata__" of strings) padded with spaces to a multiple of 8 bytes,
then the tensors' raw little-endian bytes in name order."""
import json
import os
import struct

import torch

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.bool: "BOOL"}


def torch_entry(t):
    """A torch tensor as the (dtype, shape, little-endian bytes) that save_safetensors takes."""
    a = t.detach().contiguous().numpy()
    return DTYPES[t.dtype], list(a.shape), a.astype(a.dtype.newbyteorder("<")).tobytes()


def save_safetensors(path, entries, metadata=None):
    """Writes `entries` (name -> (dtype, shape, raw bytes)) and `metadata` (a dict of strings) to path."""
    header, blobs, offset = {}, [], 0
    for name in sorted(entries):
        dtype, shape, raw = entries[name]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
