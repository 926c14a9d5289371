// Training-mode BatchNorm (+ReLU/ReLU6) and residual add+ReLU kernels for the CUDA path of the
// models crate (models/src/ops/cuda/norm.rs). f32 NCHW contiguous tensors; per-channel reductions
// are split over a grid of (channel, split) blocks whose partials are merged in f64 by a second
// kernel, in a fixed order (deterministic run to run). Compiled to PTX by models/build.rs.
//
// The BatchNorm "params" buffer is [5, C]: mean, biased variance, 1/sqrt(var + eps),
// scale = gamma * invstd, shift = beta - mean * scale; the forward output is
// act(fma(x, scale, shift)) and the backward recomputes the activation's gate from the same fma,
// so it matches the forward's output exactly (as the CPU kernel does, ops/batch_norm.rs).
//
// Indices are 32-bit (the Rust side refuses tensors of 2^32 or more elements): 64-bit integer
// division costs several times more than these memory-bound loops can hide.

#define BLOCK 256

// Clamp mode: 0 identity, 1 relu, 2 relu6. Gate: the open interval (lo, hi) where the gradient
// passes (torch threshold_backward / hardtanh_backward).
__device__ __forceinline__ float act_fwd(int mode, float v) {
    if (mode == 0) return v;
    v = fmaxf(v, 0.0f);
    return mode == 2 ? fminf(v, 6.0f) : v;
}
__device__ __forceinline__ bool act_pass(int mode, float v) {
    if (mode == 0) return true;
    if (mode == 1) return v > 0.0f;
    return v > 0.0f && v < 6.0f;
}

__device__ __forceinline__ double block_sum(double v, double* sh) {
    int t = threadIdx.x;
    sh[t] = v;
    __syncthreads();
    for (int s = BLOCK / 2; s > 0; s >>= 1) {
        if (t < s) sh[t] += sh[t + s];
        __syncthreads();
    }
    double r = sh[0];
    __syncthreads();
    return r;
}

// Walks elements lo + threadIdx.x, lo + threadIdx.x + BLOCK, ... < hi of channel ch (element i of
// the channel is image i / hw, offset i % hw), calling f(index into the NCHW tensor); one
// division at the start, then incremental steps.
template <typename F>
__device__ __forceinline__ void for_channel(unsigned lo, unsigned hi, unsigned ch, unsigned c,
                                            unsigned hw, F f) {
    unsigned i = lo + threadIdx.x;
    if (i >= hi) return;
    unsigned img = i / hw, j = i - img * hw;
    for (; i < hi; i += BLOCK) {
        f((img * c + ch) * hw + j);
        j += BLOCK;
        if (j >= hw) {
            img += j / hw;
            j %= hw;
        }
    }
}

// Grid (c, splits). partial[(ch * splits + s) * 3 + {0,1,2}] = (count, mean, M2) of the block's
// chunk (two passes over the chunk; the second mostly hits L2).
extern "C" __global__ void bn_stats_partial(const float* x, double* partial, unsigned n,
                                            unsigned c, unsigned hw, unsigned splits) {
    __shared__ double sh[BLOCK];
    unsigned ch = blockIdx.x, s = blockIdx.y;
    unsigned m = n * hw;
    unsigned chunk = (m + splits - 1) / splits;
    unsigned lo = min(m, s * chunk), hi = min(m, lo + chunk);
    unsigned cnt = hi - lo;
    float acc = 0.0f;
    for_channel(lo, hi, ch, c, hw, [&](unsigned k) { acc += x[k]; });
    double sum = block_sum((double)acc, sh);
    double mean = cnt > 0 ? sum / (double)cnt : 0.0;
    float mf = (float)mean;
    acc = 0.0f;
    for_channel(lo, hi, ch, c, hw, [&](unsigned k) {
        float d = x[k] - mf;
        acc += d * d;
    });
    double q = block_sum((double)acc, sh);
    if (threadIdx.x == 0) {
        double dm = mean - (double)mf;
        double* p = partial + ((size_t)ch * splits + s) * 3;
        p[0] = (double)cnt;
        p[1] = mean;
        p[2] = fmax(q - (double)cnt * dm * dm, 0.0);
    }
}

