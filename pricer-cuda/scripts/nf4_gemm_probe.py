# The fused NF4 product (nf4_gemm.cu) on the GPU machine without Java: compiles it with NVRTC as the backend does
# (printing ptxas' registers, spills and advisories), makes its TMA descriptors as Kernels.nf4Gemm does, checks every
# entry against dequantize-in-torch-then-matmul on ragged shapes, then times one Llama-3.1-8B decoder layer's products
# (forward and input gradient) at each M given, fused against cuBLAS bf16 and against a copy of the dequantization's
# bytes before cuBLAS.
# Usage, from the repository root: python3 pricer-cuda/scripts/nf4_gemm_probe.py [M ...]
# QUICK=1 skips the checks; TILES=2,4 picks the token tiles timed; FEW=1 times the gate and down products only;
# VARIANT='old=>new@@old2=>new2' edits the source before compiling (to try a change without touching the file);
# STAGES=n sizes shared memory for a variant that changes the kernel's STAGES.
import ctypes, os, sys, torch
torch.cuda.init(); torch.zeros(1, device="cuda")
from nvrtc_probe import NF4_CODEBOOK, compile_module, cu, function, nf4_reference, random_nf4
STAGES = int(os.environ.get("STAGES", "5"))  # the kernel's STAGES: set both when a VARIANT changes it
mod = compile_module("nf4_gemm.cu", "sm_90a", os.environ.get("VARIANT", ""), report=True)
funcs = {}
def fn(name, smem):
    if name not in funcs: funcs[name] = function(mod, name, smem)
    return funcs[name]
codebook = torch.tensor(NF4_CODEBOOK, device="cuda")
def make_weight(rows, cols, g):
    w = random_nf4(rows * cols, g)
    w["deq"] = nf4_reference(w, codebook, rows * cols).reshape(rows, cols)
    return w
P = ctypes.c_void_p
U64 = ctypes.c_uint64; U32 = ctypes.c_uint32
def tensor_map(address, dtype, dims, row_bytes, box, swizzle):
    """cuTensorMapEncodeTiled for a row-major 2-D tensor: dims and box innermost first; dtype 0 uint8, 9 bf16; swizzle 3 is 128 bytes."""
    raw = ctypes.create_string_buffer(256); at = (ctypes.addressof(raw) + 63) & ~63
    rc = cu.cuTensorMapEncodeTiled(P(at), ctypes.c_int(dtype), U32(2), P(address), (U64 * 2)(*dims), (U64 * 1)(row_bytes),
                                   (U32 * 2)(*box), (U32 * 2)(1, 1), ctypes.c_int(0), ctypes.c_int(swizzle), ctypes.c_int(2), ctypes.c_int(0))
    assert rc == 0, "cuTensorMapEncodeTiled %d" % rc
    return raw, at
