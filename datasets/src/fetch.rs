//! The embedded default's data, fetched by the project itself (shared/data.md): the Debian
//! package `dataset-fashion-mnist` 0.0~git20200523.55506a9-1 ships the full Fashion-MNIST as
//! the four original IDX `.gz` files under `/usr/share/datasets/fashion-mnist/`.
//!
//! Steps: `apt-get download` the pinned version into a temporary folder beside the destination
//! (after `apt-get update` if apt does not know the package), check the `.deb`'s pinned SHA-256,
//! unpack it with `dpkg-deb -x`, check each IDX file's pinned SHA-256, then rename the files into
//! `<data_root>/fashion-mnist/`. Files are checked before they are moved, and a rename within
//! one file system is atomic, so an interrupted fetch never leaves a damaged file in place. A
//! folder whose four files already hold the pinned content is left alone.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::error::{DatasetError, Result};

/// The environment variable that overrides the data root.
pub const DATA_DIR_ENV: &str = "ADAMP_DATA_DIR";
/// The data root when neither an argument nor `ADAMP_DATA_DIR` gives one.
pub const DEFAULT_DATA_ROOT: &str = "data";

/// One file a dataset package must contain, with pinned SHA-256s (lower-case hex).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinnedFile<'a> {
    /// File name (inside the package's data folder and in the destination folder).
    pub name: &'a str,
    /// SHA-256 of the file as shipped (the `.gz`).
    pub sha256: &'a str,
    /// SHA-256 of its gunzipped content: an installed copy is accepted when its content matches,
    /// so the same files fetched elsewhere (Zalando's GitHub, compressed differently) count as
    /// present.
    pub content_sha256: &'a str,
}

/// A dataset shipped inside a Debian package, pinned by version and checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebDataset<'a> {
    /// Debian package name.
    pub package: &'a str,
    /// Exact package version.
    pub version: &'a str,
    /// SHA-256 of the `.deb` file.
    pub deb_sha256: &'a str,
    /// The folder inside the package that holds the files (no leading `/`).
    pub inner_dir: &'a str,
    /// The destination folder's name under the data root.
    pub folder: &'a str,
    /// The files to install.
    pub files: &'a [PinnedFile<'a>],
}

/// Fashion-MNIST from Debian bookworm's `dataset-fashion-mnist` (MIT). Hashes computed from the
/// package fetched with `apt-get download dataset-fashion-mnist=0.0~git20200523.55506a9-1`.
pub const FASHION_MNIST: DebDataset<'static> = DebDataset {
    package: "dataset-fashion-mnist",
    version: "0.0~git20200523.55506a9-1",
    deb_sha256: "39e172fe32dd318ebb3e512220c3beea2fa47d7e20bab348fb4e0922d6beefc0",
    inner_dir: "usr/share/datasets/fashion-mnist",
    folder: "fashion-mnist",
    files: &[
        PinnedFile {
            name: "train-images-idx3-ubyte.gz",
            sha256: "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
            content_sha256: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        },
        PinnedFile {
            name: "train-labels-idx1-ubyte.gz",
            sha256: "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
            content_sha256: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        },
        PinnedFile {
            name: "t10k-images-idx3-ubyte.gz",
            sha256: "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
            content_sha256: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        },
        PinnedFile {
            name: "t10k-labels-idx1-ubyte.gz",
            sha256: "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
            content_sha256: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
    ],
};

/// The data root: `arg` if given, else `$ADAMP_DATA_DIR` if set and non-empty, else `data`.
pub fn data_root(arg: Option<&Path>) -> PathBuf {
    data_root_from(arg, std::env::var_os(DATA_DIR_ENV))
}

/// [`data_root`] with the environment value passed in (testable without touching the process
/// environment).
pub fn data_root_from(arg: Option<&Path>, env: Option<std::ffi::OsString>) -> PathBuf {
    match (arg, env) {
        (Some(a), _) => a.to_path_buf(),
        (None, Some(e)) if !e.is_empty() => PathBuf::from(e),
        _ => PathBuf::from(DEFAULT_DATA_ROOT),
    }
}

/// `<data_root>/fashion-mnist`, where [`fetch_fashion_mnist`] installs and the classification
/// task reads.
pub fn fashion_mnist_dir(data_root: &Path) -> PathBuf {
    data_root.join(FASHION_MNIST.folder)
}

