//! The SOP-like embedded stand-in (shared/data.md): the emoji of the npm package
//! `emoji-datasource` 16.0.0 (MIT; images: Google Apache-2.0, Twitter CC-BY-4.0), written in the
//! Stanford Online Products layout ([`super::sop`]) so the retrieval task reads it through the
//! same reader. It is NOT SOP: many classes with few images each, as SOP has, but emoji.
//!
//! The package ships `emoji.json` (1,911 emoji; each with `sheet_x`, `sheet_y`, `has_img_<vendor>`,
//! `category`, `sort_order`, and `skin_variations` with their own cells) and one 32 px sprite sheet
//! per vendor (`img/<vendor>/sheets/32.png`, 2,108 x 2,108 RGBA). As the package's README says,
//! every cell has a 1 px transparent border: the image of `(sheet_x, sheet_y)` is the 32 x 32
//! square at `(sheet_x * 34 + 1, sheet_y * 34 + 1)`. The full-fidelity sheets fill missing images
//! with another vendor's, so only cells whose `has_img_<vendor>` is true are taken.
//!
//! - **Classes**: one per emoji; its images are the base glyph and every skin-tone variation,
//!   each from the Google and the Twitter sheet where that vendor has it (2 to 52 images). Each
//!   image is composited over white and written as an RGB PNG. Classes with fewer than 2 images
//!   are left out and counted in the log and in `GENERATOR` (none in 16.0.0).
//! - **Split**: classes in `sort_order`; even positions train, odd ones test, so both halves
//!   span every category. Class ids are 1-based, training classes first (SOP's convention);
//!   `super_class_id` is the category's rank by first `sort_order`.
//! - **Files**: `<category>_final/<unified>_<vendor>.png` (e.g. `smileys_emotion_final/1f600_google.png`),
//!   `Ebay_train.txt`, `Ebay_test.txt`, `GENERATOR`.
//!
//! Steps: `npm pack emoji-datasource@16.0.0` (curl of the registry URL without npm) into a work
//! folder beside the destination, check the tarball's pinned SHA-256 (the registry's integrity is
//! `sha512-/qHKqK5Nr3+8zhgO6kHmF43Fm5C8HNn0AaFRIpgw8HF3+uF0Vfc8jgLI1ZQS5ba1vBzksS8NBCjHejwLb2D/Sg==`),
//! read the three files with the `tar` crate, write the folder there, check the two split files'
//! pinned SHA-256, then rename the folder into `<data_root>/emoji-sop/`. A folder whose
//! `GENERATOR` and split files match and whose listed images are all present is left alone.

use std::path::{Path, PathBuf};

use crate::error::{DatasetError, Result};
use crate::fetch::{sha256_file, verify_sha256, FetchOutcome};
use crate::npm_mnist::{LocalTarball, NpmPack, TarballSource};
use crate::tar_gz::read_tar_gz;

use super::emoji_sheet::{cell, slug, Emoji};
use super::sop::SOP_HEADER;

/// An emoji-datasource package and what is made of it, pinned by checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmojiSpec<'a> {
    /// npm package name.
    pub package: &'a str,
    /// Exact version.
    pub version: &'a str,
    /// SHA-256 of the `.tgz` `npm pack` writes (lower-case hex).
    pub tarball_sha256: &'a str,
    /// The destination folder's name under the data root.
    pub folder: &'a str,
    /// The vendors whose sheets are used.
    pub vendors: &'a [&'a str],
    /// The sheet's image size in pixels (cells are `size + 2` with the border).
    pub sheet_size: u32,
    /// SHA-256 of the written `Ebay_train.txt` and `Ebay_test.txt`.
    pub split_sha256: [&'a str; 2],
}

/// emoji-datasource 16.0.0, Google and Twitter 32 px sheets. Hashes computed 2026-12-04 from
/// `npm pack emoji-datasource@16.0.0` and from this module's conversion of it.
pub const EMOJI_SOP: EmojiSpec<'static> = EmojiSpec {
    package: "emoji-datasource",
    version: "16.0.0",
    tarball_sha256: "2006725061dc0098daa832d65f854a7bec0740af2eb47cb5b23d89f7e2c849f9",
    folder: "emoji-sop",
    vendors: &["google", "twitter"],
    sheet_size: 32,
    split_sha256: [
        "8fe1ef62cf08f3cedd75f3d5f71ceda8b4d1763784a396e23ff21d9bb4a120d7",
        "2aee35eb2fffc3a8da0194292a04cb25f8c4d31f8fa50dcf80d25a5773b605d8",
    ],
};

