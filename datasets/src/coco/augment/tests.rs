//! The two pipelines on small synthetic images: where boxes go and come back, flips, seeds,
//! clipping, the SSD crop's centre rule, grey input.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::*;

const MEAN0: [f32; 3] = [0.0; 3];
const STD1: [f32; 3] = [1.0; 3];

/// A `w x h` RGB image, dark, with a white square of side 10 at `(10, 10)`.
fn square_image(w: usize, h: usize) -> ImageU8 {
    let mut data = vec![20u8; w * h * 3];
    for y in 10..20 {
        for x in 10..20 {
            let k = (y * w + x) * 3;
            data[k..k + 3].copy_from_slice(&[250, 250, 250]);
        }
    }
    ImageU8::new(h, w, 3, data).unwrap()
}

fn centernet(size: usize, train: bool, flip: f64) -> Pipeline {
    Pipeline::CenterNet {
        size,
        train,
        flip,
        color: false,
    }
}

fn run(img: &ImageU8, boxes: &[[f64; 4]], p: &Pipeline, seed: u64) -> DetectionSample {
    let labels: Vec<u32> = (0..boxes.len() as u32).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    augment(img, boxes, &labels, p, MEAN0, STD1, &mut rng).unwrap()
}

/// The value (0-1 scale) of channel `c` at input pixel `(u, v)`.
fn px(s: &DetectionSample, c: usize, u: usize, v: usize) -> f32 {
    s.image[c * s.size * s.size + v * s.size + u]
}

/// Maps an input box back and checks it is the original `[x, y, w, h]` within `tol`.
fn assert_round_trip(s: &DetectionSample, k: usize, xywh: [f64; 4], tol: f64) {
    let b = s.boxes[k].map(f64::from);
    let back = s.to_original.map_box(b);
    let want = [xywh[0], xywh[1], xywh[0] + xywh[2], xywh[1] + xywh[3]];
    for i in 0..4 {
        assert!((back[i] - want[i]).abs() <= tol, "{back:?} vs {want:?}");
    }
}

#[test]
fn eval_pipelines_put_boxes_where_the_pixels_are_and_map_them_back() {
    let img = square_image(100, 50);
    let bx = [10.0, 10.0, 10.0, 10.0];
    // CenterNet: s = 100, c = (50, 25), x -> (x - 50) * 0.64 + 32.
    let s = run(&img, &[bx], &centernet(64, false, 0.5), 0);
    let want = [6.4, 22.4, 12.8, 28.8];
    for (got, want) in s.boxes[0].iter().zip(want) {
        assert!((f64::from(*got) - want).abs() < 1e-4, "{:?}", s.boxes[0]);
    }
    assert_round_trip(&s, 0, bx, 0.5);
    assert!(px(&s, 0, 10, 25) > 0.9 && px(&s, 1, 3, 25) < 0.2);
    // Above and below the image: the warp's zero fill.
    assert_eq!(px(&s, 2, 32, 2), 0.0);
    // SSD: x * 0.64, y * 1.28.
    let s = run(
        &img,
        &[bx],
        &Pipeline::Ssd {
            size: 64,
            train: false,
        },
        0,
    );
    let want = [6.4, 12.8, 12.8, 25.6];
    for (got, want) in s.boxes[0].iter().zip(want) {
        assert!((f64::from(*got) - want).abs() < 1e-4, "{:?}", s.boxes[0]);
    }
    assert_round_trip(&s, 0, bx, 0.5);
    assert!(px(&s, 0, 9, 19) > 0.9 && px(&s, 0, 30, 40) < 0.2);
}

#[test]
fn centernet_flip_mirrors_image_and_boxes_and_maps_back() {
    let img = square_image(80, 60);
    let bx = [10.0, 10.0, 10.0, 10.0];
    for seed in 0..20 {
        let plain = run(&img, &[bx], &centernet(64, true, 0.0), seed);
        let flipped = run(&img, &[bx], &centernet(64, true, 1.0), seed);
        // Same scale and centre draws: input column u of one is column 64 - u of the other.
        for v in 0..64 {
            for u in 1..64 {
                let (a, b) = (px(&flipped, 0, u, v), px(&plain, 0, 64 - u, v));
                assert!((a - b).abs() < 1e-4, "seed {seed} ({u}, {v}): {a} vs {b}");
            }
        }
        assert_eq!(plain.boxes.len(), flipped.boxes.len());
        if let (Some(p), Some(f)) = (plain.boxes.first(), flipped.boxes.first()) {
            assert!((f[0] - (64.0 - p[2])).abs() < 1e-3 && (f[2] - (64.0 - p[0])).abs() < 1e-3);
            assert_eq!((f[1], f[3]), (p[1], p[3]));
            if p.iter().all(|&v| v > 0.0 && v < 64.0) {
                assert_round_trip(&plain, 0, bx, 0.5);
                assert_round_trip(&flipped, 0, bx, 0.5);
            }
        }
    }
}

