"""Checks that PyTorch takes our safetensors files as its own state_dicts, and the reverse.

Usage: torch_strict.py OURS.safetensors STEPS THEIRS.safetensors

Reads OURS with a reader of its own (the 8-byte header length, the JSON header, the raw
little-endian bytes; torch 1.13 has no safetensors reader), loads it with
load_state_dict(strict=True) into a module named as torchvision names a ResNet
(conv1, bn1, layer1.0.{conv1,bn1,downsample.0,downsample.1}, fc), checks that every
value arrived, num_batches_tracked as int64 scalars, then runs STEPS training-mode
forward passes (each adds one to every BN's num_batches_tracked) and writes the
module's state_dict to THEIRS, F32 and I64 as safetensors has them, names sorted.
"""
import json
import struct
import sys

import numpy as np
import torch
from torch import nn

DTYPES = {"F32": np.dtype("<f4"), "I64": np.dtype("<i8")}


def read(path):
    with open(path, "rb") as f:
        b = f.read()
    (n,) = struct.unpack("<Q", b[:8])
    header = json.loads(b[8 : 8 + n])
    header.pop("__metadata__", None)
    data = b[8 + n :]
    sd, dtypes = {}, {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        a = np.frombuffer(data[begin:end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
        sd[name] = torch.from_numpy(a.copy())
        dtypes[name] = (e["dtype"], e["shape"])
    return sd, dtypes


def write(path, sd):
    header, chunks, off = {}, [], 0
    for name in sorted(sd):
        t = sd[name].detach().contiguous()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        raw = t.numpy().astype(DTYPES[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        chunks.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(chunks))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(4, 4, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.downsample = nn.Sequential(nn.Conv2d(4, 4, 1, bias=False), nn.BatchNorm2d(4))

    def forward(self, x):
        return torch.relu(self.bn1(self.conv1(x)) + self.downsample(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.layer1 = nn.Sequential(Block())
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        x = self.layer1(torch.relu(self.bn1(self.conv1(x))))
        return self.fc(x.mean((2, 3)))


def main():
    ours, steps, theirs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sd, dtypes = read(ours)
    net = Net()
    net.load_state_dict(sd, strict=True)  # raises on a missing or unexpected name, or a wrong shape
    got = net.state_dict()
    for name, want in sd.items():
        have = got[name]
        if name.endswith("num_batches_tracked"):
            assert dtypes[name] == ("I64", []), f"{name}: {dtypes[name]} in the file, want I64 []"
            assert have.dtype == torch.int64 and have.dim() == 0, f"{name}: {have.dtype} {tuple(have.shape)}"
        assert torch.equal(have, want.to(have.dtype)), f"{name}: {have} loaded, the file has {want}"
    net.train()
    torch.manual_seed(0)
    with torch.no_grad():
        for _ in range(steps):
            net(torch.randn(2, 3, 6, 6))
    write(theirs, net.state_dict())
    counts = {k: int(v) for k, v in net.state_dict().items() if k.endswith("num_batches_tracked")}
    print(json.dumps(counts, sort_keys=True))


if __name__ == "__main__":
    main()
