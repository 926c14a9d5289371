//! Tests of the batch loader and the dataset catalog on tiny files written in the real formats.

use std::path::Path;
use std::sync::Arc;

use crate::catalog::{open_classification, DatasetKind};
use crate::cifar::tests::write_cifar;
use crate::cutmix::CutMix;
use crate::idx::tests::write_mnist_folder;
use crate::image_folder::tests::write_image_folder;
use crate::image_folder::ImageFolder;
use crate::loader::{Batch, BatchLoader, LoaderConfig};
use crate::source::ImageSource;
use crate::transforms::{Augment, Normalize, Transform};
use crate::DatasetError;

fn cfg(workers: usize, batch_size: usize) -> LoaderConfig {
    LoaderConfig {
        batch_size,
        shuffle: true,
        drop_last: false,
        seed: 17,
        workers,
        prefetch: 2,
    }
}

/// Everything a batch holds, as plain vectors.
type Flat = (Vec<f32>, Vec<u32>, Option<(Vec<u32>, Vec<f32>)>, Vec<usize>);

fn flatten(b: &Batch) -> Flat {
    (
        b.images.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        b.labels.to_vec1::<u32>().unwrap(),
        b.mixed
            .as_ref()
            .map(|m| (m.labels_b.clone(), m.lambda.clone())),
        b.indices.clone(),
    )
}

fn run_epoch(loader: &BatchLoader, epoch: u64) -> Vec<Flat> {
    loader.epoch(epoch).map(|b| flatten(&b.unwrap())).collect()
}

fn mnist(dir: &Path, n: usize) -> Arc<dyn ImageSource> {
    write_mnist_folder(dir, n, true);
    open_classification(DatasetKind::Mnist, dir).unwrap().train
}

fn augmenting() -> Transform {
    Transform {
        augment: Augment::PadCropFlip {
            padding: 2,
            flip: true,
        },
        normalize: Normalize::mnist(),
    }
}

#[test]
fn batches_are_identical_for_any_worker_count_and_change_with_epoch() {
    let t = tempfile::tempdir().unwrap();
    let source = mnist(t.path(), 37);
    let cutmix = Some(CutMix {
        alpha: 1.0,
        prob: 0.5,
    });
    let make = |w| BatchLoader::new(source.clone(), augmenting(), cutmix, cfg(w, 5)).unwrap();
    let reference = run_epoch(&make(0), 0);
    assert_eq!(reference.len(), 8);
    for workers in [1, 3] {
        assert_eq!(run_epoch(&make(workers), 0), reference, "{workers} workers");
    }
    // Running an epoch twice gives the same batches; another epoch gives others.
    let loader = make(2);
    assert_eq!(run_epoch(&loader, 0), reference);
    let next = run_epoch(&loader, 1);
    assert_ne!(
        next[0].3, reference[0].3,
        "order must change between epochs"
    );
    // The augmentation of one sample depends on the epoch too.
    let find = |batches: &[Flat], i: usize| -> Vec<f32> {
        for (imgs, _, _, idx) in batches {
            if let Some(k) = idx.iter().position(|&j| j == i) {
                return imgs[k * 12..(k + 1) * 12].to_vec();
            }
        }
        panic!("sample {i} missing");
    };
    let differs = (0..37)
        .filter(|&i| find(&reference, i) != find(&next, i))
        .count();
    assert!(differs > 10, "only {differs} samples changed augmentation");
    // CutMix happened in some batches and not in others (prob 0.5).
    let mixed = reference
        .iter()
        .filter(|b| b.2.as_ref().is_some_and(|m| m.1[0] < 1.0))
        .count();
    assert!(mixed > 0 && mixed < reference.len(), "{mixed}");
    let b = make(0).epoch(0).next().unwrap().unwrap();
    let soft = b.soft_targets(10).unwrap().expect("CutMix is enabled");
    assert_eq!(soft.dims(), [5, 10]);
    for row in soft.sum(1).unwrap().to_vec1::<f32>().unwrap() {
        assert!((row - 1.0).abs() < 1e-6);
    }
}

