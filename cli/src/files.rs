//! Files on disk: private files (0600) in private directories (0700) for keys and
//! credentials, bounded reads, and refusal to read a secret that others can read.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use zeroize::Zeroizing;

/// Largest key, credential, receipt or manifest file read.
pub const MAX_SMALL_FILE: u64 = 1 << 20;

/// Creates `dir` (and its parents) if needed; a directory created here gets mode 0700.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("cannot create directory {}", dir.display()))
}

fn write_with_mode(path: &Path, bytes: &[u8], mode: u32, overwrite: bool) -> Result<()> {
    if let Some(parent) = path.parent() {
        create_private_dir(parent)?;
    }
    let mut options = OpenOptions::new();
    options.write(true);
    if overwrite {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} already exists; refusing to overwrite it (move it away or choose another path)",
                path.display()
            )
        } else {
            anyhow::anyhow!("cannot create {}: {e}", path.display())
        }
    })?;
    #[cfg(unix)]
    {
        // The mode given to open() is filtered by the umask and ignored for existing files.
        use std::os::unix::fs::PermissionsExt as _;
        f.set_permissions(fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot set the permissions of {}", path.display()))?;
    }
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Writes a secret (mode 0600); never overwrites an existing file.
pub fn write_secret(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with_mode(path, bytes, 0o600, false)
}

/// Writes a private, non-secret file (mode 0600), replacing an older one.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with_mode(path, bytes, 0o600, true)
}

/// Writes a public file (mode 0644), replacing an older one.
pub fn write_public(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with_mode(path, bytes, 0o644, true)
}

/// Reads a small text file (at most [`MAX_SMALL_FILE`] bytes).
pub fn read_small(path: &Path, what: &str) -> Result<Zeroizing<String>> {
    let meta =
        fs::metadata(path).with_context(|| format!("cannot read {what} {}", path.display()))?;
    if !meta.is_file() {
        bail!("{what} {} is not a file", path.display());
    }
    if meta.len() > MAX_SMALL_FILE {
        bail!(
            "{what} {} is {} bytes, larger than any {what} ({} bytes at most)",
            path.display(),
            meta.len(),
            MAX_SMALL_FILE
        );
    }
    let bytes = Zeroizing::new(
        fs::read(path).with_context(|| format!("cannot read {what} {}", path.display()))?,
    );
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| anyhow::anyhow!("{what} {} is not a text file", path.display()))?;
    Ok(Zeroizing::new(text.to_owned()))
}

/// Refuses a secret file that the group or others may read.
pub fn check_private(path: &Path, what: &str) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let meta =
            fs::metadata(path).with_context(|| format!("cannot read {what} {}", path.display()))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            bail!(
                "{what} {} can be read by other users (mode {mode:04o}); run `chmod 600 {}`",
                path.display(),
                path.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = (path, what);
    Ok(())
}

/// Reads a large binary file (a proving key) of at most `max` bytes.
pub fn read_large(path: &Path, what: &str, max: u64) -> Result<Vec<u8>> {
    let meta =
        fs::metadata(path).with_context(|| format!("cannot read {what} {}", path.display()))?;
    if !meta.is_file() || meta.len() > max {
        bail!(
            "{what} {} is not a file of at most {max} bytes",
            path.display()
        );
    }
    fs::read(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

/// Decodes 32 bytes of hex, naming `what` on error.
pub fn hex32(what: &str, s: &str) -> Result<[u8; 32]> {
    let bytes = hex::decode(s.trim()).map_err(|e| anyhow::anyhow!("{what}: not hex ({e})"))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| anyhow::anyhow!("{what}: {} bytes, expected 32", b.len()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_private_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        let file = sub.join("k.toml");
        write_secret(&file, b"secret").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let m = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(m, 0o600);
            let d = fs::metadata(&sub).unwrap().permissions().mode() & 0o777;
            assert_eq!(d, 0o700);
        }
        assert!(write_secret(&file, b"other").is_err());
        check_private(&file, "key").unwrap();
        assert_eq!(&*read_small(&file, "key").unwrap(), "secret");
    }

    #[cfg(unix)]
    #[test]
    fn readable_secret_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k");
        write_public(&file, b"x").unwrap();
        let err = check_private(&file, "key file").unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(check_private(&file, "key file").is_ok());
    }

    #[test]
    fn hex32_checks_length() {
        assert!(hex32("x", &"ab".repeat(32)).is_ok());
        assert!(hex32("x", "abcd").is_err());
        assert!(hex32("x", "zz").is_err());
    }
}
