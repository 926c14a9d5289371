//! The 9-class ImageNet of ReBias (Bahng et al., "Learning De-biased Representations with
//! Biased Representations", ICML 2020, Section 4.3; clovaai/rebias `datasets/imagenet.py`): 42
//! ILSVRC2012 classes (WordNet ids) grouped into nine super-classes, read from the ImageNet folder
//! layout (`train/<wnid>/*.JPEG`, `val/<wnid>/*.JPEG`) and, for ImageNet-A (Hendrycks et al.
//! 2021; `imagenet-a/<wnid>/*.jpg`), from those of the 42 ids it has.
//!
//! The reference selects the classes by index ranges of the sorted 1,000 ImageNet folders
//! (`RESTRICTED_RANGES`, with only five ids kept for dog, bird and monkey); its `CLASS_TO_INDEX`
//! spells the same selection out as WordNet ids, which is what [`WNIDS`] holds, so a folder
//! with any subset of ImageNet's classes works as long as the 42 are there.

use std::path::Path;

use crate::error::{DatasetError, Result};
use crate::image_folder::ImageFolder;

/// The super-classes in the reference's label order.
pub const SUPER_CLASSES: [&str; 9] = [
    "dog", "cat", "frog", "turtle", "bird", "monkey", "fish", "crab", "insect",
];

/// Every WordNet id of the 9-class subset with its super-class label (reference
/// `datasets/imagenet.py`, `CLASS_TO_INDEX`).
pub const WNIDS: [(&str, u32); 42] = [
    ("n02085620", 0),
    ("n02099601", 0),
    ("n02106550", 0),
    ("n02106662", 0),
    ("n02110958", 0),
    ("n02123045", 1),
    ("n02123159", 1),
    ("n02123394", 1),
    ("n02123597", 1),
    ("n02124075", 1),
    ("n01641577", 2),
    ("n01644373", 2),
    ("n01644900", 2),
    ("n01664065", 3),
    ("n01665541", 3),
    ("n01667114", 3),
    ("n01667778", 3),
    ("n01669191", 3),
    ("n01819313", 4),
    ("n01820546", 4),
    ("n01833805", 4),
    ("n01843383", 4),
    ("n01847000", 4),
    ("n02486410", 5),
    ("n02487347", 5),
    ("n02488291", 5),
    ("n02488702", 5),
    ("n02492035", 5),
    ("n02607072", 6),
    ("n02640242", 6),
    ("n02641379", 6),
    ("n02643566", 6),
    ("n02655020", 6),
    ("n01978287", 7),
    ("n01978455", 7),
    ("n01980166", 7),
    ("n01981276", 7),
    ("n02174001", 8),
    ("n02177972", 8),
    ("n02190166", 8),
    ("n02206856", 8),
    ("n02219486", 8),
];

/// The super-class names as class names.
pub fn class_names() -> Vec<String> {
    SUPER_CLASSES.iter().map(|s| s.to_string()).collect()
}

/// The ids of [`WNIDS`] that have no folder under `split_root`.
pub fn missing_wnids(split_root: &Path) -> Vec<&'static str> {
    WNIDS
        .iter()
        .map(|(w, _)| *w)
        .filter(|w| !split_root.join(w).is_dir())
        .collect()
}

/// One split (`<root>/train` or `<root>/val`) with all 42 class folders required: a missing one
/// is an error naming the folder and the ids it lacks.
pub fn open_split(split_root: &Path) -> Result<ImageFolder> {
    if split_root.is_dir() {
        let missing = missing_wnids(split_root);
        if !missing.is_empty() {
            let shown: Vec<&str> = missing.iter().take(6).copied().collect();
            return Err(DatasetError::Missing {
                path: split_root.to_path_buf(),
                what: format!(
                    "{} of the 42 WordNet-id folders of the 9-class ImageNet ({}{})",
                    missing.len(),
                    shown.join(", "),
                    if missing.len() > shown.len() {
                        ", ..."
                    } else {
                        ""
                    }
                ),
                hint: format!(
                    "the split needs the class folders of ReBias's super-classes ({}); unpack \
                     ILSVRC2012 train and val (val sorted into class folders) under data.root",
                    SUPER_CLASSES.join(", ")
                ),
            });
        }
    }
    ImageFolder::open_mapped(split_root, &class_names(), &WNIDS)
}

/// ImageNet-A (`<root>/<wnid>/*.jpg`, 200 classes): the images of those of the 42 ids it has.
pub fn open_imagenet_a(root: &Path) -> Result<ImageFolder> {
    ImageFolder::open_mapped(root, &class_names(), &WNIDS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::ImageSource;

    #[test]
    fn the_table_has_nine_classes_and_unique_ids() {
        let mut ids: Vec<&str> = WNIDS.iter().map(|(w, _)| *w).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 42);
        let per: Vec<usize> = (0..9)
            .map(|c| WNIDS.iter().filter(|(_, l)| *l == c).count())
            .collect();
        assert_eq!(per, [5, 5, 3, 5, 5, 5, 5, 4, 5]);
    }

    #[test]
    fn a_split_without_the_ids_is_an_error_naming_them() {
        let t = tempfile::tempdir().unwrap();
        crate::testdata_rebias::write_imagenet9_layout(t.path(), 1, 16).unwrap();
        let val = open_split(&t.path().join("val")).unwrap();
        assert_eq!((val.len(), val.num_classes()), (42, 9));
        assert_eq!(val.label(0), 2, "n01641577 (frog) sorts first");
        std::fs::remove_dir_all(t.path().join("val/n02219486")).unwrap();
        let msg = open_split(&t.path().join("val")).unwrap_err().to_string();
        assert!(
            msg.contains("n02219486") && msg.contains("1 of the 42"),
            "{msg}"
        );
        let a = open_imagenet_a(&t.path().join("imagenet-a")).unwrap();
        assert_eq!(a.num_classes(), 9);
        assert!(a.len() < 42, "ImageNet-A has only some of the ids");
    }
}