#[test]
fn ssd_mirror_mirrors_image_and_boxes() {
    let (w, h) = (40, 30);
    let img = square_image(w, h);
    let hwc: Vec<f32> = img.data.iter().map(|&v| f32::from(v)).collect();
    let g = ssd::Geometry::plain(w, h);
    let m = ssd::Geometry {
        mirrored: true,
        ..g
    };
    let a = ssd::render(&hwc, w, h, &g, 40, [0.0; 3]);
    let b = ssd::render(&hwc, w, h, &m, 40, [0.0; 3]);
    for v in 0..40 {
        for u in 0..40 {
            assert_eq!(a[v * 40 + u], b[v * 40 + 39 - u]);
        }
    }
    // The map back mirrors: input x = 8 of the mirrored canvas is original x = 32.
    let (x, y) = m.to_original(40).apply(8.0, 5.0);
    assert!((x - 32.0).abs() < 1e-9 && (y - 3.75).abs() < 1e-9);
}

#[test]
fn the_same_seed_gives_the_same_sample_and_another_seed_differs() {
    let img = square_image(90, 70);
    let boxes = [[10.0, 10.0, 10.0, 10.0], [40.0, 30.0, 30.0, 25.0]];
    let pipelines = [
        Pipeline::CenterNet {
            size: 64,
            train: true,
            flip: 0.5,
            color: true,
        },
        Pipeline::Ssd {
            size: 48,
            train: true,
        },
    ];
    for p in &pipelines {
        let a = run(&img, &boxes, p, 11);
        assert_eq!(a, run(&img, &boxes, p, 11));
        assert_eq!(a.image.len(), 3 * a.size * a.size);
        let differs = (12..20).any(|seed| run(&img, &boxes, p, seed).image != a.image);
        assert!(differs, "{p:?}");
    }
}

#[test]
fn train_centernet_keeps_boxes_inside_the_input() {
    let img = square_image(120, 60);
    let boxes = [
        [0.0, 0.0, 30.0, 20.0],
        [100.0, 40.0, 20.0, 20.0],
        [50.0, 10.0, 15.0, 40.0],
    ];
    for seed in 0..50 {
        let p = Pipeline::CenterNet {
            size: 32,
            train: true,
            flip: 0.5,
            color: true,
        };
        let s = run(&img, &boxes, &p, seed);
        assert_eq!(s.boxes.len(), s.labels.len());
        for b in &s.boxes {
            assert!(b.iter().all(|&v| (0.0..=32.0).contains(&v)), "{b:?}");
            assert!(b[2] > b[0] && b[3] > b[1]);
        }
        assert!(s.image.iter().all(|v| v.is_finite()));
    }
}

#[test]
fn ssd_crop_keeps_exactly_the_boxes_whose_centre_is_inside() {
    let boxes = [
        [0.0, 0.0, 20.0, 20.0],
        [30.0, 30.0, 70.0, 60.0],
        [80.0, 5.0, 99.0, 40.0],
        [10.0, 70.0, 50.0, 95.0],
    ];
    let mut crops = 0;
    for seed in 0..200 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let Some(crop) = ssd::sample_crop(100, 100, &boxes, &mut rng) else {
            continue;
        };
        crops += 1;
        let r = crop.rect.map(|v| v as f64);
        assert!(r[0] >= 0.0 && r[1] >= 0.0 && r[2] <= 100.0 && r[3] <= 100.0);
        assert!(r[2] - r[0] >= 1.0 && r[3] - r[1] >= 1.0);
        for (b, &keep) in boxes.iter().zip(&crop.keep) {
            let (cx, cy) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
            let inside = r[0] < cx && cx < r[2] && r[1] < cy && cy < r[3];
            assert_eq!(keep, inside, "{b:?} in {r:?}");
        }
        assert!(crop.keep.iter().any(|&k| k));
    }
    assert!(crops > 100, "{crops} crops");
    // No boxes: never cropped.
    assert_eq!(
        ssd::sample_crop(100, 100, &[], &mut ChaCha8Rng::seed_from_u64(0)),
        None
    );
}

