//! The election manifest as a person writes it (TOML), and its translation into the
//! protocol's [`Manifest`]. See `cli/examples/election.toml`.
//!
//! The file names the title, contests, voting window, census depth, threshold, the
//! trustees' public key files and where the Groth16 keys come from (`[setup]`: by
//! default a ceremony on the board among the authority and the trustees, optionally with
//! extra contributors; or keys fixed before the election). The CLI fills in the
//! authority key (from the authority key file), the board key (from the board), the key
//! hashes of fixed keys (from the proving key), and a random election id unless the file
//! gives one.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _, Result};
use rand_core::CryptoRngCore;
use serde::Deserialize;
use urna_circuits::ElectionId;
use urna_protocol::manifest::{Contest, Contributor, Manifest, Setup, Trustee};
use urna_protocol::signing::PublicKey;

use crate::files::{self, hex32};
use crate::keyfiles;

/// A time: Unix seconds or an RFC 3339 timestamp (`2026-11-25T12:00:00Z`).
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Time {
    /// Unix seconds.
    Unix(u64),
    /// RFC 3339.
    Text(String),
}

impl Time {
    fn unix(&self, what: &str) -> Result<u64> {
        match self {
            Time::Unix(t) => Ok(*t),
            Time::Text(s) => {
                let t = humantime::parse_rfc3339(s).map_err(|e| {
                    anyhow!("{what} {s:?} is not an RFC 3339 time like 2026-11-25T12:00:00Z: {e}")
                })?;
                Ok(t.duration_since(std::time::UNIX_EPOCH)
                    .map_err(|_| anyhow!("{what} is before 1970"))?
                    .as_secs())
            }
        }
    }
}

/// The voting window.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// When voting may open.
    pub opens_at: Time,
    /// When voting ends.
    pub closes_at: Time,
}

/// One contest.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContestSpec {
    /// The question.
    pub title: String,
    /// The options.
    pub options: Vec<String>,
    /// Fewest options a voter selects.
    pub min: u32,
    /// Most options a voter selects.
    pub max: u32,
}

/// A trustee, by the public file `urna trustee keygen` wrote.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrusteeSpec {
    /// Path of the trustee's `trustee.pub`, relative to the manifest file.
    pub public_key_file: PathBuf,
}

/// An extra setup-ceremony contributor, by the public file `urna ceremony keygen` wrote.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContributorSpec {
    /// The contributor's name, as the manifest shows it.
    pub name: String,
    /// Path of the contributor's `contributor.pub`, relative to the manifest file.
    pub public_key_file: PathBuf,
}

/// The `[setup]` table: where the Groth16 keys come from.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupSpec {
    /// `ceremony` (the default) or `fixed-keys`.
    #[serde(default)]
    pub mode: Option<String>,
    /// With a ceremony: contributors besides the authority and the trustees.
    #[serde(default)]
    pub contributors: Vec<ContributorSpec>,
}

/// Where the keys come from, as the manifest file says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupMode {
    /// A ceremony on the board (PROTOCOL 14.10).
    Ceremony,
    /// Keys made before the election (`--proving-key`).
    FixedKeys,
}

/// The manifest file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestSpec {
    /// Election id (64 hex digits); random if absent.
    #[serde(default)]
    pub election_id: Option<String>,
    /// Title.
    pub title: String,
    /// Census tree depth: at most `2^depth` voters.
    pub census_depth: u32,
    /// Trustees needed to decrypt the tally.
    pub threshold: u32,
    /// Voting window.
    pub window: Window,
    /// Contests, in ballot order.
    pub contests: Vec<ContestSpec>,
    /// Trustees, in index order (the first is trustee 1).
    pub trustees: Vec<TrusteeSpec>,
    /// Where the Groth16 keys come from; absent: a ceremony among the authority and the
    /// trustees.
    #[serde(default)]
    pub setup: Option<SetupSpec>,
}

