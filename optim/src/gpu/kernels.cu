// The fused GPU optimizer step (multi-tensor apply): every kernel covers all parameters of one
// dtype in one launch, one thread block per channel-view row (`w.view(shape[0], -1)`; a 1-D
// parameter is one row), or one thread per parameter for the per-parameter decisions.
//
// Launch sequence of one step (`gpu/plan.rs`), all on one stream:
//   1. pre_rows      rows   <g,w>, ||g||^2, ||w||^2 in f64 (the cosine test and the statistics)
//                           and a count of NaN/Inf gradient elements per parameter;
//   2. decide        params the SGDP/AdamP cosine test (adamp 0.3.0 `_projection`), the weight
//                           decay factor of the step, or "skip" for a non-finite gradient;
//   3. advance_<rule> rows  the rule's state update; an unprojected parameter is finished here
//                           (w' = decay*w + neg_step*u), a projected one accumulates <w,u>;
//   4. layer_coef    params the single coefficient of a layer-view projection;
//   5. project_<rule> rows  projected parameters: u' = u - c*w from the advanced state, w';
//   6. stats         params (logged steps only) norms, effective step, max |cos|.
// Element arithmetic is the CPU kernels' (`fused/elems.rs`) in the same operation order, in the
// parameter's type with the scalars rounded to it; compiled with `--fmad=false` (no contraction
// into fused multiply-adds), IEEE division and square root, so an element's update is the CPU's
// bit for bit. Row sums accumulate in f64 (tree reductions in shared memory).
//
// The same source compiles for the host with `emu.h` (ADAMP_EMULATE), which runs every block's
// threads as OS threads with a barrier for __syncthreads: the tests check these kernels on a CPU.

#ifdef ADAMP_EMULATE
#include "emu.h"
#endif

typedef unsigned long long u64;
typedef long long i64;

// Threads per block of the row kernels (the planner may launch fewer, a power of two >= 32).
#define MAX_THREADS 256

// One parameter's description, written by `gpu/desc.rs` (`ParamDesc`, #[repr(C)], 192 bytes).
struct ParamDesc {
    u64 w, g, a, b;      // device addresses of weight, gradient, state slots 0 and 1 (0: unused)
    i64 rows, row_len;   // the channel view
    i64 row0;            // the parameter's first row in the launch's row table
    double k[12];        // the rule's scalars, see K_* below
    double decay_plain;  // multiplicative weight decay when no projection fires
    double decay_proj;   // ... when a view fires (wd_ratio applied)
    double delta;        // the projection test's delta (<= 0: the rule never projects)
    double eps;          // eps of the cosine, the projection and the statistics
    int rank;            // number of dimensions (only rank > 1 projects)
    int flags;           // F_* below
};

// Indices into ParamDesc::k.
#define K_WD 0
#define K_NEG_LR 1        // -lr (SGD, SGDP) or -lr / bias_correction1 (Adam, AdamP)
#define K_MOMENTUM 2      // SGD/SGDP momentum; AdamP beta1
#define K_ONE_MINUS 3     // 1 - dampening (SGD/SGDP); 1 - beta1 (AdamP)
#define K_LERP_W 4        // Adam: 1 - beta1 (torch's lerp weight)
#define K_ONE_MINUS_LERP_W 5
#define K_BETA2 6
#define K_ONE_MINUS_BETA2 7
#define K_BC2_SQRT 8      // sqrt(1 - beta2^t)
#define K_EPS 9           // Adam's eps in the denominator

#define F_HAS_WD 1        // SGD: coupled L2 decay; Adam: coupled (not AdamW)
#define F_NESTEROV 2
#define F_FIRST 4         // SGD: momentum buffer never written (torch's `buf is None`)
#define F_LERP_SMALL 8    // Adam: lerp weight < 0.5

// View codes in the per-parameter decision buffer (`dec`, 4 doubles per parameter:
// view, decay, layer coefficient, non-finite count).
#define VIEW_SKIP -1.0
#define VIEW_NONE 0.0
#define VIEW_CHANNEL 1.0
#define VIEW_LAYER 2.0

