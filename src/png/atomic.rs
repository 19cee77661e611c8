//! Atomic file writes: a temporary file in the destination folder, then a rename.
//!
//! A rename within one folder (one file system) replaces the destination in one step, so a
//! reader sees the old file or the new one, never a partial one, and an error at any point
//! leaves the destination untouched. Temporaries are named `.<name>.fastmask-<pid>-<n>.tmp`
//! (hidden, unique per process and call, created with `create_new` so nothing is clobbered);
//! a batch keeps the previous version of each destination as `.<name>.fastmask-<pid>-<n>.bak`
//! (a hard link) until it commits, so a failed rename can put every file back.
//!
//! A process killed mid-write (SIGKILL, power loss of the process) cannot remove its own
//! temporaries; the next write into that folder, by any process, removes every `.tmp` / `.bak`
//! of this form whose process is gone ([`sweep_stale`]; Linux, where `/proc` tells which
//! processes live; elsewhere they stay).
//!
//! No fsync: that makes the write durable across a power cut at the cost of milliseconds per
//! file, which batch writers of thousands of masks do not want; atomicity does not need it.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The marker between a destination's name and the owner's pid in our temporary names.
const MARK: &str = ".fastmask-";

/// `.<name>.fastmask-<pid>-<n>.<ext>` next to `dest`.
fn side_name(dir: &Path, name: &OsStr, n: u64, ext: &str) -> PathBuf {
    let mut s = OsString::from(".");
    s.push(name);
    s.push(format!("{MARK}{}-{n}.{ext}", std::process::id()));
    dir.join(s)
}

