#!/usr/bin/env python3
"""Coefficients of the table-driven erf in src/Runtime/Kernels/Activation.cs (Gelu512).

erf(a) for a = |x|/sqrt(2) in [0, 4) is split into 16 intervals of width 1/4: u = 4a, i = floor(u), s = u - i in [0, 1),
erf(a) ~ p_i(s), a degree-5 polynomial interpolating erf at the 6 Chebyshev nodes of the interval (near-minimax).
Pure Python (math.erf, double); prints the C# coefficient arrays (c0..c5, one entry per interval) and the error of the
float32 evaluation (coefficients rounded to float, Horner with fused multiply-adds) against double erf on a fine grid.
Usage: python3 tools/erf_table.py
"""
import math
import struct

INTERVALS, DEGREE, WIDTH = 16, 5, 0.25


def f32(v):
    return struct.unpack("f", struct.pack("f", v))[0]


def solve(matrix, rhs):
    n = len(rhs)
    m = [row[:] + [rhs[i]] for i, row in enumerate(matrix)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(n):
            if r != c:
                k = m[r][c] / m[c][c]
                m[r] = [x - k * y for x, y in zip(m[r], m[c])]
    return [m[i][n] / m[i][i] for i in range(n)]


def fit(i):
    nodes = [0.5 + 0.5 * math.cos((2 * j + 1) * math.pi / (2 * (DEGREE + 1))) for j in range(DEGREE + 1)]
    matrix = [[s ** k for k in range(DEGREE + 1)] for s in nodes]
    return solve(matrix, [math.erf((i + s) * WIDTH) for s in nodes])


def evaluate(coefficients, s):
    p = coefficients[DEGREE]
    for k in range(DEGREE - 1, -1, -1):
        p = f32(p * s + coefficients[k])   # one rounding per step, as an FMA
    return p


tables = [[f32(c) for c in fit(i)] for i in range(INTERVALS)]
worst = 0.0
steps = 4096
for i in range(INTERVALS):
    for j in range(steps + 1):
        s = f32(j / steps if j < steps else 0.99999994)
        worst = max(worst, abs(evaluate(tables[i], s) - math.erf((i + s) * WIDTH)))
for k in range(DEGREE + 1):
    values = ", ".join(f"{tables[i][k]:.9e}f" for i in range(INTERVALS))
    print(f"    private static readonly float[] ErfC{k} = [{values}];")
print(f"// max |p - erf| over [0, 4) with float coefficients and float Horner: {worst:.3e}")
