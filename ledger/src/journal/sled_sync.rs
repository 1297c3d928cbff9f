//! Making a sled flush durable.
//!
//! sled 0.34's `flush` writes its log and, on Linux, waits with `sync_file_range`. That call
//! neither flushes the device's write cache nor records a grown file's new length, so the
//! data is not durable against a power cut or a kernel crash (only against the process
//! dying). Pages over 128 KiB (a page holding a record that large) go to files under
//! `blobs/`, which sled writes and never syncs at all. The journal's promise is "durable
//! before acknowledged", so after every sled flush [`SledSync::flush`] syncs what sled wrote:
//! each blob file not synced yet, then the blob directory (their names), then the log file
//! (`fdatasync`: its data and length). The data directory itself (the names of sled's
//! files) is synced once, when the store opens.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::StoreError;

/// The log file sled keeps in its directory.
const LOG_FILE: &str = "db";
/// The directory of sled's blob files.
const BLOB_DIRECTORY: &str = "blobs";

/// A handle that flushes a sled database durably; cheap to clone (every clone syncs the same
/// files and shares what it has synced).
#[derive(Clone)]
pub struct SledSync {
    inner: Arc<Inner>,
}

struct Inner {
    database: sled::Db,
    log: File,
    blobs: PathBuf,
    /// Blob files synced already (sled never rewrites one: a changed page gets a new blob).
    synced_blobs: Mutex<HashSet<OsString>>,
}

impl SledSync {
    /// # Errors
    /// The log file cannot be opened.
    pub fn new(database: sled::Db, directory: &Path) -> Result<SledSync, StoreError> {
        let log = File::open(directory.join(LOG_FILE)).map_err(|error| {
            StoreError::Backend(format!("cannot open sled's log file to sync it: {error}"))
        })?;
        // A new database's files are only names in its directory until that is synced too.
        File::open(directory)
            .and_then(|directory| directory.sync_all())
            .map_err(|error| {
                StoreError::Backend(format!("cannot sync the data directory: {error}"))
            })?;
        Ok(SledSync {
            inner: Arc::new(Inner {
                database,
                log,
                blobs: directory.join(BLOB_DIRECTORY),
                synced_blobs: Mutex::new(HashSet::new()),
            }),
        })
    }

    /// Flushes sled, then makes what it wrote durable (module docs). Returns only once it is.
    ///
    /// # Errors
    /// sled or the file system failed: nothing may be acknowledged.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.inner.database.flush()?;
        self.sync_written()
            .map_err(|error| StoreError::Backend(format!("cannot sync sled's files: {error}")))
    }

    fn sync_written(&self) -> io::Result<()> {
        let mut synced = self
            .inner
            .synced_blobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut present = HashSet::with_capacity(synced.len());
        let mut new_blobs = false;
        match std::fs::read_dir(&self.inner.blobs) {
            Ok(entries) => {
                for entry in entries {
                    let name = entry?.file_name();
                    if !synced.contains(&name) {
                        match File::open(self.inner.blobs.join(&name)) {
                            Ok(blob) => blob.sync_all()?,
                            // sled removed a superseded blob meanwhile: nothing to keep.
                            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                            Err(error) => return Err(error),
                        }
                        new_blobs = true;
                    }
                    present.insert(name);
                }
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
        if new_blobs {
            File::open(&self.inner.blobs)?.sync_all()?;
        }
        // Forget blobs sled has removed, so the set stays as small as the directory.
        *synced = present;
        drop(synced);
        self.inner.log.sync_data()
    }

    /// Blob files in the directory that have not been synced (empty after every flush).
    pub fn unsynced_blobs(&self) -> io::Result<Vec<OsString>> {
        let synced = self
            .inner
            .synced_blobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut unsynced = Vec::new();
        match std::fs::read_dir(&self.inner.blobs) {
            Ok(entries) => {
                for entry in entries {
                    let name = entry?.file_name();
                    if !synced.contains(&name) {
                        unsynced.push(name);
                    }
                }
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
        Ok(unsynced)
    }
}
