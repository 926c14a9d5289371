//! Helpers shared by the CPU kernels: slice access to CPU storage, scratch buffers, threading.

use std::cell::RefCell;
use std::mem::MaybeUninit;

use rayon::prelude::*;

use candle_core::{bail, CpuStorage, Layout, Result, Storage, Tensor};

/// The f32 elements of a contiguous CPU storage described by `layout`.
pub(crate) fn f32_slice<'a>(
    storage: &'a CpuStorage,
    layout: &Layout,
    op: &str,
) -> Result<&'a [f32]> {
    let data = match storage {
        CpuStorage::F32(v) => v.as_slice(),
        _ => bail!("{op}: expected an f32 tensor"),
    };
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => bail!("{op}: expected a contiguous tensor"),
    }
}

/// Run `f` on the f32 elements of a CPU tensor (made contiguous first if needed).
pub(crate) fn with_f32<R>(t: &Tensor, op: &str, f: impl FnOnce(&[f32]) -> R) -> Result<R> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    match &*storage {
        Storage::Cpu(cpu) => Ok(f(f32_slice(cpu, layout, op)?)),
        _ => bail!("{op}: expected a CPU tensor"),
    }
}

/// A new vector of `n` elements written by `fill(i, chunk)` over its chunks of `chunk_len`
/// elements (the last may be shorter), in parallel when `parallel`. Each chunk is zeroed by the
/// thread that fills it, just before `fill` sees it: with freed memory reused (see
/// [`crate::alloc::keep_freed_memory`]), `vec![0.0; n]` before a parallel kernel was a serial
/// memset over the whole output (about 5% of a ResNet-20 training step); here the zeroing is a
/// write into cache inside the parallel task.
pub(crate) fn new_filled(
    n: usize,
    chunk_len: usize,
    parallel: bool,
    fill: impl Fn(usize, &mut [f32]) + Sync + Send,
) -> Vec<f32> {
    let mut v: Vec<f32> = Vec::with_capacity(n);
    let init = |(i, c): (usize, &mut [MaybeUninit<f32>])| {
        c.fill(MaybeUninit::new(0.0));
        // SAFETY: every element of `c` was initialised just above, and `MaybeUninit<f32>` has
        // the layout of `f32`.
        let c = unsafe { &mut *(c as *mut [MaybeUninit<f32>] as *mut [f32]) };
        fill(i, c);
    };
    let spare = &mut v.spare_capacity_mut()[..n];
    if parallel {
        spare
            .par_chunks_mut(chunk_len.max(1))
            .enumerate()
            .for_each(init);
    } else {
        spare
            .chunks_mut(chunk_len.max(1))
            .enumerate()
            .for_each(init);
    }
    // SAFETY: the chunks above cover `[0, n)` and each was initialised (a panic in `fill`
    // propagates before this line).
    unsafe { v.set_len(n) };
    v
}

/// Number of rayon worker threads.
pub(crate) fn threads() -> usize {
    rayon::current_num_threads().max(1)
}

thread_local! {
    static SCRATCH: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
}

/// Run `f` with a scratch buffer of at least `len` elements (contents unspecified), reusing a
/// per-thread pool so hot loops do not allocate (and page-fault) fresh memory on every call.
pub(crate) fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let mut buf = SCRATCH.with(|s| s.borrow_mut().pop()).unwrap_or_default();
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    let r = f(&mut buf[..len]);
    SCRATCH.with(|s| {
        let mut pool = s.borrow_mut();
        if pool.len() < 4 {
            pool.push(buf);
        }
    });
    r
}

/// `dst[..] = a * b` for row-major matrices via the `gemm` crate (`dst` is `m x n` with row
/// stride `dst_rs`; `a(i, l) = a[i * a_rs + l * a_cs]`, `b(l, j) = b[l * b_rs + j * b_cs]`).
/// With `accumulate`, `dst += a * b`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    dst_rs: usize,
    a: &[f32],
    a_rs: usize,
    a_cs: usize,
    b: &[f32],
    b_rs: usize,
    b_cs: usize,
    accumulate: bool,
    parallel: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    // Bounds: the last element each operand touches must lie inside its slice.
    assert!((m - 1) * dst_rs + n <= dst.len(), "matmul: dst too small");
    if k > 0 {
        assert!(
            (m - 1) * a_rs + (k - 1) * a_cs < a.len(),
            "matmul: lhs too small"
        );
        assert!(
            (k - 1) * b_rs + (n - 1) * b_cs < b.len(),
            "matmul: rhs too small"
        );
    } else if !accumulate {
        for i in 0..m {
            dst[i * dst_rs..i * dst_rs + n].fill(0.0);
        }
        return;
    }
    let parallelism = if parallel && threads() > 1 {
        gemm::Parallelism::Rayon(threads())
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the asserts above check every index gemm reads or writes is inside its slice;
    // `dst` is borrowed mutably and does not alias `a` or `b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            accumulate,
            a.as_ptr(),
            a_cs as isize,
            a_rs as isize,
            b.as_ptr(),
            b_cs as isize,
            b_rs as isize,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            parallelism,
        )
    }
}
