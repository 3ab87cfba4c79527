//! The files each role keeps: the authority's signing key, a trustee's secret keys and
//! public part, an extra setup contributor's signing key and public part, a voter's
//! credential. Each is a small TOML file whose `kind` line says
//! what it is, so that passing the wrong file gives a clear error.

use std::path::Path;

use anyhow::{bail, Context as _, Result};
use serde::{Deserialize, Serialize};
use urna_circuits::{ElectionId, IdentityCommitment, VoterSecret};
use urna_protocol::encryption::{EncryptionPublicKey, EncryptionSecretKey};
use urna_protocol::signing::{PublicKey, SigningKey};
use zeroize::Zeroizing;

use crate::files::{self, hex32};

const AUTHORITY_KIND: &str = "urna-authority-key";
const TRUSTEE_KIND: &str = "urna-trustee-key";
const TRUSTEE_PUBLIC_KIND: &str = "urna-trustee-public";
const CREDENTIAL_KIND: &str = "urna-voter-credential";
const CONTRIBUTOR_KIND: &str = "urna-contributor-key";
const CONTRIBUTOR_PUBLIC_KIND: &str = "urna-contributor-public";

#[derive(Deserialize)]
struct KindOnly {
    kind: Option<String>,
}

/// Parses `text` as TOML of type `T` after checking its `kind`.
fn parse_kind<T: for<'de> Deserialize<'de>>(
    text: &str,
    path: &Path,
    expected: &str,
    what: &str,
) -> Result<T> {
    let kind: KindOnly = toml::from_str(text).map_err(|_| {
        anyhow::anyhow!("{} is not {what} (not a TOML file of urna)", path.display())
    })?;
    match kind.kind.as_deref() {
        Some(k) if k == expected => {}
        Some(k) => bail!("{} is a {k} file, not {what}", path.display()),
        None => bail!("{} is not {what} (it has no `kind` line)", path.display()),
    }
    toml::from_str(text).map_err(|e| anyhow::anyhow!("{} is a damaged {what}: {e}", path.display()))
}

/// Reads a secret file of `expected` kind: the kind is checked first (so a wrong file
/// is named as such), then that no other user can read it.
fn read_secret_kind<T: for<'de> Deserialize<'de>>(
    path: &Path,
    expected: &str,
    what: &str,
) -> Result<T> {
    let text = files::read_small(path, what)?;
    let value = parse_kind(&text, path, expected, what)?;
    files::check_private(path, what)?;
    Ok(value)
}

