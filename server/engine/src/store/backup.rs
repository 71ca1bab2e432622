//! `mailroom backup` and `mailroom restore` for the embedded database: every tree's pairs as
//! sled keeps them (secrets and bodies stay sealed: a backup is no use without the data
//! directory's key), in one file that ends with the SHA-256 of everything before it; a restore
//! writes them into an empty directory, then reads the whole database back and compares its
//! digest with the one the backup recorded, decodes every record and opens a sealed one with
//! the key, before it says done. Nothing of a failed restore is left behind.
//!
//! The file: `mailroom-backup 1\n`, then per tree `T` + its name, per pair `P` + key + value
//! (each a big-endian u32 length and the bytes), then `E` and the 32-byte digest of the pairs
//! (tree names, keys and values as framed) followed by the file's own 32-byte digest.

use super::{SledStore, StoreError};
use sha2::{Digest, Sha256};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

const MAGIC: &[u8] = b"mailroom-backup 1\n";
/// The longest key or value a backup may hold (sled's own pairs are far smaller).
const MAX_PART: usize = 64 * 1024 * 1024;

/// What a backup or restore held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counted {
    pub trees: usize,
    pub pairs: usize,
    pub bytes: u64,
}

impl std::fmt::Display for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} records in {} trees, {} bytes", self.pairs, self.trees, self.bytes)
    }
}

fn corrupt(why: impl Into<String>) -> StoreError {
    StoreError::Corrupt(format!("the backup file {}", why.into()))
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Hashes what it writes.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Hashing<W> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.hash.update(bytes);
        self.inner.write_all(bytes).map_err(io)
    }
}

fn framed(hash: &mut Sha256, tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![tag];
    for p in parts {
        out.extend_from_slice(&(p.len() as u32).to_be_bytes());
        out.extend_from_slice(p);
    }
    hash.update(&out);
    out
}

/// Every pair of `db`, tree by tree, in order, as framed; with the pairs' digest.
fn each_pair(db: &sled::Db, mut visit: impl FnMut(Vec<u8>) -> Result<(), StoreError>) -> Result<(Counted, [u8; 32]), StoreError> {
    let mut pairs_hash = Sha256::new();
    let mut counted = Counted::default();
    let mut names = db.tree_names();
    names.sort();
    for name in names {
        let tree = db.open_tree(&name)?;
        visit(framed(&mut pairs_hash, b'T', &[&name]))?;
        counted.trees += 1;
        for kv in tree.iter() {
            let (k, v) = kv?;
            counted.pairs += 1;
            counted.bytes += (k.len() + v.len()) as u64;
            visit(framed(&mut pairs_hash, b'P', &[&k, &v]))?;
        }
    }
    Ok((counted, pairs_hash.finalize().into()))
}

/// Writes `store`'s whole database to `path` (a new file: written beside it, synced, then
/// renamed into place, so a backup is whole or absent). Other calls on the store wait while it
/// reads, so the copy is the database as it was between two of them (a running server's too).
pub async fn backup(store: &SledStore, path: &Path) -> Result<Counted, StoreError> {
    let path = path.to_path_buf();
    store
        .backend()
        .alone(move |sled| {
            let partial = path.with_extension("partial");
            let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&partial).map_err(io)?;
            let written = (|| {
                let mut out = Hashing { inner: BufWriter::new(file), hash: Sha256::new() };
                out.put(MAGIC)?;
                let (counted, pairs) = each_pair(&sled.db, |frame| out.put(&frame))?;
                out.put(b"E")?;
                out.put(&pairs)?;
                let whole: [u8; 32] = out.hash.clone().finalize().into();
                out.inner.write_all(&whole).map_err(io)?;
                let file = out.inner.into_inner().map_err(|e| io(e.into_error()))?;
                file.sync_all().map_err(io)?;
                Ok::<_, StoreError>(counted)
            })();
            match written {
                Ok(counted) => {
                    std::fs::rename(&partial, &path).map_err(io)?;
                    Ok(counted)
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&partial);
                    Err(e)
                }
            }
        })
        .await
}

