//! Reading the regular files of a gzipped tar archive (an npm package tarball) without an
//! external tool: POSIX ustar headers (name, size, type flag, the `prefix` field of long
//! names), the pax `x` / `g` extended-header records skipped, end at the first zero block.
//! Archives are small (an npm package), so the whole archive is gunzipped into memory.

use std::io::Read;
use std::path::Path;

use crate::error::{DatasetError, Result};

const BLOCK: usize = 512;

/// The regular files of the `.tgz` at `path` whose archive path satisfies `keep`, as
/// `(archive path, contents)` in archive order. A damaged gzip stream, a header that runs past
/// the end or a bad size field is a [`DatasetError::Format`] naming the file.
pub fn read_tar_gz(path: &Path, keep: impl Fn(&str) -> bool) -> Result<Vec<(String, Vec<u8>)>> {
    let raw = std::fs::read(path).map_err(|e| DatasetError::io(path, e))?;
    let mut tar = Vec::with_capacity(raw.len() * 4);
    flate2::read::GzDecoder::new(&raw[..])
        .read_to_end(&mut tar)
        .map_err(|e| DatasetError::format(path, format!("gzip stream is damaged: {e}")))?;
    parse_tar(path, &tar, keep)
}

fn field_str(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn octal(path: &Path, bytes: &[u8]) -> Result<usize> {
    let text = field_str(bytes);
    let text = text.trim_matches(|c: char| c == ' ' || c == '\0');
    usize::from_str_radix(text, 8).map_err(|_| {
        DatasetError::format(path, format!("tar header size field `{text}` is not octal"))
    })
}

fn parse_tar(
    path: &Path,
    tar: &[u8],
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        if at + BLOCK > tar.len() {
            return Err(DatasetError::format(
                path,
                format!("tar archive ends inside a header at byte {at} (truncated download)"),
            ));
        }
        let header = &tar[at..at + BLOCK];
        if header.iter().all(|&b| b == 0) {
            return Ok(out);
        }
        let size = octal(path, &header[124..136])?;
        let kind = header[156];
        let mut name = field_str(&header[..100]);
        if &header[257..262] == b"ustar" {
            let prefix = field_str(&header[345..500]);
            if !prefix.is_empty() {
                name = format!("{prefix}/{name}");
            }
        }
        let start = at + BLOCK;
        let end = start + size;
        if end > tar.len() {
            return Err(DatasetError::format(
                path,
                format!("tar entry `{name}` needs {size} bytes past the end of the archive (truncated download)"),
            ));
        }
        if (kind == b'0' || kind == 0) && keep(&name) {
            out.push((name, tar[start..end].to_vec()));
        }
        at = start + size.div_ceil(BLOCK) * BLOCK;
    }
}

/// Writes a `.tgz` of `files` (`(archive path, contents)`, regular files, mode 0644) at `path`,
/// as `npm pack` lays a package out; for tests and the npm-fetch test fixtures.
pub fn write_tar_gz(path: &Path, files: &[(&str, &[u8])]) -> Result<()> {
    use std::io::Write;
    let mut tar = Vec::new();
    for (name, data) in files {
        let mut h = [0u8; BLOCK];
        if name.len() > 100 {
            return Err(DatasetError::Config {
                name: name.to_string(),
                reason: "tar names longer than 100 bytes are not written by this helper".into(),
            });
        }
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        h[108..115].copy_from_slice(b"0000000");
        h[116..123].copy_from_slice(b"0000000");
        h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
        h[136..147].copy_from_slice(b"00000000000");
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        tar.extend_from_slice(&h);
        tar.extend_from_slice(data);
        tar.resize(tar.len().div_ceil(BLOCK) * BLOCK, 0);
    }
    tar.extend_from_slice(&[0u8; 2 * BLOCK]);
    let write = || -> std::io::Result<()> {
        let f = std::fs::File::create(path)?;
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        gz.write_all(&tar)?;
        gz.finish()?;
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
