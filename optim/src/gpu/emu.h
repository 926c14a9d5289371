// A host emulation of the CUDA execution model for the kernels in kernels.cu, so that the tests
// check them on a CPU (compiled with `g++ -std=c++20 -ffp-contract=off -DADAMP_EMULATE`).
//
// Launches run one at a time, and a launch runs its blocks one after another; a block's threads run as OS threads at the same
// time, and `__syncthreads()` is a barrier over them. `__shared__` variables are function-local
// statics: one copy, which the threads of the running block share, as shared memory. Built-in
// indices are thread-locals. `atomicAdd` is a locked addition. Floating-point arithmetic is the
// host's IEEE arithmetic without contraction, as the device code's with `--fmad=false`.
#pragma once

#include <cmath>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

struct emu_dim3 {
    unsigned x = 0, y = 0, z = 0;
};

inline thread_local emu_dim3 threadIdx;
inline thread_local emu_dim3 blockIdx;
inline emu_dim3 blockDim;
inline emu_dim3 gridDim;
// A reusable barrier over a block's threads (mutex, condition variable and a generation count).
class EmuBarrier {
  public:
    explicit EmuBarrier(unsigned n) : n_(n) {}
    void arrive_and_wait() {
        std::unique_lock<std::mutex> lock(m_);
        unsigned gen = gen_;
        if (++arrived_ == n_) {
            arrived_ = 0;
            gen_++;
            cv_.notify_all();
        } else {
            cv_.wait(lock, [&] { return gen_ != gen; });
        }
    }

  private:
    std::mutex m_;
    std::condition_variable cv_;
    unsigned n_;
    unsigned arrived_ = 0;
    unsigned gen_ = 0;
};

inline thread_local EmuBarrier* emu_block_barrier = nullptr;
inline std::mutex emu_atomic_lock;

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static

inline void __syncthreads() { emu_block_barrier->arrive_and_wait(); }

inline double atomicAdd(double* p, double v) {
    std::lock_guard<std::mutex> g(emu_atomic_lock);
    double old = *p;
    *p = old + v;
    return old;
}

using std::isfinite;
using std::isnan;

// Run `body` as a grid of `grid` blocks of `block` threads.
// Launches run one at a time (shared memory and the launch dimensions are process-wide, and
// the callers, e.g. tests on several threads, may launch concurrently).
inline std::mutex emu_launch_lock;

template <typename F>
void emu_run(unsigned grid, unsigned block, F body) {
    std::lock_guard<std::mutex> launch(emu_launch_lock);
    gridDim.x = grid;
    blockDim.x = block;
    for (unsigned b = 0; b < grid; b++) {
        EmuBarrier bar(block);
        std::vector<std::thread> threads;
        threads.reserve(block);
        for (unsigned t = 0; t < block; t++) {
            threads.emplace_back([&, b, t] {
                threadIdx.x = t;
                blockIdx.x = b;
                emu_block_barrier = &bar;
                body();
            });
        }
        for (auto& th : threads) th.join();
    }
}

// Call a kernel with its arguments unpacked from `args` (each a pointer to one argument, as
// cuLaunchKernel's kernelParams).
template <typename... A, std::size_t... I>
void emu_call(void (*k)(A...), void** args, std::index_sequence<I...>) {
    k(*static_cast<std::remove_reference_t<A>*>(args[I])...);
}

template <typename... A>
void emu_launch_kernel(void (*k)(A...), unsigned grid, unsigned block, void** args) {
    emu_run(grid, block, [&] { emu_call(k, args, std::index_sequence_for<A...>{}); });
}

// The table of entry points: `adamp_emu_launch(name, grid, block, args)` returns 0 when it ran
// the kernel `name`, 1 when no kernel has that name.
#define EMU_TABLE_BEGIN                                                                       \
    extern "C" int adamp_emu_launch(const char* name, unsigned grid, unsigned block,          \
                                    void** args) {
#define EMU_ENTRY(k)                                                                          \
    if (std::strcmp(name, #k) == 0) {                                                         \
        emu_launch_kernel(k, grid, block, args);                                              \
        return 0;                                                                             \
    }
#define EMU_TABLE_END                                                                         \
    return 1;                                                                                 \
    }
