# Can the NF4 dequantization run on the same SMs as cuBLAS's GEMMs at once (co-resident blocks), rather than only in
# the gaps? Prints the resources of the kernels cuBLAS picks for the 8B products at 728 tokens (torch profiler), then
# times a GEMM stream (high priority) and a dequantization stream (low priority, blocks of 32 to 256 threads) alone and
# together. Usage, from the repository root on the GPU machine:
# python3 pricer-cuda/scripts/nf4_coresidency_probe.py
import ctypes, json, os, tempfile, torch
torch.cuda.init(); torch.zeros(1, device="cuda")
from nvrtc_probe import NF4_CODEBOOK, compile_module, cu, function, random_nf4

P = ctypes.c_void_p
M = 728
SMS = torch.cuda.get_device_properties(0).multi_processor_count
deq = function(compile_module("nf4.cu", "sm_90a", report=True), "nf4_dequant_bf16")
book = torch.tensor(NF4_CODEBOOK, device="cuda")
g = torch.Generator(device="cuda"); g.manual_seed(0)
lo, hi = torch.cuda.Stream(priority=0), torch.cuda.Stream(priority=-5)
shapes = {"q": (4096, 4096), "gate": (14336, 4096), "down": (4096, 14336)}
W = {k: torch.randn(n, kk, device="cuda", dtype=torch.bfloat16, generator=g) * 0.02 for k, (n, kk) in shapes.items()}
X = {k: torch.randn(M, kk, device="cuda", dtype=torch.bfloat16, generator=g) for k, (n, kk) in shapes.items()}
DY = {k: torch.randn(M, n, device="cuda", dtype=torch.bfloat16, generator=g) for k, (n, kk) in shapes.items()}

# 1. which kernels, with what resources
from torch.profiler import profile, ProfilerActivity
with profile(activities=[ProfilerActivity.CUDA]) as prof:
    for k in shapes:
        torch.mm(X[k], W[k].t()); torch.mm(DY[k], W[k])
    torch.cuda.synchronize()
trace = os.path.join(tempfile.mkdtemp(), "t.json"); prof.export_chrome_trace(trace)
for e in json.load(open(trace))["traceEvents"]:
    if e.get("cat") == "kernel":
        a = e.get("args", {})
        print("%-70s grid %s block %s regs %s smem %s+%s occ %s%%" % (e["name"][:70], a.get("grid"), a.get("block"),
              a.get("registers per thread"), a.get("shared memory"), a.get("dynamic shared memory", ""), a.get("est. achieved occupancy %")))

# 2. GEMMs and dequantizations alone and together
w = random_nf4(14336 * 4096, g); n = 14336 * 4096
out = torch.empty(n, device="cuda", dtype=torch.bfloat16)
def launcher(threads, blocks, stream):
    args = [P(out.data_ptr()), P(w["packed"].data_ptr()), P(w["codes"].data_ptr()), P(0), P(w["nested"].data_ptr()),
            P(w["nmap"].data_ptr()), P(book.data_ptr()), ctypes.c_int(6), ctypes.c_int(8), ctypes.c_float(w["offset"]), ctypes.c_long(n)]
    ptrs = (ctypes.c_void_p * len(args))(*[ctypes.cast(ctypes.pointer(a), ctypes.c_void_p) for a in args])
    s = P(stream.cuda_stream)
    return lambda: (args, cu.cuLaunchKernel(deq, blocks, 1, 1, threads, 1, 1, 0, s, ptrs, None))

def gemms(k, reps):
    for _ in range(reps): torch.mm(X[k], W[k].t()); torch.mm(DY[k], W[k])

def run(k, reps, dq, dq_reps):
    """ms of the GEMM stream and of the dequantization stream, started together behind one sleep."""
    ev = [torch.cuda.Event(enable_timing=True) for _ in range(4)]
    with torch.cuda.stream(hi): torch.cuda._sleep(100_000_000); ev[0].record(hi)
    lo.wait_event(ev[0])
    if reps:
        with torch.cuda.stream(hi): gemms(k, reps)
    ev[1].record(hi)
    ev[2].record(lo)
    for _ in range(dq_reps): dq()
    ev[3].record(lo)
    torch.cuda.synchronize()
    return ev[0].elapsed_time(ev[1]), ev[2].elapsed_time(ev[3]), ev[0].elapsed_time(ev[3])

for k in ("q", "gate", "down"):
    for threads, per_sm in ((256, 32), (128, 2), (64, 2), (32, 4), (32, 1)):
        dq = launcher(threads, SMS * per_sm, lo)
        for _ in range(2): run(k, 10, dq, 3)
        g_alone = min(run(k, 10, dq, 0)[0] for _ in range(3))
        d_alone = min(run(k, 0, dq, 3)[1] for _ in range(3))
        both = min((run(k, 10, dq, 3) for _ in range(3)), key=lambda t: t[0])
        print("%-5s dequant %3d threads x %3d blocks/SM: gemms alone %.3f ms, 3 dequants alone %.3f ms; together: gemms %.3f, dequants %.3f (from start), sum alone %.3f"
              % (k, threads, per_sm, g_alone, d_alone, both[0], both[2], g_alone + d_alone))
