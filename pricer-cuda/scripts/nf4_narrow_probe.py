# How fast the NF4 dequantization runs on the few SMs a GEMM leaves it (Nf4Scratch starts the MLP's dequantizations
# beside GEMMs planned for all but PRICER_NF4_BESIDE SMs): a kernel that holds one SM per block for a while takes all
# but FREE of the GPU's SMs, then a gate-sized dequantization (or a fill or copy of as many bytes, the memory system's
# own rates, by plain and by TMA bulk stores) runs on the rest and is timed by events on its own stream. Prints ms and
# GB/s, in all and an SM, for each FREE. On an H200 an SM stores at most about 32 GB/s whatever the kernel, so a
# gate-sized dequantization needs about 3.6 SM-milliseconds: more than the 16 SMs beside a GEMM give it in the GEMM's
# time (BENCHMARKS.md, QLoRA on the GPU).
# Usage, from the repository root on the GPU machine: python3 pricer-cuda/scripts/nf4_narrow_probe.py [FREE ...]
import ctypes, os, sys, tempfile, time, torch
torch.cuda.init(); torch.zeros(1, device="cuda")
from nvrtc_probe import NF4_CODEBOOK, compile_module, cu, function, random_nf4

P = ctypes.c_void_p
SMS = torch.cuda.get_device_properties(0).multi_processor_count
HOLD_SHARED = 227 * 1024  # all of an SM's shared memory a block may take; with 1024 threads of 64 registers, a whole SM
hold_dir = tempfile.mkdtemp()
with open(os.path.join(hold_dir, "hold.cu"), "w") as f:
    f.write('extern "C" __global__ void __launch_bounds__(1024, 1) hold(long long cycles, int* sink) {\n'
            '  extern __shared__ int s[]; float r[60]; long long t0 = clock64();\n'
            '  for (int i = 0; i < 60; i++) r[i] = (float) (t0 >> i);\n'
            '  while (clock64() - t0 < cycles) {\n'
            '    for (int i = 0; i < 60; i++) r[i] = r[i] * 0.999f + r[(i + 1) % 60];\n  }\n'
            '  float sum = 0.f; for (int i = 0; i < 60; i++) sum += r[i];\n'
            '  if (cycles < 0) sink[0] = s[threadIdx.x] + (int) sum;\n}\n')
    f.write('extern "C" __global__ void bulk_fill(char* out, long bytes, int chunk) {\n'
            '  extern __shared__ __align__(128) int buf[];\n'
            '  for (int i = threadIdx.x; i < chunk / 4; i += blockDim.x) buf[i] = 0x3f803f80;\n'
            '  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");\n'
            '  __syncthreads();\n'
            '  if (threadIdx.x != 0) return;\n'
            '  unsigned int src = (unsigned int) __cvta_generic_to_shared(buf);\n'
            '  for (long off = (long) blockIdx.x * chunk; off < bytes; off += (long) gridDim.x * chunk) {\n'
            '    asm volatile("cp.async.bulk.global.shared::cta.bulk_group [%0], [%1], %2;" :: "l"(out + off), "r"(src), "r"(chunk) : "memory");\n'
            '    asm volatile("cp.async.bulk.commit_group;" ::: "memory");\n'
            '  }\n'
            '  asm volatile("cp.async.bulk.wait_group 0;" ::: "memory");\n}\n')
holds = compile_module("hold.cu", "sm_90a", report=True, kernels=hold_dir)
hold = function(holds, "hold", HOLD_SHARED)
BULK_CHUNK = 32 * 1024
bulk = function(holds, "bulk_fill", BULK_CHUNK)
deq = function(compile_module("nf4.cu", "sm_90a"), "nf4_dequant_bf16")
book = torch.tensor(NF4_CODEBOOK, device="cuda")
g = torch.Generator(device="cuda"); g.manual_seed(0)
n = 14336 * 4096
w = random_nf4(n, g)
out = torch.empty(n, device="cuda", dtype=torch.bfloat16)
source = torch.empty(n * 5 // 4, device="cuda", dtype=torch.uint8)
copy_into = out.view(torch.uint8)[: source.numel()]
sink = torch.zeros(1, device="cuda", dtype=torch.int32)
holder, worker = torch.cuda.Stream(priority=-5), torch.cuda.Stream(priority=0)


def launch(f, blocks, threads, shared, stream, args):
    ptrs = (ctypes.c_void_p * len(args))(*[ctypes.cast(ctypes.pointer(a), ctypes.c_void_p) for a in args])
    assert cu.cuLaunchKernel(f, blocks, 1, 1, threads, 1, 1, shared, P(stream.cuda_stream), ptrs, None) == 0


def dequantizer(blocks):
    args = [P(out.data_ptr()), P(w["packed"].data_ptr()), P(w["codes"].data_ptr()), P(0), P(w["nested"].data_ptr()),
            P(w["nmap"].data_ptr()), P(book.data_ptr()), ctypes.c_int(6), ctypes.c_int(8), ctypes.c_float(w["offset"]),
            ctypes.c_long(n)]
    return lambda: launch(deq, blocks, 256, 0, worker, args)


def narrow(free, work):
    """ms of work on the worker stream while all but free SMs are held."""
    torch.cuda.synchronize()
    if free < SMS:
        launch(hold, SMS - free, 1024, HOLD_SHARED, holder, [ctypes.c_longlong(20_000_000), P(sink.data_ptr())])
        time.sleep(0.002)  # the holding blocks are resident before the work is launched
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    with torch.cuda.stream(worker): torch.cuda._sleep(1_000_000)  # the work is enqueued before it starts
    s.record(worker)
    with torch.cuda.stream(worker): work()
    e.record(worker)
    torch.cuda.synchronize()
    return s.elapsed_time(e)


def bulk_filler(blocks):
    args = [P(out.data_ptr()), ctypes.c_long(n * 2), ctypes.c_int(BULK_CHUNK)]
    return lambda: launch(bulk, blocks, 128, BULK_CHUNK, worker, args)


def candidates(free):
    """name: (work, bytes it moves)"""
    dequant_bytes = n * 2 + n // 2 + n // 64  # bf16 values written; codes and scale codes read
    return {
        "dequant, 32 blocks an SM of the GPU (the backend's)": (dequantizer(SMS * 32), dequant_bytes),
        "dequant, 8 blocks a free SM": (dequantizer(free * 8), dequant_bytes),
        "fill of the bf16 values (writes only)": (lambda: out.fill_(1.0), n * 2),
        "copy of as many bytes (1.25 read, 1.25 written)": (lambda: copy_into.copy_(source), source.numel() * 2),
        "fill by TMA bulk stores, 1 block a free SM": (bulk_filler(free), n * 2),
        "fill by TMA bulk stores, 4 blocks a free SM": (bulk_filler(free * 4), n * 2),
    }


for free in [int(a) for a in sys.argv[1:]] or [SMS, 32, 24, 16, 12, 8]:
    for name, (work, moved) in candidates(free).items():
        for _ in range(2): narrow(free, work)
        ms = min(narrow(free, work) for _ in range(5))
        print("%3d free SMs  %-52s %.4f ms  %7.1f GB/s  %5.1f GB/s an SM" % (free, name, ms, moved / ms / 1e6, moved / ms / 1e6 / free))
