//! The task against direct computations with its model: the step → segment mapping, memories
//! carried between steps and emptied when the stream starts over, perplexity of the whole
//! evaluation streams, the memories and the vocabulary as buffers.

mod common;

use adamp_datasets::wikitext::{open_wikitext, OrderedBatches};
use adamp_models::lm::Mems;
use adamp_task_api::{StepIndex, Task};
use adamp_task_lm::data_settings::LmDataSettings;
use adamp_task_lm::stream::dropout_seed;
use adamp_task_lm::task::TOKENIZER_FILE;
use adamp_task_lm::LmTask;
use candle_core::{DType, Device};

fn index(step: usize) -> StepIndex {
    StepIndex {
        step,
        epoch: 1,
        batch: step - 1,
    }
}

/// Mean NLL of training segment `k` under the task's model with `mems` and step `step`'s masks.
fn segment_loss(task: &LmTask, k: usize, mems: &Mems, step: usize) -> f64 {
    let seg = task.train_batches().segment(k).unwrap();
    let out = task
        .model()
        .forward(
            &seg.data_tensor(&Device::Cpu).unwrap(),
            &seg.target_tensor(&Device::Cpu).unwrap(),
            mems,
            &task.train_spec(),
            Some(dropout_seed(3, step)),
        )
        .unwrap();
    out.nll
        .mean_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_scalar::<f64>()
        .unwrap()
}

#[test]
fn steps_walk_the_segments_and_memories_start_over_with_each_pass() {
    let dir = tempfile::tempdir().unwrap();
    common::write_corpus(dir.path(), 20);
    let settings = common::settings();
    let data = LmDataSettings {
        train_tokens: Some(62),
        ..common::data(dir.path())
    };
    let mut task = LmTask::new(&settings, &common::model(false), &data, &common::ctx(2)).unwrap();
    // 62 ids in 2 columns of 31: 30 targets per column, 6 segments of 5.
    let n = task.position().n_batches;
    assert_eq!(n, 6);
    let mut opts = common::adamw(&task, 1e-2);
    let empty = task.model().empty_mems(2, &Device::Cpu).unwrap();
    let mut carried_differs = false;
    for step in 1..=2 * n + 1 {
        let k = (step - 1) % n;
        let mems = if k == 0 {
            empty.clone()
        } else {
            task.mems().clone()
        };
        let want = segment_loss(&task, k, &mems, step);
        if k > 0 {
            carried_differs |= (segment_loss(&task, k, &empty, step) - want).abs() > 1e-6;
        }
        let out = task.train_step(index(step), &mut opts).unwrap();
        assert!(
            (out.loss - want).abs() < 1e-6,
            "step {step} (segment {k}): {} vs {want}",
            out.loss
        );
        let scalar = |name: &str| out.scalars.iter().find(|(n, _)| n == name).unwrap().1;
        assert_eq!(scalar("segment"), k as f64, "step {step}");
        assert!((scalar("ppl") - out.loss.exp()).abs() < 1e-9);
        // 5 rows per segment, at most 7 kept: 5 after a pass starts, 7 after that.
        let rows = if k == 0 { 5 } else { 7 };
        assert_eq!(task.mems().mlen(), rows, "step {step}");
    }
    assert!(carried_differs, "the memories change the loss");
}