def launch(forward, out, a, w, addend, beta, m, n, k, tiles):
    name = "nf4_gemm_%s_%s_%d" % ("fwd" if forward else "bwd", "bf16" if out.dtype == torch.bfloat16 else "f32", tiles)
    smem = STAGES * (tiles * 8192 + 5120) + 2 * STAGES * 8 + 272 * 4 + 1024
    f = fn(name, smem)
    tokens = tensor_map(a.data_ptr(), 9, (k, m), k * 2, (64, 64 * tiles), 3)
    codes = tensor_map(w["packed"].data_ptr(), 0, (k // 2, n) if forward else (n // 2, k), k // 2 if forward else n // 2,
                       (32, 128) if forward else (64, 64), 0)
    args = [P(out.data_ptr()), P(w["codes"].data_ptr()), P(0),
            P(w["nested"].data_ptr()), P(w["nmap"].data_ptr()), ctypes.c_int(8), ctypes.c_float(w["offset"]),
            P(codebook.data_ptr()), P(addend.data_ptr() if addend is not None else 0), ctypes.c_float(beta),
            ctypes.c_int(m), ctypes.c_int(n), ctypes.c_int(k)]
    ptrs = [ctypes.cast(ctypes.pointer(args[0]), ctypes.c_void_p), P(tokens[1]), P(codes[1])] + \
           [ctypes.cast(ctypes.pointer(x), ctypes.c_void_p) for x in args[1:]]
    arr = (ctypes.c_void_p * len(ptrs))(*ptrs)
    grid = ((m + 64 * tiles - 1) // (64 * tiles), n // 128)
    rc = cu.cuLaunchKernel(f, grid[0], grid[1], 1, 288, 1, 1, smem, P(torch.cuda.current_stream().cuda_stream), arr, None)
    assert rc == 0, rc
def check(m, n, k, forward, outdtype, tiles, beta, g):
    w = make_weight(n, k, g) if forward else make_weight(k, n, g)
    a = (torch.randn(m, k, device="cuda", generator=g)).to(torch.bfloat16)
    wm = w["deq"].float().T if forward else w["deq"].float()
    ref = a.float() @ wm
    addend = torch.randn(m, n, device="cuda", generator=g).to(outdtype) if beta else None
    if beta: ref = ref + beta * addend.float()
    out = torch.full((m, n), float("nan"), device="cuda", dtype=outdtype)
    launch(forward, out, a, w, addend, beta, m, n, k, tiles); torch.cuda.synchronize()
    err = (out.float() - ref).abs().max().item(); scale = ref.abs().max().item()
    bound = (2 ** -8 if outdtype == torch.bfloat16 else 1e-5) * scale + 1e-3 * scale
    ok = err <= bound and not torch.isnan(out).any().item()
    print("check m=%d n=%d k=%d %s %s tiles=%d beta=%g: max err %.3g of %.3g %s" % (m, n, k, "fwd" if forward else "bwd", outdtype, tiles, beta, err, scale, "ok" if ok else "FAIL"))
    return ok
def bench(m, shapes, tiles_list, reps=30):
    g = torch.Generator(device="cuda"); g.manual_seed(1)
    tot = {}
    for (n, k, forward) in shapes:
        w = make_weight(n, k, g) if forward else make_weight(k, n, g)
        wb = w["deq"]; a = torch.randn(m, k, device="cuda", generator=g).to(torch.bfloat16)
        out = torch.empty(m, n, device="cuda", dtype=torch.bfloat16)
        scratch = torch.empty_like(wb); part = n * k * 5 // 4
        def cublas(): return torch.matmul(a, wb.T if forward else wb, out=out)
        def deq_cublas():
            # stands in for the dequantization's memory traffic (0.5 byte read and 2 written per element)
            scratch.view(torch.uint8)[:part].copy_(wb.view(torch.uint8)[:part])
            torch.matmul(a, scratch.T if forward else scratch, out=out)
        runs = {"cublas": cublas, "copy+cublas": deq_cublas}
        for t in tiles_list: runs["fused%d" % t] = (lambda t=t: launch(forward, out, a, w, None, 0.0, m, n, k, t))
        res = {}
        for name, f in runs.items():
            for _ in range(3): f()
            s = torch.cuda.Event(enable_timing=True); e = torch.cuda.Event(enable_timing=True)
            s.record()
            for _ in range(reps): f()
            e.record(); torch.cuda.synchronize(); res[name] = s.elapsed_time(e) / reps
            tot[name] = tot.get(name, 0) + res[name]
        fl = 2 * m * n * k
        print("m=%d n=%d k=%d %s: " % (m, n, k, "fwd" if forward else "bwd") + "  ".join("%s %.1f us (%.0f TF)" % (x, y * 1e3, fl / y / 1e9) for x, y in res.items()))
    print("TOTAL m=%d: " % m + "  ".join("%s %.3f ms (%.2f of cublas)" % (x, y, tot["cublas"] / y) for x, y in tot.items()))
if __name__ == "__main__":
    g = torch.Generator(device="cuda"); g.manual_seed(0)
    ok = True
    for (m, n, k) in ([] if os.environ.get("QUICK") else [(1, 128, 64), (37, 256, 128), (200, 384, 320), (728, 512, 1024)]):
        for fw in (True, False):
            for od in (torch.bfloat16, torch.float32):
                for t in (1, 2, 3, 4):
                    ok &= check(m, n, k, fw, od, t, 0.0, g)
                ok &= check(m, n, k, fw, od, 4, 1.0, g)
    print("ALL CHECKS", "PASSED" if ok else "FAILED")
    layer = [(4096, 4096, True), (1024, 4096, True), (1024, 4096, True), (4096, 4096, True), (14336, 4096, True), (14336, 4096, True), (4096, 14336, True),
             (4096, 4096, False), (4096, 1024, False), (4096, 1024, False), (4096, 4096, False), (4096, 14336, False), (4096, 14336, False), (14336, 4096, False)]
    for m in [int(x) for x in (sys.argv[1:] or ["728"])]:
        bench(m, layer if not os.environ.get("FEW") else layer[4:5] + layer[11:12], [int(t) for t in os.environ.get("TILES", "2,3,4").split(",")])