// One thread per channel: merge the partials (Chan et al.) and write params [5, c].
extern "C" __global__ void bn_stats_final(const double* partial, const float* gamma,
                                          const float* beta, float* params, unsigned c,
                                          unsigned splits, float eps) {
    unsigned ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;
    double na = 0.0, ma = 0.0, qa = 0.0;
    for (unsigned s = 0; s < splits; ++s) {
        const double* p = partial + ((size_t)ch * splits + s) * 3;
        double nb = p[0];
        if (nb == 0.0) continue;
        double nn = na + nb, d = p[1] - ma;
        ma += d * nb / nn;
        qa += p[2] + d * d * na * nb / nn;
        na = nn;
    }
    double var = na > 0.0 ? qa / na : 0.0;
    float invstd = (float)(1.0 / sqrt(var + (double)eps));
    float mean = (float)ma;
    float scale = gamma[ch] * invstd;
    params[ch] = mean;
    params[c + ch] = (float)var;
    params[2 * c + ch] = invstd;
    params[3 * c + ch] = scale;
    params[4 * c + ch] = beta[ch] - mean * scale;
}

// y = act(fma(x, scale, shift)), elementwise over n * c * hw values.
extern "C" __global__ void bn_apply(const float* x, const float* params, float* y, unsigned total,
                                    unsigned c, unsigned hw, int mode) {
    const float* scale = params + 3 * c;
    const float* shift = params + 4 * c;
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
        unsigned ch = (i / hw) % c;
        y[i] = act_fwd(mode, __fmaf_rn(x[i], scale[ch], shift[ch]));
    }
}

// Grid (c, splits): partial[(ch * splits + s) * 2 + {0,1}] = (sum g * xhat, sum g) over the
// block's chunk, g = dy gated by the activation.
extern "C" __global__ void bn_bwd_partial(const float* x, const float* dy, const float* params,
                                          double* partial, unsigned n, unsigned c, unsigned hw,
                                          unsigned splits, int mode) {
    __shared__ double sh[BLOCK];
    unsigned ch = blockIdx.x, s = blockIdx.y;
    float mean = params[ch], invstd = params[2 * c + ch];
    float scale = params[3 * c + ch], shift = params[4 * c + ch];
    unsigned m = n * hw;
    unsigned chunk = (m + splits - 1) / splits;
    unsigned lo = min(m, s * chunk), hi = min(m, lo + chunk);
    float a = 0.0f, b = 0.0f;
    for_channel(lo, hi, ch, c, hw, [&](unsigned k) {
        float xv = x[k];
        float g = act_pass(mode, __fmaf_rn(xv, scale, shift)) ? dy[k] : 0.0f;
        a += g * (xv - mean);
        b += g;
    });
    double sa = block_sum((double)a, sh);
    double sb = block_sum((double)b, sh);
    if (threadIdx.x == 0) {
        double* p = partial + ((size_t)ch * splits + s) * 2;
        p[0] = sa * (double)invstd;
        p[1] = sb;
    }
}

// One thread per channel: sums [2, c] = (dgamma, dbeta).
extern "C" __global__ void bn_bwd_final(const double* partial, float* sums, unsigned c,
                                        unsigned splits) {
    unsigned ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;
    double a = 0.0, b = 0.0;
    for (unsigned s = 0; s < splits; ++s) {
        a += partial[((size_t)ch * splits + s) * 2];
        b += partial[((size_t)ch * splits + s) * 2 + 1];
    }
    sums[ch] = (float)a;
    sums[c + ch] = (float)b;
}

// dx = scale * (g - dbeta / M - xhat * dgamma / M), xhat = (x - mean) * invstd.
extern "C" __global__ void bn_bwd_dx(const float* x, const float* dy, const float* params,
                                     const float* sums, float* dx, unsigned total, unsigned c,
                                     unsigned hw, float inv_m, int mode) {
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
        unsigned ch = (i / hw) % c;
        float xv = x[i];
        float scale = params[3 * c + ch];
        float g = act_pass(mode, __fmaf_rn(xv, scale, params[4 * c + ch])) ? dy[i] : 0.0f;
        float xhat = (xv - params[ch]) * params[2 * c + ch];
        dx[i] = scale * (g - sums[c + ch] * inv_m - xhat * sums[ch] * inv_m);
    }
}

// y = max(a + b, 0).
extern "C" __global__ void add_relu_fwd(const float* a, const float* b, float* y, unsigned total) {
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x)
        y[i] = fmaxf(a[i] + b[i], 0.0f);
}

// g = dy where y > 0, else 0.
extern "C" __global__ void relu_bwd(const float* y, const float* dy, float* g, unsigned total) {
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x)
        g[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}