/// The hashes of keys fixed before the election.
#[derive(Clone, Copy, Debug)]
pub struct FixedKeys {
    /// Hash of the Groth16 verifying key.
    pub verifying_key_hash: [u8; 32],
    /// Hash of the Groth16 proving key.
    pub proving_key_hash: [u8; 32],
}

/// What the CLI fills in.
pub struct Filled {
    /// The authority's key.
    pub authority_key: PublicKey,
    /// The board's key.
    pub board_key: PublicKey,
    /// With `mode = "fixed-keys"`: the keys' hashes (from `--proving-key`); `None` for a
    /// ceremony.
    pub fixed_keys: Option<FixedKeys>,
}

impl ManifestSpec {
    /// Reads and parses a manifest file; trustee files are resolved later against its
    /// directory.
    pub fn read(path: &Path) -> Result<(ManifestSpec, PathBuf)> {
        let text = files::read_small(path, "manifest file")?;
        let spec: ManifestSpec =
            toml::from_str(&text).map_err(|e| anyhow!("manifest file {}: {e}", path.display()))?;
        let base = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok((spec, base))
    }

    /// The setup mode the file asks for (a ceremony when `[setup]` or its `mode` is
    /// absent).
    pub fn setup_mode(&self) -> Result<SetupMode> {
        let Some(setup) = &self.setup else {
            return Ok(SetupMode::Ceremony);
        };
        let mode = match setup.mode.as_deref() {
            None | Some("ceremony") => SetupMode::Ceremony,
            Some("fixed-keys") => SetupMode::FixedKeys,
            Some(other) => bail!(
                "[setup] mode = {other:?}: write \"ceremony\" (a setup ceremony on the board, \
                 the default) or \"fixed-keys\" (keys made before the election, with \
                 --proving-key)"
            ),
        };
        if mode == SetupMode::FixedKeys && !setup.contributors.is_empty() {
            bail!(
                "[[setup.contributors]] contribute to a setup ceremony, but [setup] mode is \
                 \"fixed-keys\": remove them, or use mode = \"ceremony\""
            );
        }
        Ok(mode)
    }

