//! Atomic file output: write to a temporary file in the destination's directory, then rename it
//! over the destination. A failure (or a kill) at any point leaves either the old file or none,
//! never a half-written one.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// Start of the name of every temporary file [`AtomicFile`] writes (`.cryoflux-XXXXXX.partial`);
/// a file so named that outlives its writer was left by a killed run.
pub const TEMP_PREFIX: &str = ".cryoflux-";

/// End of the name of every temporary file [`AtomicFile`] writes.
pub const TEMP_SUFFIX: &str = ".partial";

/// A file being written at a temporary sibling of its destination. [`AtomicFile::commit`]
/// flushes it to disk and renames it into place; dropping it without committing deletes it, so
/// the destination never holds a partial file.
#[derive(Debug)]
pub struct AtomicFile {
    destination: PathBuf,
    temp: NamedTempFile,
}

impl AtomicFile {
    /// Start writing `destination` (nothing appears there until [`AtomicFile::commit`]).
    pub fn create(destination: &Path) -> Result<AtomicFile> {
        let dir = match destination.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(TEMP_PREFIX).suffix(TEMP_SUFFIX);
        // Outputs are ordinary files (rw-r--r--), not private temporary files.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
        let temp = builder
            .tempfile_in(dir)
            .map_err(|e| Error::io(destination, e))?;
        Ok(AtomicFile {
            destination: destination.to_path_buf(),
            temp,
        })
    }

    /// The destination path, for error messages.
    pub fn destination(&self) -> &Path {
        &self.destination
    }

    /// The temporary file, to write (and seek) in.
    pub fn file_mut(&mut self) -> &mut std::fs::File {
        self.temp.as_file_mut()
    }

    /// Flush the data to disk and rename the file to its destination.
    pub fn commit(self) -> Result<()> {
        let destination = self.destination;
        self.temp
            .as_file()
            .sync_all()
            .map_err(|e| Error::io(&destination, e))?;
        self.temp
            .persist(&destination)
            .map_err(|e| Error::io(&destination, e.error))?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.temp.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.temp.flush()
    }
}

/// Create `path` by running `fill` on a buffered writer to a temporary sibling file, then
/// renaming it into place. If `fill` fails the temporary file is removed and `path` is untouched.
pub fn write_atomically<F>(path: &Path, fill: F) -> Result<()>
where
    F: FnOnce(&mut BufWriter<&mut std::fs::File>) -> Result<()>,
{
    let mut file = AtomicFile::create(path)?;
    {
        let mut writer = BufWriter::with_capacity(1 << 20, file.file_mut());
        fill(&mut writer)?;
        writer.flush().map_err(|e| Error::io(path, e))?;
    }
    file.commit()
}

/// Create `path` holding `text` (UTF-8), atomically as [`write_atomically`] does.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    write_atomically(path, |w| {
        w.write_all(text.as_bytes()).map_err(|e| Error::io(path, e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write_text(&path, "héllo\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "héllo\n");
    }

    #[test]
    fn writes_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write_atomically(&path, |w| {
            w.write_all(b"hello").map_err(|e| Error::io("x", e))
        })
        .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
    }

    #[test]
    fn failure_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        let result = write_atomically(&path, |w| {
            w.write_all(b"half").unwrap();
            Err(Error::content("x", "stopped"))
        });
        assert!(result.is_err());
        assert!(!path.exists());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "temporary file left behind"
        );
    }
}
