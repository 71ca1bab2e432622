//! Room on the disk. A database that runs out of space mid-write can be left unreadable (sled's
//! log ends in a torn segment), so the store keeps a reserve of free space on the data
//! directory's filesystem and refuses writes before it is used up, instead of letting the disk
//! fill:
//!
//! - a write that makes the data grow (a message queued, settings saved, a token created) is
//!   refused while less than the reserve is free ([`Need::Grow`]);
//! - the writes that keep things running (a login's session, the outbox's claims and outcomes,
//!   a cancellation, the purge that frees space) go on into the reserve's first three quarters
//!   ([`Need::Upkeep`]), so sending, logging in and cleaning up continue while nothing new comes
//!   in;
//! - the database is not opened at all with less than that quarter free ([`Space::check_open`]):
//!   opening writes to it. With more, a restart of a Mailroom that reached its reserve starts,
//!   sends what is queued and lets admins log in, while new data is still refused.
//!
//! Should a write fail anyway (something else filled the disk faster than the checks saw it),
//! the process reports it and stops ([`on_write_failure`]) instead of going on with a database
//! in an unknown state.

use super::StoreError;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The default reserve: 256 MiB, or 5 % of a smaller filesystem, and never below 4 MiB.
pub const DEFAULT_RESERVE_CAP: u64 = 256 * 1024 * 1024;
const DEFAULT_RESERVE_FLOOR: u64 = 4 * 1024 * 1024;

/// What a write needs from the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// New data: refused below the reserve.
    Grow,
    /// Keeping things running (sessions, delivery, purging): refused only below a quarter of
    /// the reserve.
    Upkeep,
}

/// How much free space to keep: a number of bytes, or the default for the filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reserve {
    #[default]
    Default,
    Bytes(u64),
}

/// Free space on the filesystem holding one directory, against a reserve.
#[derive(Debug, Clone)]
pub struct Space {
    dir: PathBuf,
    reserve: u64,
}

/// The filesystem's figures for `dir` (or its nearest existing ancestor): bytes free to an
/// unprivileged writer, and its size.
fn statvfs(dir: &Path) -> std::io::Result<(u64, u64)> {
    let mut probe = dir;
    loop {
        match rustix::fs::statvfs(probe) {
            Ok(s) => {
                let block = s.f_frsize.max(1);
                return Ok((s.f_bavail.saturating_mul(block), s.f_blocks.saturating_mul(block)));
            }
            Err(rustix::io::Errno::NOENT) => match probe.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => probe = parent,
                _ => probe = Path::new("."),
            },
            Err(e) => return Err(e.into()),
        }
    }
}

impl Space {
    /// The reserve for the filesystem of `dir`.
    pub fn new(dir: &Path, reserve: Reserve) -> std::io::Result<Self> {
        let reserve = match reserve {
            Reserve::Bytes(n) => n,
            Reserve::Default => {
                let (_, total) = statvfs(dir)?;
                (total / 20).clamp(DEFAULT_RESERVE_FLOOR, DEFAULT_RESERVE_CAP)
            }
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            reserve,
        })
    }

    pub fn reserve(&self) -> u64 {
        self.reserve
    }

    /// Bytes free now.
    pub fn available(&self) -> std::io::Result<u64> {
        statvfs(&self.dir).map(|(free, _)| free)
    }

    /// The free bytes a write of this kind needs.
    fn floor(&self, need: Need) -> u64 {
        match need {
            Need::Grow => self.reserve,
            Need::Upkeep => self.reserve / 4,
        }
    }

    /// Whether a write of this kind may go ahead now.
    pub fn admit(&self, need: Need) -> Result<(), StoreError> {
        let available = self.available()?;
        if available < self.floor(need) {
            return Err(StoreError::NoSpace {
                available,
                reserve: self.reserve,
            });
        }
        Ok(())
    }

    /// Before the database is opened (which writes to it): what upkeep needs must be free.
    pub fn check_open(&self) -> Result<(), StoreError> {
        let available = self.available()?;
        let needed = self.floor(Need::Upkeep);
        if available < needed {
            return Err(StoreError::NoSpaceToOpen { available, needed });
        }
        Ok(())
    }

    /// Whether new data is refused now (for the pages' banner): the bytes free, if so.
    pub fn low(&self) -> Option<u64> {
        self.available().ok().filter(|free| *free < self.reserve)
    }
}

/// Bytes in megabytes for messages, one decimal.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

type FailureHook = Box<dyn Fn(&str) + Send + Sync>;

/// What the process does when the database fails a write: set once, at start, by the binary
/// (which logs and exits). Without one (unit tests), the failure is logged and returned.
static ON_WRITE_FAILURE: OnceLock<FailureHook> = OnceLock::new();

/// Sets what happens when the database fails a write or a flush. The first call wins.
pub fn on_write_failure(hook: impl Fn(&str) + Send + Sync + 'static) {
    let _ = ON_WRITE_FAILURE.set(Box::new(hook));
}

/// Called with every I/O failure of the database.
pub(super) fn write_failed(cause: &dyn std::fmt::Display) {
    let message = cause.to_string();
    tracing::error!(cause = %message, "the database failed to write");
    if let Some(hook) = ON_WRITE_FAILURE.get() {
        hook(&message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_default_reserve_is_a_twentieth_between_its_bounds_and_writes_are_admitted_above_it() {
        let dir = tempfile::tempdir().unwrap();
        let space = Space::new(dir.path(), Reserve::Default).unwrap();
        assert!((DEFAULT_RESERVE_FLOOR..=DEFAULT_RESERVE_CAP).contains(&space.reserve()));
        let free = space.available().unwrap();
        assert!(free > 0);
        // This machine's temporary directory has more than the reserve free, or tests could
        // not run at all.
        assert!(space.admit(Need::Grow).is_ok());
        assert!(space.check_open().is_ok());
        // A reserve above what is free refuses growth and the open, and says the figures.
        let tight = Space::new(dir.path(), Reserve::Bytes(free.saturating_mul(2) + 1)).unwrap();
        match tight.admit(Need::Grow) {
            Err(StoreError::NoSpace { available, reserve }) => {
                assert!(available <= free + 1_000_000_000);
                assert_eq!(reserve, tight.reserve());
            }
            other => panic!("expected NoSpace, got {other:?}"),
        }
        let refused = Space::new(dir.path(), Reserve::Bytes(free.saturating_mul(8) + 1)).unwrap();
        assert!(matches!(
            refused.check_open(),
            Err(StoreError::NoSpaceToOpen { .. })
        ));
        assert!(tight.low().is_some());
        // Upkeep goes on into the reserve's first three quarters.
        let upkeep = Space::new(dir.path(), Reserve::Bytes(free + free / 2)).unwrap();
        assert!(upkeep.admit(Need::Grow).is_err());
        assert!(upkeep.admit(Need::Upkeep).is_ok());
        assert!(upkeep.check_open().is_ok());
    }

    #[tokio::test]
    async fn a_directory_not_yet_made_is_measured_on_its_parent() {
        let dir = tempfile::tempdir().unwrap();
        let space = Space::new(&dir.path().join("not/yet"), Reserve::Bytes(1)).unwrap();
        assert!(space.available().unwrap() > 0);
    }
}
