// The NF4 product with the dequantization inside the GEMM (Hopper, sm_90a: TMA, mbarriers, wgmma): no bf16 copy of
// the weight is ever written. d[m, n] = a[m, k] · op(W) + beta · addend[m, n], with a in bf16 and W in NF4 (nf4.cu's
// layout, blocks of 64 elements), either W [n, k] (a layer's forward: op(W) = Wᵀ) or W [k, n] (its input gradient:
// op(W) = W).
//
// The warpgroup MMA computes dᵀ: its "A" (rows M = 64 output columns, K = 16 of the reduction) comes from registers,
// where each thread decodes its own fragment from the packed codes, and its "B" (the tokens) comes from shared memory
// in the 128-byte swizzled layout. So the weight is read once per block as 4-bit codes, and decoded values go straight
// from the decoding instructions to the tensor cores.
//
// A block takes 128 output columns and TILES × 64 tokens, walking the reduction in steps of 64 (one NF4 block of a
// weight row, so one scale per row and step) through STAGES buffers of shared memory. Its warps specialize, as
// cuBLASLt's do: one producer warp fills the buffers (the tokens' tile and the codes' tile by TMA, the block scales
// by its lanes) and two consumer warpgroups, 64 output columns each, decode and multiply. They meet at mbarriers:
// a buffer's "full" barrier completes when its TMA bytes have landed and the producer's lanes have stored its scales,
// its "empty" barrier when every consumer warp's MMAs that read it are done. A consumer decodes the next step into
// a second set of fragment registers after issuing this one's MMAs, meant to overlap the two; see below for why
// ptxas does not let it.
// The decoded values are bit for bit nf4.cu's (each product rounded on its own, then rounded to bf16), so this
// product differs from dequantize-then-cuBLASLt only in the order the float sums are taken.
//
// Opt-in (PRICER_NF4_FUSED=1): on the 8B shapes it runs at about 0.4 of cuBLASLt's rate, where dequantizing into
// scratch first runs at 0.66 (BENCHMARKS.md). ptxas serializes its MMAs (advisory C7513): decoding the next step
// defines A registers while this step's MMAs are in flight, and ptxas allows no such definitions inside an open MMA
// pipeline. Waiting for every step's MMAs before decoding lifts the advisory but loses the overlap (no faster).
// Decoding into shared memory instead (an A operand from shared memory, one named barrier per warpgroup and step)
// avoids it but measured slower (228 µs against 203 on the gate product; cuBLASLt 120, the same pipeline without
// decoding 162). The narrow products (k and v: 24 blocks; q, o and down's input gradient: 96) also leave SMs idle
// without splitting the reduction.
#include "nf4.cuh"

constexpr int STAGES = 5;
constexpr int COLUMNS = 128;       // output columns per block: two consumer warpgroups of 64
constexpr int STEP = 64;           // reduction elements per stage
constexpr int CONSUMERS = 256;
constexpr int THREADS = CONSUMERS + 32;  // and the producer warp
// Per stage, after the tokens' rows (128 bytes each, swizzled): the codes' tile (128 weight rows of 32 bytes going
// forward, 64 reduction rows of 64 bytes going backward) and 128 float scales, padded so that every stage's tokens
// start on a 1024-byte swizzle boundary.
constexpr int CODES_BYTES = COLUMNS * STEP / 2;
constexpr int SCALES_BYTES = COLUMNS * 4;
constexpr int EXTRA_BYTES = 5120;
static_assert(CODES_BYTES + SCALES_BYTES <= EXTRA_BYTES && EXTRA_BYTES % 1024 == 0, "stage layout");

// cuTensorMapEncodeTiled's CUtensorMap, opaque; kernels take it by value as a __grid_constant__ parameter.
struct alignas(64) TensorMap { unsigned long long opaque[16]; };

__device__ __forceinline__ unsigned int shared_address(const void* p) {
    return (unsigned int) __cvta_generic_to_shared(p);
}

