//! Tiny retrieval datasets in the REAL on-disk layouts (CUB-200-2011, Cars-196's annotation
//! CSV, Stanford Online Products, In-Shop), for tests and smoke runs of the paper-scale configs,
//! read back through [`crate::retrieval::open_retrieval`]. Images are small RGB JPEGs, a colour
//! per class plus a per-image gradient, so classes are separable.

use std::path::Path;

use crate::error::{DatasetError, Result};
use crate::retrieval::cars::{CARS_ANNOS_CSV, CARS_HEADER};
use crate::retrieval::inshop::INSHOP_HEADER;
use crate::retrieval::sop::SOP_HEADER;
use crate::retrieval::RetrievalFormat;

/// Writes a `size`x`size` JPEG for image `i` of class `c` (1-based), creating its folder.
fn write_image(path: &Path, c: usize, i: usize, size: u32) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| DatasetError::io(dir, e))?;
    }
    let (r, g, b) = ((c * 67) % 256, (c * 151 + 40) % 256, (c * 29 + 90) % 256);
    let img = image::RgbImage::from_fn(size, size, |x, y| {
        let v = ((x + y) as usize * 8 + i * 11) % 64;
        image::Rgb([(r + v) as u8, (g + v / 2) as u8, (b + 63 - v) as u8])
    });
    img.save_with_format(path, image::ImageFormat::Jpeg)
        .map_err(|e| DatasetError::io(path, std::io::Error::other(e)))
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| DatasetError::io(path, e))
}

/// Writes `classes` classes (dataset ids 1..=classes) of `per_class` images each into `dir` in
/// `format`'s layout. The class split of the reader gives the first `classes / 2` ids to
/// training; SOP's files hold ids 1..=classes/2 (train) and the rest (test); In-Shop's
/// training items are the first half, and of every other item the first `per_class / 2`
/// images are queries and the rest gallery. Needs `classes >= 2`, `per_class >= 2`.
pub fn write_tiny(
    format: RetrievalFormat,
    dir: &Path,
    classes: usize,
    per_class: usize,
    size: u32,
) -> Result<()> {
    if classes < 2 || per_class < 2 || size == 0 {
        return Err(DatasetError::Config {
            name: "write_tiny".into(),
            reason: format!(
                "{classes} classes x {per_class} images of {size} px: need at least 2 classes, \
                 2 images per class and 1 px"
            ),
        });
    }
    std::fs::create_dir_all(dir).map_err(|e| DatasetError::io(dir, e))?;
    match format {
        RetrievalFormat::Cub => {
            let (mut images, mut labels, mut names, mut split) =
                (String::new(), String::new(), String::new(), String::new());
            let mut id = 0;
            for c in 1..=classes {
                let folder = format!("{c:03}.Tiny_Bird_{c}");
                names.push_str(&format!("{c} {folder}\n"));
                for i in 0..per_class {
                    id += 1;
                    let rel = format!("{folder}/Tiny_Bird_{c}_{i:04}.jpg");
                    write_image(&dir.join("images").join(&rel), c, i, size)?;
                    images.push_str(&format!("{id} {rel}\n"));
                    labels.push_str(&format!("{id} {c}\n"));
                    split.push_str(&format!("{id} {}\n", i % 2));
                }
            }
            write_text(&dir.join("images.txt"), &images)?;
            write_text(&dir.join("image_class_labels.txt"), &labels)?;
            write_text(&dir.join("classes.txt"), &names)?;
            write_text(&dir.join("train_test_split.txt"), &split)
        }
        RetrievalFormat::Cars => {
            let mut csv = format!("{CARS_HEADER}\n");
            let mut n = 0;
            for c in 1..=classes {
                for i in 0..per_class {
                    n += 1;
                    let rel = format!("car_ims/{n:06}.jpg");
                    write_image(&dir.join(&rel), c, i, size)?;
                    csv.push_str(&format!("{rel},1,2,{size},{size},{c},{}\n", i % 2));
                }
            }
            write_text(&dir.join(CARS_ANNOS_CSV), &csv)
        }
        RetrievalFormat::Sop => {
            const SUPER: [&str; 3] = ["bicycle", "chair", "kettle"];
            let mut files = [format!("{SOP_HEADER}\n"), format!("{SOP_HEADER}\n")];
            let mut ids = [0, 0];
            for c in 1..=classes {
                let split = usize::from(c > classes / 2);
                let s = (c - 1) % SUPER.len();
                for i in 0..per_class {
                    ids[split] += 1;
                    let rel = format!("{}_final/{}{c:04}_{i}.JPG", SUPER[s], 1000 + s);
                    write_image(&dir.join(&rel), c, i, size)?;
                    files[split].push_str(&format!("{} {c} {} {rel}\n", ids[split], s + 1));
                }
            }
            write_text(&dir.join("Ebay_train.txt"), &files[0])?;
            write_text(&dir.join("Ebay_test.txt"), &files[1])
        }
        RetrievalFormat::InShop => {
            let mut rows = Vec::new();
            for c in 1..=classes {
                for i in 0..per_class {
                    let rel = format!("img/WOMEN/Dresses/id_{c:08}/{i:02}_1_front.jpg");
                    write_image(&dir.join(&rel), c, i, size)?;
                    let status = if c <= classes / 2 {
                        "train"
                    } else if i < per_class / 2 {
                        "query"
                    } else {
                        "gallery"
                    };
                    rows.push(format!("{rel} id_{c:08} {status}"));
                }
            }
            let text = format!("{}\n{INSHOP_HEADER}\n{}\n", rows.len(), rows.join("\n"));
            write_text(&dir.join("list_eval_partition.txt"), &text)
        }
    }
}
