//! The `Optimizer` (and optional `candle_nn::Optimizer`) impls every optimizer shares: each one is
//! a validated config plus an [`crate::engine::Engine`].

/// Implement [`crate::Optimizer`], backend selection and (feature `candle-nn`)
/// `candle_nn::Optimizer` for an optimizer struct with fields `engine` and `config`.
macro_rules! impl_optimizer {
    ($ty:ident, $cfg:ident) => {
        impl $ty {
            /// The hyperparameters this optimizer was built with (lr as at construction).
            pub fn config(&self) -> &$cfg {
                &self.config
            }

            /// Which step implementation is used (default: fused).
            pub fn backend(&self) -> $crate::engine::StepBackend {
                self.engine.backend
            }

            /// Choose the step implementation (see [`crate::StepBackend`]). All give the same
            /// numbers (tested), so this is for testing and benchmarking. State carries over.
            pub fn set_backend(&mut self, backend: $crate::engine::StepBackend) {
                self.engine.backend = backend;
            }
        }

        impl $crate::optimizer::Optimizer for $ty {
            fn step(
                &mut self,
                grads: &candle_core::backprop::GradStore,
            ) -> $crate::error::Result<$crate::optimizer::StepReport> {
                self.engine.step(grads)
            }
            fn learning_rate(&self) -> f64 {
                self.engine.lr
            }
            fn set_learning_rate(&mut self, lr: f64) {
                self.engine.lr = lr;
            }
            fn params(&self) -> &$crate::param::ParamList {
                &self.engine.params
            }
            fn name(&self) -> &'static str {
                self.engine.name
            }
            fn save_state(&self, path: &std::path::Path) -> $crate::error::Result<()> {
                self.engine.save(path)
            }
            fn load_state(&mut self, path: &std::path::Path) -> $crate::error::Result<()> {
                self.engine.load(path)
            }
            fn set_stats(&mut self, on: bool) {
                self.engine.stats = on;
            }
        }

        #[cfg(feature = "candle-nn")]
        impl candle_nn::Optimizer for $ty {
            type Config = $cfg;

            /// Parameters are named `param.<i>` in the given order, with `ParamKind::Other`; the
            /// projection still follows the reference's cosine test, so the numbers are the same
            /// as with named parameters.
            fn new(vars: Vec<candle_core::Var>, config: $cfg) -> candle_core::Result<Self> {
                let params =
                    $crate::compat::anonymous_params(vars).map_err(candle_core::Error::wrap)?;
                <$ty>::new(params, config).map_err(candle_core::Error::wrap)
            }
            fn step(
                &mut self,
                grads: &candle_core::backprop::GradStore,
            ) -> candle_core::Result<()> {
                self.engine
                    .step(grads)
                    .map(|_| ())
                    .map_err(candle_core::Error::wrap)
            }
            fn learning_rate(&self) -> f64 {
                self.engine.lr
            }
            fn set_learning_rate(&mut self, lr: f64) {
                self.engine.lr = lr;
            }
        }
    };
}

pub(crate) use impl_optimizer;