/// SHA-256 of a file, lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| DatasetError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| DatasetError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks that `path` has SHA-256 `expected`; a mismatch names the file and both hashes.
pub fn verify_sha256(path: &Path, expected: &str) -> Result<()> {
    let actual = sha256_file(path)?;
    if actual.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(DatasetError::ChecksumMismatch {
            path: path.to_path_buf(),
            expected: expected.to_ascii_lowercase(),
            actual,
        })
    }
}

/// SHA-256 of a file's gunzipped content (of the file itself if it is not gzip).
fn content_sha256(path: &Path) -> Result<String> {
    let bytes = crate::idx::read_maybe_gz(path)?;
    Ok(hex(&Sha256::digest(&bytes)))
}

/// Whether every pinned file is in `dir` with the pinned content.
pub fn is_installed(spec: &DebDataset<'_>, dir: &Path) -> bool {
    spec.files.iter().all(|f| {
        let p = dir.join(f.name);
        p.is_file() && content_sha256(&p).is_ok_and(|h| h == f.content_sha256)
    })
}

/// What a fetch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchOutcome {
    /// The files were already there with the pinned content; nothing was downloaded.
    AlreadyPresent(PathBuf),
    /// The files were downloaded, checked and installed into this folder.
    Installed(PathBuf),
}

/// Obtains a package's `.deb` file inside a work folder.
pub trait DebDownloader {
    /// Puts `<package>_<version>_*.deb` into `workdir` and returns its path.
    fn download(&self, package: &str, version: &str, workdir: &Path) -> Result<PathBuf>;
}

/// Downloads with the system's `apt-get download` (Debian / Ubuntu).
#[derive(Debug, Clone)]
pub struct AptGet {
    /// The apt-get program (default `apt-get`).
    pub program: PathBuf,
}

impl Default for AptGet {
    fn default() -> Self {
        Self {
            program: PathBuf::from("apt-get"),
        }
    }
}

/// A `.deb` already on disk (downloaded by hand on a machine without apt).
#[derive(Debug, Clone)]
pub struct LocalDeb(pub PathBuf);

fn manual_hint(spec: &DebDataset<'_>) -> String {
    if spec.package != FASHION_MNIST.package {
        // The other packages (the audio stand-ins' recordings) have no `--deb` route.
        return format!(
            "on a machine without apt, the package is listed at https://packages.debian.org/bookworm/{}",
            spec.package
        );
    }
    format!(
        "on a machine without apt, download {p}_{v}_all.deb from \
         https://deb.debian.org/debian/pool/main/d/{p}/ and run `adamp data fetch --deb <file>`, \
         or download the four IDX .gz files from https://github.com/zalandoresearch/fashion-mnist \
         (data/fashion/) into the data folder",
        p = spec.package,
        v = spec.version
    )
}

fn run(cmd: &mut Command, hint: &str) -> Result<std::process::Output> {
    let line = format!("{cmd:?}").replace('"', "");
    let out = cmd.output().map_err(|e| DatasetError::Tool {
        command: line.clone(),
        reason: if e.kind() == std::io::ErrorKind::NotFound {
            "program not found".into()
        } else {
            e.to_string()
        },
        hint: hint.into(),
    })?;
    Ok(out)
}

fn tail(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(4)..].join(" | ")
}

impl DebDownloader for AptGet {
    fn download(&self, package: &str, version: &str, workdir: &Path) -> Result<PathBuf> {
        let spec_hint = manual_hint(&DebDataset {
            package,
            version,
            ..FASHION_MNIST
        });
        let hint = format!(
            "apt-get must be installed and reach a Debian mirror (bookworm has this version); {spec_hint}"
        );
        let target = format!("{package}={version}");
        let download = || {
            run(
                Command::new(&self.program)
                    .args(["download", &target])
                    .current_dir(workdir),
                &hint,
            )
        };
        let mut out = download()?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr).to_string();
            let unknown = ["Unable to locate package", "was not found", "Can't select"]
                .iter()
                .any(|m| err.contains(m));
            if unknown {
                tracing::info!("apt-get does not know {target}; running `apt-get update`");
                let up = run(Command::new(&self.program).arg("update"), &hint)?;
                if !up.status.success() {
                    return Err(DatasetError::Tool {
                        command: format!("{} update", self.program.display()),
                        reason: format!("{}: {}", up.status, tail(&up.stderr)),
                        hint: format!("run it as root, or {spec_hint}"),
                    });
                }
                out = download()?;
            }
        }
        if !out.status.success() {
            return Err(DatasetError::Tool {
                command: format!("{} download {target}", self.program.display()),
                reason: format!("{}: {}", out.status, tail(&out.stderr)),
                hint,
            });
        }
        find_deb(workdir, package)
    }
}