#define RULE_SGD0 0   // torch SGD without momentum
#define RULE_SGD 1    // torch SGD with momentum
#define RULE_SGDP 2   // adamp.SGDP
#define RULE_ADAM 3   // torch Adam / AdamW
#define RULE_ADAMP 4  // adamp.AdamP

__device__ __forceinline__ bool finite_f(float x) { return isfinite(x); }
__device__ __forceinline__ bool finite_f(double x) { return isfinite(x); }
__device__ __forceinline__ float sqrt_t(float x) { return sqrtf(x); }
__device__ __forceinline__ double sqrt_t(double x) { return sqrt(x); }

// The rule's scalars rounded to T (as `<T as Real>::from_f64` does on the CPU).
template <typename T>
struct Scalars {
    T wd, neg_lr, momentum, one_minus, lerp_w, one_minus_lerp_w, beta2, one_minus_beta2, bc2_sqrt,
        eps, decay;
    int flags;
};

template <typename T>
__device__ __forceinline__ Scalars<T> scalars(const ParamDesc& d, double decay) {
    Scalars<T> s;
    s.wd = (T)d.k[K_WD];
    s.neg_lr = (T)d.k[K_NEG_LR];
    s.momentum = (T)d.k[K_MOMENTUM];
    s.one_minus = (T)d.k[K_ONE_MINUS];
    s.lerp_w = (T)d.k[K_LERP_W];
    s.one_minus_lerp_w = (T)d.k[K_ONE_MINUS_LERP_W];
    s.beta2 = (T)d.k[K_BETA2];
    s.one_minus_beta2 = (T)d.k[K_ONE_MINUS_BETA2];
    s.bc2_sqrt = (T)d.k[K_BC2_SQRT];
    s.eps = (T)d.k[K_EPS];
    s.decay = (T)decay;
    s.flags = d.flags;
    return s;
}

// `recompute` of the projecting rules (fused/elems.rs `ProjElem::recompute`): the direction from
// the state already advanced this step.
template <int RULE, typename T>
__device__ __forceinline__ T recompute(const Scalars<T>& s, T g, T a, T b) {
    if (RULE == RULE_SGDP) {
        // `d_p = grad + momentum * buf` (nesterov) else `d_p = buf`
        return (s.flags & F_NESTEROV) ? g + s.momentum * a : a;
    } else {
        // AdamP: `denom = (exp_avg_sq.sqrt() / math.sqrt(bias_correction2)).add_(eps)`
        T denom = sqrt_t(b) / s.bc2_sqrt + s.eps;
        // `(beta1 * exp_avg + (1 - beta1) * grad) / denom` (nesterov) else `exp_avg / denom`
        T num = (s.flags & F_NESTEROV) ? s.momentum * a + s.one_minus * g : a;
        return num / denom;
    }
}

// `advance` (fused/elems.rs `Elem::advance`): update the state at one element, return `u`.
template <int RULE, typename T>
__device__ __forceinline__ T advance(const Scalars<T>& s, T w, T g, T& a, T& b) {
    if (RULE == RULE_SGD0) {
        return (s.flags & F_HAS_WD) ? g + s.wd * w : g;
    } else if (RULE == RULE_SGD) {
        T gg = (s.flags & F_HAS_WD) ? g + s.wd * w : g;
        a = (s.flags & F_FIRST) ? gg : a * s.momentum + s.one_minus * gg;
        return (s.flags & F_NESTEROV) ? gg + s.momentum * a : a;
    } else if (RULE == RULE_SGDP) {
        a = a * s.momentum + s.one_minus * g;
        return recompute<RULE, T>(s, g, a, b);
    } else if (RULE == RULE_ADAM) {
        T gg = (s.flags & F_HAS_WD) ? g + s.wd * w : g;
        T m = a;
        a = (s.flags & F_LERP_SMALL) ? m + s.lerp_w * (gg - m) : gg - (gg - m) * s.one_minus_lerp_w;
        b = b * s.beta2 + s.one_minus_beta2 * gg * gg;
        T denom = sqrt_t(b) / s.bc2_sqrt + s.eps;
        return a / denom;
    } else {
        a = a * s.momentum + s.one_minus * g;
        b = b * s.beta2 + s.one_minus_beta2 * g * g;
        return recompute<RULE, T>(s, g, a, b);
    }
}

