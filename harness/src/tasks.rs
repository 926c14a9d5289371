//! Every task kind `adamp` runs, registered once.
//!
//! Adding a benchmark: its crate under `tasks/` (implementing `adamp_task_api::TaskFactory`), one
//! line in [`BUILTIN`], and its configs under `configs/`. The valid `[task] kind`s, the parsing
//! and checking of the task's tables, the `[model]` / `[data]` kinds in error messages and
//! `adamp list`, and building a run's task all come from this list.

use adamp_task_api::{Registered, RegisteredTask};

/// The task kinds of this build, in the order `adamp list` shows them.
pub static BUILTIN: &[&dyn RegisteredTask] = &[
    &Registered::<adamp_task_toy::Toy2d>::NEW,
    &Registered::<adamp_task_toy::Toy3d>::NEW,
    &Registered::<adamp_task_classification::ClassificationTask>::NEW,
    &Registered::<adamp_task_adversarial::AdversarialTask>::NEW,
    &Registered::<adamp_task_rebias::ReBiasTask>::NEW,
    &Registered::<adamp_task_retrieval::RetrievalTask>::NEW,
    &Registered::<adamp_task_detection::DetectionTask>::NEW,
    &Registered::<adamp_task_audio::AudioTask>::NEW,
    &Registered::<adamp_task_lm::LmTask>::NEW,
];

/// The task kinds a config is read with: [`BUILTIN`], plus any a program (or a test) adds.
#[derive(Clone)]
pub struct Registry {
    tasks: Vec<&'static dyn RegisteredTask>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::builtin()
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.kinds()).finish()
    }
}

impl Registry {
    /// The built-in task kinds.
    pub fn builtin() -> Self {
        Self {
            tasks: BUILTIN.to_vec(),
        }
    }

    /// This registry plus `task` (`&Registered::<MyTask>::NEW`).
    ///
    /// # Panics
    /// When a task of the same kind is registered already (two kinds must never share a name).
    pub fn with(mut self, task: &'static dyn RegisteredTask) -> Self {
        assert!(
            self.get(task.kind()).is_none(),
            "task kind `{}` is registered twice",
            task.kind()
        );
        self.tasks.push(task);
        self
    }

    /// The task of `kind`.
    pub fn get(&self, kind: &str) -> Option<&'static dyn RegisteredTask> {
        self.tasks.iter().copied().find(|t| t.kind() == kind)
    }

    /// Every registered task.
    pub fn tasks(&self) -> &[&'static dyn RegisteredTask] {
        &self.tasks
    }

    /// Every `[task] kind`.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.tasks.iter().map(|t| t.kind()).collect()
    }

    /// Every `[model] kind` some task accepts, in registration order, without repeats.
    pub fn model_kinds(&self) -> Vec<&'static str> {
        union(self.tasks.iter().map(|t| t.model_kinds()))
    }

    /// Every `[data] kind` some task accepts, in registration order, without repeats.
    pub fn data_kinds(&self) -> Vec<&'static str> {
        union(self.tasks.iter().map(|t| t.data_kinds()))
    }
}

fn union<'a>(lists: impl Iterator<Item = &'a [&'static str]>) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for name in lists.flatten() {
        if !out.contains(name) {
            out.push(name);
        }
    }
    out
}