/// Bumped whenever the files a spec produces change.
const GENERATOR_VERSION: u32 = 1;

/// `<data_root>/emoji-sop`, where [`fetch_emoji_sop`] installs.
pub fn emoji_sop_dir(data_root: &Path) -> PathBuf {
    data_root.join(EMOJI_SOP.folder)
}

/// What a conversion wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmojiStats {
    /// Training classes and images.
    pub train: (usize, usize),
    /// Test classes and images.
    pub test: (usize, usize),
    /// Emoji left out for having fewer than 2 images.
    pub skipped: usize,
}

impl EmojiSpec<'_> {
    fn stamp(&self, stats: &EmojiStats) -> String {
        format!(
            "emoji-datasource in the Stanford Online Products layout, generator {GENERATOR_VERSION}\n\
             package {}@{} sha256 {}\nvendors {}\nsheet_size {}\n\
             train {} classes {} images\ntest {} classes {} images\n\
             left out (fewer than 2 images) {}\n",
            self.package,
            self.version,
            self.tarball_sha256,
            self.vendors.join(","),
            self.sheet_size,
            stats.train.0,
            stats.train.1,
            stats.test.0,
            stats.test.1,
            stats.skipped
        )
    }

    fn stamp_prefix(&self) -> String {
        let s = self.stamp(&EmojiStats {
            train: (0, 0),
            test: (0, 0),
            skipped: 0,
        });
        s.lines().take(4).collect::<Vec<_>>().join("\n")
    }
}

/// Converts the package tarball into the SOP layout in `out`.
pub fn convert(spec: &EmojiSpec<'_>, tgz: &Path, out: &Path) -> Result<EmojiStats> {
    let sheet_path = |v: &str| format!("package/img/{v}/sheets/{}.png", spec.sheet_size);
    let wanted: Vec<String> = std::iter::once("package/emoji.json".to_string())
        .chain(spec.vendors.iter().map(|v| sheet_path(v)))
        .collect();
    let files = read_tar_gz(tgz, |n| wanted.iter().any(|w| w == n))?;
    let get = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b)
            .ok_or_else(|| DatasetError::format(tgz, format!("the package has no {name}")))
    };
    let mut emoji: Vec<Emoji> = serde_json::from_slice(get("package/emoji.json")?)
        .map_err(|e| DatasetError::format(tgz, format!("package/emoji.json: {e}")))?;
    emoji.sort_by_key(|e| e.sort_order);
    let mut sheets = Vec::new();
    for v in spec.vendors {
        let name = sheet_path(v);
        let img = image::load_from_memory(get(&name)?)
            .map_err(|e| DatasetError::format(tgz, format!("{name}: {e}")))?;
        sheets.push((*v, name, img.into_rgba8()));
    }
    let mut categories: Vec<String> = Vec::new();
    let mut classes = Vec::new();
    let mut skipped = Vec::new();
    for e in &emoji {
        let glyphs = std::iter::once(&e.glyph).chain(e.skin_variations.values());
        let mut images = Vec::new();
        for g in glyphs {
            for (v, name, sheet) in &sheets {
                if g.has_image(v) {
                    let img = cell(sheet, name, g.sheet_x, g.sheet_y, spec.sheet_size)?;
                    images.push((format!("{}_{v}.png", g.unified.to_lowercase()), img));
                }
            }
        }
        if images.len() < 2 {
            skipped.push(e.glyph.unified.clone());
            continue;
        }
        if !categories.contains(&e.category) {
            categories.push(e.category.clone());
        }
        classes.push((e, images));
    }
    if !skipped.is_empty() {
        tracing::warn!(count = skipped.len(), first = ?&skipped[..skipped.len().min(5)], "emoji with fewer than 2 images left out");
    }
    let (train, test): (Vec<_>, Vec<_>) = classes
        .into_iter()
        .enumerate()
        .partition(|(k, _)| k % 2 == 0);
    let mut stats = EmojiStats {
        train: (train.len(), 0),
        test: (test.len(), 0),
        skipped: skipped.len(),
    };
    let mut class_id = 0;
    for (split, file, count) in [
        (train, "Ebay_train.txt", &mut stats.train.1),
        (test, "Ebay_test.txt", &mut stats.test.1),
    ] {
        let mut text = format!("{SOP_HEADER}\n");
        for (_, (e, images)) in split {
            class_id += 1;
            let super_id = categories
                .iter()
                .position(|c| *c == e.category)
                .unwrap_or(0)
                + 1;
            let folder = format!("{}_final", slug(&e.category));
            let dir = out.join(&folder);
            std::fs::create_dir_all(&dir).map_err(|e| DatasetError::io(&dir, e))?;
            for (name, img) in images {
                let path = dir.join(&name);
                img.save_with_format(&path, image::ImageFormat::Png)
                    .map_err(|e| DatasetError::io(&path, std::io::Error::other(e)))?;
                *count += 1;
                text.push_str(&format!("{count} {class_id} {super_id} {folder}/{name}\n"));
            }
        }
        let p = out.join(file);
        std::fs::write(&p, text).map_err(|e| DatasetError::io(&p, e))?;
    }
    let p = out.join("GENERATOR");
    std::fs::write(&p, spec.stamp(&stats)).map_err(|e| DatasetError::io(&p, e))?;
    Ok(stats)
}