// `apply`: the new weight. SGD (coupled or no decay): `w - lr*u`; the others `decay*w - step*u`.
template <int RULE, typename T>
__device__ __forceinline__ T apply(const Scalars<T>& s, T w, T u) {
    if (RULE == RULE_SGD0 || RULE == RULE_SGD) {
        return w + s.neg_lr * u;
    }
    return w * s.decay + s.neg_lr * u;
}

// Sum `v[0..N)` over the block's threads (tree in shared memory); the result is in every thread.
template <int N>
__device__ __forceinline__ void block_sum(double (&v)[N]) {
    __shared__ double red[N][MAX_THREADS];
    const unsigned t = threadIdx.x;
    for (int i = 0; i < N; i++) red[i][t] = v[i];
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
        if (t < s) {
            for (int i = 0; i < N; i++) red[i][t] += red[i][t + s];
        }
        __syncthreads();
    }
    for (int i = 0; i < N; i++) v[i] = red[i][0];
    __syncthreads();
}

// The parameter of global row `r` (binary search over the descriptors' first rows).
__device__ __forceinline__ int param_of_row(const ParamDesc* d, int n_params, i64 r) {
    int lo = 0, hi = n_params - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (d[mid].row0 <= r) lo = mid; else hi = mid - 1;
    }
    return lo;
}

// torch 2.15 `F.cosine_similarity` from row sums, each norm clamped to eps (projection.rs).
__device__ __forceinline__ double cosine(double gw, double gg, double ww, double eps) {
    return gw / (fmax(sqrt(gg), eps) * fmax(sqrt(ww), eps));
}

// `max_row |cos(g_row, w_row)|` of a parameter; NaN wins, as `tensor.max()` propagates it
// (projection.rs `max_abs_cos`).
__device__ __forceinline__ double max_abs_cos(const ParamDesc& q, const double* pre) {
    double m = 0.0;
    for (i64 r = q.row0; r < q.row0 + q.rows; r++) {
        const double* x = pre + 3 * r;
        double c = fabs(cosine(x[0], x[1], x[2], q.eps));
        if (c > m || isnan(c)) m = c;
    }
    return m;
}

// `c` with `u' = u - c*w`: `<w,u> / (||w|| + eps)^2` (projection.rs `coefficient`).
__device__ __forceinline__ double coefficient(double ww, double wu, double eps) {
    double d = sqrt(ww) + eps;
    return wu / (d * d);
}

// 1. Row sums before the step and the NaN/Inf count. pre: 3 doubles per row; dec[4p+3] += bad.
template <typename T>
__device__ void pre_rows(u64 desc, int n_params, u64 pre_addr, u64 dec_addr) {
    const ParamDesc* d = (const ParamDesc*)desc;
    double* pre = (double*)pre_addr;
    double* dec = (double*)dec_addr;
    const i64 r = blockIdx.x;
    const int p = param_of_row(d, n_params, r);
    const ParamDesc& q = d[p];
    const i64 base = (r - q.row0) * q.row_len;
    const T* w = (const T*)q.w + base;
    const T* g = (const T*)q.g + base;
    double v[4] = {0.0, 0.0, 0.0, 0.0};
    for (i64 i = threadIdx.x; i < q.row_len; i += blockDim.x) {
        double gi = (double)g[i], wi = (double)w[i];
        if (!finite_f(g[i])) v[3] += 1.0;
        v[0] += gi * wi;
        v[1] += gi * gi;
        v[2] += wi * wi;
    }
    block_sum<4>(v);
    if (threadIdx.x == 0) {
        pre[3 * r] = v[0];
        pre[3 * r + 1] = v[1];
        pre[3 * r + 2] = v[2];
        if (v[3] > 0.0) atomicAdd(&dec[4 * p + 3], v[3]);
    }
}

