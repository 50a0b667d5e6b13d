"""Independent numpy cross-check of bitsandbytes NF4 quantization, written from the published formulas.

It produces nf4-vectors.json, which Nf4QuantizerTest compares bit for bit with the Java implementation.
Formulas (bitsandbytes functional.py and its CUDA kernels):
  * NF4 codebook: the 16 values of get_4bit_type("nf4").
  * absmax per block of 64 = max |x|; x is scaled by the float32 reciprocal 1/absmax (a multiply).
  * code = number of thresholds strictly below the scaled value, the thresholds being dQuantizeNF4's
    float literals (midpoints of neighbouring codebook values); NaN (a zero block) gives code 0.
  * two codes per byte, the first element in the high nibble; an odd tail is padded with 0.
  * double quantization: offset = mean(absmax); absmax - offset is quantized to 8 bits in blocks of 256
    with create_dynamic_map(signed=True) and dQuantize's binary search with midpoint rounding.
  * dequantization: code[nibble] * absmax, with absmax = dynamic[q] * nested_absmax + offset.
Run: python3 make_nf4_vectors.py   (numpy only)
"""
import json
from decimal import Decimal
import numpy as np

f32 = np.float32

NF4 = np.array([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
                -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
                0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
                0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0], dtype=np.float64)
# dQuantizeNF4's thresholds as its source spells them (float literals, so rounded straight from decimal).
THRESHOLD_LITERALS = """-0.8480964004993439 -0.6106329262256622 -0.4599952697753906 -0.33967943489551544
    -0.23460740596055984 -0.13791173323988914 -0.045525018125772476 0.03979014977812767 0.1202552504837513
    0.2035212516784668 0.2920137718319893 0.3893125355243683 0.5016634166240692 0.6427869200706482
    0.8614784181118011""".split()


def decimal_to_f32(text):
    # numpy parses through float64 first; the nearest float32 to the exact decimal is what a C compiler takes.
    exact = Decimal(text)
    guess = f32(float(text))
    return min([np.nextafter(guess, f32(-2)), guess, np.nextafter(guess, f32(2))],
               key=lambda v: abs(Decimal(float(v)) - exact))


THRESHOLDS = np.array([decimal_to_f32(t) for t in THRESHOLD_LITERALS], dtype=f32)
NF4_F32 = NF4.astype(f32)


def fma32(a, b, c):
    # a*b is exact in float64 for float32 inputs and the sum below is exact too, so one rounding remains.
    return f32(float(a) * float(b) + float(c))


def torch_linspace_f32(start, end, steps):
    # torch's CPU linspace for float32: start + step*i below the half way point, end - step*(steps-1-i)
    # above it, each contracted to one fused multiply-add by the compiler.
    s, e = f32(start), f32(end)
    step = f32((e - s) / f32(steps - 1))
    half = steps // 2
    return np.array([fma32(step, f32(i), s) if i < half else fma32(-step, f32(steps - 1 - i), e)
                     for i in range(steps)], dtype=f32)


def dynamic_map():
    data = []
    for i in range(7):
        b = torch_linspace_f32(0.1, 1.0, 2 ** i + 1)
        means = (b[:-1] + b[1:]) / f32(2)
        scaled = (f32(10.0 ** (-6 + i)) * means).astype(f32)
        data += scaled.tolist() + (-scaled).tolist()
    data += [0.0, 1.0]
    data.sort()
    return np.array(data, dtype=f32)


def dquantize(code, x):
    pivot, upper_pivot, lower_pivot = 127, 255, 0
    lower, upper = f32(-1), f32(1)
    val = code[pivot]
    i = 64
    while i > 0:
        if x > val:
            lower_pivot, lower, pivot = pivot, val, pivot + i
        else:
            upper_pivot, upper, pivot = pivot, val, pivot - i
        val = code[pivot]
        i >>= 1
    if upper_pivot == 255:
        upper = code[255]
    if lower_pivot == 0:
        lower = code[0]
    if x > val:
        return upper_pivot if x > f32((upper + val) * f32(0.5)) else pivot
    return lower_pivot if x < f32((lower + val) * f32(0.5)) else pivot