#[test]
fn every_sample_appears_once_and_prefetch_is_bounded() {
    let t = tempfile::tempdir().unwrap();
    let source = mnist(t.path(), 23);
    let loader = BatchLoader::new(source.clone(), augmenting(), None, cfg(3, 4)).unwrap();
    assert_eq!(loader.num_batches(), 6);
    let mut seen = Vec::new();
    let mut it = loader.epoch(4);
    let mut sizes = Vec::new();
    while let Some(b) = it.next() {
        assert!(it.in_flight() <= 2);
        let b = b.unwrap();
        sizes.push(b.indices.len());
        let labels = b.labels.to_vec1::<u32>().unwrap();
        for (k, &i) in b.indices.iter().enumerate() {
            assert_eq!(labels[k], source.label(i));
        }
        seen.extend(b.indices);
    }
    assert_eq!(sizes, [4, 4, 4, 4, 4, 3]);
    seen.sort();
    assert_eq!(seen, (0..23).collect::<Vec<_>>());
    let mut c = LoaderConfig::eval(4, 0);
    c.drop_last = true;
    let eval = BatchLoader::new(source, augmenting(), None, c).unwrap();
    assert_eq!(eval.num_batches(), 5);
    assert_eq!(eval.order(0), (0..23).collect::<Vec<_>>());
    // Dropping an epoch early stops its workers (the test would hang otherwise).
    let mut early = loader.epoch(0);
    early.next().unwrap().unwrap();
    drop(early);
}

#[test]
fn batch_tensors_are_normalised_nchw() {
    let t = tempfile::tempdir().unwrap();
    let source = mnist(t.path(), 3);
    let mut c = cfg(0, 3);
    c.shuffle = false;
    let plain = Transform {
        augment: Augment::Identity,
        normalize: Normalize::mnist(),
    };
    let loader = BatchLoader::new(source.clone(), plain, None, c).unwrap();
    let b = loader.epoch(0).next().unwrap().unwrap();
    assert_eq!(b.images.dims(), [3, 1, 4, 3]);
    let v = flatten(&b).0;
    let img = source.image(2).unwrap();
    let want = (f32::from(img.at(1, 2, 0)) / 255.0 - 0.1307) / 0.3081;
    assert!((v[2 * 12 + 5] - want).abs() < 1e-6);
}

#[test]
fn a_corrupt_image_is_skipped_warned_and_counted() {
    let t = tempfile::tempdir().unwrap();
    write_image_folder(t.path(), 4);
    let bad = t.path().join("train/n01443537/img_002.JPEG");
    let bytes = std::fs::read(&bad).unwrap();
    std::fs::write(&bad, &bytes[..bytes.len() / 3]).unwrap();
    let folder = Arc::new(ImageFolder::open(&t.path().join("train")).unwrap());
    let bad_index = (0..folder.len()).find(|&i| folder.path(i) == bad).unwrap();
    let transform = Transform {
        augment: Augment::RandomResizedCrop {
            size: 8,
            scale: (0.08, 1.0),
            ratio: (0.75, 4.0 / 3.0),
            flip: true,
        },
        normalize: Normalize::imagenet(),
    };
    let loader = BatchLoader::new(folder.clone(), transform, None, cfg(2, 5)).unwrap();
    for epoch in 0..2 {
        let mut total = 0;
        let mut skipped = 0;
        for b in loader.epoch(epoch) {
            let b = b.unwrap();
            assert_eq!(b.images.dims()[1..], [3, 8, 8]);
            assert!(!b.indices.contains(&bad_index));
            total += b.indices.len();
            skipped += b.skipped;
        }
        assert_eq!((total, skipped), (11, 1));
    }
    assert_eq!(loader.skipped_samples(), 2);
    assert_eq!(loader.skipped_indices(), vec![bad_index]);
}

#[test]
fn a_batch_of_only_corrupt_images_is_an_error_naming_a_file() {
    let t = tempfile::tempdir().unwrap();
    write_image_folder(t.path(), 1);
    for wnid in ["n01440764", "n01443537", "n01484850"] {
        std::fs::write(t.path().join(format!("train/{wnid}/img_000.JPEG")), b"nope").unwrap();
    }
    let folder = Arc::new(ImageFolder::open(&t.path().join("train")).unwrap());
    let eval = Transform {
        augment: Augment::ResizeCenterCrop {
            resize: 12,
            crop: 10,
        },
        normalize: Normalize::imagenet(),
    };
    let loader = BatchLoader::new(folder, eval, None, cfg(1, 3)).unwrap();
    let mut it = loader.epoch(0);
    let err = it.next().unwrap().unwrap_err();
    assert!(matches!(err, DatasetError::EmptyBatch { .. }));
    assert!(err.to_string().contains("img_000.JPEG"), "{err}");
    assert!(it.next().is_none(), "the epoch ends after an error");
}

