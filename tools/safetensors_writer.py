"""A safetensors writer for the fixture generators (the format is a u64 header length, a JSON
header, then raw little-endian data); written here so the generators need nothing beyond torch.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

_ST_DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}


def write_safetensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    if sys.byteorder != "little":
        sys.exit("the safetensors writer assumes a little-endian machine")
    header: dict[str, object] = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        raw = bytes(t.reshape(-1).view(torch.uint8).tolist())
        header[name] = {
            "dtype": _ST_DTYPES[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(head).to_bytes(8, "little"))
        f.write(head)
        for raw in blobs:
            f.write(raw)