fn to_toml<T: Serialize>(comment: &str, value: &T) -> Result<Zeroizing<String>> {
    let body = Zeroizing::new(toml::to_string(value).context("cannot encode TOML")?);
    Ok(Zeroizing::new(format!("{comment}\n{}", body.as_str())))
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthorityFile {
    kind: String,
    signing_key: String,
    public_key: String,
}

/// Writes a new authority key to `path` (0600).
pub fn write_authority(path: &Path, key: &SigningKey) -> Result<()> {
    let seed = Zeroizing::new(key.expose_seed());
    let file = AuthorityFile {
        kind: AUTHORITY_KIND.into(),
        signing_key: hex::encode(*seed),
        public_key: hex::encode(key.public_key().to_bytes()),
    };
    let text = to_toml(
        "# Urna election authority signing key. SECRET: whoever holds it runs the election.",
        &file,
    )?;
    let result = files::write_secret(path, text.as_bytes());
    drop(Zeroizing::new(file.signing_key));
    result
}

/// Reads the authority key at `path`.
pub fn read_authority(path: &Path) -> Result<SigningKey> {
    let file: AuthorityFile = read_secret_kind(path, AUTHORITY_KIND, "an authority key file")?;
    let seed = Zeroizing::new(hex32("authority signing key", &file.signing_key)?);
    drop(Zeroizing::new(file.signing_key));
    let key = SigningKey::from_seed(&seed);
    if hex::encode(key.public_key().to_bytes()) != file.public_key.to_ascii_lowercase() {
        bail!(
            "{}: the public key does not match the signing key (damaged file)",
            path.display()
        );
    }
    Ok(key)
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrusteeFile {
    kind: String,
    name: String,
    signing_key: String,
    encryption_key: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrusteePublicFile {
    kind: String,
    name: String,
    signing_key: String,
    encryption_key: String,
}

/// A trustee's secret keys.
pub struct TrusteeKeys {
    /// The trustee's name.
    pub name: String,
    /// Signs the trustee's board entries.
    pub signing: SigningKey,
    /// Receives the key ceremony's shares.
    pub encryption: EncryptionSecretKey,
}

/// A trustee's public part, as a manifest names it.
#[derive(Clone, Debug)]
pub struct TrusteePublic {
    /// Name.
    pub name: String,
    /// Signing key.
    pub signing_key: PublicKey,
    /// Encryption key.
    pub encryption_key: EncryptionPublicKey,
}

/// The secret file in a trustee directory.
pub const TRUSTEE_KEY_FILE: &str = "trustee.key";
/// The public file in a trustee directory.
pub const TRUSTEE_PUBLIC_FILE: &str = "trustee.pub";

/// Writes a trustee's keys into `dir` (0700): `trustee.key` (0600) and `trustee.pub`.
pub fn write_trustee(dir: &Path, keys: &TrusteeKeys) -> Result<()> {
    files::create_private_dir(dir)?;
    let signing = Zeroizing::new(keys.signing.expose_seed());
    let encryption = Zeroizing::new(keys.encryption.expose_secret().to_bytes());
    let file = TrusteeFile {
        kind: TRUSTEE_KIND.into(),
        name: keys.name.clone(),
        signing_key: hex::encode(*signing),
        encryption_key: hex::encode(*encryption),
    };
    let text = to_toml(
        "# Urna trustee secret keys. SECRET: never copy this file off this machine.",
        &file,
    )?;
    drop(Zeroizing::new(file.signing_key));
    drop(Zeroizing::new(file.encryption_key));
    files::write_secret(&dir.join(TRUSTEE_KEY_FILE), text.as_bytes())?;
    let public = TrusteePublicFile {
        kind: TRUSTEE_PUBLIC_KIND.into(),
        name: keys.name.clone(),
        signing_key: hex::encode(keys.signing.public_key().to_bytes()),
        encryption_key: hex::encode(keys.encryption.public_key().to_bytes()),
    };
    let text = to_toml(
        "# Urna trustee public keys: give this file to the election authority.",
        &public,
    )?;
    files::write_public(&dir.join(TRUSTEE_PUBLIC_FILE), text.as_bytes())
}

/// Reads a trustee's secret keys from `dir/trustee.key`.
pub fn read_trustee(dir: &Path) -> Result<TrusteeKeys> {
    read_trustee_file(&dir.join(TRUSTEE_KEY_FILE))
}

/// Reads a trustee's secret keys from the file `path` (a `trustee.key`).
pub fn read_trustee_file(path: &Path) -> Result<TrusteeKeys> {
    let file: TrusteeFile = read_secret_kind(path, TRUSTEE_KIND, "a trustee key file")?;
    let signing = Zeroizing::new(hex32("trustee signing key", &file.signing_key)?);
    let encryption = Zeroizing::new(hex32("trustee encryption key", &file.encryption_key)?);
    drop(Zeroizing::new(file.signing_key));
    drop(Zeroizing::new(file.encryption_key));
    Ok(TrusteeKeys {
        name: file.name,
        signing: SigningKey::from_seed(&signing),
        encryption: EncryptionSecretKey::from_bytes(&encryption)
            .map_err(|e| anyhow::anyhow!("{}: encryption key: {e}", path.display()))?,
    })
}

/// Reads a trustee's public file (`trustee.pub`).
pub fn read_trustee_public(path: &Path) -> Result<TrusteePublic> {
    let text = files::read_small(path, "trustee public key file")?;
    let file: TrusteePublicFile = parse_kind(
        &text,
        path,
        TRUSTEE_PUBLIC_KIND,
        "a trustee public key file",
    )?;
    Ok(TrusteePublic {
        name: file.name,
        signing_key: PublicKey::from_bytes(&hex32("signing key", &file.signing_key)?)
            .map_err(|e| anyhow::anyhow!("{}: signing key: {e}", path.display()))?,
        encryption_key: EncryptionPublicKey::from_bytes(&hex32(
            "encryption key",
            &file.encryption_key,
        )?)
        .map_err(|e| anyhow::anyhow!("{}: encryption key: {e}", path.display()))?,
    })
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContributorFile {
    kind: String,
    signing_key: String,
    public_key: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContributorPublicFile {
    kind: String,
    public_key: String,
}

/// The secret file in a setup contributor's directory.
pub const CONTRIBUTOR_KEY_FILE: &str = "contributor.key";
/// The public file in a setup contributor's directory.
pub const CONTRIBUTOR_PUBLIC_FILE: &str = "contributor.pub";

/// Writes an extra setup contributor's signing key into `dir` (0700):
/// `contributor.key` (0600) and `contributor.pub` (for the authority's manifest).
pub fn write_contributor(dir: &Path, key: &SigningKey) -> Result<()> {
    files::create_private_dir(dir)?;
    let seed = Zeroizing::new(key.expose_seed());
    let public_key = hex::encode(key.public_key().to_bytes());
    let file = ContributorFile {
        kind: CONTRIBUTOR_KIND.into(),
        signing_key: hex::encode(*seed),
        public_key: public_key.clone(),
    };
    let text = to_toml(
        "# Urna setup-ceremony contributor signing key. SECRET: whoever holds it contributes \
         in your name.",
        &file,
    )?;
    drop(Zeroizing::new(file.signing_key));
    files::write_secret(&dir.join(CONTRIBUTOR_KEY_FILE), text.as_bytes())?;
    let public = ContributorPublicFile {
        kind: CONTRIBUTOR_PUBLIC_KIND.into(),
        public_key,
    };
    let text = to_toml(
        "# Urna setup-ceremony contributor public key: give this file to the election \
         authority, who names it in the manifest's [[setup.contributors]].",
        &public,
    )?;
    files::write_public(&dir.join(CONTRIBUTOR_PUBLIC_FILE), text.as_bytes())
}

/// Reads a contributor's secret key from the file `path` (a `contributor.key`).
pub fn read_contributor_file(path: &Path) -> Result<SigningKey> {
    let file: ContributorFile =
        read_secret_kind(path, CONTRIBUTOR_KIND, "a setup contributor key file")?;
    let seed = Zeroizing::new(hex32("contributor signing key", &file.signing_key)?);
    drop(Zeroizing::new(file.signing_key));
    let key = SigningKey::from_seed(&seed);
    if hex::encode(key.public_key().to_bytes()) != file.public_key.to_ascii_lowercase() {
        bail!(
            "{}: the public key does not match the signing key (damaged file)",
            path.display()
        );
    }
    Ok(key)
}

/// Reads a contributor's public file (`contributor.pub`).
pub fn read_contributor_public(path: &Path) -> Result<PublicKey> {
    let text = files::read_small(path, "setup contributor public key file")?;
    let file: ContributorPublicFile = parse_kind(
        &text,
        path,
        CONTRIBUTOR_PUBLIC_KIND,
        "a setup contributor public key file",
    )?;
    PublicKey::from_bytes(&hex32("public key", &file.public_key)?)
        .map_err(|e| anyhow::anyhow!("{}: public key: {e}", path.display()))
}

/// Whose signing key a file holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOwner {
    /// The election authority's (`authority.key`).
    Authority,
    /// A trustee's (`trustee.key`), with the trustee's name.
    Trustee(String),
    /// An extra setup contributor's (`contributor.key`).
    Contributor,
}

/// Reads the signing key of an authority, trustee or contributor key file, chosen by its
/// `kind` line. A directory stands for the `trustee.key` or `contributor.key` in it.
pub fn read_any_signing_key(path: &Path) -> Result<(KeyOwner, SigningKey)> {
    let path = if path.is_dir() {
        let trustee = path.join(TRUSTEE_KEY_FILE);
        let contributor = path.join(CONTRIBUTOR_KEY_FILE);
        match (trustee.is_file(), contributor.is_file()) {
            (true, false) => trustee,
            (false, true) => contributor,
            (true, true) => bail!(
                "{} holds both a {TRUSTEE_KEY_FILE} and a {CONTRIBUTOR_KEY_FILE}: name the file",
                path.display()
            ),
            (false, false) => bail!(
                "{} is a directory without a {TRUSTEE_KEY_FILE} or {CONTRIBUTOR_KEY_FILE}",
                path.display()
            ),
        }
    } else {
        path.to_path_buf()
    };
    let what = "an authority, trustee or setup contributor key file";
    let text = files::read_small(&path, "key file")?;
    let kind: KindOnly = toml::from_str(&text).map_err(|_| {
        anyhow::anyhow!("{} is not {what} (not a TOML file of urna)", path.display())
    })?;
    match kind.kind.as_deref() {
        Some(AUTHORITY_KIND) => Ok((KeyOwner::Authority, read_authority(&path)?)),
        Some(TRUSTEE_KIND) => {
            let keys = read_trustee_file(&path)?;
            Ok((KeyOwner::Trustee(keys.name), keys.signing))
        }
        Some(CONTRIBUTOR_KIND) => Ok((KeyOwner::Contributor, read_contributor_file(&path)?)),
        Some(k) => bail!("{} is a {k} file, not {what}", path.display()),
        None => bail!("{} is not {what} (it has no `kind` line)", path.display()),
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialFile {
    kind: String,
    election_id: String,
    secret: String,
    commitment: String,
}

/// A voter's credential: the secret behind a census leaf of one election.
pub struct Credential {
    /// The election.
    pub election_id: ElectionId,
    /// The secret.
    pub secret: VoterSecret,
    /// Its identity commitment (the census leaf).
    pub commitment: IdentityCommitment,
}

/// Writes a new credential to `path` (0600); never overwrites a file.
pub fn write_credential(path: &Path, c: &Credential) -> Result<()> {
    let secret = c.secret.to_bytes();
    let file = CredentialFile {
        kind: CREDENTIAL_KIND.into(),
        election_id: hex::encode(c.election_id.to_bytes()),
        secret: hex::encode(*secret),
        commitment: hex::encode(c.commitment.to_bytes()),
    };
    let text = to_toml(
        "# Urna voter credential. SECRET: whoever holds it can vote in your place. Keep it.",
        &file,
    )?;
    drop(Zeroizing::new(file.secret));
    files::write_secret(path, text.as_bytes())
}

/// Reads a credential.
pub fn read_credential(path: &Path) -> Result<Credential> {
    let file: CredentialFile = read_secret_kind(path, CREDENTIAL_KIND, "a voter credential")?;
    let election_id = ElectionId::from_bytes(&hex32("election id", &file.election_id)?)
        .map_err(|e| anyhow::anyhow!("{}: election id: {e}", path.display()))?;
    let secret_bytes = Zeroizing::new(hex32("voter secret", &file.secret)?);
    drop(Zeroizing::new(file.secret));
    let secret = VoterSecret::from_bytes(&secret_bytes)
        .map_err(|e| anyhow::anyhow!("{}: voter secret: {e}", path.display()))?;
    let commitment = secret
        .identity_commitment()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if hex::encode(commitment.to_bytes()) != file.commitment.to_ascii_lowercase() {
        bail!(
            "{}: the commitment does not match the secret (damaged credential file)",
            path.display()
        );
    }
    Ok(Credential {
        election_id,
        secret,
        commitment,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn round_trips_and_wrong_kinds() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("authority.key");
        let key = SigningKey::generate(&mut OsRng);
        write_authority(&a, &key).unwrap();
        assert_eq!(read_authority(&a).unwrap().public_key(), key.public_key());

        let t = dir.path().join("t1");
        write_trustee(
            &t,
            &TrusteeKeys {
                name: "T1".into(),
                signing: SigningKey::generate(&mut OsRng),
                encryption: EncryptionSecretKey::generate(&mut OsRng),
            },
        )
        .unwrap();
        let keys = read_trustee(&t).unwrap();
        let public = read_trustee_public(&t.join(TRUSTEE_PUBLIC_FILE)).unwrap();
        assert_eq!(public.signing_key, keys.signing.public_key());
        assert_eq!(public.encryption_key, keys.encryption.public_key());

        // Wrong file for the job: clear errors.
        let err = read_credential(&a).err().unwrap().to_string();
        assert!(
            err.contains("urna-authority-key file, not a voter credential"),
            "{err}"
        );
        let err = read_authority(&t.join(TRUSTEE_KEY_FILE))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("not an authority key file"), "{err}");

        let c = dir.path().join("v.credential");
        let secret = VoterSecret::random(&mut OsRng);
        let cred = Credential {
            election_id: ElectionId::from_bytes(&[1u8; 32]).unwrap(),
            commitment: secret.identity_commitment().unwrap(),
            secret,
        };
        write_credential(&c, &cred).unwrap();
        let back = read_credential(&c).unwrap();
        assert_eq!(back.commitment, cred.commitment);

        // A tampered commitment is caught.
        let text = std::fs::read_to_string(&c).unwrap();
        let other = VoterSecret::random(&mut OsRng)
            .identity_commitment()
            .unwrap();
        let tampered = text.replace(
            &hex::encode(cred.commitment.to_bytes()),
            &hex::encode(other.to_bytes()),
        );
        let c2 = dir.path().join("v2.credential");
        files::write_secret(&c2, tampered.as_bytes()).unwrap();
        assert!(read_credential(&c2).is_err());
    }

    #[test]
    fn contributor_files_and_any_signing_key() {
        let dir = tempfile::tempdir().unwrap();
        let c = dir.path().join("c");
        let key = SigningKey::generate(&mut OsRng);
        write_contributor(&c, &key).unwrap();
        assert_eq!(
            read_contributor_public(&c.join(CONTRIBUTOR_PUBLIC_FILE)).unwrap(),
            key.public_key()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let m = std::fs::metadata(c.join(CONTRIBUTOR_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(m & 0o777, 0o600);
        }
        // By file and by directory.
        for p in [c.join(CONTRIBUTOR_KEY_FILE), c.clone()] {
            let (owner, k) = read_any_signing_key(&p).unwrap();
            assert_eq!(owner, KeyOwner::Contributor);
            assert_eq!(k.public_key(), key.public_key());
        }
        let a = dir.path().join("authority.key");
        let authority = SigningKey::generate(&mut OsRng);
        write_authority(&a, &authority).unwrap();
        let (owner, k) = read_any_signing_key(&a).unwrap();
        assert_eq!(owner, KeyOwner::Authority);
        assert_eq!(k.public_key(), authority.public_key());
        let t = dir.path().join("t");
        let signing = SigningKey::generate(&mut OsRng);
        let public = signing.public_key();
        write_trustee(
            &t,
            &TrusteeKeys {
                name: "T".into(),
                signing,
                encryption: EncryptionSecretKey::generate(&mut OsRng),
            },
        )
        .unwrap();
        let (owner, k) = read_any_signing_key(&t).unwrap();
        assert_eq!(owner, KeyOwner::Trustee("T".into()));
        assert_eq!(k.public_key(), public);
        // Public files are not signing keys; a public file is not a contributor's.
        let err = read_any_signing_key(&c.join(CONTRIBUTOR_PUBLIC_FILE))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("urna-contributor-public file, not"), "{err}");
        let err = read_contributor_public(&t.join(TRUSTEE_PUBLIC_FILE))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("not a setup contributor public key file"),
            "{err}"
        );
    }
}
