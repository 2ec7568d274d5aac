"""The safetensors format: an 8-byte little-endian header length, a JSON header (name -> dtype, shape, byte range),
then the raw little-endian data.

Written here because Debian 12 serves no `python3-safetensors` and the companion must install without PyPI; the
format is small and the reader checks every header value against the file before it trusts it.
"""

import json
import os
import struct

import torch

_DTYPES = {
    "F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8, "BOOL": torch.bool,
}
_NAMES = {v: k for k, v in _DTYPES.items()}
_MAX_HEADER = 100 << 20


def save(tensors, path, metadata=None):
    """Writes named tensors (moved to the CPU, made contiguous) to `path` via a temporary file and a rename."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        value = tensors[name].detach().cpu().contiguous()
        if value.dtype not in _NAMES:
            raise ValueError(f"{name}: dtype {value.dtype} has no safetensors name")
        data = value.reshape(-1).view(torch.uint8).numpy().tobytes() if value.numel() else b""
        header[name] = {"dtype": _NAMES[value.dtype], "shape": list(value.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    temporary = path + ".tmp"
    with open(temporary, "wb") as file:
        file.write(struct.pack("<Q", len(encoded)))
        file.write(encoded)
        for blob in blobs:
            file.write(blob)
    os.replace(temporary, path)


def load(path):
    """Reads every tensor of a file; returns (tensors, metadata)."""
    with open(path, "rb") as file:
        raw = file.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: {len(raw)} bytes is too short for a safetensors file")
    (length,) = struct.unpack("<Q", raw[:8])
    if length > _MAX_HEADER or 8 + length > len(raw):
        raise ValueError(f"{path}: header length {length} does not fit the file of {len(raw)} bytes")
    header = json.loads(raw[8:8 + length].decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    data = raw[8 + length:]
    tensors = {}
    for name, entry in header.items():
        dtype = _DTYPES.get(entry.get("dtype"))
        if dtype is None:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {entry.get('dtype')}")
        shape = [int(s) for s in entry["shape"]]
        start, end = (int(o) for o in entry["data_offsets"])
        count = 1
        for s in shape:
            count *= s
        size = torch.empty((), dtype=dtype).element_size()
        if not (0 <= start <= end <= len(data)) or end - start != count * size:
            raise ValueError(f"{path}: tensor {name} claims bytes {start}..{end}, which do not hold {shape} of {entry['dtype']}")
        buffer = bytearray(data[start:end])
        flat = torch.frombuffer(buffer, dtype=torch.uint8) if buffer else torch.empty(0, dtype=torch.uint8)
        tensors[name] = flat.view(dtype).reshape(shape).clone()
    return tensors, metadata
