//! cuDNN convolutions: forward, backward-data and backward-filter as Candle custom ops.

use super::cuda_only;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use candle_core::cuda_backend::cudarc::cudnn::safe::{
    ConvBackwardData, ConvBackwardFilter, ConvDescriptor, ConvForward, Cudnn, FilterDescriptor,
    TensorDescriptor,
};
use candle_core::cuda_backend::cudarc::cudnn::sys;
use candle_core::cuda_backend::cudarc::driver::CudaSlice;
use candle_core::cuda_backend::DeviceId;
use candle_core::{
    bail, CpuStorage, CudaDevice, CudaStorage, CustomOp2, Layout, Result, Shape, Tensor,
};

use super::ptx::view;
use crate::ops::conv2d::Conv2dGeometry;

static ALLOW_TF32: AtomicBool = AtomicBool::new(true);

/// Whether cuDNN convolutions may use TF32 tensor-core math (the default, as PyTorch's
/// `torch.backends.cudnn.allow_tf32`).
pub fn allow_tf32() -> bool {
    ALLOW_TF32.load(Ordering::Relaxed)
}

/// Allow (`true`, the default) or forbid TF32 math in the cuDNN convolutions launched from now
/// on; forbidden, cuDNN only uses FMA kernels (`CUDNN_FMA_MATH`, full f32 products).
pub fn set_allow_tf32(on: bool) {
    ALLOW_TF32.store(on, Ordering::Relaxed);
}

/// The algorithms picked for one geometry (and math mode), per direction, once each.
#[derive(Default, Clone, Copy)]
struct Algos {
    fwd: Option<sys::cudnnConvolutionFwdAlgo_t>,
    data: Option<sys::cudnnConvolutionBwdDataAlgo_t>,
    filter: Option<sys::cudnnConvolutionBwdFilterAlgo_t>,
}

type AlgoKey = (DeviceId, Conv2dGeometry, bool);

thread_local! {
    // cuDNN handles are neither Send nor Sync: one per device and thread, as Candle keeps its own.
    static HANDLES: RefCell<HashMap<DeviceId, Arc<Cudnn>>> = RefCell::new(HashMap::new());
    static ALGOS: RefCell<HashMap<AlgoKey, Algos>> = RefCell::new(HashMap::new());
}

fn handle(dev: &CudaDevice) -> Result<Arc<Cudnn>> {
    HANDLES.with(|h| {
        if let Some(c) = h.borrow().get(&dev.id()) {
            return Ok(c.clone());
        }
        let c = Cudnn::new(dev.cuda_stream())?;
        h.borrow_mut().insert(dev.id(), c.clone());
        Ok(c)
    })
}

/// The cached algorithm of one direction (`get`/`set` pick the field), or `pick()` cached.
fn cached_algo<A: Copy>(
    key: AlgoKey,
    get: impl Fn(&Algos) -> Option<A>,
    set: impl Fn(&mut Algos, A),
    pick: impl FnOnce() -> Result<A>,
) -> Result<A> {
    if let Some(a) = ALGOS.with(|m| m.borrow().get(&key).and_then(&get)) {
        return Ok(a);
    }
    let a = pick()?;
    ALGOS.with(|m| set(m.borrow_mut().entry(key).or_default(), a));
    Ok(a)
}

/// The descriptors of one convolution: NCHW f32 input, filter and output.
struct Descriptors {
    conv: ConvDescriptor<f32>,
    x: TensorDescriptor<f32>,
    w: FilterDescriptor<f32>,
    y: TensorDescriptor<f32>,
}

fn i32s<const N: usize>(v: [usize; N], what: &str) -> Result<[i32; N]> {
    let mut out = [0i32; N];
    for (o, x) in out.iter_mut().zip(v) {
        *o = match i32::try_from(x) {
            Ok(x) => x,
            Err(_) => bail!("conv2d (cuDNN): {what} {v:?} exceeds i32"),
        };
    }
    Ok(out)
}

