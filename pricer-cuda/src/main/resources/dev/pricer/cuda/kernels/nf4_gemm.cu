// The NF4 product with the dequantization inside the GEMM (Hopper, sm_90a: wgmma): no bf16 copy of the weight is
// ever written. d[m, n] = a[m, k] · op(W) + beta · addend[m, n], with a in bf16 and W in NF4 (nf4.cu's layout,
// blocks of 64 elements), either W [n, k] (a layer's forward: op(W) = Wᵀ) or W [k, n] (its input gradient: op(W) = W).
//
// The warpgroup MMA computes dᵀ: its "A" (rows M = 64 output columns, K = 16 of the reduction) comes from registers,
// where each thread decodes its own fragment from the packed codes, and its "B" (the tokens) comes from shared memory
// in the 128-byte swizzled layout, loaded with cp.async. So the weight is read once per block as 4-bit codes, and
// decoded values go straight from the decoding instructions to the tensor cores.
//
// A block of 256 threads (two warpgroups) takes 128 output columns and TILES × 64 tokens, walking the reduction in
// steps of 64 (one NF4 block of a weight row, so one scale per row and step) through STAGES buffers of shared memory.
// The decoded values are bit for bit nf4.cu's (each product rounded on its own, then rounded to bf16), so this
// product differs from dequantize-then-cuBLASLt only in the order the float sums are taken.
//
// Opt-in (PRICER_NF4_FUSED=1): it runs at about a third of cuBLASLt's rate on the 8B shapes, where dequantizing into
// scratch first costs a third. Every thread loads, decodes and multiplies in turn between block-wide barriers, and
// Nsight Compute shows warps waiting on those barriers and on shared-memory latency more than the tensor cores work;
// without the decoding it still runs at half of cuBLASLt. Reaching cuBLASLt needs TMA loads, producer and consumer
// warpgroups that meet at mbarriers instead of __syncthreads, and persistent blocks for the last partial wave.
#include "nf4.cuh"

constexpr int STAGES = 4;
constexpr int AHEAD = STAGES - 2;  // stages in flight while one is multiplied and the one before may still be read
constexpr int COLUMNS = 128;       // output columns per block: two warpgroups of 64
constexpr int STEP = 64;           // reduction elements per stage
constexpr int THREADS = 256;
// Per stage: the tokens' rows (128 bytes each, swizzled), the codes (rows padded so a warp's reads hit distinct
// banks: 48 bytes per weight row going forward, 80 per reduction row going backward), and 128 float scales.
// The whole stage stays a multiple of 1024 bytes, so every stage's tokens start on a swizzle boundary.
constexpr int CODES_BYTES = 6144;
constexpr int SCALES_BYTES = COLUMNS * 4;
constexpr int EXTRA_BYTES = 7168;
static_assert(CODES_BYTES + SCALES_BYTES <= EXTRA_BYTES && EXTRA_BYTES % 1024 == 0, "stage layout");

__device__ __forceinline__ unsigned int shared_address(const void* p) {
    return (unsigned int) __cvta_generic_to_shared(p);
}

__device__ __forceinline__ void copy16(void* dst, const void* src) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" :: "r"(shared_address(dst)), "l"(src));
}

__device__ __forceinline__ void commit_copies() { asm volatile("cp.async.commit_group;"); }

template <int PENDING>
__device__ __forceinline__ void wait_copies() { asm volatile("cp.async.wait_group %0;" :: "n"(PENDING) : "memory"); }

// A shared-memory matrix descriptor for wgmma: rows of 128 bytes in the 128-byte swizzle, 8-row groups 1024 bytes apart.
__device__ __forceinline__ unsigned long long swizzled_descriptor(unsigned int address) {
    return (unsigned long long) ((address & 0x3FFFF) >> 4) | (1ull << 16) | ((unsigned long long) (1024 >> 4) << 32) | (1ull << 62);
}

