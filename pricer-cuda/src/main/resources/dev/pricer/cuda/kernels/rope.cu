// Rotary position embedding, rotate-half form (Hugging Face Llama), in place on [tokens, heads, head_dim].
// cos/sin: [positions, head_dim/2] in float (llama3 frequency scaling is applied when the table is made).
// direction +1 rotates forward; -1 applies the transpose, which is the backward pass.
#include "common.cuh"

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