fn descriptors(cudnn: &Arc<Cudnn>, g: &Conv2dGeometry, tf32: bool) -> Result<Descriptors> {
    use sys::cudnnTensorFormat_t::CUDNN_TENSOR_NCHW as NCHW;
    let [p, s, d, groups] = i32s([g.padding, g.stride, g.dilation, g.groups], "geometry")?;
    let mut conv = cudnn.create_conv2d::<f32>(
        [p, p],
        [s, s],
        [d, d],
        sys::cudnnConvolutionMode_t::CUDNN_CROSS_CORRELATION,
    )?;
    conv.set_group_count(groups)?;
    conv.set_math_type(if tf32 {
        sys::cudnnMathType_t::CUDNN_DEFAULT_MATH
    } else {
        sys::cudnnMathType_t::CUDNN_FMA_MATH
    })?;
    let x = cudnn.create_4d_tensor::<f32>(NCHW, i32s([g.n, g.c_in, g.h, g.w], "input")?)?;
    let w = cudnn.create_4d_filter::<f32>(
        NCHW,
        i32s([g.c_out, g.c_in / g.groups, g.kh, g.kw], "kernel")?,
    )?;
    let y = cudnn.create_4d_tensor::<f32>(NCHW, i32s([g.n, g.c_out, g.oh, g.ow], "output")?)?;
    Ok(Descriptors { conv, x, w, y })
}

/// A workspace of `bytes` on the device's stream (`None` for zero bytes).
fn workspace(dev: &CudaDevice, bytes: usize) -> Result<Option<CudaSlice<u8>>> {
    if bytes == 0 {
        return Ok(None);
    }
    // SAFETY: cuDNN only uses the workspace as scratch space.
    Ok(Some(unsafe { dev.alloc::<u8>(bytes)? }))
}

/// `y = conv(x, w)`.
fn forward(
    g: &Conv2dGeometry,
    (xs, xl): (&CudaStorage, &Layout),
    (ws, wl): (&CudaStorage, &Layout),
) -> Result<CudaStorage> {
    let dev = &xs.device;
    let (x, w) = (view(xs, xl, "conv2d")?, view(ws, wl, "conv2d")?);
    let cudnn = handle(dev)?;
    let tf32 = allow_tf32();
    let d = descriptors(&cudnn, g, tf32)?;
    let op = ConvForward {
        conv: &d.conv,
        x: &d.x,
        w: &d.w,
        y: &d.y,
    };
    let algo = cached_algo(
        (dev.id(), *g, tf32),
        |a| a.fwd,
        |a, v| a.fwd = Some(v),
        || Ok(op.pick_algorithm()?),
    )?;
    let mut wsp = workspace(dev, op.get_workspace_size(algo)?)?;
    // SAFETY: set below by cuDNN (beta = 0).
    let mut y = unsafe { dev.alloc::<f32>(g.n * g.c_out * g.oh * g.ow)? };
    // SAFETY: the buffers match the descriptors (contiguous NCHW f32 of the geometry's shapes).
    unsafe { op.launch(algo, wsp.as_mut(), (1f32, 0f32), &x, &w, &mut y)? };
    Ok(CudaStorage::wrap_cuda_slice(y, dev.clone()))
}

/// `dx = conv_backward_data(w, dy)`.
fn backward_data(
    g: &Conv2dGeometry,
    (ws, wl): (&CudaStorage, &Layout),
    (dys, dyl): (&CudaStorage, &Layout),
) -> Result<CudaStorage> {
    let dev = &ws.device;
    let (w, dy) = (
        view(ws, wl, "conv2d backward")?,
        view(dys, dyl, "conv2d backward")?,
    );
    let cudnn = handle(dev)?;
    let tf32 = allow_tf32();
    let d = descriptors(&cudnn, g, tf32)?;
    let op = ConvBackwardData {
        conv: &d.conv,
        dx: &d.x,
        w: &d.w,
        dy: &d.y,
    };
    let algo = cached_algo(
        (dev.id(), *g, tf32),
        |a| a.data,
        |a, v| a.data = Some(v),
        || Ok(op.pick_algorithm()?),
    )?;
    let mut wsp = workspace(dev, op.get_workspace_size(algo)?)?;
    // SAFETY: set below by cuDNN (beta = 0).
    let mut dx = unsafe { dev.alloc::<f32>(g.n * g.c_in * g.h * g.w)? };
    // SAFETY: as in `forward`.
    unsafe { op.launch(algo, wsp.as_mut(), (1f32, 0f32), &mut dx, &w, &dy)? };
    Ok(CudaStorage::wrap_cuda_slice(dx, dev.clone()))
}

