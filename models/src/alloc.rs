//! Allocator settings for training on CPU, for programs (not libraries) to opt into.
//!
//! A training step allocates and frees the same large buffers every step (activations,
//! gradients, Candle's gradient sums; 1-75 MB each at batch 128). glibc's malloc serves buffers
//! above its (dynamic, at most 32 MiB) mmap threshold with fresh `mmap`s and returns freed heap
//! tops to the kernel, so every step page-faults and zero-fills its memory again. Keeping freed
//! memory in the process removes that: measured on ResNet-20 (batch 128, 2 threads,
//! `bench_train` with and without `--malloc-default`, interleaved in one run of it) the time
//! outside our kernels fell from 117-137 ms/step to 96-101 ms/step and throughput rose from
//! 225-234 to 295-320 images/s. The cost is that the process keeps its peak memory until it
//! exits.

/// Keep freed memory in the process (glibc on Linux: `M_MMAP_THRESHOLD` 32 MiB, its maximum, so
/// allocations below it come from the heap; `M_TRIM_THRESHOLD` 2 GiB, so the heap is not
/// trimmed after every step). Returns whether the settings were applied (`false` on other
/// platforms, where this does nothing). Call it once at the start of a program's `main`.
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes malloc's tuning parameters; called before the program
        // starts its worker threads.
        unsafe {
            let mmap = libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            let trim = libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
            mmap == 1 && trim == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    /// glibc accepts both settings (an out-of-range threshold would be refused with 0).
    #[test]
    fn glibc_takes_the_settings() {
        assert!(super::keep_freed_memory());
    }
}