__device__ __forceinline__ void barrier_init(unsigned long long* barrier, int arrivals) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" :: "r"(shared_address(barrier)), "r"(arrivals) : "memory");
}

__device__ __forceinline__ void barrier_arrive(unsigned long long* barrier) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" :: "r"(shared_address(barrier)) : "memory");
}

// The barrier's current phase also waits for this many bytes of TMA transfers.
__device__ __forceinline__ void barrier_expect_bytes(unsigned long long* barrier, int bytes) {
    asm volatile("mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [%0], %1;" :: "r"(shared_address(barrier)), "r"(bytes) : "memory");
}

// Until the phase of this parity has completed.
__device__ __forceinline__ void barrier_wait(unsigned long long* barrier, int parity) {
    asm volatile("{\n.reg .pred done;\nWAIT:\n"
                 "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
                 "@!done bra WAIT;\n}\n" :: "r"(shared_address(barrier)), "r"(parity) : "memory");
}

// The box of the 2-D tensor at (x, y), x the contiguous dimension, into shared memory; completes bytes on the barrier.
__device__ __forceinline__ void tma_load(void* to, const TensorMap* map, int x, int y, unsigned long long* barrier) {
    asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];"
                 :: "r"(shared_address(to)), "l"(map), "r"(x), "r"(y), "r"(shared_address(barrier)) : "memory");
}

// A shared-memory matrix descriptor for wgmma: rows of 128 bytes in the 128-byte swizzle, 8-row groups 1024 bytes apart.
__device__ __forceinline__ unsigned long long swizzled_descriptor(unsigned int address) {
    return (unsigned long long) ((address & 0x3FFFF) >> 4) | (1ull << 16) | ((unsigned long long) (1024 >> 4) << 32) | (1ull << 62);
}

// acc (64 output columns × 64·TILES tokens of this warpgroup) += A (registers) · B (descriptor): one instruction for all
// the block's tokens, as the tensor cores run best on the widest N. Thread (warp, g, t) holds output columns 16·warp + g
// and + 8 at tokens 8i + 2t and + 1 in acc[4i], [4i + 1] and [4i + 2], [4i + 3].
template <int TILES> __device__ __forceinline__ void mma_tokens(float* d, const unsigned int* a, unsigned long long b);
template <> __device__ __forceinline__ void mma_tokens<1>(float* d, const unsigned int* a, unsigned long long b) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, "
        "{%32, %33, %34, %35}, %36, p, 1, 1, 0;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(1));
}

template <> __device__ __forceinline__ void mma_tokens<2>(float* d, const unsigned int* a, unsigned long long b) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
        "{%64, %65, %66, %67}, %68, p, 1, 1, 0;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
          "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
          "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(1));
}

template <> __device__ __forceinline__ void mma_tokens<3>(float* d, const unsigned int* a, unsigned long long b) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %101, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n192k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95}, "
        "{%96, %97, %98, %99}, %100, p, 1, 1, 0;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
          "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
          "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]),
          "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]),
          "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]),
          "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]),
          "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(1));
}

template <> __device__ __forceinline__ void mma_tokens<4>(float* d, const unsigned int* a, unsigned long long b) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %133, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, %96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, %112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127}, "
        "{%128, %129, %130, %131}, %132, p, 1, 1, 0;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
          "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
          "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]),
          "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]),
          "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]),
          "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]),
          "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]),
          "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]),
          "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]),
          "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]),
          "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(1));
}

__device__ __forceinline__ void mma_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
__device__ __forceinline__ void mma_commit() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
template <int PENDING>
__device__ __forceinline__ void mma_wait() { asm volatile("wgmma.wait_group.sync.aligned %0;" :: "n"(PENDING) : "memory"); }