// acc (64 output columns × 64 tokens of this warpgroup) += A (registers) · B (descriptor).
__device__ __forceinline__ void mma_64x64x16(float* d, const unsigned int* a, unsigned long long b) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, "
        "{%32, %33, %34, %35}, %36, p, 1, 1, 0;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(1));
}

__device__ __forceinline__ void mma_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
__device__ __forceinline__ void mma_commit() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
template <int PENDING>
__device__ __forceinline__ void mma_wait() { asm volatile("wgmma.wait_group.sync.aligned %0;" :: "n"(PENDING) : "memory"); }

struct Nf4Scales {
    const unsigned char* codes;  // null: plain float absmax
    const float* absmax;
    const float* nested_absmax;
    const float* nested_map;
    int nested_shift;
    float offset;
};

// What one thread prefetches into registers for the scale it computes a stage ahead.
struct PendingScale {
    float value;  // absmax, or the nested map's entry is looked up later from code
    float nested;
    unsigned int code;
};

__device__ __forceinline__ PendingScale fetch_scale(const Nf4Scales& s, long block) {
    PendingScale p;
    if (s.codes == 0) {
        p.value = __ldg(s.absmax + block);
        p.nested = 0.f;
        p.code = 0;
    } else {
        p.value = 0.f;
        p.code = __ldg(s.codes + block);
        p.nested = __ldg(s.nested_absmax + (block >> s.nested_shift));
    }
    return p;
}

__device__ __forceinline__ float resolve_scale(const Nf4Scales& s, const float* map, PendingScale p) {
    return s.codes == 0 ? p.value : nf4_nested_scale(map[p.code], p.nested, s.offset);
}

// The NF4 block of the scale thread `slot` (0..127) needs at reduction step `kt`: going forward the block of weight
// row column0 + slot; going backward the block of reduction row kt·64 + slot % 64 and output columns of warpgroup slot / 64.
template <bool FORWARD>
__device__ __forceinline__ long scale_block(int slot, int kt, int n, int k, int column0) {
    if (FORWARD) return (long) (column0 + slot) * (k / STEP) + kt;
    return ((long) kt * STEP + (slot & 63)) * (n / STEP) + (column0 / STEP) + (slot >> 6);
}