#[test]
fn train_ssd_boxes_stay_inside_and_map_back_inside_their_original() {
    let img = square_image(80, 60);
    let boxes = [[10.0, 10.0, 10.0, 10.0], [30.0, 20.0, 40.0, 30.0]];
    for seed in 0..50 {
        let s = run(
            &img,
            &boxes,
            &Pipeline::Ssd {
                size: 40,
                train: true,
            },
            seed,
        );
        assert!(!s.boxes.is_empty() && s.image.iter().all(|v| v.is_finite()));
        for (b, &l) in s.boxes.iter().zip(&s.labels) {
            assert!(b.iter().all(|&v| (0.0..=40.0).contains(&v)), "{b:?}");
            let o = boxes[l as usize];
            let back = s.to_original.map_box(b.map(f64::from));
            // Cropping only shrinks a box: it maps back inside the original one.
            assert!(
                back[0] >= o[0] - 1e-3 && back[2] <= o[0] + o[2] + 1e-3,
                "{back:?}"
            );
            assert!(
                back[1] >= o[1] - 1e-3 && back[3] <= o[1] + o[3] + 1e-3,
                "{back:?}"
            );
        }
    }
}

#[test]
fn grey_input_becomes_three_equal_channels() {
    let rgb = square_image(50, 40);
    let grey_data: Vec<u8> = rgb.data.chunks(3).map(|p| p[0]).collect();
    let grey = ImageU8::new(40, 50, 1, grey_data).unwrap();
    for p in [
        centernet(32, false, 0.5),
        Pipeline::Ssd {
            size: 32,
            train: false,
        },
    ] {
        let g = run(&grey, &[[10.0, 10.0, 10.0, 10.0]], &p, 3);
        assert_eq!(g, run(&rgb, &[[10.0, 10.0, 10.0, 10.0]], &p, 3));
        let plane = 32 * 32;
        assert_eq!(g.image[..plane], g.image[plane..2 * plane]);
        assert_eq!(g.image[..plane], g.image[2 * plane..]);
    }
}

#[test]
fn bad_inputs_are_config_errors() {
    let img = square_image(20, 20);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let p = Pipeline::Ssd {
        size: 8,
        train: false,
    };
    let two_boxes = [[0.0, 0.0, 1.0, 1.0]; 2];
    let err = augment(&img, &two_boxes, &[0], &p, MEAN0, STD1, &mut rng).unwrap_err();
    assert!(err.to_string().contains("2 boxes but 1 labels"), "{err}");
    let zero = Pipeline::Ssd {
        size: 0,
        train: false,
    };
    assert!(augment(&img, &[], &[], &zero, MEAN0, STD1, &mut rng).is_err());
    assert!(augment(&img, &[], &[], &p, MEAN0, [1.0, 0.0, 1.0], &mut rng).is_err());
}

#[test]
fn hsv_round_trip_and_get_border_match_the_references() {
    for rgb in [
        [10.0f32, 200.0, 90.0],
        [255.0, 0.0, 0.0],
        [3.0, 3.0, 3.0],
        [0.0, 40.0, 250.0],
    ] {
        let back = photometric::hsv_to_rgb(photometric::rgb_to_hsv(rgb));
        for c in 0..3 {
            assert!((back[c] - rgb[c]).abs() < 1e-3, "{rgb:?} -> {back:?}");
        }
    }
    assert_eq!(photometric::rgb_to_hsv([0.0, 0.0, 255.0])[0], 240.0);
    // ctdet's _get_border(128, size).
    assert_eq!(centernet::get_border(128, 640), 128);
    assert_eq!(centernet::get_border(128, 200), 64);
    assert_eq!(centernet::get_border(128, 64), 16);
}

/// Time per sample at the references' sizes on a COCO-sized image (run with `cargo test
/// --release -p adamp-datasets -- --ignored augment_timing --nocapture`).
#[test]
#[ignore = "timing, prints milliseconds per sample"]
fn augment_timing() {
    let (w, h) = (640, 480);
    let data: Vec<u8> = (0..w * h * 3).map(|k| (k * 7 % 251) as u8).collect();
    let img = ImageU8::new(h, w, 3, data).unwrap();
    let boxes = [[100.0, 80.0, 200.0, 150.0], [400.0, 300.0, 120.0, 90.0]];
    let pipelines = [
        Pipeline::CenterNet {
            size: 512,
            train: true,
            flip: 0.5,
            color: true,
        },
        Pipeline::CenterNet {
            size: 512,
            train: false,
            flip: 0.5,
            color: false,
        },
        Pipeline::Ssd {
            size: 300,
            train: true,
        },
        Pipeline::Ssd {
            size: 300,
            train: false,
        },
    ];
    for p in &pipelines {
        let n = 20;
        let start = std::time::Instant::now();
        for seed in 0..n {
            std::hint::black_box(run(&img, &boxes, p, seed));
        }
        let ms = start.elapsed().as_secs_f64() * 1000.0 / n as f64;
        eprintln!("{p:?}: {ms:.2} ms per sample");
    }
}