/// Whether `dir` holds this spec's conversion: stamp and both split files as pinned, and every
/// listed image present (the SOP reader opens it).
pub fn is_installed(spec: &EmojiSpec<'_>, dir: &Path) -> bool {
    let stamp = std::fs::read_to_string(dir.join("GENERATOR")).unwrap_or_default();
    stamp.starts_with(&spec.stamp_prefix())
        && ["Ebay_train.txt", "Ebay_test.txt"]
            .iter()
            .zip(spec.split_sha256)
            .all(|(f, sha)| sha256_file(&dir.join(f)).is_ok_and(|h| h == sha))
        && super::sop::open_sop(dir).is_ok()
}

/// Fetches and converts `spec` into `<data_root>/<spec.folder>` through `source` (see the
/// module docs). Idempotent; nothing is moved into place unless every check passes.
pub fn install_emoji_sop(
    spec: &EmojiSpec<'_>,
    data_root: &Path,
    source: &dyn TarballSource,
) -> Result<FetchOutcome> {
    let dest = data_root.join(spec.folder);
    if is_installed(spec, &dest) {
        tracing::info!(dir = %dest.display(), "{} already present and verified", spec.folder);
        return Ok(FetchOutcome::AlreadyPresent(dest));
    }
    let work = crate::fetch::work_dir(data_root, spec.folder)?;
    tracing::info!(package = spec.package, version = spec.version, "npm pack");
    let tgz = source
        .fetch(spec.package, spec.version, work.path())
        .map_err(|e| match e {
            DatasetError::Tool {
                command,
                reason,
                hint,
            } => DatasetError::Tool {
                command,
                reason,
                hint: hint.replace("--npm-tarball", "--emoji-tarball"),
            },
            other => other,
        })?;
    verify_sha256(&tgz, spec.tarball_sha256)?;
    let out = work.path().join("out");
    std::fs::create_dir_all(&out).map_err(|e| DatasetError::io(&out, e))?;
    let stats = convert(spec, &tgz, &out)?;
    verify_sha256(&out.join("Ebay_train.txt"), spec.split_sha256[0])?;
    verify_sha256(&out.join("Ebay_test.txt"), spec.split_sha256[1])?;
    crate::fetch::swap_in_folder(&out, &dest, work.path())?;
    tracing::info!(dir = %dest.display(), ?stats, "installed the emoji in the SOP layout");
    Ok(FetchOutcome::Installed(dest))
}

/// Installs emoji-datasource 16.0.0 into `<data_root>/emoji-sop` with `npm pack`; returns the
/// folder.
pub fn fetch_emoji_sop(data_root: &Path) -> Result<PathBuf> {
    Ok(
        match install_emoji_sop(&EMOJI_SOP, data_root, &NpmPack::default())? {
            FetchOutcome::AlreadyPresent(d) | FetchOutcome::Installed(d) => d,
        },
    )
}

/// Installs it from a tarball already on disk; the same pinned checks apply.
pub fn fetch_emoji_sop_from_tarball(data_root: &Path, tgz: &Path) -> Result<FetchOutcome> {
    install_emoji_sop(&EMOJI_SOP, data_root, &LocalTarball(tgz.to_path_buf()))
}