// 2. The decision per parameter (projection.rs `decide`, `Algo::decay_factor` via decay_*).
__device__ void decide(u64 desc, int n_params, u64 pre_addr, u64 dec_addr) {
    const ParamDesc* d = (const ParamDesc*)desc;
    const double* pre = (const double*)pre_addr;
    double* dec = (double*)dec_addr;
    const int p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= n_params) return;
    const ParamDesc& q = d[p];
    double* out = dec + 4 * p;
    if (out[3] > 0.0) {
        out[0] = VIEW_SKIP;
        out[1] = 1.0;
        return;
    }
    out[0] = VIEW_NONE;
    out[1] = q.decay_plain;
    if (q.delta <= 0.0 || q.rank <= 1 || q.rows == 0 || q.row_len == 0) return;
    double gw = 0.0, gg = 0.0, ww = 0.0;
    for (i64 r = q.row0; r < q.row0 + q.rows; r++) {
        const double* x = pre + 3 * r;
        gw += x[0];
        gg += x[1];
        ww += x[2];
    }
    if (max_abs_cos(q, pre) < q.delta / sqrt((double)q.row_len)) {
        out[0] = VIEW_CHANNEL;
        out[1] = q.decay_proj;
        return;
    }
    double numel = (double)(q.rows * q.row_len);
    if (fabs(cosine(gw, gg, ww, q.eps)) < q.delta / sqrt(numel)) {
        out[0] = VIEW_LAYER;
        out[1] = q.decay_proj;
    }
}

// 3. The state update of every row. Unprojected parameters are finished here (post sums
// `<w, w'-w>`, `||w'-w||^2` when `stats`); projected ones leave `<w,u>` in wu[r].
template <int RULE, typename T>
__device__ void advance_rows(u64 desc, int n_params, u64 dec_addr, u64 wu_addr, u64 post_addr,
                             int stats) {
    const ParamDesc* d = (const ParamDesc*)desc;
    const double* dec = (const double*)dec_addr;
    double* wu = (double*)wu_addr;
    double* post = (double*)post_addr;
    const i64 r = blockIdx.x;
    const int p = param_of_row(d, n_params, r);
    const ParamDesc& q = d[p];
    const double view = dec[4 * p];
    if (view == VIEW_SKIP) return;
    const Scalars<T> s = scalars<T>(q, dec[4 * p + 1]);
    const i64 base = (r - q.row0) * q.row_len;
    T* w = (T*)q.w + base;
    const T* g = (const T*)q.g + base;
    T* a = q.a ? (T*)q.a + base : 0;
    T* b = q.b ? (T*)q.b + base : 0;
    double v[2] = {0.0, 0.0};
    const bool plain = view == VIEW_NONE;
    for (i64 i = threadIdx.x; i < q.row_len; i += blockDim.x) {
        T ai = a ? a[i] : (T)0, bi = b ? b[i] : (T)0;
        T wi = w[i];
        T u = advance<RULE, T>(s, wi, g[i], ai, bi);
        if (a) a[i] = ai;
        if (b) b[i] = bi;
        if (plain) {
            T w1 = apply<RULE, T>(s, wi, u);
            w[i] = w1;
            if (stats) {
                double wf = (double)wi, dd = (double)w1 - wf;
                v[0] += wf * dd;
                v[1] += dd * dd;
            }
        } else {
            v[0] += (double)wi * (double)u;
        }
    }
    if (plain && !stats) return;
    block_sum<2>(v);
    if (threadIdx.x == 0) {
        if (plain) {
            post[2 * r] = v[0];
            post[2 * r + 1] = v[1];
        } else {
            wu[r] = v[0];
        }
    }
}

// 4. The layer view's single coefficient: sums of ||w||^2 and <w,u> over all rows.
__device__ void layer_coef(u64 desc, int n_params, u64 pre_addr, u64 wu_addr, u64 dec_addr) {
    const ParamDesc* d = (const ParamDesc*)desc;
    const double* pre = (const double*)pre_addr;
    const double* wu = (const double*)wu_addr;
    double* dec = (double*)dec_addr;
    const int p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= n_params || dec[4 * p] != VIEW_LAYER) return;
    const ParamDesc& q = d[p];
    double ww = 0.0, s = 0.0;
    for (i64 r = q.row0; r < q.row0 + q.rows; r++) {
        ww += pre[3 * r + 2];
        s += wu[r];
    }
    dec[4 * p + 2] = coefficient(ww, s, q.eps);
}