/// The folder a destination lives in ("" -> the current folder).
fn dir_of(dest: &Path) -> &Path {
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The file name of a destination, or an error that says why the path names no file.
fn file_name(dest: &Path) -> Result<&OsStr> {
    use std::io::{Error as E, ErrorKind as K};
    if dest.as_os_str().is_empty() {
        return Err(Error::io(
            dest,
            E::new(
                K::NotFound,
                "empty path: expected the name of the file to write",
            ),
        ));
    }
    dest.file_name().ok_or_else(|| {
        Error::io(
            dest,
            E::new(
                K::IsADirectory,
                "not a file path: it names a folder (ends in '/', '.' or '..'), expected a \
                 file name",
            ),
        )
    })
}

/// The pid in one of our temporary / backup names, if `name` is one.
fn owner_pid(name: &OsStr) -> Option<u32> {
    let name = name.to_str()?;
    if !name.starts_with('.') || !(name.ends_with(".tmp") || name.ends_with(".bak")) {
        return None;
    }
    let rest = &name[name.rfind(MARK)? + MARK.len()..name.len() - 4];
    let (pid, n) = rest.split_once('-')?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Whether process `pid` is gone (only ever true where `/proc` answers).
fn is_dead(pid: u32) -> bool {
    cfg!(target_os = "linux")
        && Path::new("/proc/self").exists()
        && !Path::new("/proc").join(pid.to_string()).exists()
}

/// Folders swept recently by this process, with when.
static SWEPT: Mutex<Option<HashMap<PathBuf, Instant>>> = Mutex::new(None);

/// How often one process looks through the same folder when writing single files (a batch
/// always looks): reading a folder of 5,000 masks takes ~1 ms, as long as writing ten masks.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Remove the temporaries and backups left in `dir` by processes that no longer exist.
/// Unless `always`, a folder is looked through at most once per [`SWEEP_EVERY`] per process.
/// Best effort: errors (an unreadable folder, a file removed meanwhile) are ignored; the
/// write that follows reports real problems.
pub fn sweep_stale(dir: &Path, always: bool) {
    {
        let mut g = SWEPT.lock().unwrap_or_else(|e| e.into_inner());
        let map = g.get_or_insert_with(HashMap::new);
        let now = Instant::now();
        if !always {
            if let Some(t) = map.get(dir) {
                if now.duration_since(*t) < SWEEP_EVERY {
                    return;
                }
            }
        }
        if map.len() > 4096 {
            map.clear();
        }
        map.insert(dir.to_path_buf(), now);
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let me = std::process::id();
    for e in entries.flatten() {
        let name = e.file_name();
        if let Some(pid) = owner_pid(&name) {
            if pid != me && is_dead(pid) {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// A temporary file next to `dest` that is removed on drop unless it was committed.
pub struct TempFile {
    path: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl TempFile {
    /// Create the temporary file next to `dest` and write `bytes` into it.
    pub fn write(dest: &Path, bytes: &[u8]) -> Result<TempFile> {
        let name = file_name(dest)?;
        let dir = dir_of(dest);
        let mut attempt = 0;
        let (path, mut file) = loop {
            let path = side_name(dir, name, COUNTER.fetch_add(1, Ordering::Relaxed), "tmp");
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

    pub fn dest(&self) -> &Path {
        &self.dest
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

/// The previous version of a destination, kept (as a hard link, or a copy where the file
/// system has no hard links) while a batch replaces it. Dropping it removes the backup;
/// [`Backup::restore`] puts it back.
pub struct Backup {
    dest: PathBuf,
    /// `None`: the destination did not exist, so restoring means removing it.
    saved: Option<PathBuf>,
    done: bool,
}

impl Backup {
    /// Keep the current version of `dest` (if any). A destination that is a folder is an
    /// error here, before anything was replaced.
    pub fn take(dest: &Path) -> Result<Backup> {
        let meta = match fs::symlink_metadata(dest) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Backup {
                    dest: dest.to_path_buf(),
                    saved: None,
                    done: false,
                })
            }
            Err(e) => return Err(Error::io(dest, e)),
        };
        if meta.is_dir() {
            return Err(Error::io(
                dest,
                std::io::Error::new(
                    std::io::ErrorKind::IsADirectory,
                    "is a folder, expected a file to replace",
                ),
            ));
        }
        let name = file_name(dest)?;
        let dir = dir_of(dest);
        let mut attempt = 0;
        loop {
            let bak = side_name(dir, name, COUNTER.fetch_add(1, Ordering::Relaxed), "bak");
            let r = fs::hard_link(dest, &bak).or_else(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    return Err(e);
                }
                // No hard links here (some network / FAT file systems): a copy does.
                fs::copy(dest, &bak).map(|_| ())
            });
            match r {
                Ok(()) => {
                    return Ok(Backup {
                        dest: dest.to_path_buf(),
                        saved: Some(bak),
                        done: false,
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                    attempt += 1;
                }
                Err(e) => return Err(Error::io(dest, e)),
            }
        }
    }

    /// Put the previous version back (or remove a destination that did not exist).
    pub fn restore(mut self) -> Result<()> {
        self.done = true;
        match &self.saved {
            Some(bak) => fs::rename(bak, &self.dest).map_err(|e| Error::io(&self.dest, e)),
            None => match fs::remove_file(&self.dest) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(&self.dest, e)),
                _ => Ok(()),
            },
        }
    }
}

impl Drop for Backup {
    fn drop(&mut self) {
        if let (false, Some(bak)) = (self.done, &self.saved) {
            let _ = fs::remove_file(bak);
        }
    }
}

/// Write `bytes` to `dest` atomically.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<()> {
    if file_name(dest).is_ok() {
        sweep_stale(dir_of(dest), false);
    }
    TempFile::write(dest, bytes)?.commit()
}

/// Replace every destination of `temps` or none: each destination's previous version is
/// kept until all renames succeeded; if one fails, the ones already renamed are put back
/// (or removed, if they did not exist) and the error is returned. Every temporary and
/// backup is gone when this returns.
pub fn commit_all(temps: Vec<TempFile>) -> Result<()> {
    let mut backups = Vec::with_capacity(temps.len());
    for t in &temps {
        backups.push(Backup::take(t.dest())?);
    }
    let mut renamed = 0usize;
    let mut failure = None;
    for t in temps {
        match t.commit() {
            Ok(()) => renamed += 1,
            Err(e) => {
                failure = Some(e);
                break; // the rest are dropped (removed) below
            }
        }
    }
    let Some(err) = failure else {
        return Ok(()); // dropping the backups removes them
    };
    // Undo in reverse order, so a destination listed twice ends as it was.
    let undo: Vec<Backup> = backups.drain(..renamed).collect();
    for b in undo.into_iter().rev() {
        // A failed restore leaves the new file in place; the first error is the one reported.
        let _ = b.restore();
    }
    Err(err)
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

    #[test]
    fn names_and_owners() {
        let p = side_name(Path::new("d"), OsStr::new("a.png"), 7, "tmp");
        let me = std::process::id();
        assert_eq!(
            p,
            Path::new("d").join(format!(".a.png.fastmask-{me}-7.tmp"))
        );
        assert_eq!(owner_pid(p.file_name().unwrap()), Some(me));
        assert_eq!(owner_pid(OsStr::new(".x.fastmask-12-3.bak")), Some(12));
        for other in [
            "a.png",
            ".a.png.12.3.tmp",
            ".x.fastmask-12-.tmp",
            "x.fastmask-1-2.tmp",
        ] {
            assert_eq!(owner_pid(OsStr::new(other)), None, "{other}");
        }
        let e = TempFile::write(Path::new(""), b"x")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("empty path"), "{e}");
        let e = TempFile::write(Path::new("a/.."), b"x")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("names a folder"), "{e}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn stale_files_of_dead_processes_are_swept() {
        let d = scratch_dir("sweep");
        // pid 2^22 + 1 is above Linux's pid_max limit: never a live process.
        let dead = d.join(".a.png.fastmask-4194305-0.tmp");
        let mine = side_name(&d, OsStr::new("b.png"), 99, "bak");
        let user = d.join(".notes.tmp");
        for p in [&dead, &mine, &user] {
            fs::write(p, b"x").unwrap();
        }
        sweep_stale(&d, true);
        assert!(!dead.exists() && mine.exists() && user.exists());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_failed_rename_puts_every_file_back() {
        let d = scratch_dir("commit");
        let (a, b, c) = (d.join("a"), d.join("b"), d.join("c"));
        fs::write(&a, b"old a").unwrap();
        fs::write(&c, b"old c").unwrap();
        let temps = vec![
            TempFile::write(&a, b"new a").unwrap(),
            TempFile::write(&b, b"new b").unwrap(),
            TempFile::write(&c, b"new c").unwrap(),
        ];
        // The temporary of c vanishes (as if removed by someone else): the renames of a and b
        // succeed, c's fails, and a and b are put back.
        fs::remove_file(temps[2].path()).unwrap();
        let e = commit_all(temps).unwrap_err().to_string();
        assert!(e.contains("c"), "{e}");
        assert_eq!(fs::read(&a).unwrap(), b"old a");
        assert_eq!(fs::read(&c).unwrap(), b"old c");
        assert!(!b.exists());
        let count = || fs::read_dir(&d).unwrap().count();
        assert_eq!(count(), 2);
        // A destination that is a folder: refused before anything is replaced.
        let temps = vec![
            TempFile::write(&a, b"new a").unwrap(),
            TempFile::write(&b, b"new b").unwrap(),
        ];
        fs::create_dir(&b).unwrap();
        assert!(commit_all(temps).is_err());
        assert_eq!(fs::read(&a).unwrap(), b"old a");
        assert_eq!(count(), 3);
        fs::remove_dir_all(&d).unwrap();
    }
}