#[test]
fn fashion_mnist_loads_through_the_same_idx_loader_as_mnist() {
    let t = tempfile::tempdir().unwrap();
    write_mnist_folder(t.path(), 12, true);
    let fashion = open_classification(DatasetKind::FashionMnist, t.path()).unwrap();
    let digits = open_classification(DatasetKind::Mnist, t.path()).unwrap();
    assert_eq!(fashion.num_classes(), 10);
    assert_eq!(fashion.class_names[9], "Ankle boot");
    assert_eq!((fashion.train.len(), fashion.test.len()), (12, 12));
    for i in 0..12 {
        assert_eq!(
            fashion.train.image(i).unwrap(),
            digits.train.image(i).unwrap()
        );
        assert_eq!(fashion.train.label(i), digits.train.label(i));
    }
    assert!(fashion.train.describe().contains("Fashion-MNIST"));
    assert_eq!(
        fashion.train_transform.normalize,
        Normalize::fashion_mnist()
    );
}

#[test]
fn catalog_opens_cifar_and_imagenet_layouts() {
    let t = tempfile::tempdir().unwrap();
    write_cifar(t.path(), 2);
    let cifar = open_classification(DatasetKind::Cifar10, t.path()).unwrap();
    assert_eq!(
        (cifar.train.len(), cifar.test.len(), cifar.channels),
        (10, 2, 3)
    );
    write_image_folder(&t.path().join("imagenet"), 2);
    let inet = open_classification(DatasetKind::ImageNet, &t.path().join("imagenet")).unwrap();
    assert_eq!(inet.num_classes(), 3);
    assert_eq!(inet.test.len(), 6);
    let mut c = cfg(2, 4);
    c.shuffle = false;
    let loader = BatchLoader::new(inet.test.clone(), inet.eval_transform.clone(), None, c).unwrap();
    let b = loader.epoch(0).next().unwrap().unwrap();
    assert_eq!(b.images.dims(), [4, 3, 224, 224]);
}

#[test]
fn epoch_in_order_batches_are_chunks_of_the_given_order_for_any_worker_count() {
    use crate::retrieval::ClassBalancedSampler;
    let t = tempfile::tempdir().unwrap();
    let source = mnist(t.path(), 40);
    let labels: Vec<u32> = (0..source.len()).map(|i| source.label(i)).collect();
    let sampler = ClassBalancedSampler::new(2, 6).unwrap();
    let order = sampler.order(&labels, 17, 3).unwrap();
    assert_eq!(order.len(), 36);
    let make = |w| BatchLoader::new(source.clone(), augmenting(), None, cfg(w, 6)).unwrap();
    let run = |loader: &BatchLoader| -> Vec<Flat> {
        loader
            .epoch_in_order(3, order.clone())
            .map(|b| flatten(&b.unwrap()))
            .collect()
    };
    let reference = run(&make(0));
    assert_eq!(reference.len(), 6);
    for (b, chunk) in reference.iter().zip(order.chunks(6)) {
        assert_eq!(b.3, chunk);
        let want: Vec<u32> = chunk.iter().map(|&i| labels[i]).collect();
        assert_eq!(b.1, want);
    }
    assert_eq!(run(&make(3)), reference, "3 workers");
    // The augmentation of a sample is the one `epoch(3)` gives it (seeded by (seed, 3, i)).
    let shuffled = run_epoch(&make(0), 3);
    let i = order[0];
    let in_epoch = shuffled.iter().find_map(|b| {
        b.3.iter()
            .position(|&j| j == i)
            .map(|k| b.0[k * 12..(k + 1) * 12].to_vec())
    });
    assert_eq!(in_epoch.unwrap(), reference[0].0[..12].to_vec());
    // A partial last chunk is kept unless drop_last; an index past the end is an error.
    let partial: Vec<Flat> = make(2)
        .epoch_in_order(0, (0..8).collect())
        .map(|b| flatten(&b.unwrap()))
        .collect();
    assert_eq!(
        partial.iter().map(|b| b.3.len()).collect::<Vec<_>>(),
        [6, 2]
    );
    let mut bad = make(1).epoch_in_order(0, vec![0, 1, 2, 3, 4, 5, 6, 40]);
    bad.next().unwrap().unwrap();
    let msg = bad.next().unwrap().unwrap_err().to_string();
    assert!(
        msg.contains("sample index 40") && msg.contains("length 40"),
        "{msg}"
    );
    assert!(bad.next().is_none());
}