/// `dw = conv_backward_filter(x, dy)`.
fn backward_filter(
    g: &Conv2dGeometry,
    (xs, xl): (&CudaStorage, &Layout),
    (dys, dyl): (&CudaStorage, &Layout),
) -> Result<CudaStorage> {
    let dev = &xs.device;
    let (x, dy) = (
        view(xs, xl, "conv2d backward")?,
        view(dys, dyl, "conv2d backward")?,
    );
    let cudnn = handle(dev)?;
    let tf32 = allow_tf32();
    let d = descriptors(&cudnn, g, tf32)?;
    let op = ConvBackwardFilter {
        conv: &d.conv,
        x: &d.x,
        dw: &d.w,
        dy: &d.y,
    };
    let algo = cached_algo(
        (dev.id(), *g, tf32),
        |a| a.filter,
        |a, v| a.filter = Some(v),
        || Ok(op.pick_algorithm()?),
    )?;
    let mut wsp = workspace(dev, op.get_workspace_size(algo)?)?;
    // SAFETY: set below by cuDNN (beta = 0).
    let mut dw = unsafe { dev.alloc::<f32>(g.c_out * (g.c_in / g.groups) * g.kh * g.kw)? };
    // SAFETY: as in `forward`.
    unsafe { op.launch(algo, wsp.as_mut(), (1f32, 0f32), &x, &mut dw, &dy)? };
    Ok(CudaStorage::wrap_cuda_slice(dw, dev.clone()))
}

/// The forward custom op `conv2d(x, w)`.
#[derive(Debug, Clone, Copy)]
struct CudnnConv2d {
    stride: usize,
    padding: usize,
    dilation: usize,
    groups: usize,
}

impl CudnnConv2d {
    fn geometry(&self, x: &[usize], w: &[usize]) -> Result<Conv2dGeometry> {
        Conv2dGeometry::new(x, w, self.stride, self.padding, self.dilation, self.groups)
    }
}

impl CustomOp2 for CudnnConv2d {
    fn name(&self) -> &'static str {
        "adamp-cudnn-conv2d"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        cuda_only(self.name())
    }

    fn cuda_fwd(
        &self,
        s1: &CudaStorage,
        l1: &Layout,
        s2: &CudaStorage,
        l2: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let g = self.geometry(l1.dims(), l2.dims())?;
        let y = forward(&g, (s1, l1), (s2, l2))?;
        Ok((y, Shape::from((g.n, g.c_out, g.oh, g.ow))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _y: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let g = self.geometry(x.dims(), w.dims())?;
        let dy = dy.contiguous()?;
        let dx = match x.track_op() {
            true => Some(w.apply_op2_no_bwd(&dy, &DataGrad(g))?),
            false => None,
        };
        let dw = match w.track_op() {
            true => Some(x.apply_op2_no_bwd(&dy, &FilterGrad(g))?),
            false => None,
        };
        Ok((dx, dw))
    }
}

/// `(w, dy) -> dx` (no backward of its own).
#[derive(Debug, Clone, Copy)]
struct DataGrad(Conv2dGeometry);

impl CustomOp2 for DataGrad {
    fn name(&self) -> &'static str {
        "adamp-cudnn-conv2d-backward-data"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        cuda_only(self.name())
    }

    fn cuda_fwd(
        &self,
        s1: &CudaStorage,
        l1: &Layout,
        s2: &CudaStorage,
        l2: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let g = &self.0;
        let dx = backward_data(g, (s1, l1), (s2, l2))?;
        Ok((dx, Shape::from((g.n, g.c_in, g.h, g.w))))
    }
}

/// `(x, dy) -> dw` (no backward of its own).
#[derive(Debug, Clone, Copy)]
struct FilterGrad(Conv2dGeometry);

impl CustomOp2 for FilterGrad {
    fn name(&self) -> &'static str {
        "adamp-cudnn-conv2d-backward-filter"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        cuda_only(self.name())
    }

    fn cuda_fwd(
        &self,
        s1: &CudaStorage,
        l1: &Layout,
        s2: &CudaStorage,
        l2: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let g = &self.0;
        let dw = backward_filter(g, (s1, l1), (s2, l2))?;
        Ok((dw, Shape::from((g.c_out, g.c_in / g.groups, g.kh, g.kw))))
    }
}

/// See [`super::conv2d`].
pub(super) fn conv2d(
    x: &Tensor,
    w: &Tensor,
    stride: usize,
    padding: usize,
    dilation: usize,
    groups: usize,
) -> Result<Tensor> {
    Conv2dGeometry::new(x.dims(), w.dims(), stride, padding, dilation, groups)?;
    x.contiguous()?.apply_op2(
        &w.contiguous()?,
        CudnnConv2d {
            stride,
            padding,
            dilation,
            groups,
        },
    )
}
