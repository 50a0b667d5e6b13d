// Rotary position embedding, rotate-half form (Hugging Face Llama), in place on [tokens, heads, head_dim].
// cos/sin: [positions, head_dim/2] in float (llama3 frequency scaling is applied when the table is made).
// direction +1 rotates forward; -1 applies the transpose, which is the backward pass.
#include "vector.cuh"

template <typename T>
__device__ void rope(T* x, const int* pos, const float* cos_t, const float* sin_t, int tokens, int heads,
                     int head_dim, float direction) {
    int half = head_dim / 2;
    long total = (long) tokens * heads * half;
    for (long idx = blockIdx.x * (long) blockDim.x + threadIdx.x; idx < total; idx += (long) gridDim.x * blockDim.x) {
        int i = (int) (idx % half);
        long th = idx / half;
        int token = (int) (th / heads);
        T* v = x + th * head_dim;
        float c = cos_t[(long) pos[token] * half + i];
        float s = direction * sin_t[(long) pos[token] * half + i];
        float x1 = to_float(v[i]), x2 = to_float(v[i + half]);
        v[i] = from_float<T>(x1 * c - x2 * s);
        v[i + half] = from_float<T>(x2 * c + x1 * s);
    }
}
EXPORT2(rope, (T* x, const int* pos, const float* cos_t, const float* sin_t, int tokens, int heads, int head_dim, float direction),
        (x, pos, cos_t, sin_t, tokens, heads, head_dim, direction))

// head_dim / 2 a multiple of 8: each thread rotates eight pairs through 16-byte accesses.
template <typename T>
__device__ void rope_vec(T* x, const int* pos, const float* cos_t, const float* sin_t, int tokens, int heads,
                         int head_dim, float direction) {
    int half = head_dim / 2, per_head = half / VEC;
    long total = (long) tokens * heads * per_head;
    for (long idx = blockIdx.x * (long) blockDim.x + threadIdx.x; idx < total; idx += (long) gridDim.x * blockDim.x) {
        int i = (int) (idx % per_head) * VEC;
        long th = idx / per_head;
        int token = (int) (th / heads);
        T* v = x + th * head_dim;
        const float* ct = cos_t + (long) pos[token] * half + i;
        const float* st = sin_t + (long) pos[token] * half + i;
        float c[VEC], s[VEC], x1[VEC], x2[VEC], y1[VEC], y2[VEC];
        load8(ct, c);
        load8(st, s);
        load8(v + i, x1);
        load8(v + i + half, x2);
#pragma unroll
        for (int e = 0; e < VEC; e++) {
            float se = direction * s[e];
            y1[e] = x1[e] * c[e] - x2[e] * se;
            y2[e] = x2[e] * c[e] + x1[e] * se;
        }
        store8(v + i, y1);
        store8(v + i + half, y2);
    }
}
EXPORT2(rope_vec, (T* x, const int* pos, const float* cos_t, const float* sin_t, int tokens, int heads, int head_dim, float direction),
        (x, pos, cos_t, sin_t, tokens, heads, head_dim, direction))
