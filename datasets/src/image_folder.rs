//! The ImageNet folder layout (torchvision `ImageFolder`): `<split>/<class>/<image>`, classes are
//! the sorted folder names (WordNet ids for ImageNet), files sorted by name within a class.
//! Images are decoded lazily, one file per [`ImageSource::image`] call, so a loader's worker
//! threads decode each batch as it is needed; only the file list is held in memory.

use std::path::{Path, PathBuf};

use crate::error::{DatasetError, Result};
use crate::source::{ImageSource, ImageU8};

/// File extensions accepted as images (compared case-insensitively), as torchvision's
/// `IMG_EXTENSIONS` restricted to what the `image` crate decodes here (JPEG and PNG).
pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png"];

/// An ImageFolder-layout split: a sorted class list and the `(file, label)` list.
#[derive(Debug, Clone)]
pub struct ImageFolder {
    root: PathBuf,
    classes: Vec<String>,
    samples: Vec<(PathBuf, u32)>,
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| DatasetError::io(dir, e))? {
        out.push(entry.map_err(|e| DatasetError::io(dir, e))?.path());
    }
    out.sort();
    Ok(out)
}

impl ImageFolder {
    /// Scans `root` (e.g. `imagenet/train`): every sub-folder is a class (sorted by name), every
    /// JPEG/PNG file in it a sample. A missing root, a root without class folders, or a class
    /// folder without images is an error naming the folder.
    pub fn open(root: &Path) -> Result<Self> {
        Self::scan(root, None)
    }

    /// Scans `root` with a given class list (the training split's), so labels agree between
    /// splits (e.g. `val` opened with `train`'s classes). A folder not in `classes` is an error.
    pub fn open_with_classes(root: &Path, classes: &[String]) -> Result<Self> {
        Self::scan(root, Some(classes))
    }

