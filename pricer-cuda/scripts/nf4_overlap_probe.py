# Whether dequantizing the next NF4 weight on a second stream, on a few SMs, while cuBLAS runs the current product on
# the rest, hides the dequantization (the default NF4 path's whole cost over bf16). Times one Llama-3.1-8B decoder
# layer's fourteen products (forward, then input gradients in reverse) at M tokens: bf16 weights as they are;
# dequantize-then-product on one stream (the backend's default); and the pipelined order with cuBLAS told to leave
# CARVE SMs free (cuBLASLt's SM count target) and the dequantization given BLOCKS blocks.
# Usage, from the repository root: python3 pricer-cuda/scripts/nf4_overlap_probe.py [M]
# SPLITS='carve:blocks,...' picks the pipelined variants.
import ctypes, os, sys, torch
torch.cuda.init(); torch.zeros(1, device="cuda")
from nvrtc_probe import compile_module, cu, function
SMS = torch.cuda.get_device_properties(0).multi_processor_count
dequant_fn = function(compile_module("nf4.cu", "sm_90"), "nf4_dequant_bf16")
codebook = torch.linspace(-1, 1, 16, device="cuda")
P = ctypes.c_void_p
def make_weight(rows, cols, g):
    n = rows * cols
    return dict(n=n, rows=rows, cols=cols,
                packed=torch.randint(0, 256, (n // 2,), dtype=torch.uint8, device="cuda", generator=g),
                codes=torch.randint(0, 256, (n // 64,), dtype=torch.uint8, device="cuda", generator=g),
                nested=torch.rand((n // 64 + 255) // 256, device="cuda", generator=g) * 0.02 + 0.001,
                nmap=torch.sort(torch.rand(256, device="cuda", generator=g) * 2 - 1).values)
def dequant(w, out, blocks, stream):
    args = [P(out.data_ptr()), P(w["packed"].data_ptr()), P(w["codes"].data_ptr()), P(0), P(w["nested"].data_ptr()),
            P(w["nmap"].data_ptr()), P(codebook.data_ptr()), ctypes.c_int(6), ctypes.c_int(8), ctypes.c_float(0.013), ctypes.c_long(w["n"])]
    arr = (ctypes.c_void_p * len(args))(*[ctypes.cast(ctypes.pointer(x), ctypes.c_void_p) for x in args])
    assert cu.cuLaunchKernel(dequant_fn, blocks, 1, 1, 256, 1, 1, 0, P(stream.cuda_stream), arr, None) == 0
def full_grid(w):
    return max(1, min((w["n"] // 64 + 255) // 256, SMS * 16))
carveout = getattr(torch._C, "_set_sm_carveout_experimental", None)
print("device", torch.cuda.get_device_name(), SMS, "SMs; torch", torch.__version__, "; sm carveout:", carveout is not None)
torch.backends.cuda.preferred_blas_library("cublaslt")
def run(m, reps=10):
    g = torch.Generator(device="cuda"); g.manual_seed(0)
    shapes = [(4096, 4096), (1024, 4096), (1024, 4096), (4096, 4096), (14336, 4096), (14336, 4096), (4096, 14336)]
    weights = [make_weight(r, c, g) for r, c in shapes]
    # forward: y = x·Wᵀ; then input gradients dx = dy·W in reverse order
    seq = [(w, True) for w in weights] + [(w, False) for w in reversed(weights)]
    acts = {}
    def act(w, fwd):
        kdim = w["cols"] if fwd else w["rows"]; ndim = w["rows"] if fwd else w["cols"]
        key = (kdim, ndim)
        if key not in acts: acts[key] = (torch.randn(m, kdim, device="cuda", generator=g).to(torch.bfloat16), torch.empty(m, ndim, device="cuda", dtype=torch.bfloat16))
        return acts[key]
    big = max(w["n"] for w in weights)
    bufs = [torch.empty(big, device="cuda", dtype=torch.bfloat16) for _ in range(2)]
    dense = [torch.empty(w["n"], device="cuda", dtype=torch.bfloat16) for w in weights]
    for w, d in zip(weights, dense): dequant(w, d, full_grid(w), torch.cuda.current_stream())
    dense_of = {id(w): d for w, d in zip(weights, dense)}
    def product(w, fwd, buf):
        a, out = act(w, fwd)
        wm = buf[: w["n"]].view(w["rows"], w["cols"])
        torch.matmul(a, wm.T if fwd else wm, out=out)
    main = torch.cuda.current_stream(); side = torch.cuda.Stream()
    def bf16():
        for w, fwd in seq: product(w, fwd, dense_of[id(w)])
    def sequential():
        for w, fwd in seq:
            dequant(w, bufs[0], full_grid(w), main); product(w, fwd, bufs[0])
    def pipelined(blocks):
        ready = [torch.cuda.Event() for _ in range(2)]; free = [torch.cuda.Event() for _ in range(2)]
        side.wait_stream(main)
        dequant(seq[0][0], bufs[0], blocks, side); ready[0].record(side)
        for i, (w, fwd) in enumerate(seq):
            main.wait_event(ready[i % 2])
            product(w, fwd, bufs[i % 2]); free[i % 2].record(main)
            if i + 1 < len(seq):
                side.wait_event(free[(i + 1) % 2]) if i >= 1 else None
                dequant(seq[i + 1][0], bufs[(i + 1) % 2], blocks, side); ready[(i + 1) % 2].record(side)
        main.wait_stream(side)
    def check():
        outs = []
        for f in (sequential, lambda: pipelined(16 * 8)):
            f(); torch.cuda.synchronize(); outs.append([t[1].clone() for t in acts.values()])
        return all(torch.equal(x, y) for x, y in zip(*outs))
    print("pipelined equals sequential:", check())
    def timed(name, f, carve=0):
        if carveout: carveout(carve)
        for _ in range(2): f()
        s = torch.cuda.Event(enable_timing=True); e = torch.cuda.Event(enable_timing=True)
        s.record()
        for _ in range(reps): f()
        e.record(); torch.cuda.synchronize()
        if carveout: carveout(0)
        ms = s.elapsed_time(e) / reps
        return name, ms
    res = [timed("bf16", bf16), timed("sequential", sequential)]
    for spec in os.environ.get("SPLITS", "0:128,8:64,16:128,16:64,24:192,32:256").split(","):
        c, b = (int(x) for x in spec.split(":"))
        res.append(timed("pipelined carve %d blocks %d" % (c, b), lambda b=b: pipelined(b), c))
    base = res[0][1]; seqt = res[1][1]
    for name, ms in res:
        print("m=%d %-32s %.3f ms  bf16/this %.3f  overhead hidden %.0f%%" % (m, name, ms, base / ms, 100 * (seqt - ms) / max(seqt - base, 1e-9)))
for m in [int(x) for x in (sys.argv[1:] or ["728"])]: run(m)
