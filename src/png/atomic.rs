//! Atomic file writes: a temporary file in the destination folder, then a rename.
//!
//! A rename within one folder (one file system) replaces the destination in one step, so a
//! reader sees the old file or the new one, never a partial one, and an error at any point
//! leaves the destination untouched. The temporary name `.<name>.<pid>.<n>.tmp` is hidden,
//! unique per process and call, and created with `create_new` (never clobbers anything).
//! No fsync: that makes the write durable across a power cut at the cost of milliseconds per
//! file, which batch writers of thousands of masks do not want; atomicity does not need it.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary file next to `dest` that is removed on drop unless it was committed.
pub struct TempFile {
    path: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl TempFile {
    /// Create the temporary file next to `dest` and write `bytes` into it.
    pub fn write(dest: &Path, bytes: &[u8]) -> Result<TempFile> {
        let name = dest.file_name().ok_or_else(|| {
            Error::io(
                dest,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "not a file path (it has no file name)",
                ),
            )
        })?;
        let dir = dest.parent().unwrap_or(Path::new(""));
        let pid = std::process::id();
        let mut attempt = 0;
        let (path, mut file) = loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let mut tmp_name = std::ffi::OsString::from(".");
            tmp_name.push(name);
            tmp_name.push(format!(".{pid}.{n}.tmp"));
            let path = dir.join(tmp_name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(f) => break (path, f),
                // A stale temporary of an earlier process with the same pid: take the next number.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                    attempt += 1;
                }
                Err(e) => return Err(Error::io(dest, e)),
            }
        };
        let tmp = TempFile {
            path,
            dest: dest.to_path_buf(),
            committed: false,
        };
        write_all(&mut file, bytes).map_err(|e| Error::io(dest, e))?;
        Ok(tmp)
    }

    /// Rename over the destination.
    pub fn commit(mut self) -> Result<()> {
        fs::rename(&self.path, &self.dest).map_err(|e| Error::io(&self.dest, e))?;
        self.committed = true;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn write_all(file: &mut File, bytes: &[u8]) -> std::io::Result<()> {
    file.write_all(bytes)?;
    file.flush()
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Write `bytes` to `dest` atomically.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<()> {
    TempFile::write(dest, bytes)?.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("fastmask-atomic-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn writes_replace_and_leave_no_temporaries() {
        let d = scratch_dir("replace");
        let p = d.join("a.png");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(&d).unwrap().count(), 1);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn uncommitted_temporaries_are_removed() {
        let d = scratch_dir("drop");
        let p = d.join("b.png");
        let t = TempFile::write(&p, b"x").unwrap();
        assert!(t.path().exists());
        drop(t);
        assert_eq!(fs::read_dir(&d).unwrap().count(), 0);
        let e = write_atomic(&d.join("missing").join("c.png"), b"x").unwrap_err();
        assert!(e.to_string().contains("c.png"), "{e}");
        fs::remove_dir_all(&d).unwrap();
    }
}