    /// The protocol's setup field: the ceremony's extra contributors read from their
    /// files, or the fixed keys' hashes.
    fn build_setup(&self, base: &Path, fixed: Option<&FixedKeys>) -> Result<Setup> {
        match (self.setup_mode()?, fixed) {
            (SetupMode::Ceremony, None) => {
                let specs = self.setup.as_ref().map_or(&[][..], |s| &s.contributors[..]);
                let contributors = specs
                    .iter()
                    .map(|c| {
                        let path = base.join(&c.public_key_file);
                        let signing_key =
                            keyfiles::read_contributor_public(&path).with_context(|| {
                                format!("setup contributor {:?}'s file {}", c.name, path.display())
                            })?;
                        Ok(Contributor {
                            name: c.name.clone(),
                            signing_key,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(Setup::Ceremony { contributors })
            }
            (SetupMode::FixedKeys, Some(k)) => Ok(Setup::Keys {
                verifying_key_hash: k.verifying_key_hash,
                proving_key_hash: k.proving_key_hash,
            }),
            (SetupMode::Ceremony, Some(_)) => bail!(
                "the manifest runs a setup ceremony on the board ([setup] mode = \"ceremony\", \
                 the default): its keys come from the ceremony, so it takes no proving key"
            ),
            (SetupMode::FixedKeys, None) => bail!(
                "the manifest's [setup] mode is \"fixed-keys\": it needs the proving key made \
                 before the election (--proving-key)"
            ),
        }
    }

    /// Builds and validates the protocol manifest.
    pub fn build(
        &self,
        base: &Path,
        filled: &Filled,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Manifest> {
        let election_id = match &self.election_id {
            Some(hex) => ElectionId::from_bytes(&hex32("election_id", hex)?)
                .map_err(|e| anyhow!("election_id: {e}"))?,
            None => random_election_id(rng)?,
        };
        let trustees = self
            .trustees
            .iter()
            .map(|t| {
                let path = base.join(&t.public_key_file);
                let p = keyfiles::read_trustee_public(&path)
                    .with_context(|| format!("trustee file {}", path.display()))?;
                Ok(Trustee {
                    name: p.name,
                    signing_key: p.signing_key,
                    encryption_key: p.encryption_key,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let setup = self.build_setup(base, filled.fixed_keys.as_ref())?;
        let opens_at = self.window.opens_at.unix("window.opens_at")?;
        let closes_at = self.window.closes_at.unix("window.closes_at")?;
        if closes_at <= opens_at {
            bail!("window.closes_at must be after window.opens_at");
        }
        let manifest = Manifest {
            election_id,
            title: self.title.clone(),
            contests: self
                .contests
                .iter()
                .map(|c| Contest {
                    title: c.title.clone(),
                    options: c.options.clone(),
                    min_selections: c.min,
                    max_selections: c.max,
                })
                .collect(),
            opens_at,
            closes_at,
            census_depth: self.census_depth,
            trustees,
            threshold: self.threshold,
            authority_key: filled.authority_key,
            board_key: filled.board_key,
            setup,
        };
        manifest
            .validate()
            .map_err(|e| anyhow!("the manifest is not valid: {e}"))?;
        Ok(manifest)
    }
}

/// A random election id: 31 random bytes under a zero byte, always below the BN254
/// modulus.
pub fn random_election_id(rng: &mut impl CryptoRngCore) -> Result<ElectionId> {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes[1..]);
    ElectionId::from_bytes(&bytes).map_err(|e| anyhow!("election id: {e}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;
    use urna_protocol::encryption::EncryptionSecretKey;
    use urna_protocol::signing::SigningKey;

    fn filled() -> Filled {
        Filled {
            authority_key: SigningKey::generate(&mut OsRng).public_key(),
            board_key: SigningKey::generate(&mut OsRng).public_key(),
            fixed_keys: None,
        }
    }

    fn filled_fixed() -> Filled {
        Filled {
            fixed_keys: Some(FixedKeys {
                verifying_key_hash: [1; 32],
                proving_key_hash: [2; 32],
            }),
            ..filled()
        }
    }

    fn trustees(dir: &Path, n: usize) {
        for i in 1..=n {
            keyfiles::write_trustee(
                &dir.join(format!("t{i}")),
                &keyfiles::TrusteeKeys {
                    name: format!("T{i}"),
                    signing: SigningKey::generate(&mut OsRng),
                    encryption: EncryptionSecretKey::generate(&mut OsRng),
                },
            )
            .unwrap();
        }
    }

    #[test]
    fn example_manifest_builds() {
        let dir = tempfile::tempdir().unwrap();
        trustees(dir.path(), 3);
        let example = include_str!("../examples/election.toml")
            .replace("trustee-1/", "t1/")
            .replace("trustee-2/", "t2/")
            .replace("trustee-3/", "t3/");
        let path = dir.path().join("election.toml");
        std::fs::write(&path, example).unwrap();
        let (spec, base) = ManifestSpec::read(&path).unwrap();
        let m = spec.build(&base, &filled(), &mut OsRng).unwrap();
        assert_eq!(m.trustees.len(), 3);
        assert_eq!(m.trustees[1].name, "T2");
        assert_eq!(m.threshold, 2);
        assert!(m.opens_at < m.closes_at);
        // The example's default: a ceremony among the authority and the trustees.
        assert_eq!(
            m.setup,
            Setup::Ceremony {
                contributors: vec![]
            }
        );
        assert_eq!(m.contributor(3).unwrap().0, "T3");
        assert!(m.contributor(4).is_none());
    }

    #[test]
    fn setup_modes() {
        let dir = tempfile::tempdir().unwrap();
        trustees(dir.path(), 1);
        let observer = SigningKey::generate(&mut OsRng);
        keyfiles::write_contributor(&dir.path().join("obs"), &observer).unwrap();
        let base = r#"
title = "T"
census_depth = 4
threshold = 1
window = { opens_at = 1900000000, closes_at = 1900003600 }
[[contests]]
title = "Q"
options = ["a", "b"]
min = 1
max = 1
[[trustees]]
public_key_file = "t1/trustee.pub"
"#;
        let path = dir.path().join("m.toml");
        let build = |extra: &str, filled: &Filled| {
            std::fs::write(&path, format!("{base}{extra}")).unwrap();
            ManifestSpec::read(&path).and_then(|(s, b)| s.build(&b, filled, &mut OsRng))
        };

        // Absent [setup]: a ceremony; with an extra contributor: index 2.
        let m = build("", &filled()).unwrap();
        assert!(m.setup.is_ceremony());
        let m = build(
            "[setup]\nmode = \"ceremony\"\n[[setup.contributors]]\nname = \"Observer\"\n\
             public_key_file = \"obs/contributor.pub\"\n",
            &filled(),
        )
        .unwrap();
        assert_eq!(m.contributor(2), Some(("Observer", &observer.public_key())));
        // Fixed keys, with their hashes.
        let m = build("[setup]\nmode = \"fixed-keys\"\n", &filled_fixed()).unwrap();
        assert_eq!(m.setup.fixed_keys(), Some((&[1; 32], &[2; 32])));

        for (extra, filled, want) in [
            ("", filled_fixed(), "takes no proving key"),
            (
                "[setup]\nmode = \"fixed-keys\"\n",
                filled(),
                "needs the proving key",
            ),
            (
                "[setup]\nmode = \"trusted\"\n",
                filled(),
                "mode = \"trusted\"",
            ),
            (
                "[setup]\nmode = \"fixed-keys\"\n[[setup.contributors]]\nname = \"O\"\n\
                 public_key_file = \"obs/contributor.pub\"\n",
                filled_fixed(),
                "remove them",
            ),
            (
                "[[setup.contributors]]\nname = \"O\"\npublic_key_file = \"t1/trustee.pub\"\n",
                filled(),
                "not a setup contributor public key file",
            ),
            (
                "[[setup.contributors]]\nname = \"\"\npublic_key_file = \"obs/contributor.pub\"\n",
                filled(),
                "not valid",
            ),
            ("[setup]\nkeys = 1\n", filled(), "unknown field"),
        ] {
            let err = build(extra, &filled)
                .err()
                .unwrap_or_else(|| panic!("{extra} accepted"));
            let msg = format!("{err:#}");
            assert!(msg.contains(want), "{extra}: {msg}");
        }
    }

    #[test]
    fn bad_manifests_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        trustees(dir.path(), 1);
        let good = r#"
title = "T"
census_depth = 4
threshold = 1
window = { opens_at = 1900000000, closes_at = "2030-03-18T17:46:40Z" }
[[contests]]
title = "Q"
options = ["a", "b"]
min = 1
max = 1
[[trustees]]
public_key_file = "t1/trustee.pub"
"#;
        let path = dir.path().join("m.toml");
        std::fs::write(&path, good).unwrap();
        let (spec, base) = ManifestSpec::read(&path).unwrap();
        spec.build(&base, &filled(), &mut OsRng).unwrap();

        for (from, to, want) in [
            ("threshold = 1", "threshold = 2", "not valid"),
            ("max = 1", "max = 3", "not valid"),
            (
                "closes_at = \"2030-03-18T17:46:40Z\"",
                "closes_at = 5",
                "after",
            ),
            (
                "closes_at = \"2030-03-18T17:46:40Z\"",
                "closes_at = \"tomorrow\"",
                "RFC 3339",
            ),
            ("t1/trustee.pub", "t1/trustee.key", "trustee-key file"),
            (
                "title = \"T\"",
                "title = \"T\"\ncolour = 1",
                "unknown field",
            ),
        ] {
            std::fs::write(&path, good.replace(from, to)).unwrap();
            let err = ManifestSpec::read(&path)
                .and_then(|(s, b)| s.build(&b, &filled(), &mut OsRng))
                .err()
                .unwrap_or_else(|| panic!("{to} accepted"));
            let msg = format!("{err:#}");
            assert!(msg.contains(want), "{to}: {msg}");
        }
    }
}