#[test]
fn evaluation_is_the_perplexity_of_the_whole_streams_with_memories() {
    let dir = tempfile::tempdir().unwrap();
    common::write_corpus(dir.path(), 20);
    let settings = common::settings();
    let mut task = common::task(dir.path(), &settings, 2);
    let mut opts = common::adamw(&task, 1e-2);
    for step in 1..=3 {
        task.train_step(index(step), &mut opts).unwrap();
    }
    let out = task.evaluate().unwrap();
    let metric = |name: &str| out.metrics.iter().find(|(n, _)| n == name).unwrap().1;
    let corpus = open_wikitext(dir.path()).unwrap();
    let e = settings.eval;
    for (split, ids) in [("valid", &corpus.valid), ("test", &corpus.test)] {
        // Segment by segment, by hand: every target of the stream's layout, memories carried.
        let batches = OrderedBatches::new(split, ids, e.batch_size, e.tgt_len, 0).unwrap();
        let score = |carry: bool| {
            let mut mems = task.model().empty_mems(e.batch_size, &Device::Cpu).unwrap();
            let mut nll: Vec<f32> = Vec::new();
            for seg in batches.iter() {
                let o = task
                    .model()
                    .forward(
                        &seg.data_tensor(&Device::Cpu).unwrap(),
                        &seg.target_tensor(&Device::Cpu).unwrap(),
                        &mems,
                        &task.eval_spec(),
                        None,
                    )
                    .unwrap();
                nll.extend(o.nll.flatten_all().unwrap().to_vec1::<f32>().unwrap());
                if carry {
                    mems = o.mems;
                }
            }
            nll
        };
        let nll = score(true);
        assert_eq!(nll.len(), (ids.len() / e.batch_size - 1) * e.batch_size);
        let mean = nll.iter().map(|&x| x as f64).sum::<f64>() / nll.len() as f64;
        let loss = metric(&format!("{split}_loss"));
        assert!((loss - mean).abs() < 1e-6, "{split}: {loss} vs {mean}");
        let ppl = metric(&format!("{split}_ppl"));
        assert!((ppl - mean.exp()).abs() < 1e-6 * ppl, "{split}: {ppl}");
        // Without carrying the memories, later segments score differently.
        let without = score(false);
        let moved = nll
            .iter()
            .zip(&without)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(
            moved > 1e-4,
            "{split}: the memories change the NLL ({moved})"
        );
    }
    // The vocabulary, as Vocab::save_tokenizer writes it.
    let saved = dir.path().join("saved.json");
    corpus.vocab.save_tokenizer(&saved).unwrap();
    let (name, bytes) = &out.files[0];
    assert_eq!(name, TOKENIZER_FILE);
    assert_eq!(bytes, &std::fs::read(&saved).unwrap());
}

#[test]
fn memories_and_vocabulary_round_trip_as_buffers() {
    let dir = tempfile::tempdir().unwrap();
    common::write_corpus(dir.path(), 20);
    let settings = common::settings();
    let mut task = common::task(dir.path(), &settings, 2);
    let mut opts = common::adamw(&task, 1e-2);
    let fresh = common::task(dir.path(), &settings, 2).buffers().unwrap();
    for step in 1..=2 {
        task.train_step(index(step), &mut opts).unwrap();
    }
    let saved = task.buffers().unwrap();
    let mut other = common::task(dir.path(), &settings, 2);
    other.load_buffers(&saved).unwrap();
    assert_eq!(other.mems().mlen(), 7);
    for (a, b) in task.mems().layers.iter().zip(&other.mems().layers) {
        let d = (a - b).unwrap().abs().unwrap().max_all().unwrap();
        assert_eq!(d.to_scalar::<f32>().unwrap(), 0.0);
    }
    // A fresh run's buffers: empty memories.
    other.load_buffers(&fresh).unwrap();
    assert_eq!(other.mems().mlen(), 0);
    // Another batch size: the memory buffers do not fit, and the error says which.
    let mut wide = common::task(dir.path(), &settings, 3);
    let e = wide.load_buffers(&saved).unwrap_err().to_string();
    assert!(e.contains("mems.0") && e.contains("batch_size"), "{e}");
    // Another corpus, another vocabulary: refused by name.
    let dir2 = tempfile::tempdir().unwrap();
    common::write_corpus(dir2.path(), 20);
    let train = dir2.path().join("wiki.train.tokens");
    let text = std::fs::read_to_string(&train).unwrap() + " an extra word \n";
    std::fs::write(&train, text).unwrap();
    let mut moved = common::task(dir2.path(), &settings, 2);
    let e = moved.load_buffers(&saved).unwrap_err().to_string();
    assert!(e.contains("vocabulary mismatch"), "{e}");
}
