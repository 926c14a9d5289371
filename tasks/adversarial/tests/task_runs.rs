//! The task end to end on generated data: it says what it built, it is deterministic on the CPU
//! (the random starts are functions of the seed and the batch), and a task rebuilt mid-run with
//! the first one's state continues on the same batches and starts.

mod common;

use adamp_task_adversarial::Norm;
use adamp_task_api::Task;
use common::{settings, sgd, snapshot, step, task};

#[test]
fn describes_the_attack_and_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(Norm::L2, 80.0 / 255.0);
    let mut a = task(dir.path(), &s, 48, 16, 16);
    let text = a.describe();
    for part in [
        "PGD-ℓ2",
        "80.00/255",
        "3 steps",
        "2.5 eps / steps",
        "evaluation mode",
        "PGD-3, PGD-6",
        "wrn-10-1",
    ] {
        assert!(text.contains(part), "`{part}` missing from: {text}");
    }
    let mut oa = sgd(&a, 0.05);
    let la: Vec<f64> = (0..4).map(|s| step(&mut a, &mut oa, s)).collect();
    let ea = a.evaluate().unwrap();

    // A fresh task trained for two steps, then rebuilt from its state, ends identical.
    let mut b = task(dir.path(), &s, 48, 16, 16);
    let mut ob = sgd(&b, 0.05);
    let mut lb: Vec<f64> = (0..2).map(|s| step(&mut b, &mut ob, s)).collect();
    let state = tempfile::tempdir().unwrap();
    let opt_path = state.path().join("opt.safetensors");
    ob.optimizers()[0].save_state(&opt_path).unwrap();
    let mut c = task(dir.path(), &s, 48, 16, 16);
    for (p, q) in c.param_sets()[0]
        .params
        .params()
        .iter()
        .zip(b.param_sets()[0].params.params())
    {
        p.var.set(q.var.as_tensor()).unwrap();
    }
    c.load_buffers(&b.buffers().unwrap()).unwrap();
    let mut oc = sgd(&c, 0.05);
    oc.optimizers_mut()[0].load_state(&opt_path).unwrap();
    lb.extend((2..4).map(|s| step(&mut c, &mut oc, s)));
    assert_eq!(la, lb, "a rebuilt task took other steps");
    assert_eq!(c.evaluate().unwrap(), ea);
    assert_eq!(snapshot(&c), snapshot(&a));
}