// 5. The projected update: u' = u - c*w (u recomputed from the advanced state), SGDP without
// Nesterov stores u' as its momentum (sgdp.py projects the buffer in place), then w'.
template <int RULE, typename T>
__device__ void project_rows(u64 desc, int n_params, u64 pre_addr, u64 dec_addr, u64 wu_addr,
                             u64 post_addr, int stats) {
    const ParamDesc* d = (const ParamDesc*)desc;
    const double* pre = (const double*)pre_addr;
    const double* dec = (const double*)dec_addr;
    const double* wu = (const double*)wu_addr;
    double* post = (double*)post_addr;
    const i64 r = blockIdx.x;
    const int p = param_of_row(d, n_params, r);
    const ParamDesc& q = d[p];
    const double view = dec[4 * p];
    if (view != VIEW_CHANNEL && view != VIEW_LAYER) return;
    const Scalars<T> s = scalars<T>(q, dec[4 * p + 1]);
    const T c = (T)(view == VIEW_CHANNEL ? coefficient(pre[3 * r + 2], wu[r], q.eps)
                                         : dec[4 * p + 2]);
    const i64 base = (r - q.row0) * q.row_len;
    T* w = (T*)q.w + base;
    const T* g = (const T*)q.g + base;
    T* a = (T*)q.a + base;
    const T* b = q.b ? (const T*)q.b + base : 0;
    const bool store = RULE == RULE_SGDP && !(q.flags & F_NESTEROV);
    double v[2] = {0.0, 0.0};
    for (i64 i = threadIdx.x; i < q.row_len; i += blockDim.x) {
        T wi = w[i];
        T u = recompute<RULE, T>(s, g[i], a[i], b ? b[i] : (T)0) - c * wi;
        if (store) a[i] = u;
        T w1 = apply<RULE, T>(s, wi, u);
        w[i] = w1;
        if (stats) {
            double wf = (double)wi, dd = (double)w1 - wf;
            v[0] += wf * dd;
            v[1] += dd * dd;
        }
    }
    if (!stats) return;
    block_sum<2>(v);
    if (threadIdx.x == 0) {
        post[2 * r] = v[0];
        post[2 * r + 1] = v[1];
    }
}

// 6. Statistics per parameter (projection.rs `stats`): out[8p..] = view, decay, norm before,
// norm after, effective step, max |cos| (and two unused slots).
__device__ void stats(u64 desc, int n_params, u64 pre_addr, u64 post_addr, u64 dec_addr,
                      u64 out_addr) {
    const ParamDesc* d = (const ParamDesc*)desc;
    const double* pre = (const double*)pre_addr;
    const double* post = (const double*)post_addr;
    const double* dec = (const double*)dec_addr;
    double* out = (double*)out_addr;
    const int p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= n_params) return;
    const ParamDesc& q = d[p];
    double* o = out + 8 * p;
    o[0] = dec[4 * p];
    o[1] = dec[4 * p + 1];
    if (dec[4 * p] == VIEW_SKIP) return;
    double ww = 0.0, wd = 0.0, dd = 0.0;
    for (i64 r = q.row0; r < q.row0 + q.rows; r++) {
        ww += pre[3 * r + 2];
        wd += post[2 * r];
        dd += post[2 * r + 1];
    }
    double grow = 2.0 * wd + dd;
    double n0 = sqrt(ww), n1 = sqrt(fmax(ww + grow, 0.0));
    double eff;
    if (n0 > 0.0 && n1 > 0.0) {
        double dn = grow / (n0 + n1);
        eff = sqrt(fmax(dd - dn * dn, 0.0) / (n0 * n1));
    } else {
        eff = NAN;
    }
    o[2] = n0;
    o[3] = n1;
    o[4] = eff;
    o[5] = max_abs_cos(q, pre);
}