impl DebDownloader for LocalDeb {
    fn download(&self, package: &str, _version: &str, workdir: &Path) -> Result<PathBuf> {
        if !self.0.is_file() {
            return Err(DatasetError::Missing {
                path: self.0.clone(),
                what: format!("the {package} .deb file"),
                hint: "give the path of the downloaded .deb".into(),
            });
        }
        let name = self.0.file_name().unwrap_or_default();
        let dest = workdir.join(name);
        std::fs::copy(&self.0, &dest).map_err(|e| DatasetError::io(&self.0, e))?;
        Ok(dest)
    }
}

fn find_deb(dir: &Path, package: &str) -> Result<PathBuf> {
    let entries = std::fs::read_dir(dir).map_err(|e| DatasetError::io(dir, e))?;
    for e in entries {
        let p = e.map_err(|e| DatasetError::io(dir, e))?.path();
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with(&format!("{package}_")) && name.ends_with(".deb") {
            return Ok(p);
        }
    }
    Err(DatasetError::Missing {
        path: dir.join(format!("{package}_*.deb")),
        what: "the downloaded package".into(),
        hint: "apt-get reported success but left no .deb; check apt's configuration".into(),
    })
}

/// Unpacks `deb` into `into` with `dpkg-deb -x`.
fn unpack_deb(spec: &DebDataset<'_>, deb: &Path, into: &Path) -> Result<()> {
    let hint = format!(
        "install dpkg (it provides dpkg-deb), or unpack the .deb by hand (`ar x` then `tar xf data.tar.xz`) \
         and copy {}/*.gz into the data folder; {}",
        spec.inner_dir,
        manual_hint(spec)
    );
    let out = run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(into), &hint)?;
    if !out.status.success() {
        return Err(DatasetError::Tool {
            command: format!("dpkg-deb -x {} {}", deb.display(), into.display()),
            reason: format!("{}: {}", out.status, tail(&out.stderr)),
            hint,
        });
    }
    Ok(())
}