template <typename Out, bool FORWARD, int TILES>
__device__ void nf4_gemm(Out* d, const bf16* a, const unsigned char* packed, Nf4Scales scales, const float* codebook,
                         const Out* addend, float beta, int m, int n, int k) {
    constexpr int TOKENS = 64 * TILES;
    constexpr int TOKEN_BYTES = TOKENS * 128;
    constexpr int STAGE_BYTES = TOKEN_BYTES + EXTRA_BYTES;
    extern __shared__ unsigned char raw_shared[];
    // wgmma's swizzle works on address bits, so the tokens' tiles start at 1024-byte boundaries.
    unsigned char* shared = raw_shared + ((1024 - (shared_address(raw_shared) & 1023)) & 1023);
    float* book = (float*) (shared + STAGES * STAGE_BYTES);
    float* map = book + 16;

    int tid = threadIdx.x, group = tid >> 7, warp = (tid >> 5) & 3, lane = tid & 31, g = lane >> 2, t = lane & 3;
    int token0 = blockIdx.x * TOKENS, column0 = blockIdx.y * COLUMNS;
    int steps = k / STEP;
    if (tid < 16) book[tid] = codebook[tid];
    if (scales.codes != 0) map[tid] = scales.nested_map[tid];

    auto tokens_of = [&](int s) { return shared + (s % STAGES) * STAGE_BYTES; };
    auto codes_of = [&](int s) { return tokens_of(s) + TOKEN_BYTES; };
    auto scales_of = [&](int s) { return (float*) (tokens_of(s) + TOKEN_BYTES + CODES_BYTES); };

    auto load_stage = [&](int kt) {
        unsigned char* tile = tokens_of(kt);
#pragma unroll
        for (int i = 0; i < TOKENS * 8 / THREADS; i++) {
            int chunk = tid + i * THREADS, row = chunk >> 3, part = chunk & 7;
            int token = min(token0 + row, m - 1);  // rows past m are never stored, so any real row will do
            copy16(tile + row * 128 + ((part ^ (row & 7)) << 4), a + (long) token * k + kt * STEP + part * 8);
        }
        unsigned char* codes = codes_of(kt);
        if (FORWARD) {  // 128 weight rows of 32 bytes
            int row = tid >> 1, half = tid & 1;
            copy16(codes + row * 48 + half * 16, packed + ((long) (column0 + row) * k + kt * STEP) / 2 + half * 16);
        } else {  // 64 reduction rows of 64 bytes (128 output columns)
            int row = tid >> 2, part = tid & 3;
            copy16(codes + row * 80 + part * 16, packed + ((long) (kt * STEP + row) * n + column0) / 2 + part * 16);
        }
    };

    float acc[TILES][32];
#pragma unroll
    for (int u = 0; u < TILES; u++)
#pragma unroll
        for (int i = 0; i < 32; i++) acc[u][i] = 0.f;

    __syncthreads();  // book and map
    for (int s = 0; s < AHEAD; s++) {
        if (s < steps) {
            load_stage(s);
            if (tid < COLUMNS) scales_of(s)[tid] = resolve_scale(scales, map, fetch_scale(scales, scale_block<FORWARD>(tid, s, n, k, column0)));
        }
        commit_copies();
    }
    PendingScale pending{};
    if (tid < COLUMNS && AHEAD < steps) pending = fetch_scale(scales, scale_block<FORWARD>(tid, AHEAD, n, k, column0));

    // One reduction step. Its fragment registers are read by the tensor cores after the step returns, so steps
    // alternate between two sets and the next step decodes while this one's products run.
    auto step = [&](int kt, unsigned int* f) {
        wait_copies<AHEAD - 1>();
        asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
        __syncthreads();
        int next = kt + AHEAD;
        if (next < steps) {
            load_stage(next);
            if (tid < COLUMNS) {
                scales_of(next)[tid] = resolve_scale(scales, map, pending);
                if (next + 1 < steps) pending = fetch_scale(scales, scale_block<FORWARD>(tid, next + 1, n, k, column0));
            }
        }
        commit_copies();

        const unsigned char* codes = codes_of(kt);
        const float* scale = scales_of(kt);
        if (FORWARD) {
            // Output columns r0 = 16·warp + g and r0 + 8 of this warpgroup; step j's columns 16j + 2t, +1 are byte t
            // of word 2j of the row, and 16j + 2t + 8, +9 byte t of word 2j + 1.
            int r0 = group * 64 + warp * 16 + g;
            float s0 = scale[r0], s1 = scale[r0 + 8];
            uint4 lo0 = *(const uint4*) (codes + r0 * 48), hi0 = *(const uint4*) (codes + r0 * 48 + 16);
            uint4 lo1 = *(const uint4*) (codes + (r0 + 8) * 48), hi1 = *(const uint4*) (codes + (r0 + 8) * 48 + 16);
            unsigned int w0[8] = {lo0.x, lo0.y, lo0.z, lo0.w, hi0.x, hi0.y, hi0.z, hi0.w};
            unsigned int w1[8] = {lo1.x, lo1.y, lo1.z, lo1.w, hi1.x, hi1.y, hi1.z, hi1.w};
#pragma unroll
            for (int i = 0; i < 8; i++) {
                unsigned int b0 = w0[i] >> (8 * t), b1 = w1[i] >> (8 * t);
                int j = i >> 1, half = i & 1;
                f[4 * j + 2 * half] = bf16_pair_rn(__fmul_rn(book[(b0 >> 4) & 15u], s0), __fmul_rn(book[b0 & 15u], s0));
                f[4 * j + 2 * half + 1] = bf16_pair_rn(__fmul_rn(book[(b1 >> 4) & 15u], s1), __fmul_rn(book[b1 & 15u], s1));
            }
        } else {
            // Output columns r0 = 16·warp + g and r0 + 8 of this warpgroup are the nibbles at shift `at` of the two
            // words of the warp's 8 bytes in a reduction row; step j takes rows 16j + 2t, +1, +8, +9.
            int at = 8 * (g >> 1) + ((g & 1) ? 0 : 4);
            const unsigned char* base = codes + group * 32 + warp * 8;
#pragma unroll
            for (int j = 0; j < 4; j++) {
                float v0[4], v1[4];
#pragma unroll
                for (int q = 0; q < 4; q++) {
                    int row = 16 * j + 2 * t + (q & 1) + 8 * (q >> 1);
                    uint2 w = *(const uint2*) (base + row * 80);
                    float s = scale[group * 64 + row];
                    v0[q] = __fmul_rn(book[(w.x >> at) & 15u], s);
                    v1[q] = __fmul_rn(book[(w.y >> at) & 15u], s);
                }
                f[4 * j] = bf16_pair_rn(v0[0], v0[1]);
                f[4 * j + 1] = bf16_pair_rn(v1[0], v1[1]);
                f[4 * j + 2] = bf16_pair_rn(v0[2], v0[3]);
                f[4 * j + 3] = bf16_pair_rn(v1[2], v1[3]);
            }
        }

        unsigned int tile = shared_address(tokens_of(kt));
        mma_fence();
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int u = 0; u < TILES; u++) mma_64x64x16(acc[u], f + 4 * j, swizzled_descriptor(tile + u * 8192 + j * 32));
        mma_commit();
        mma_wait<1>();
    };
    unsigned int even[16], odd[16];
    for (int kt = 0; kt < steps; kt += 2) {
        step(kt, even);
        if (kt + 1 < steps) step(kt + 1, odd);
    }
    mma_wait<0>();

    // Thread (warp, g, t) holds, per 64-token tile u and 8-token group i, output columns r0 and r0 + 8 at tokens
    // 8i + 2t and 8i + 2t + 1.
    int c0 = column0 + group * 64 + warp * 16 + g;
