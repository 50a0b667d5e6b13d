# The NF4 dequantization kernel (nf4.cu) against the memory system's own rates, on the GPU machine without Java: one
# Llama-3.1-8B decoder layer's seven weights dequantized in turn into one bf16 scratch buffer (as a training step does,
# 64 times), against a device copy moving as many bytes (1.25 read and 1.25 written per element) and a fill of the
# scratch (the 2 bytes written alone). Each kernel is first checked bit for bit against the same formulas in torch
# (float products and sums, each rounded on its own, then bf16), on a layer's weight and on a ragged length that ends
# inside a 1024-element group. Then every candidate and the references are timed in turns, ROUNDS times, each turn
# enqueued behind a sleeping kernel (launching from Python takes longer than a small dequantization runs). Prints each one's best and median layer, its rate and a step's estimate (64 layers' passes), then each weight timed alone against a copy of its bytes.
# Usage, from the repository root: python3 pricer-cuda/scripts/nf4_dequant_probe.py [NAME=KERNELS_DIR[:BLOCKS_PER_SM] ...]
# Without arguments: the tree's nf4.cu at Kernels.nf4Dequantize's grid (32 blocks an SM at most). A NAME ending in !
# skips the check (a variant that only mimics the kernel's memory traffic).
import ctypes, statistics, sys, torch
torch.cuda.init(); torch.zeros(1, device="cuda")
from nvrtc_probe import KERNELS, NF4_CODEBOOK, compile_module, cu, function, nf4_reference, random_nf4, timed

P = ctypes.c_void_p
SHAPES = [("q", 4096 * 4096), ("k", 1024 * 4096), ("v", 1024 * 4096), ("o", 4096 * 4096),
          ("gate", 14336 * 4096), ("up", 14336 * 4096), ("down", 4096 * 14336)]
SMS = torch.cuda.get_device_properties(0).multi_processor_count
ROUNDS = 9


def main():
    g = torch.Generator(device="cuda"); g.manual_seed(0)
    layer = [dict(random_nf4(n, g), name=name, n=n) for name, n in SHAPES]
    book = torch.tensor(NF4_CODEBOOK, device="cuda")
    largest = max(n for _, n in SHAPES)
    room = torch.empty(largest * 5 // 2, dtype=torch.uint8, device="cuda")  # a copy's destination; its start the scratch
    scratch = room[: largest * 2].view(torch.bfloat16)
    source = torch.zeros(largest * 5 // 2, dtype=torch.uint8, device="cuda")

    def dequantizer(kernel, per_sm):
        prepared = {}

        def dequantize(w):
            n = w["n"]
            if (id(w), n) not in prepared:  # built once: ctypes' argument packing is slower than the kernels
                args = [P(scratch.data_ptr()), P(w["packed"].data_ptr()), P(w["codes"].data_ptr()), P(0), P(w["nested"].data_ptr()),
                        P(w["nmap"].data_ptr()), P(book.data_ptr()), ctypes.c_int(6), ctypes.c_int(8), ctypes.c_float(w["offset"]),
                        ctypes.c_long(n)]
                ptrs = (ctypes.c_void_p * len(args))(*[ctypes.cast(ctypes.pointer(a), ctypes.c_void_p) for a in args])
                prepared[id(w), n] = (args, ptrs, max(1, min((n // 64 + 255) // 256, SMS * per_sm)),
                                      P(torch.cuda.current_stream().cuda_stream))
            _, ptrs, blocks, stream = prepared[id(w), n]
            assert cu.cuLaunchKernel(kernel, blocks, 1, 1, 256, 1, 1, 0, stream, ptrs, None) == 0
        return dequantize

    runs = {}
    singles = {}  # per candidate, each weight's dequantization alone
    for spec in sys.argv[1:] or ["tree=" + KERNELS]:
        name, where = spec.split("=", 1)
        directory, _, per_sm = where.partition(":")
        print("== %s: %s" % (name, where))
        dequantize = dequantizer(function(compile_module("nf4.cu", "sm_90a", report=True, kernels=directory), "nf4_dequant_bf16"),
                                 int(per_sm or 32))
        for w in () if name.endswith("!") else (layer[0], dict(layer[1], n=1000003)):
            scratch.fill_(float("nan")); dequantize(w); torch.cuda.synchronize()
            if not torch.equal(scratch[: w["n"]].view(torch.int16), nf4_reference(w, book, w["n"]).view(torch.int16)):
                raise SystemExit("%s: %d elements differ from torch's" % (name, w["n"]))
        runs[name] = lambda d=dequantize: [d(w) for w in layer]
        singles.setdefault(name, [lambda d=dequantize, w=w: d(w) for w in layer])
    noise = torch.randint(0, 256, source.shape, dtype=torch.uint8, device="cuda", generator=g)
    runs["copy"] = lambda: [room[: w["n"] * 5 // 4].copy_(noise[: w["n"] * 5 // 4]) for w in layer]
    runs["copy of zeros"] = lambda: [room[: w["n"] * 5 // 4].copy_(source[: w["n"] * 5 // 4]) for w in layer]
    runs["fill"] = lambda: [scratch[: w["n"]].fill_(1.0) for w in layer]
    singles["copy"] = [lambda w=w: room[: w["n"] * 5 // 4].copy_(noise[: w["n"] * 5 // 4]) for w in layer]
    for f in runs.values(): f()
    times = {name: [] for name in runs}
    for _ in range(ROUNDS):
        for name, f in runs.items(): times[name].append(timed(f))
    moved = sum(n * 5 // 2 for _, n in SHAPES)
    copy = statistics.median(times["copy"])
    for name, ms in times.items():
        best, median = min(ms), statistics.median(ms)
        print("%-8s one layer best %.3f median %.3f ms, %.0f GB/s of dequantization bytes, a step (64 passes) %.2f ms, %.2f of copy"
              % (name, best, median, moved / median / 1e6, 64 * median, copy / median))

    print("each weight alone, median of %d turns, µs (and against the copy of its bytes):" % ROUNDS)
    copies = [statistics.median(timed(f) for _ in range(ROUNDS)) for f in singles["copy"]]
    for name, fs in singles.items():
        ms = [statistics.median(timed(f) for _ in range(ROUNDS)) for f in fs]
        print("%-8s %s" % (name, "  ".join("%s %.1f (%.2f)" % (w, 1000 * t, c / t) for (w, _), t, c in zip(SHAPES, ms, copies))))


main()