/// Removes work folders left by an interrupted earlier fetch.
pub(crate) fn remove_stale_workdirs(root: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(prefix) && e.path().is_dir() {
            tracing::debug!(path = %e.path().display(), "removing a stale fetch folder");
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Fetches `spec` into `<data_root>/<spec.folder>` with `downloader` (see the module docs).
pub fn fetch_deb_dataset(
    spec: &DebDataset<'_>,
    data_root: &Path,
    downloader: &dyn DebDownloader,
) -> Result<FetchOutcome> {
    let dest = data_root.join(spec.folder);
    if is_installed(spec, &dest) {
        tracing::info!(dir = %dest.display(), "{} already present and verified", spec.folder);
        return Ok(FetchOutcome::AlreadyPresent(dest));
    }
    let work = work_dir(data_root, spec.folder)?;
    tracing::info!(
        package = spec.package,
        version = spec.version,
        "downloading"
    );
    let deb = downloader.download(spec.package, spec.version, work.path())?;
    verify_sha256(&deb, spec.deb_sha256)?;
    let unpacked = work.path().join("unpacked");
    std::fs::create_dir_all(&unpacked).map_err(|e| DatasetError::io(&unpacked, e))?;
    unpack_deb(spec, &deb, &unpacked)?;
    let inner = unpacked.join(spec.inner_dir);
    for f in spec.files {
        let p = inner.join(f.name);
        if !p.is_file() {
            return Err(DatasetError::Missing {
                path: p,
                what: format!("{} inside {}", f.name, deb.display()),
                hint: "the package does not have the pinned layout; check the version".into(),
            });
        }
    }
    let files: Vec<(&str, &str)> = spec.files.iter().map(|f| (f.name, f.sha256)).collect();
    install_verified(&inner, &dest, &files)?;
    tracing::info!(dir = %dest.display(), "installed {} files", spec.files.len());
    Ok(FetchOutcome::Installed(dest))
}

/// A fresh work folder `<data_root>/.fetch-<folder>-*` (removed when dropped; leftovers of a
/// killed fetch are removed first), on the data root's file system so files move by rename.
pub(crate) fn work_dir(data_root: &Path, folder: &str) -> Result<tempfile::TempDir> {
    scratch_dir(data_root, &format!(".fetch-{folder}-"))
}

/// [`work_dir`] for a dataset generated from another one: `<data_root>/.build-<folder>-*`.
pub(crate) fn build_dir(data_root: &Path, folder: &str) -> Result<tempfile::TempDir> {
    scratch_dir(data_root, &format!(".build-{folder}-"))
}

fn scratch_dir(data_root: &Path, prefix: &str) -> Result<tempfile::TempDir> {
    std::fs::create_dir_all(data_root).map_err(|e| DatasetError::io(data_root, e))?;
    remove_stale_workdirs(data_root, prefix);
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(data_root)
        .map_err(|e| DatasetError::io(data_root, e))
}

/// Put a folder generated in the work folder `work` (`out`) in place of `dest`: a stale `dest`
/// first moves into `work` (removed with it), then `out` is renamed to `dest`, so `dest` is
/// never a mix of an old and a new install.
pub(crate) fn swap_in_folder(out: &Path, dest: &Path, work: &Path) -> Result<()> {
    if dest.exists() {
        let old = work.join("old");
        std::fs::rename(dest, &old).map_err(|e| DatasetError::io(dest, e))?;
    }
    std::fs::rename(out, dest).map_err(|e| DatasetError::io(dest, e))
}

/// Check every staged file's SHA-256 (`(name, sha256)` in `files`), then move them from
/// `staged` into `dest`: nothing is moved unless every file checks out.
pub(crate) fn install_verified(staged: &Path, dest: &Path, files: &[(&str, &str)]) -> Result<()> {
    for (name, sha) in files {
        verify_sha256(&staged.join(name), sha)?;
    }
    std::fs::create_dir_all(dest).map_err(|e| DatasetError::io(dest, e))?;
    for (name, _) in files {
        let to = dest.join(name);
        std::fs::rename(staged.join(name), &to).map_err(|e| DatasetError::io(&to, e))?;
    }
    Ok(())
}

/// Installs Fashion-MNIST (the embedded default's data) into `<data_root>/fashion-mnist` with
/// `apt-get download`; see [`data_root`] for choosing the root.
pub fn fetch_fashion_mnist(data_root: &Path) -> Result<FetchOutcome> {
    fetch_deb_dataset(&FASHION_MNIST, data_root, &AptGet::default())
}

/// Installs Fashion-MNIST from a `.deb` already on disk (downloaded by hand on a machine
/// without apt); the same pinned checks apply.
pub fn fetch_fashion_mnist_from_deb(data_root: &Path, deb: &Path) -> Result<FetchOutcome> {
    fetch_deb_dataset(&FASHION_MNIST, data_root, &LocalDeb(deb.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idx::tests::{write_idx_images, write_idx_labels};
    use crate::idx::{load_idx_split, Split};
    use crate::source::ImageSource;

    fn leak(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }

    /// Builds a real `.deb` (with `dpkg-deb --build`) holding four tiny IDX .gz files under
    /// `usr/share/datasets/tiny/`, and the matching pinned spec.
    fn tiny_deb(dir: &Path) -> (PathBuf, DebDataset<'static>) {
        let root = dir.join("pkgroot");
        let inner = root.join("usr/share/datasets/tiny");
        std::fs::create_dir_all(&inner).unwrap();
        std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
        std::fs::write(
            root.join("DEBIAN/control"),
            "Package: dataset-tiny\nVersion: 1.0-1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: tiny\n",
        )
        .unwrap();
        for (prefix, n) in [("train", 6), ("t10k", 3)] {
            let images: Vec<Vec<u8>> = (0..n).map(|i| vec![i as u8; 4]).collect();
            write_idx_images(
                &inner.join(format!("{prefix}-images-idx3-ubyte.gz")),
                2,
                2,
                &images,
            );
            let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
            write_idx_labels(
                &inner.join(format!("{prefix}-labels-idx1-ubyte.gz")),
                &labels,
            );
        }
        let deb = dir.join("dataset-tiny_1.0-1_all.deb");
        let out = Command::new("dpkg-deb")
            .args(["--root-owner-group", "--build"])
            .arg(&root)
            .arg(&deb)
            .output()
            .expect("this test needs dpkg-deb (Debian's dpkg), as `adamp data fetch` does");
        assert!(out.status.success(), "{out:?}");
        let files: Vec<PinnedFile<'static>> = FASHION_MNIST
            .files
            .iter()
            .map(|f| {
                let p = inner.join(f.name);
                PinnedFile {
                    name: f.name,
                    sha256: leak(sha256_file(&p).unwrap()),
                    content_sha256: leak(content_sha256(&p).unwrap()),
                }
            })
            .collect();
        let spec = DebDataset {
            package: "dataset-tiny",
            version: "1.0-1",
            deb_sha256: leak(sha256_file(&deb).unwrap()),
            inner_dir: "usr/share/datasets/tiny",
            folder: "tiny",
            files: Box::leak(files.into_boxed_slice()),
        };
        (deb, spec)
    }

    /// A downloader that must not be called.
    struct NoDownload;
    impl DebDownloader for NoDownload {
        fn download(&self, _: &str, _: &str, _: &Path) -> Result<PathBuf> {
            panic!("an installed, verified dataset must not be downloaded again");
        }
    }

    #[test]
    fn checksum_mismatch_names_file_expected_and_actual() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("x.bin");
        std::fs::write(&p, b"abc").unwrap();
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_file(&p).unwrap(), abc);
        verify_sha256(&p, abc).unwrap();
        let wrong = "00".repeat(32);
        let msg = verify_sha256(&p, &wrong).unwrap_err().to_string();
        assert!(msg.contains("x.bin"), "{msg}");
        assert!(msg.contains(&wrong) && msg.contains(abc), "{msg}");
    }

    #[test]
    fn corrupt_download_is_rejected_and_nothing_is_installed() {
        let t = tempfile::tempdir().unwrap();
        let fake = t
            .path()
            .join("dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb");
        std::fs::write(&fake, b"!<arch>\nnot really a package").unwrap();
        let root = t.path().join("data");
        let err = fetch_deb_dataset(&FASHION_MNIST, &root, &LocalDeb(fake)).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, DatasetError::ChecksumMismatch { .. }),
            "{msg}"
        );
        assert!(msg.contains(".deb"), "{msg}");
        assert!(msg.contains(FASHION_MNIST.deb_sha256), "{msg}");
        assert!(!root.join("fashion-mnist").exists());
        // The work folder is cleaned up.
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
    }

    #[test]
    fn installs_from_a_deb_verifies_and_is_idempotent() {
        let t = tempfile::tempdir().unwrap();
        let (deb, spec) = tiny_deb(t.path());
        let root = t.path().join("data");
        // A stale work folder from an interrupted run is removed.
        std::fs::create_dir_all(root.join(".fetch-tiny-old")).unwrap();
        let out = fetch_deb_dataset(&spec, &root, &LocalDeb(deb.clone())).unwrap();
        let dir = root.join("tiny");
        assert_eq!(out, FetchOutcome::Installed(dir.clone()));
        assert!(!root.join(".fetch-tiny-old").exists());
        let train = load_idx_split(&dir, Split::Train, "tiny").unwrap();
        assert_eq!((train.len(), train.label(5)), (6, 5));
        // Second run: verified, nothing downloaded.
        let again = fetch_deb_dataset(&spec, &root, &NoDownload).unwrap();
        assert_eq!(again, FetchOutcome::AlreadyPresent(dir.clone()));
        // A damaged installed file triggers a new fetch that repairs it.
        std::fs::write(dir.join("t10k-labels-idx1-ubyte.gz"), b"junk").unwrap();
        assert!(!is_installed(&spec, &dir));
        let repaired = fetch_deb_dataset(&spec, &root, &LocalDeb(deb)).unwrap();
        assert_eq!(repaired, FetchOutcome::Installed(dir.clone()));
        assert!(is_installed(&spec, &dir));
    }

    #[test]
    fn a_wrong_file_inside_the_package_is_named() {
        let t = tempfile::tempdir().unwrap();
        let (deb, mut spec) = tiny_deb(t.path());
        let mut files = spec.files.to_vec();
        files[2].sha256 = "11".repeat(32).leak();
        spec.files = files.leak();
        let root = t.path().join("data");
        let msg = fetch_deb_dataset(&spec, &root, &LocalDeb(deb))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("t10k-images-idx3-ubyte.gz"), "{msg}");
        assert!(msg.contains(&"11".repeat(32)), "{msg}");
        assert!(!root.join("tiny").exists());
    }

    /// Writes an executable `apt-get` stand-in: `download` fails with apt's "unknown package"
    /// message until `update` has run, then copies `deb` into the working folder.
    fn fake_apt(dir: &Path, deb: &Path, network_down: bool) -> AptGet {
        use std::os::unix::fs::PermissionsExt;
        let marker = dir.join("updated");
        let script = if network_down {
            "#!/bin/sh\necho \"E: Failed to fetch http://deb.debian.org/...  Temporary failure resolving 'deb.debian.org'\" >&2\nexit 100\n".to_string()
        } else {
            format!(
                "#!/bin/sh\nif [ \"$1\" = update ]; then touch '{m}'; exit 0; fi\n\
                 if [ ! -e '{m}' ]; then echo \"E: Unable to locate package $2\" >&2; exit 100; fi\n\
                 cp '{d}' .\n",
                m = marker.display(),
                d = deb.display()
            )
        };
        let program = dir.join("apt-get");
        std::fs::write(&program, script).unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        AptGet { program }
    }

    #[test]
    fn apt_get_update_is_run_when_the_package_is_unknown() {
        let t = tempfile::tempdir().unwrap();
        let (deb, spec) = tiny_deb(t.path());
        let apt = fake_apt(t.path(), &deb, false);
        let out = fetch_deb_dataset(&spec, &t.path().join("data"), &apt).unwrap();
        assert_eq!(out, FetchOutcome::Installed(t.path().join("data/tiny")));
        assert!(t.path().join("updated").exists());
        let down = fake_apt(&t.path().join("pkgroot"), &deb, true);
        let msg = fetch_deb_dataset(&spec, &t.path().join("other"), &down)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("Temporary failure resolving"), "{msg}");
        assert!(msg.contains("reach a Debian mirror"), "{msg}");
    }

    #[test]
    fn missing_apt_get_says_where_else_to_get_the_files() {
        let t = tempfile::tempdir().unwrap();
        let apt = AptGet {
            program: PathBuf::from("/nonexistent/apt-get"),
        };
        let msg = fetch_deb_dataset(&FASHION_MNIST, &t.path().join("data"), &apt)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("program not found"), "{msg}");
        assert!(msg.contains("deb.debian.org"), "{msg}");
        assert!(msg.contains("zalandoresearch/fashion-mnist"), "{msg}");
    }

    /// The real thing: `apt-get download` of the pinned package (needs apt and a mirror; run
    /// with `cargo test -p adamp-datasets --release -- --ignored`).
    #[test]
    #[ignore = "downloads 31 MB from a Debian mirror with apt-get"]
    fn fetches_the_real_fashion_mnist_package() {
        let t = tempfile::tempdir().unwrap();
        let out = fetch_fashion_mnist(t.path()).unwrap();
        let dir = fashion_mnist_dir(t.path());
        assert_eq!(out, FetchOutcome::Installed(dir.clone()));
        let train = load_idx_split(&dir, Split::Train, "Fashion-MNIST").unwrap();
        let test = load_idx_split(&dir, Split::Test, "Fashion-MNIST").unwrap();
        assert_eq!((train.len(), test.len()), (60_000, 10_000));
        assert_eq!((train.height(), train.width()), (28, 28));
        // Balanced classes: 6,000 per class in train.
        let mut counts = [0usize; 10];
        for &l in train.labels() {
            counts[l as usize] += 1;
        }
        assert_eq!(counts, [6000; 10]);
        assert_eq!(
            fetch_fashion_mnist(t.path()).unwrap(),
            FetchOutcome::AlreadyPresent(dir)
        );
    }

    #[test]
    fn data_root_prefers_argument_then_environment() {
        let arg = Path::new("/x/y");
        assert_eq!(data_root_from(Some(arg), Some("/e".into())), arg);
        assert_eq!(data_root_from(None, Some("/e".into())), Path::new("/e"));
        assert_eq!(data_root_from(None, Some("".into())), Path::new("data"));
        assert_eq!(data_root_from(None, None), Path::new("data"));
        assert_eq!(
            fashion_mnist_dir(Path::new("data")),
            Path::new("data/fashion-mnist")
        );
    }
}