// The entry points: one per dtype (and rule), all arguments device addresses or ints.
#define ROWS_ENTRY(T, SUF)                                                                        \
    extern "C" __global__ void adamp_pre_rows_##SUF(u64 desc, int n, u64 pre, u64 dec) {          \
        pre_rows<T>(desc, n, pre, dec);                                                           \
    }
ROWS_ENTRY(float, f32)
ROWS_ENTRY(double, f64)

#define RULE_ENTRY(T, SUF, RULE, NAME)                                                            \
    extern "C" __global__ void adamp_advance_##NAME##_##SUF(u64 desc, int n, u64 dec, u64 wu,     \
                                                            u64 post, int st) {                   \
        advance_rows<RULE, T>(desc, n, dec, wu, post, st);                                        \
    }
#define PROJ_ENTRY(T, SUF, RULE, NAME)                                                            \
    extern "C" __global__ void adamp_project_##NAME##_##SUF(u64 desc, int n, u64 pre, u64 dec,    \
                                                            u64 wu, u64 post, int st) {           \
        project_rows<RULE, T>(desc, n, pre, dec, wu, post, st);                                   \
    }
RULE_ENTRY(float, f32, RULE_SGD0, sgd0)
RULE_ENTRY(double, f64, RULE_SGD0, sgd0)
RULE_ENTRY(float, f32, RULE_SGD, sgd)
RULE_ENTRY(double, f64, RULE_SGD, sgd)
RULE_ENTRY(float, f32, RULE_SGDP, sgdp)
RULE_ENTRY(double, f64, RULE_SGDP, sgdp)
RULE_ENTRY(float, f32, RULE_ADAM, adam)
RULE_ENTRY(double, f64, RULE_ADAM, adam)
RULE_ENTRY(float, f32, RULE_ADAMP, adamp)
RULE_ENTRY(double, f64, RULE_ADAMP, adamp)
PROJ_ENTRY(float, f32, RULE_SGDP, sgdp)
PROJ_ENTRY(double, f64, RULE_SGDP, sgdp)
PROJ_ENTRY(float, f32, RULE_ADAMP, adamp)
PROJ_ENTRY(double, f64, RULE_ADAMP, adamp)

extern "C" __global__ void adamp_decide(u64 desc, int n, u64 pre, u64 dec) {
    decide(desc, n, pre, dec);
}
extern "C" __global__ void adamp_layer_coef(u64 desc, int n, u64 pre, u64 wu, u64 dec) {
    layer_coef(desc, n, pre, wu, dec);
}
extern "C" __global__ void adamp_stats(u64 desc, int n, u64 pre, u64 post, u64 dec, u64 out) {
    stats(desc, n, pre, post, dec, out);
}

#ifdef ADAMP_EMULATE
// The emulator's table of entry points (emu.h `emu_launch`).
EMU_TABLE_BEGIN
EMU_ENTRY(adamp_pre_rows_f32) EMU_ENTRY(adamp_pre_rows_f64)
EMU_ENTRY(adamp_advance_sgd0_f32) EMU_ENTRY(adamp_advance_sgd0_f64)
EMU_ENTRY(adamp_advance_sgd_f32) EMU_ENTRY(adamp_advance_sgd_f64)
EMU_ENTRY(adamp_advance_sgdp_f32) EMU_ENTRY(adamp_advance_sgdp_f64)
EMU_ENTRY(adamp_advance_adam_f32) EMU_ENTRY(adamp_advance_adam_f64)
EMU_ENTRY(adamp_advance_adamp_f32) EMU_ENTRY(adamp_advance_adamp_f64)
EMU_ENTRY(adamp_project_sgdp_f32) EMU_ENTRY(adamp_project_sgdp_f64)
EMU_ENTRY(adamp_project_adamp_f32) EMU_ENTRY(adamp_project_adamp_f64)
EMU_ENTRY(adamp_decide) EMU_ENTRY(adamp_layer_coef) EMU_ENTRY(adamp_stats)
EMU_TABLE_END
#endif