/// Hashes what it reads.
struct HashingReader<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> HashingReader<R> {
    fn exact(&mut self, bytes: &mut [u8], short: &str) -> Result<(), StoreError> {
        self.inner.read_exact(bytes).map_err(|_| corrupt(short))?;
        self.hash.update(&*bytes);
        Ok(())
    }

    /// One length-prefixed part of a frame, bounded.
    fn part(&mut self) -> Result<Vec<u8>, StoreError> {
        let mut len = [0u8; 4];
        self.exact(&mut len, "ends inside a record")?;
        let len = u32::from_be_bytes(len) as usize;
        if len > MAX_PART {
            return Err(corrupt("holds a record larger than any Mailroom writes"));
        }
        let mut bytes = vec![0u8; len];
        self.exact(&mut bytes, "ends inside a record")?;
        Ok(bytes)
    }
}

/// Writes the backup at `path` into a new sled database in `db_dir` (which must not exist);
/// the pairs' digest the backup recorded, and what it held.
pub fn import(path: &Path, db_dir: &Path) -> Result<(Counted, [u8; 32]), StoreError> {
    let file = std::fs::File::open(path).map_err(io)?;
    let mut input = HashingReader { inner: BufReader::new(file), hash: Sha256::new() };
    let mut magic = vec![0u8; MAGIC.len()];
    input.exact(&mut magic, "is not a Mailroom backup")?;
    if magic != MAGIC {
        return Err(corrupt("is not a Mailroom backup (or of a newer version)"));
    }
    let db = sled::Config::new().path(db_dir).create_new(true).open()?;
    let mut tree: Option<sled::Tree> = None;
    let mut counted = Counted::default();
    loop {
        let mut tag = [0u8; 1];
        input.exact(&mut tag, "ends before its digest")?;
        match tag[0] {
            b'T' => {
                tree = Some(db.open_tree(input.part()?)?);
                counted.trees += 1;
            }
            b'P' => {
                let (k, v) = (input.part()?, input.part()?);
                let t = tree.as_ref().ok_or_else(|| corrupt("has a record before its tree"))?;
                counted.pairs += 1;
                counted.bytes += (k.len() + v.len()) as u64;
                t.insert(k, v)?;
            }
            b'E' => break,
            _ => return Err(corrupt("is damaged (an unknown part)")),
        }
    }
    let mut pairs = [0u8; 32];
    input.exact(&mut pairs, "ends inside its digest")?;
    let computed: [u8; 32] = input.hash.clone().finalize().into();
    let mut recorded = [0u8; 32];
    input.inner.read_exact(&mut recorded).map_err(|_| corrupt("ends inside its digest"))?;
    if computed != recorded {
        return Err(corrupt("is damaged: its digest does not match what it holds"));
    }
    if input.inner.read(&mut [0u8; 1]).map_err(io)? != 0 {
        return Err(corrupt("has bytes after its digest"));
    }
    db.flush()?;
    Ok((counted, pairs))
}

/// Reads the restored database's files back as they lie, before anything opens them as a store
/// (an open sends the messages a backup caught mid-send back to the queue, which rewrites
/// them): its pairs' digest must be `expected` and its count `counted`. The import's own handle
/// lets go of sled's lock a moment after it is dropped, so a held lock is waited for (bounded).
pub fn read_back(db_dir: &Path, expected: [u8; 32], counted: &Counted) -> Result<(), StoreError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let db = loop {
        match sled::Config::new().path(db_dir).open() {
            Err(sled::Error::Io(ref e)) if e.to_string().contains("could not acquire lock") && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            opened => break opened?,
        }
    };
    let (read, digest) = each_pair(&db, |_| Ok(()))?;
    if digest != expected || &read != counted {
        return Err(StoreError::Corrupt("the restored database does not read back as the backup holds it".into()));
    }
    Ok(())
}

/// Every record of the restored store decodes (the snapshot `migrate` reads).
pub async fn verify(store: &SledStore) -> Result<(), StoreError> {
    store.backend().blocking(move |sled| sled.snapshot().map(|_| ())).await
}
