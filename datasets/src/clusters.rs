//! Texture-cluster labels of an evaluation split, for ReBias's unbiased accuracy on 9-class
//! ImageNet (Bahng et al., ICML 2020, Section 4.3: the mean accuracy over (class, texture
//! cluster) cells). The user supplies them as a CSV file:
//!
//! ```text
//! path,category,cluster1,cluster2,cluster3
//! n01641577/ILSVRC2012_val_00001652.JPEG,frog,1,5,3
//! ```
//!
//! - a header row; `path` is the image's path relative to the split folder (`/`-separated);
//! - every column whose name starts with `cluster` is one clustering (the reference's three
//!   k-means runs), holding a non-negative integer per image; other columns are ignored;
//! - every image of the split needs a row; rows for images not in the split are ignored.
//!
//! The reference's own file, `clusters/9class_imagenet_val.csv` in clovaai/rebias, has this
//! format and can be used as is.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{DatasetError, Result};
use crate::image_folder::ImageFolder;
use crate::source::ImageSource;

/// The clusterings of a split, per sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterLabels {
    /// The cluster columns' names.
    pub columns: Vec<String>,
    /// `labels[c][i]`: the cluster of sample `i` in clustering `c`.
    pub labels: Vec<Vec<u32>>,
    /// One more than the largest cluster id.
    pub num_clusters: usize,
}

/// What the error messages say about the file's format.
pub const FORMAT_HINT: &str = "a CSV file with a header `path,cluster1[,cluster2,...]` (other \
columns ignored) and one row per evaluation image: its path relative to the split folder and its \
texture cluster ids; the ReBias reference's clusters/9class_imagenet_val.csv (clovaai/rebias) has \
this format; set `data.clusters` to its path";

/// Reads `path` and matches its rows to the samples of `split` (see the module docs).
pub fn read_cluster_labels(path: &Path, split: &ImageFolder) -> Result<ClusterLabels> {
    if !path.is_file() {
        return Err(DatasetError::Missing {
            path: path.to_path_buf(),
            what: "the texture-cluster label file".into(),
            hint: FORMAT_HINT.into(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| DatasetError::io(path, e))?;
    let bad = |line: usize, reason: String| {
        DatasetError::format(
            path,
            format!("line {line}: {reason}; expected {FORMAT_HINT}"),
        )
    };
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines
        .next()
        .ok_or_else(|| bad(1, "the file is empty".into()))?;
    let header: Vec<&str> = header.split(',').map(str::trim).collect();
    let path_col = header
        .iter()
        .position(|h| *h == "path")
        .ok_or_else(|| bad(1, "no `path` column in the header".into()))?;
    let cluster_cols: Vec<usize> = (0..header.len())
        .filter(|&i| header[i].starts_with("cluster"))
        .collect();
    if cluster_cols.is_empty() {
        return Err(bad(1, "no `cluster...` column in the header".into()));
    }
    let mut rows: HashMap<String, Vec<u32>> = HashMap::new();
    for (n, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != header.len() {
            return Err(bad(
                n + 1,
                format!("{} cells, the header has {}", cells.len(), header.len()),
            ));
        }
        let ids = cluster_cols
            .iter()
            .map(|&c| {
                cells[c].parse::<u32>().map_err(|_| {
                    bad(
                        n + 1,
                        format!("cluster `{}` is not a non-negative integer", cells[c]),
                    )
                })
            })
            .collect::<Result<Vec<u32>>>()?;
        rows.insert(cells[path_col].to_string(), ids);
    }
    let mut labels = vec![Vec::with_capacity(split.len()); cluster_cols.len()];
    for i in 0..split.len() {
        let rel = split
            .path(i)
            .strip_prefix(split.root())
            .unwrap_or(split.path(i))
            .to_string_lossy()
            .replace('\\', "/");
        let ids = rows.get(&rel).ok_or_else(|| {
            DatasetError::format(
                path,
                format!(
                    "no row for the evaluation image `{rel}` (every image of {} needs one)",
                    split.root().display()
                ),
            )
        })?;
        for (c, id) in ids.iter().enumerate() {
            labels[c].push(*id);
        }
    }
    let num_clusters = labels.iter().flatten().max().map_or(0, |m| *m as usize + 1);
    Ok(ClusterLabels {
        columns: cluster_cols
            .iter()
            .map(|&c| header[c].to_string())
            .collect(),
        labels,
        num_clusters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(t: &Path) -> ImageFolder {
        crate::image_folder::tests::write_image_folder(t, 2);
        ImageFolder::open(&t.join("val")).unwrap()
    }

    #[test]
    fn rows_match_images_by_relative_path() {
        let t = tempfile::tempdir().unwrap();
        let val = folder(t.path());
        let csv = t.path().join("clusters.csv");
        let mut text = String::from("path,category,cluster1,cluster2\n");
        for (c, w) in ["n01440764", "n01443537", "n01484850"].iter().enumerate() {
            text.push_str(&format!(
                "{w}/img_000.JPEG,x,{c},0\n{w}/img_001.png,x,{},1\n",
                c + 3
            ));
        }
        text.push_str("n09999999/other.JPEG,x,8,8\n");
        std::fs::write(&csv, text).unwrap();
        let got = read_cluster_labels(&csv, &val).unwrap();
        assert_eq!(got.columns, ["cluster1", "cluster2"]);
        assert_eq!(got.labels[0], [0, 3, 1, 4, 2, 5]);
        assert_eq!(got.labels[1], [0, 1, 0, 1, 0, 1]);
        assert_eq!(got.num_clusters, 6);
    }

    #[test]
    fn a_missing_file_or_row_is_an_error_naming_it() {
        let t = tempfile::tempdir().unwrap();
        let val = folder(t.path());
        let csv = t.path().join("nope.csv");
        let msg = read_cluster_labels(&csv, &val).unwrap_err().to_string();
        assert!(
            msg.contains("nope.csv") && msg.contains("data.clusters"),
            "{msg}"
        );
        std::fs::write(&csv, "path,cluster\nn01440764/img_000.JPEG,1\n").unwrap();
        let msg = read_cluster_labels(&csv, &val).unwrap_err().to_string();
        assert!(msg.contains("n01440764/img_001.png"), "{msg}");
        std::fs::write(&csv, "path,cluster\nn01440764/img_000.JPEG,one\n").unwrap();
        let msg = read_cluster_labels(&csv, &val).unwrap_err().to_string();
        assert!(msg.contains("line 2") && msg.contains("`one`"), "{msg}");
    }
}