    fn scan(root: &Path, given: Option<&[String]>) -> Result<Self> {
        if !root.is_dir() {
            return Err(DatasetError::Missing {
                path: root.to_path_buf(),
                what: "ImageFolder split folder (<split>/<class>/<image>.JPEG)".into(),
                hint:
                    "point the dataset root at the folder holding train/ and val/; for ImageNet, \
                       unpack ILSVRC2012 train and val (val sorted into class folders, e.g. with \
                       valprep.sh) under it"
                        .into(),
            });
        }
        let class_dirs: Vec<PathBuf> = sorted_entries(root)?
            .into_iter()
            .filter(|p| p.is_dir())
            .collect();
        if class_dirs.is_empty() {
            return Err(DatasetError::Missing {
                path: root.to_path_buf(),
                what: "class sub-folders".into(),
                hint: "each class must be a folder of images under the split folder".into(),
            });
        }
        let found: Vec<String> = class_dirs
            .iter()
            .map(|p| {
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        let classes: Vec<String> = match given {
            Some(c) => c.to_vec(),
            None => found.clone(),
        };
        let mut samples = Vec::new();
        for (dir, name) in class_dirs.iter().zip(&found) {
            let Some(label) = classes.iter().position(|c| c == name) else {
                return Err(DatasetError::Format {
                    path: dir.clone(),
                    reason: "class folder is not among the training split's classes".into(),
                });
            };
            let before = samples.len();
            for file in sorted_entries(dir)? {
                if file.is_file() && is_image(&file) {
                    samples.push((file, label as u32));
                }
            }
            if samples.len() == before {
                return Err(DatasetError::EmptyClass {
                    path: dir.clone(),
                    extensions: IMAGE_EXTENSIONS.join(", "),
                });
            }
        }
        tracing::debug!(root = %root.display(), classes = classes.len(), images = samples.len(), "scanned ImageFolder");
        Ok(Self {
            root: root.to_path_buf(),
            classes,
            samples,
        })
    }

    /// Scans only the listed class folders of `root`, each with its label (several folders may
    /// share one: ImageNet's WordNet ids grouped into super-classes), named by `classes`. Other
    /// folders are ignored, and so are listed folders that are absent (callers that need every
    /// one check first); a root with none of them, or a listed folder without images, is an
    /// error naming the folder.
    pub fn open_mapped(root: &Path, classes: &[String], folders: &[(&str, u32)]) -> Result<Self> {
        if !root.is_dir() {
            return Self::scan(root, None);
        }
        let mut present: Vec<(&str, u32)> = folders
            .iter()
            .copied()
            .filter(|(name, _)| root.join(name).is_dir())
            .collect();
        present.sort();
        if present.is_empty() {
            return Err(DatasetError::Missing {
                path: root.to_path_buf(),
                what: format!(
                    "any of the class folders {}",
                    folders
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                hint: "point the root at the split folder that holds them".into(),
            });
        }
        let mut samples = Vec::new();
        for (name, label) in present {
            let dir = root.join(name);
            let before = samples.len();
            for file in sorted_entries(&dir)? {
                if file.is_file() && is_image(&file) {
                    samples.push((file, label));
                }
            }
            if samples.len() == before {
                return Err(DatasetError::EmptyClass {
                    path: dir,
                    extensions: IMAGE_EXTENSIONS.join(", "),
                });
            }
        }
        Ok(Self {
            root: root.to_path_buf(),
            classes: classes.to_vec(),
            samples,
        })
    }

    /// The split folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The class names (sorted folder names of the split that defined them).
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The image file of sample `i`.
    pub fn path(&self, i: usize) -> &Path {
        &self.samples[i].0
    }
}

/// Reads and decodes one image file to 3-channel RGB `u8` HWC. Any failure (unreadable,
/// truncated, not an image) is a [`DatasetError::Decode`] naming the file.
pub fn decode_rgb(path: &Path) -> Result<ImageU8> {
    let decode = |reason: String| DatasetError::Decode {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| decode(format!("cannot read: {e}")))?;
    let img = image::load_from_memory(&bytes).map_err(|e| decode(e.to_string()))?;
    let rgb = img.into_rgb8();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    if w == 0 || h == 0 {
        return Err(decode("image has no pixels".into()));
    }
    Ok(ImageU8 {
        height: h,
        width: w,
        channels: 3,
        data: rgb.into_raw(),
    })
}

impl ImageSource for ImageFolder {
    fn len(&self) -> usize {
        self.samples.len()
    }
    fn num_classes(&self) -> usize {
        self.classes.len()
    }
    fn label(&self, i: usize) -> u32 {
        self.samples[i].1
    }
    fn image(&self, i: usize) -> Result<ImageU8> {
        decode_rgb(&self.samples[i].0)
    }
    fn describe(&self) -> String {
        format!("ImageFolder {}", self.root.display())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes a `w`x`h` RGB image whose pixels are `(r, g, b)` = `(seed, x, y)` (mod 256),
    /// as PNG or JPEG by extension.
    pub(crate) fn write_image(path: &Path, w: u32, h: u32, seed: u8) {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([seed, x as u8, y as u8]));
        img.save(path).unwrap();
    }

    /// `root/{train,val}/{n01,n02,n03}/` with `per_class` images each (JPEG and PNG mixed).
    pub(crate) fn write_image_folder(root: &Path, per_class: usize) {
        for split in ["train", "val"] {
            for (c, wnid) in ["n01440764", "n01443537", "n01484850"].iter().enumerate() {
                let d = root.join(split).join(wnid);
                std::fs::create_dir_all(&d).unwrap();
                for i in 0..per_class {
                    let ext = if i % 2 == 0 { "JPEG" } else { "png" };
                    write_image(
                        &d.join(format!("img_{i:03}.{ext}")),
                        20 + i as u32,
                        16,
                        (c * 50 + i) as u8,
                    );
                }
            }
        }
    }

    #[test]
    fn classes_are_sorted_folders_and_images_decode() {
        let t = tempfile::tempdir().unwrap();
        write_image_folder(t.path(), 3);
        std::fs::write(t.path().join("train/n01443537/notes.txt"), "x").unwrap();
        let train = ImageFolder::open(&t.path().join("train")).unwrap();
        assert_eq!(train.classes(), ["n01440764", "n01443537", "n01484850"]);
        assert_eq!(train.len(), 9);
        assert_eq!(train.label(4), 1);
        let im = train.image(5).unwrap(); // class 1, image 2 (a JPEG), 22x16
        assert_eq!((im.height, im.width, im.channels), (16, 22, 3));
        let png = train.image(4).unwrap(); // class 1, image 1 (PNG: lossless)
        assert_eq!(
            (png.at(3, 7, 0), png.at(3, 7, 1), png.at(3, 7, 2)),
            (51, 7, 3)
        );
        let val = ImageFolder::open_with_classes(&t.path().join("val"), train.classes()).unwrap();
        assert_eq!(val.len(), 9);
    }

    #[test]
    fn empty_class_folder_is_an_error_naming_it() {
        let t = tempfile::tempdir().unwrap();
        write_image_folder(t.path(), 1);
        let empty = t.path().join("train/n09999999");
        std::fs::create_dir_all(&empty).unwrap();
        std::fs::write(empty.join("README"), "no images").unwrap();
        let msg = ImageFolder::open(&t.path().join("train"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("n09999999"), "{msg}");
        assert!(msg.contains("holds no images"), "{msg}");
    }

    #[test]
    fn missing_split_and_unknown_val_class_are_errors() {
        let t = tempfile::tempdir().unwrap();
        let msg = ImageFolder::open(&t.path().join("train"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("train") && msg.contains("not found"), "{msg}");
        write_image_folder(t.path(), 1);
        let extra = t.path().join("val/n07777777");
        std::fs::create_dir_all(&extra).unwrap();
        write_image(&extra.join("a.png"), 4, 4, 0);
        let train = ImageFolder::open(&t.path().join("train")).unwrap();
        let msg = ImageFolder::open_with_classes(&t.path().join("val"), train.classes())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("n07777777"), "{msg}");
    }

    #[test]
    fn truncated_jpeg_is_a_decode_error_naming_the_file() {
        let t = tempfile::tempdir().unwrap();
        write_image_folder(t.path(), 1);
        let p = t.path().join("train/n01440764/img_000.JPEG");
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() / 3]).unwrap();
        let folder = ImageFolder::open(&t.path().join("train")).unwrap();
        let err = folder.image(0).unwrap_err();
        assert!(err.is_per_sample());
        assert!(err.to_string().contains("img_000.JPEG"), "{err}");
    }
}