def blockwise_absmax(x, blocksize):
    n = len(x)
    blocks = (n + blocksize - 1) // blocksize
    return np.array([np.max(np.abs(x[b * blocksize:(b + 1) * blocksize])) for b in range(blocks)], dtype=f32)


def reciprocal(a):
    with np.errstate(divide='ignore'):
        return f32(1) / a


def quantize_nf4(x):
    absmax = blockwise_absmax(x, 64)
    padded = np.concatenate([x, np.zeros(len(x) % 2, dtype=f32)])
    codes = np.empty(len(padded), dtype=np.uint8)
    with np.errstate(invalid='ignore'):
        for i, v in enumerate(padded):
            scaled = f32(v * reciprocal(absmax[min(i, len(x) - 1) // 64]))
            codes[i] = 0 if np.isnan(scaled) else int(np.sum(scaled > THRESHOLDS))
    packed = ((codes[0::2] << 4) | codes[1::2]).astype(np.uint8)
    return packed, absmax


def quantize_blockwise_8bit(x, code, blocksize):
    absmax = blockwise_absmax(x, blocksize)
    with np.errstate(invalid='ignore'):
        q = np.array([dquantize(code, f32(v * reciprocal(absmax[i // blocksize]))) for i, v in enumerate(x)],
                     dtype=np.uint8)
    return q, absmax


def dequantize_nf4(packed, absmax, n):
    codes = np.empty(len(packed) * 2, dtype=np.uint8)
    codes[0::2], codes[1::2] = packed >> 4, packed & 15
    return np.array([f32(NF4_F32[codes[i]] * absmax[i // 64]) for i in range(n)], dtype=f32)


def bits(a):
    return [int(v) for v in np.asarray(a, dtype=f32).view(np.uint32)]


def case(name, x, shape):
    x = np.asarray(x, dtype=f32)
    packed, absmax = quantize_nf4(x)
    offset = f32(np.mean(absmax.astype(np.float64)))
    centred = (absmax - offset).astype(f32)
    code = dynamic_map()
    qabsmax, nested_absmax = quantize_blockwise_8bit(centred, code, 256)
    absmax_dq = np.array([f32(f32(code[q] * nested_absmax[i // 256]) + offset) for i, q in enumerate(qabsmax)],
                         dtype=f32)
    return {
        "name": name, "shape": list(shape), "input": bits(x),
        "packed": packed.tolist(), "absmax": bits(absmax),
        "dequantized": bits(dequantize_nf4(packed, absmax, len(x))),
        "nested_offset": bits([offset])[0], "nested_absmax": bits(nested_absmax), "quantized_absmax": qabsmax.tolist(),
        "dequantized_double": bits(dequantize_nf4(packed, absmax_dq, len(x))),
    }


def main():
    rng = np.random.default_rng(20261127)
    special = np.zeros(4 * 64, dtype=f32)
    special[0:15] = THRESHOLDS                      # each exactly on a threshold (absmax 1): the lower code wins
    special[15] = 1.0
    special[16:31] = np.nextafter(THRESHOLDS, f32(2))  # one ulp above: the upper code
    special[64:128] = 0.0                           # a zero block
    special[128:192] = rng.standard_normal(64).astype(f32) * f32(0.02)
    special[128 + 7] = -0.5                         # absmax from a negative element
    special[192:256] = NF4_F32[rng.integers(0, 16, 64)] * f32(3.0)  # exact codebook multiples
    cases = [
        case("special", special, (4, 64)),
        case("odd_tail", rng.standard_normal(203).astype(f32) * f32(0.05), (7, 29)),
        case("nested_two_blocks", rng.standard_normal(150 * 128).astype(f32) * f32(0.03), (150, 128)),
    ]
    with open("nf4-vectors.json", "w") as f:
        json.dump({"dynamic_map": bits(dynamic_map()), "thresholds": bits(THRESHOLDS), "cases": cases}, f)


if __name__ == "__main__":
    main()
