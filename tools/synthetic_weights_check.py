#!/usr/bin/env python3
"""Independent check of the synthetic-checkpoint rules in docs/ARCHITECTURE.md ("Synthetic checkpoints").

Pure Python integers and floats, no numpy. Prints the first values of a few tensors so the C# implementation
(src/Runtime/Weights/SyntheticWeights.cs) can be pinned to them in tests/AotVit.Tests/Weights/SyntheticWeightsTests.cs.
Each value is printed as float32 bits in hex (exact) and as a decimal (for reading).

    python3 tools/synthetic_weights_check.py
"""
import math
import struct

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def fnv1a64(name: str) -> int:
    h = 0xCBF29CE484222325
    for b in name.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def rule(name: str, shape):
    """(offset, scale) or None for all zeros: the first matching row of the table."""
    if name.endswith("num_batches_tracked"):
        return None
    if name.endswith(".running_var"):
        return 1.0, 0.25
    if name.endswith(".running_mean"):
        return 0.0, 0.1
    if name.endswith("normalization.weight"):
        return 1.0, 0.2
    if name.endswith("normalization.bias"):
        return 0.0, 0.1
    if "layernorm" in name and name.endswith(".weight"):
        return 1.0, 0.1
    if "layernorm" in name and name.endswith(".bias"):
        return 0.0, 0.05
    if name.endswith("cls_token") or name.endswith("position_embeddings"):
        return 0.0, 0.5
    if name.endswith(".weight") and len(shape) >= 2:
        fan_in = 1
        for d in shape[1:]:
            fan_in *= d
        return 0.0, 1.0 / math.sqrt(fan_in)
    return 0.0, 0.05


def float32_bits(x: float) -> int:
    # struct's 'f' rounds a double to the nearest float32 (ties to even), like a C cast.
    return struct.unpack("<I", struct.pack("<f", x))[0]


def value_bits(seed: int, name: str, shape, index: int) -> int:
    r = rule(name, shape)
    if r is None:
        return 0
    offset, scale = r
    stream = mix((seed ^ fnv1a64(name)) & MASK)
    u = mix((stream + (index + 1) * GOLDEN) & MASK)
    x = (u >> 40) / float(1 << 24)
    return float32_bits(offset + scale * (2.0 * x - 1.0))


CASES = [
    # (seed, name, shape, first index)
    (0, "embeddings.cls_token", [1, 1, 768], 0),
    (0, "encoder.layer.0.attention.attention.query.weight", [768, 768], 0),
    (0, "embeddings.patch_embeddings.projection.weight", [768, 3, 32, 32], 1_000_000),
    (0, "encoder.layer.11.layernorm_after.weight", [768], 0),
    (0, "pooler.dense.bias", [768], 0),
    (0, "mobilevit.conv_stem.normalization.running_var", [16], 0),
    (0, "mobilevit.conv_stem.normalization.weight", [16], 0),
    (0xDEADBEEFCAFEF00D, "classifier.weight", [1000, 640], 639_996),
]

if __name__ == "__main__":
    for seed, name, shape, first in CASES:
        bits = [value_bits(seed, name, shape, first + k) for k in range(4)]
        floats = [struct.unpack("<f", struct.pack("<I", b))[0] for b in bits]
        print(f"seed=0x{seed:x} {name} {shape} from index {first}:")
        print("  bits   " + ", ".join(f"0x{b:08x}" for b in bits))
        print("  floats " + ", ".join(repr(f) for f in floats))
