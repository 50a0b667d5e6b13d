# What the NVRTC probes share: the CUDA driver and NVRTC through ctypes, and compiling a kernel file as the backend
# does (its directory's headers handed to NVRTC by name). Import after torch has made the device's context current.
import ctypes, glob, os, sys, time


def library(names, globs):
    for n in names:
        try: return ctypes.CDLL(n)
        except OSError: pass
    for g in globs:
        for f in sorted(glob.glob(g), reverse=True):
            try: return ctypes.CDLL(f)
            except OSError: pass
    raise SystemExit("no " + names[0])


nvrtc = library(["libnvrtc.so.13", "libnvrtc.so.12"], ["/usr/local/cuda*/lib64/libnvrtc.so*", "/usr/local/lib/python3*/dist-packages/nvidia/*/lib/libnvrtc.so*"])
cu = library(["libcuda.so.1"], [])
KERNELS = os.environ.get("KERNELS", "pricer-cuda/src/main/resources/dev/pricer/cuda/kernels")
# The lines of ptxas' report worth printing: registers, spills, and its advisories (e.g. serialized MMAs).
REPORT_WORDS = ("Compiling entry", "Used", "spill", "wgmma", "Potential", "error", "warning")


# bitsandbytes' NF4 codebook, as float32 values.
NF4_CODEBOOK = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
                -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230850219727,
                0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0]


def random_nf4(n, g):
    """A random NF4 weight of n elements as the kernels take it: packed codes, double quantization (blocks of 64, an
    8-bit code each into a sorted nested map, one nested absmax per 256 blocks) and the offset; torch tensors on the GPU."""
    import torch
    return dict(packed=torch.randint(0, 256, (n // 2,), dtype=torch.uint8, device="cuda", generator=g),
                codes=torch.randint(0, 256, (n // 64,), dtype=torch.uint8, device="cuda", generator=g),
                nested=torch.rand((n // 64 + 255) // 256, device="cuda", generator=g) * 0.02 + 0.001,
                nmap=torch.sort(torch.rand(256, device="cuda", generator=g) * 2 - 1).values, offset=0.013)


def nf4_reference(w, book, n):
    """The first n values of random_nf4's weight w in bf16, by bitsandbytes' formulas in torch (float products and sums,
    each rounded on its own, then bf16), flattened; book the codebook as a tensor."""
    import torch
    scale = w["nmap"][w["codes"].long()] * w["nested"].repeat_interleave(256)[: w["codes"].numel()] + torch.tensor(w["offset"], device="cuda")
    codes = torch.stack([(w["packed"] >> 4).long(), (w["packed"] & 15).long()], 1).reshape(-1)[:n]
    return (book[codes] * scale.repeat_interleave(64)[:n]).to(torch.bfloat16)


def timed(f, reps=10, sleep_cycles=100_000_000):
    """GPU time per call of f in ms, enqueued behind a sleeping kernel so that the host's launch rate does not count
    (launching from Python takes longer than many of these kernels run)."""
    import torch
    s = torch.cuda.Event(enable_timing=True); e = torch.cuda.Event(enable_timing=True)
    torch.cuda._sleep(sleep_cycles)
    s.record()
    for _ in range(reps): f()
    e.record(); torch.cuda.synchronize()
    return s.elapsed_time(e) / reps


def compile_module(name, arch, edits="", report=False, kernels=None):
    """Loads name from the kernels directory (default KERNELS) compiled for arch; edits ('old=>new@@old2=>new2')
    change the source first."""
    kernels = kernels or KERNELS
    src = open(os.path.join(kernels, name)).read()
    for rule in filter(None, edits.split("@@")):
        old, new = rule.split("=>"); assert old in src, old; src = src.replace(old, new)
    headers = sorted(f for f in os.listdir(kernels) if f.endswith(".cuh"))
    prog = ctypes.c_void_p()
    texts = (ctypes.c_char_p * len(headers))(*[open(os.path.join(kernels, f)).read().encode() for f in headers])
    names = (ctypes.c_char_p * len(headers))(*[f.encode() for f in headers])
    assert nvrtc.nvrtcCreateProgram(ctypes.byref(prog), src.encode(), name.encode(), len(headers), texts, names) == 0
    opts = [b"--gpu-architecture=" + arch.encode(), b"--std=c++17"] + ([b"--ptxas-options=-v"] if report else [])
    started = time.time()
    rc = nvrtc.nvrtcCompileProgram(prog, len(opts), (ctypes.c_char_p * len(opts))(*opts))
    n = ctypes.c_size_t(); nvrtc.nvrtcGetProgramLogSize(prog, ctypes.byref(n))
    log = ctypes.create_string_buffer(n.value); nvrtc.nvrtcGetProgramLog(prog, log)
    if report or rc:
        print("compile %.1f s rc %d" % (time.time() - started, rc))
        print("\n".join(l for l in log.value.decode().splitlines() if any(w in l for w in REPORT_WORDS))[:12000])
    if rc: sys.exit(1)
    nvrtc.nvrtcGetCUBINSize(prog, ctypes.byref(n)); image = ctypes.create_string_buffer(n.value); nvrtc.nvrtcGetCUBIN(prog, image)
    module = ctypes.c_void_p(); assert cu.cuModuleLoadData(ctypes.byref(module), image) == 0
    return module


def function(module, name, shared_bytes=0):
    f = ctypes.c_void_p(); assert cu.cuModuleGetFunction(ctypes.byref(f), module, name.encode()) == 0, name
    if shared_bytes: assert cu.cuFuncSetAttribute(f, 8, shared_bytes) == 0  # the dynamic shared memory it may use
    return f