#pragma unroll
    for (int u = 0; u < TILES; u++)
#pragma unroll
        for (int i = 0; i < 8; i++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                int token = token0 + u * 64 + 8 * i + 2 * t + (e & 1), column = c0 + 8 * (e >> 1);
                if (token >= m) continue;
                long at = (long) token * n + column;
                float v = acc[u][4 * i + e];
                if (beta != 0.f) v += beta * to_float(addend[at]);
                d[at] = from_float<Out>(v);
            }
}

#define NF4_GEMM_PARAMS (Out* d, const bf16* a, const unsigned char* packed, const unsigned char* codes, const float* absmax, \
                         const float* nested_absmax, const float* nested_map, int nested_shift, float offset, \
                         const float* codebook, const Out* addend, float beta, int m, int n, int k)
#define NF4_GEMM_ENTRY(name, OUT, FORWARD, TILES) \
    namespace name##_ns { typedef OUT Out; extern "C" __global__ void __launch_bounds__(THREADS, 1) name NF4_GEMM_PARAMS { \
        nf4_gemm<Out, FORWARD, TILES>(d, a, packed, Nf4Scales{codes, absmax, nested_absmax, nested_map, nested_shift, offset}, \
                                      codebook, addend, beta, m, n, k); } }
#define NF4_GEMM_TILES(TILES) \
    NF4_GEMM_ENTRY(nf4_gemm_fwd_bf16_##TILES, bf16, true, TILES) \
    NF4_GEMM_ENTRY(nf4_gemm_fwd_f32_##TILES, float, true, TILES) \
    NF4_GEMM_ENTRY(nf4_gemm_bwd_bf16_##TILES, bf16, false, TILES) \
    NF4_GEMM_ENTRY(nf4_gemm_bwd_f32_##TILES, float, false, TILES)

NF4_GEMM_TILES(1)
NF4_GEMM_TILES(2)
NF4_GEMM_TILES(3)
NF4_GEMM_TILES(4)