// Ties the accumulators to this point of the program: without it the compiler may move reads or writes of them into
// a window where MMAs are in flight, and ptxas then serializes every MMA (its advisories C7514 and C7515).
template <int N>
__device__ __forceinline__ void fence_accumulators(float* acc) {
#pragma unroll
    for (int i = 0; i < N; i++) asm volatile("" : "+f"(acc[i]) :: "memory");
}

// The NF4 block of the scale thread `slot` (0..127) needs at reduction step `kt`: going forward the block of weight
// row column0 + slot; going backward the block of reduction row kt·64 + slot % 64 and output columns of warpgroup slot / 64.
template <bool FORWARD>
__device__ __forceinline__ long scale_block(int slot, int kt, int n, int k, int column0) {
    if (FORWARD) return (long) (column0 + slot) * (k / STEP) + kt;
    return ((long) kt * STEP + (slot & 63)) * (n / STEP) + (column0 / STEP) + (slot >> 6);
}

template <typename Out, bool FORWARD, int TILES>
__device__ void nf4_gemm(Out* d, const TensorMap* tokens_map, const TensorMap* codes_map, Nf4Scales scales,
                         const float* codebook, const Out* addend, float beta, int m, int n, int k) {
    constexpr int TOKENS = 64 * TILES;
    constexpr int TOKEN_BYTES = TOKENS * 128;
    constexpr int STAGE_BYTES = TOKEN_BYTES + EXTRA_BYTES;
    extern __shared__ unsigned char raw_shared[];
    // wgmma's swizzle works on address bits, so the tokens' tiles start at 1024-byte boundaries.
    unsigned char* shared = raw_shared + ((1024 - (shared_address(raw_shared) & 1023)) & 1023);
    unsigned long long* full = (unsigned long long*) (shared + STAGES * STAGE_BYTES);
    unsigned long long* empty = full + STAGES;
    float* book = (float*) (empty + STAGES);
    float* map = book + 16;

    int tid = threadIdx.x, lane = tid & 31;
    int token0 = blockIdx.x * TOKENS, column0 = blockIdx.y * COLUMNS;
    int steps = k / STEP;
    if (tid < 16) book[tid] = codebook[tid];
    if (scales.codes != 0 && tid < 256) map[tid] = scales.nested_map[tid];
    if (tid == 0) {
        for (int s = 0; s < STAGES; s++) {
            barrier_init(full + s, 32);                // the producer's lanes
            barrier_init(empty + s, CONSUMERS / 32);   // a lane of each consumer warp
        }
        asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
    }
    __syncthreads();

    if (tid >= CONSUMERS) {
        // The producer: lane l computes the scales of slots l, l + 32, l + 64 and l + 96, their loads a step ahead.
        PendingScale pending[4];
#pragma unroll
        for (int i = 0; i < 4; i++) pending[i] = fetch_scale(scales, scale_block<FORWARD>(lane + 32 * i, 0, n, k, column0));
        for (int kt = 0; kt < steps; kt++) {
            int slot = kt % STAGES, round = kt / STAGES;
            if (round > 0) barrier_wait(empty + slot, (round - 1) & 1);
            unsigned char* stage = shared + slot * STAGE_BYTES;
            if (lane == 0) {
                barrier_expect_bytes(full + slot, TOKEN_BYTES + CODES_BYTES);
                tma_load(stage, tokens_map, kt * STEP, token0, full + slot);
                if (FORWARD) tma_load(stage + TOKEN_BYTES, codes_map, kt * STEP / 2, column0, full + slot);
                else tma_load(stage + TOKEN_BYTES, codes_map, column0 / 2, kt * STEP, full + slot);
            }
            float* scale = (float*) (stage + TOKEN_BYTES + CODES_BYTES);
#pragma unroll
            for (int i = 0; i < 4; i++) scale[lane + 32 * i] = resolve_scale(scales, map, pending[i]);
            if (kt + 1 < steps) {
#pragma unroll
                for (int i = 0; i < 4; i++) pending[i] = fetch_scale(scales, scale_block<FORWARD>(lane + 32 * i, kt + 1, n, k, column0));
            }
            barrier_arrive(full + slot);
        }
        return;
    }

    int group = tid >> 7, warp = (tid >> 5) & 3, g = lane >> 2, t = lane & 3;
    float acc[TILES * 32];
#pragma unroll
    for (int i = 0; i < TILES * 32; i++) acc[i] = 0.f;
    fence_accumulators<TILES * 32>(acc);

    // One reduction step. Its fragment registers are read by the tensor cores after the step returns, so steps
    // alternate between two sets and the next step decodes while this one's products run.
    auto step = [&](int kt, unsigned int* f) {
        int slot = kt % STAGES;
        barrier_wait(full + slot, (kt / STAGES) & 1);
        const unsigned char* stage = shared + slot * STAGE_BYTES;
        const unsigned char* codes = stage + TOKEN_BYTES;
        const float* scale = (const float*) (codes + CODES_BYTES);
        if (FORWARD) {
            // Output columns r0 = 16·warp + g and r0 + 8 of this warpgroup; step j's columns 16j + 2t, +1 are byte t
            // of word 2j of the row, and 16j + 2t + 8, +9 byte t of word 2j + 1.
            int r0 = group * 64 + warp * 16 + g;
            float s0 = scale[r0], s1 = scale[r0 + 8];
            uint4 lo0 = *(const uint4*) (codes + r0 * 32), hi0 = *(const uint4*) (codes + r0 * 32 + 16);
            uint4 lo1 = *(const uint4*) (codes + (r0 + 8) * 32), hi1 = *(const uint4*) (codes + (r0 + 8) * 32 + 16);
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
                    uint2 w = *(const uint2*) (base + row * 64);
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

        unsigned int tile = shared_address(stage);
        fence_accumulators<TILES * 32>(acc);
        mma_fence();
#pragma unroll
        for (int j = 0; j < 4; j++) mma_tokens<TILES>(acc, f + 4 * j, swizzled_descriptor(tile + j * 32));
        mma_commit();
        fence_accumulators<TILES * 32>(acc);
        mma_wait<1>();
        // The step before's MMAs are done: its buffer may be refilled.
        if (kt > 0 && lane == 0) barrier_arrive(empty + (kt - 1) % STAGES);
    };
    unsigned int even[16], odd[16];
    for (int kt = 0; kt < steps; kt += 2) {
        step(kt, even);
        if (kt + 1 < steps) step(kt + 1, odd);
    }
    mma_wait<0>();
    fence_accumulators<TILES * 32>(acc);

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
                float v = acc[32 * u + 4 * i + e];
                if (beta != 0.f) v += beta * to_float(addend[at]);
                d[at] = from_float<Out>(v);
            }
}

// tokens_map: a [m, k] bf16 in boxes of 64 × 64·TILES rows, 128-byte swizzled; codes_map: the packed codes, bytes,
// going forward [n, k/2] in boxes of 32 × 128 rows, going backward [k, n/2] in boxes of 64 × 64 rows.
#define NF4_GEMM_PARAMS (Out* d, const __grid_constant__ TensorMap tokens_map, const __grid_constant__ TensorMap codes_map, \
                         const unsigned char* codes, const float* absmax, const float* nested_absmax, const float* nested_map, \
                         int nested_shift, float offset, const float* codebook, const Out* addend, float beta, int m, int n, int k)
#define NF4_GEMM_ENTRY(name, OUT, FORWARD, TILES) \
    namespace name##_ns { typedef OUT Out; extern "C" __global__ void __launch_bounds__(THREADS, 1) name NF4_GEMM_PARAMS { \
        nf4_gemm<Out, FORWARD, TILES>(d, &tokens_map, &codes_map, Nf4Scales{codes, absmax, nested_absmax, nested_map, nested_shift, offset}, \
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
