# Would NF4 products gain from keeping the dequantized weight in L2? The dequantization writes 2 bytes an element and
# bounds the NF4 step, so this dequantizes each weight in row chunks that fit L2, hands each chunk to its GEMM at once
# (torch's cuBLAS), and then drops the chunk from L2 without writing it back (PTX discard.global.L2), against
# dequantizing the whole weight into scratch (what CudaBackend does) and against bf16 weights. One Llama-3.1-8B
# decoder layer, 728 tokens, forward (X Wᵀ, chunks give column slices of the output) and input-gradient (dY W, chunks
# are partial sums over rows; summed here in bf16, for time only: the values are not checked). Prints µs per product.
# Usage, from the repository root on the GPU machine: python3 pricer-cuda/scripts/nf4_l2_probe.py [CHUNK_MB ...]
import ctypes, os, statistics, sys, tempfile, torch
torch.cuda.init(); torch.zeros(1, device="cuda")
from nvrtc_probe import NF4_CODEBOOK, compile_module, cu, function, nf4_reference, random_nf4, timed

P = ctypes.c_void_p
M = 728
SHAPES = [("q", 4096, 4096), ("k", 1024, 4096), ("v", 1024, 4096), ("o", 4096, 4096),
          ("gate", 14336, 4096), ("up", 14336, 4096), ("down", 4096, 14336)]
props = torch.cuda.get_device_properties(0)
SMS = props.multi_processor_count
print("L2 %.1f MB, %d SMs" % (props.L2_cache_size / 2**20, SMS))
deq = function(compile_module("nf4.cu", "sm_90a"), "nf4_dequant_bf16")
DISCARD = r"""
extern "C" __global__ void discard_l2(char* p, long lines) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < lines; i += (long) gridDim.x * blockDim.x)
        asm volatile("discard.global.L2 [%0], 128;" :: "l"(p + i * 128) : "memory");
}
"""
with tempfile.TemporaryDirectory() as d:
    open(os.path.join(d, "discard.cu"), "w").write(DISCARD)
    disc = function(compile_module("discard.cu", "sm_90a", kernels=d), "discard_l2")
book = torch.tensor(NF4_CODEBOOK, device="cuda")
stream = P(torch.cuda.current_stream().cuda_stream)


def launcher(kernel, blocks, threads, args):
    ptrs = (ctypes.c_void_p * len(args))(*[ctypes.cast(ctypes.pointer(a), ctypes.c_void_p) for a in args])
    keep = (args, ptrs)
    return lambda: keep and cu.cuLaunchKernel(kernel, blocks, 1, 1, threads, 1, 1, 0, stream, ptrs, None)


def dequantizer(w, row0, rows, K, out):
    n = rows * K; e0 = row0 * K; b0 = e0 // 64
    args = [P(out.data_ptr()), P(w["packed"].data_ptr() + e0 // 2), P(w["codes"].data_ptr() + b0), P(0),
            P(w["nested"].data_ptr() + 4 * (b0 // 256)), P(w["nmap"].data_ptr()), P(book.data_ptr()), ctypes.c_int(6),
            ctypes.c_int(8), ctypes.c_float(w["offset"]), ctypes.c_long(n)]
    return launcher(deq, max(1, min((n // 64 + 255) // 256, SMS * 32)), 256, args)


def discarder(t, n_bytes):
    lines = n_bytes // 128
    return launcher(disc, max(1, min((lines + 255) // 256, SMS * 8)), 256, [P(t.data_ptr()), ctypes.c_long(lines)])


def main():
    g = torch.Generator(device="cuda"); g.manual_seed(0)
    layer = []
    for name, N, K in SHAPES:
        w = random_nf4(N * K, g)
        w.update(name=name, N=N, K=K, bf16=nf4_reference(w, book, N * K).view(N, K))
        w["x"] = torch.randn(M, K, device="cuda", dtype=torch.bfloat16, generator=g)
        w["dy"] = torch.randn(M, N, device="cuda", dtype=torch.bfloat16, generator=g)
        w["y"] = torch.empty(M, N, device="cuda", dtype=torch.bfloat16)
        w["dx"] = torch.empty(M, K, device="cuda", dtype=torch.bfloat16)
        w["dx32"] = torch.empty(M, K, device="cuda", dtype=torch.float32)
        layer.append(w)
    largest = max(N * K for _, N, K in SHAPES)
    scratch = torch.empty(largest, device="cuda", dtype=torch.bfloat16)

    def whole(w, forward):
        d = dequantizer(w, 0, w["N"], w["K"], scratch)
        W = scratch[: w["N"] * w["K"]].view(w["N"], w["K"])
        if forward: return lambda: (d(), torch.mm(w["x"], W.t(), out=w["y"]))
        return lambda: (d(), torch.mm(w["dy"], W, out=w["dx"]))

    def chunked(w, forward, chunk_bytes, discard):
        N, K = w["N"], w["K"]
        rows = max(8, min(N, chunk_bytes // (2 * K)) // 8 * 8)
        steps = []
        slots = [scratch[: rows * K], scratch[rows * K: 2 * rows * K]]
        outs = {}
        for i, r0 in enumerate(range(0, N, rows)):
            r = min(rows, N - r0)
            slot = slots[i % 2]
            W = slot[: r * K].view(r, K)
            d = dequantizer(w, r0, r, K, slot)
            x = discarder(slot, r * K * 2) if discard else (lambda: None)
            if forward:
                out = outs.setdefault(r, torch.empty(M, r, device="cuda", dtype=torch.bfloat16))
                steps.append(lambda d=d, W=W, out=out, x=x: (d(), torch.mm(w["x"], W.t(), out=out), x()))
            else:
                dy = w["dy"][:, r0: r0 + r]
                first = r0 == 0
                steps.append(lambda d=d, W=W, dy=dy, x=x, first=first: (d(), torch.mm(dy, W, out=w["dx"]) if first else
                                                                        w["dx"].addmm_(dy, W), x()))
        return lambda: [s() for s in steps]

    def bf16(w, forward):
        if forward: return lambda: torch.mm(w["x"], w["bf16"].t(), out=w["y"])
        return lambda: torch.mm(w["dy"], w["bf16"], out=w["dx"])

    variants = {"bf16": bf16, "now": whole}
    for mb in [int(a) for a in sys.argv[1:]] or [16, 32]:
        variants["chunk%d" % mb] = lambda w, f, mb=mb: chunked(w, f, mb << 20, False)
        variants["chunk%d+discard" % mb] = lambda w, f, mb=mb: chunked(w, f, mb << 20, True)
    runs = {(v, w["name"], d): make(w, d == "fwd") for v, make in variants.items() for w in layer for d in ("fwd", "bwd")}
    for f in runs.values(): f()
    times = {k: [] for k in runs}
    for _ in range(5):
        for k, f in runs.items(): times[k].append(timed(f, sleep_cycles=200_000_000))
    med = {k: statistics.median(v) for k, v in times.items()}
    for d in ("fwd", "bwd"):
        print("%-20s" % d + "".join("%8s" % w["name"] for w in layer) + "   layer  vs bf16")
        for v in variants:
            row = [med[v, w["name"], d] * 1000 for w in layer]
            base = sum(med["bf16", w["name"], d] for w in layer) * 1000
            print("%-20s" % v + "".join("%8.1f" % t for t in row) + "%8.1f  %.3f" % (sum(row), base / sum(row)))


main()
