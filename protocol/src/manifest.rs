//! The election manifest (PROTOCOL §3): what the election is, who runs it, and the
//! hashes every proof and signature is bound to.
//!
//! The manifest is the first entry on the board. Its canonical encoding (tag
//! [`Manifest::TAG`]) is hashed into the *manifest hash* (PROTOCOL 3.3), which every
//! validity-proof transcript and every ballot digest absorbs.
//!
//! Decoding validates (PROTOCOL 3.2): a decoded manifest always satisfies
//! [`Manifest::validate`].

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use urna_circuits::ElectionId;

use crate::codec::{Canonical, Decode, Encode, Reader, Writer};
use crate::encryption::EncryptionPublicKey;
use crate::error::{DecodeError, VerificationError};
use crate::signing::PublicKey;

/// Most contests in one election.
pub const MAX_CONTESTS: usize = 32;
/// Most options in one contest.
pub const MAX_OPTIONS: usize = 64;
/// Most trustees.
pub const MAX_TRUSTEES: usize = 32;
/// Longest title, label or name, in bytes of UTF-8.
pub const MAX_STRING_BYTES: usize = 256;
/// Smallest census depth.
pub const MIN_CENSUS_DEPTH: u32 = 1;
/// Largest census depth.
pub const MAX_CENSUS_DEPTH: u32 = 32;
/// Most setup-ceremony contributors named besides the trustees (PROTOCOL 3.1).
pub const MAX_EXTRA_CONTRIBUTORS: usize = 64;

/// One contest: a question with options, of which a voter selects between
/// `min_selections` and `max_selections` (PROTOCOL 3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contest {
    /// The question.
    pub title: String,
    /// The options' labels, in ballot order.
    pub options: Vec<String>,
    /// Fewest options a voter must select.
    pub min_selections: u32,
    /// Most options a voter may select.
    pub max_selections: u32,
}

/// A trustee of the key ceremony and of the tally (PROTOCOL 3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trustee {
    /// Human-readable name.
    pub name: String,
    /// Key that signs the trustee's board entries.
    pub signing_key: PublicKey,
    /// Key that receives the trustee's DKG shares.
    pub encryption_key: EncryptionPublicKey,
}

/// A setup-ceremony contributor named by the manifest besides the trustees
/// (PROTOCOL 3.1, 14.10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contributor {
    /// Human-readable name.
    pub name: String,
    /// Key that signs the contributor's setup entries.
    pub signing_key: PublicKey,
}

/// Where the election's Groth16 keys come from (PROTOCOL 3.1, field 11).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Setup {
    /// Keys fixed before the election: from a single-party setup (whoever made them can
    /// forge eligibility proofs) or from a ceremony checked elsewhere. Encoded `0x00`.
    Keys {
        /// SHA-256 of the Groth16 verifying key for `census_depth` (PROTOCOL 10.5).
        verifying_key_hash: [u8; 32],
        /// SHA-256 of the Groth16 proving key for `census_depth`.
        proving_key_hash: [u8; 32],
    },
    /// A multi-party setup ceremony run on this election's board (PROTOCOL 14.10):
    /// the keys are those its transcript derives, committed to by the board's
    /// `setup-keys` entry. Contributor 0 is the authority (who also posts the beacons),
    /// contributors `1..=n` are the trustees, `n + 1..` these. Encoded `0x01`.
    Ceremony {
        /// The contributors besides the authority and the trustees.
        contributors: Vec<Contributor>,
    },
}

impl Setup {
    /// The key hashes of [`Setup::Keys`]; `None` for a ceremony.
    pub fn fixed_keys(&self) -> Option<(&[u8; 32], &[u8; 32])> {
        match self {
            Setup::Keys {
                verifying_key_hash,
                proving_key_hash,
            } => Some((verifying_key_hash, proving_key_hash)),
            Setup::Ceremony { .. } => None,
        }
    }

    /// Whether the keys come from a ceremony on the board.
    pub fn is_ceremony(&self) -> bool {
        matches!(self, Setup::Ceremony { .. })
    }
}

/// The election manifest (PROTOCOL 3.1). Field order is encoding order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The election identifier (a public input of every eligibility proof).
    pub election_id: ElectionId,
    /// The election's title.
    pub title: String,
    /// The contests, in ballot order.
    pub contests: Vec<Contest>,
    /// Voting opens at this Unix time (seconds).
    pub opens_at: u64,
    /// Voting closes at this Unix time (seconds); after `opens_at`.
    pub closes_at: u64,
    /// Depth of the census Merkle tree (`2^depth` voters at most).
    pub census_depth: u32,
    /// The trustees, in index order (trustee `i` is `trustees[i - 1]`).
    pub trustees: Vec<Trustee>,
    /// Trustees needed to decrypt: `1 ≤ threshold ≤ trustees.len()`.
    pub threshold: u32,
    /// The election authority's signing key.
    pub authority_key: PublicKey,
    /// The bulletin board's signing key.
    pub board_key: PublicKey,
    /// Where the Groth16 keys come from: fixed hashes or a ceremony on the board.
    pub setup: Setup,
}

fn invalid(reason: impl Into<String>) -> VerificationError {
    VerificationError::InvalidManifest {
        reason: reason.into(),
    }
}

fn check_string(what: &str, s: &str, allow_empty: bool) -> Result<(), VerificationError> {
    if s.len() > MAX_STRING_BYTES {
        return Err(invalid(format!(
            "{what} is longer than {MAX_STRING_BYTES} bytes"
        )));
    }
    if !allow_empty && s.is_empty() {
        return Err(invalid(format!("{what} is empty")));
    }
    Ok(())
}

impl Contest {
    /// Checks the contest's rules (PROTOCOL 3.2): 1 to [`MAX_OPTIONS`] options,
    /// `min ≤ max ≤ options`, bounded non-empty strings.
    pub fn validate(&self, index: usize) -> Result<(), VerificationError> {
        check_string(&format!("contest {index} title"), &self.title, false)?;
        if self.options.is_empty() || self.options.len() > MAX_OPTIONS {
            return Err(invalid(format!(
                "contest {index} has {} options, allowed 1..={MAX_OPTIONS}",
                self.options.len()
            )));
        }
        for (j, label) in self.options.iter().enumerate() {
            check_string(&format!("contest {index} option {j} label"), label, false)?;
        }
        if self.min_selections > self.max_selections {
            return Err(invalid(format!(
                "contest {index} has min selections above max"
            )));
        }
        if self.max_selections as usize > self.options.len() {
            return Err(invalid(format!(
                "contest {index} allows more selections than it has options"
            )));
        }
        Ok(())
    }
}

impl Manifest {
    /// Checks every structural rule (PROTOCOL 3.2), naming the first one broken.
    pub fn validate(&self) -> Result<(), VerificationError> {
        check_string("title", &self.title, false)?;
        if self.contests.is_empty() || self.contests.len() > MAX_CONTESTS {
            return Err(invalid(format!(
                "{} contests, allowed 1..={MAX_CONTESTS}",
                self.contests.len()
            )));
        }
        for (i, contest) in self.contests.iter().enumerate() {
            contest.validate(i)?;
        }
        if self.opens_at >= self.closes_at {
            return Err(invalid("voting window: opens_at must be before closes_at"));
        }
        if !(MIN_CENSUS_DEPTH..=MAX_CENSUS_DEPTH).contains(&self.census_depth) {
            return Err(invalid(format!(
                "census depth {} not in {MIN_CENSUS_DEPTH}..={MAX_CENSUS_DEPTH}",
                self.census_depth
            )));
        }
        let n = self.trustees.len();
        if n == 0 || n > MAX_TRUSTEES {
            return Err(invalid(format!("{n} trustees, allowed 1..={MAX_TRUSTEES}")));
        }
        if self.threshold == 0 || self.threshold as usize > n {
            return Err(invalid(format!(
                "threshold {} not in 1..={n}",
                self.threshold
            )));
        }
        if self.authority_key == self.board_key {
            return Err(invalid("authority and board keys must differ"));
        }
        for (i, t) in self.trustees.iter().enumerate() {
            check_string(&format!("trustee {} name", i + 1), &t.name, false)?;
            if t.signing_key == self.authority_key || t.signing_key == self.board_key {
                return Err(invalid(format!(
                    "trustee {} signing key is the authority's or the board's",
                    i + 1
                )));
            }
            for (j, u) in self.trustees.iter().enumerate().skip(i + 1) {
                if t.signing_key == u.signing_key || t.encryption_key == u.encryption_key {
                    return Err(invalid(format!(
                        "trustees {} and {} share a key",
                        i + 1,
                        j + 1
                    )));
                }
            }
        }
        if let Setup::Ceremony { contributors } = &self.setup {
            if contributors.len() > MAX_EXTRA_CONTRIBUTORS {
                return Err(invalid(format!(
                    "{} extra setup contributors, allowed at most {MAX_EXTRA_CONTRIBUTORS}",
                    contributors.len()
                )));
            }
            for (i, c) in contributors.iter().enumerate() {
                let index = n + 1 + i;
                check_string(&format!("contributor {index} name"), &c.name, false)?;
                let taken = c.signing_key == self.authority_key
                    || c.signing_key == self.board_key
                    || self.trustees.iter().any(|t| t.signing_key == c.signing_key)
                    || contributors[..i]
                        .iter()
                        .any(|d| d.signing_key == c.signing_key);
                if taken {
                    return Err(invalid(format!(
                        "contributor {index} signing key is already another party's"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The signing key of setup contributor `index` (PROTOCOL 14.10): 0 is the
    /// authority, `1..=n` the trustees, then the manifest's extra contributors. `None`
    /// for an index outside that range or when the setup is not a ceremony.
    pub fn contributor_key(&self, index: u32) -> Option<&PublicKey> {
        self.contributor(index).map(|(_, key)| key)
    }

    /// The name and signing key of setup contributor `index` (see
    /// [`Manifest::contributor_key`]).
    pub fn contributor(&self, index: u32) -> Option<(&str, &PublicKey)> {
        let Setup::Ceremony { contributors } = &self.setup else {
            return None;
        };
        let i = index as usize;
        let n = self.trustees.len();
        if i == 0 {
            Some(("the election authority", &self.authority_key))
        } else if i <= n {
            let t = &self.trustees[i - 1];
            Some((t.name.as_str(), &t.signing_key))
        } else {
            contributors
                .get(i - n - 1)
                .map(|c| (c.name.as_str(), &c.signing_key))
        }
    }

    /// SHA-256 of the canonical bytes (PROTOCOL 3.3): what proofs and digests bind.
    pub fn manifest_hash(&self) -> [u8; 32] {
        self.canonical_hash()
    }

    /// The contest at `index`, if any.
    pub fn contest(&self, index: usize) -> Option<&Contest> {
        self.contests.get(index)
    }
}

impl Encode for Contest {
    fn encode(&self, w: &mut Writer) {
        w.str(&self.title);
        w.u32(u32::try_from(self.options.len()).unwrap_or(u32::MAX));
        for label in &self.options {
            w.str(label);
        }
        w.u32(self.min_selections);
        w.u32(self.max_selections);
    }
}

impl Decode for Contest {
    const MIN_ENCODED_LEN: usize = 4 + 4 + 4 + 4;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let title = r.str("contest title", MAX_STRING_BYTES)?;
        let count = r.u32()? as usize;
        if count > MAX_OPTIONS {
            return Err(DecodeError::TooLong {
                what: "contest options",
                max: MAX_OPTIONS,
                actual: count,
            });
        }
        let mut options = Vec::with_capacity(count);
        for _ in 0..count {
            options.push(r.str("option label", MAX_STRING_BYTES)?);
        }
        Ok(Self {
            title,
            options,
            min_selections: r.u32()?,
            max_selections: r.u32()?,
        })
    }
}

impl Encode for Contributor {
    fn encode(&self, w: &mut Writer) {
        w.str(&self.name);
        w.put(&self.signing_key);
    }
}

impl Decode for Contributor {
    const MIN_ENCODED_LEN: usize = 4 + 32;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            name: r.str("contributor name", MAX_STRING_BYTES)?,
            signing_key: r.get()?,
        })
    }
}

impl Encode for Setup {
    fn encode(&self, w: &mut Writer) {
        match self {
            Setup::Keys {
                verifying_key_hash,
                proving_key_hash,
            } => {
                w.u8(0);
                w.fixed(verifying_key_hash);
                w.fixed(proving_key_hash);
            }
            Setup::Ceremony { contributors } => {
                w.u8(1);
                w.seq(contributors);
            }
        }
    }
}

impl Decode for Setup {
    const MIN_ENCODED_LEN: usize = 1 + 4;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(Setup::Keys {
                verifying_key_hash: r.array()?,
                proving_key_hash: r.array()?,
            }),
            1 => Ok(Setup::Ceremony {
                contributors: r.seq("setup contributors", MAX_EXTRA_CONTRIBUTORS)?,
            }),
            value => Err(DecodeError::UnknownKind {
                what: "manifest setup",
                value,
            }),
        }
    }
}

impl Encode for Trustee {
    fn encode(&self, w: &mut Writer) {
        w.str(&self.name);
        w.put(&self.signing_key);
        w.put(&self.encryption_key);
    }
}

impl Decode for Trustee {
    const MIN_ENCODED_LEN: usize = 4 + 32 + 32;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            name: r.str("trustee name", MAX_STRING_BYTES)?,
            signing_key: r.get()?,
            encryption_key: r.get()?,
        })
    }
}

/// Reads an election id; rejects a value at or above the BN254 modulus.
pub(crate) fn read_election_id(r: &mut Reader<'_>) -> Result<ElectionId, DecodeError> {
    ElectionId::from_bytes(&r.array()?).map_err(|_| DecodeError::NonCanonicalFieldElement {
        what: "election id",
    })
}

impl Encode for Manifest {
    fn encode(&self, w: &mut Writer) {
        w.fixed(&self.election_id.to_bytes());
        w.str(&self.title);
        w.seq(&self.contests);
        w.u64(self.opens_at);
        w.u64(self.closes_at);
        w.u32(self.census_depth);
        w.seq(&self.trustees);
        w.u32(self.threshold);
        w.put(&self.authority_key);
        w.put(&self.board_key);
        w.put(&self.setup);
    }
}

impl Decode for Manifest {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let manifest = Self {
            election_id: read_election_id(r)?,
            title: r.str("manifest title", MAX_STRING_BYTES)?,
            contests: r.seq("contests", MAX_CONTESTS)?,
            opens_at: r.u64()?,
            closes_at: r.u64()?,
            census_depth: r.u32()?,
            trustees: r.seq("trustees", MAX_TRUSTEES)?,
            threshold: r.u32()?,
            authority_key: r.get()?,
            board_key: r.get()?,
            setup: r.get()?,
        };
        manifest.validate().map_err(|_| DecodeError::InvalidValue {
            what: "manifest",
            reason: "breaks a manifest rule (see Manifest::validate)",
        })?;
        Ok(manifest)
    }
}

impl Canonical for Manifest {
    const TAG: u8 = 0x01;
    const NAME: &'static str = "manifest";
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // tests
mod tests {
    use super::*;
    use crate::signing::SigningKey;

    pub(crate) fn fixed_manifest() -> Manifest {
        let enc = |seed: u8| {
            let y = curve25519_dalek::scalar::Scalar::from(u64::from(seed));
            EncryptionPublicKey::from_point(y * crate::group::G).unwrap()
        };
        Manifest {
            election_id: ElectionId::from_bytes(&[0x11; 32]).unwrap(),
            title: "Board election 2026".into(),
            contests: alloc::vec![
                Contest {
                    title: "Chair".into(),
                    options: alloc::vec!["Ada".into(), "Grace".into(), "Edsger".into()],
                    min_selections: 1,
                    max_selections: 1,
                },
                Contest {
                    title: "Committee".into(),
                    options: (0..5).map(|i| format!("Member {i}")).collect(),
                    min_selections: 0,
                    max_selections: 3,
                },
            ],
            opens_at: 1_790_000_000,
            closes_at: 1_790_086_400,
            census_depth: 20,
            trustees: (1..=3u8)
                .map(|i| Trustee {
                    name: format!("Trustee {i}"),
                    signing_key: SigningKey::from_seed(&[i; 32]).public_key(),
                    encryption_key: enc(0x40 + i),
                })
                .collect(),
            threshold: 2,
            authority_key: SigningKey::from_seed(&[0xa0; 32]).public_key(),
            board_key: SigningKey::from_seed(&[0xb0; 32]).public_key(),
            setup: Setup::Keys {
                verifying_key_hash: [0x22; 32],
                proving_key_hash: [0x33; 32],
            },
        }
    }

    pub(crate) fn ceremony_manifest() -> Manifest {
        Manifest {
            setup: Setup::Ceremony {
                contributors: alloc::vec![Contributor {
                    name: "Observer".into(),
                    signing_key: SigningKey::from_seed(&[0xc0; 32]).public_key(),
                }],
            },
            ..fixed_manifest()
        }
    }

    #[test]
    fn ceremony_setup_round_trips_and_names_contributors() {
        let m = ceremony_manifest();
        assert_eq!(m.validate(), Ok(()));
        let bytes = m.to_canonical_bytes();
        assert_eq!(Manifest::from_canonical_bytes(&bytes), Ok(m.clone()));
        assert_eq!(
            hex::encode(m.manifest_hash()),
            PINNED_CEREMONY_MANIFEST_HASH
        );
        assert_eq!(m.contributor_key(0), Some(&m.authority_key));
        assert_eq!(m.contributor_key(2), Some(&m.trustees[1].signing_key));
        assert_eq!(m.contributor(4).map(|(name, _)| name), Some("Observer"));
        assert_eq!(m.contributor_key(5), None);
        assert_eq!(fixed_manifest().contributor_key(0), None);
        // An unknown setup mode is refused.
        let mut bad = bytes.clone();
        let pos = bytes.len() - (4 + 4 + "Observer".len() + 32) - 1;
        assert_eq!(bad[pos], 1);
        bad[pos] = 2;
        assert!(Manifest::from_canonical_bytes(&bad).is_err());
    }

    const PINNED_CEREMONY_MANIFEST_HASH: &str =
        "8c684723228b67ed65713772bf7fcffeba643a38b11150a9ca03ec864432775a";

    #[test]
    fn round_trip_and_pinned_hash() {
        let m = fixed_manifest();
        assert_eq!(m.validate(), Ok(()));
        let bytes = m.to_canonical_bytes();
        assert_eq!(&bytes[..2], &[crate::codec::FORMAT_VERSION, Manifest::TAG]);
        assert_eq!(Manifest::from_canonical_bytes(&bytes), Ok(m.clone()));
        // Known answer: changes to the encoding must be deliberate (PROTOCOL 3.4).
        assert_eq!(hex::encode(m.manifest_hash()), PINNED_MANIFEST_HASH);
    }

    const PINNED_MANIFEST_HASH: &str =
        "7f60f663c2fe2bbdb5c69f04de132baf9e5ddaaa9a41da4ae757c259a413904e";

    #[test]
    fn every_rule_is_enforced() {
        type Mutation = fn(&mut Manifest);
        let mutations: &[(&str, Mutation)] = &[
            ("no contests", |m| m.contests.clear()),
            ("too many contests", |m| {
                let c = m.contests[0].clone();
                m.contests = alloc::vec![c; MAX_CONTESTS + 1];
            }),
            ("no options", |m| m.contests[0].options.clear()),
            ("too many options", |m| {
                m.contests[1].options = (0..=MAX_OPTIONS).map(|i| format!("o{i}")).collect()
            }),
            ("min above max", |m| m.contests[1].min_selections = 4),
            ("max above options", |m| m.contests[1].max_selections = 6),
            ("long title", |m| m.title = "x".repeat(MAX_STRING_BYTES + 1)),
            ("empty title", |m| m.title.clear()),
            ("empty option label", |m| m.contests[0].options[1].clear()),
            ("window", |m| m.closes_at = m.opens_at),
            ("depth 0", |m| m.census_depth = 0),
            ("depth 33", |m| m.census_depth = 33),
            ("no trustees", |m| {
                m.trustees.clear();
                m.threshold = 0;
            }),
            ("threshold 0", |m| m.threshold = 0),
            ("threshold above n", |m| m.threshold = 4),
            ("duplicate signing key", |m| {
                m.trustees[2].signing_key = m.trustees[0].signing_key
            }),
            ("duplicate encryption key", |m| {
                m.trustees[1].encryption_key = m.trustees[0].encryption_key
            }),
            ("trustee is authority", |m| {
                m.trustees[0].signing_key = m.authority_key
            }),
            ("authority is board", |m| m.board_key = m.authority_key),
            ("contributor is a trustee", |m| {
                m.setup = Setup::Ceremony {
                    contributors: alloc::vec![Contributor {
                        name: "x".into(),
                        signing_key: m.trustees[0].signing_key,
                    }],
                }
            }),
            ("contributor is the authority", |m| {
                m.setup = Setup::Ceremony {
                    contributors: alloc::vec![Contributor {
                        name: "x".into(),
                        signing_key: m.authority_key,
                    }],
                }
            }),
            ("contributor without a name", |m| {
                m.setup = Setup::Ceremony {
                    contributors: alloc::vec![Contributor {
                        name: String::new(),
                        signing_key: SigningKey::from_seed(&[0xc1; 32]).public_key(),
                    }],
                }
            }),
            ("two contributors share a key", |m| {
                let c = Contributor {
                    name: "x".into(),
                    signing_key: SigningKey::from_seed(&[0xc1; 32]).public_key(),
                };
                m.setup = Setup::Ceremony {
                    contributors: alloc::vec![c.clone(), c],
                }
            }),
            ("too many contributors", |m| {
                m.setup = Setup::Ceremony {
                    contributors: (0..=MAX_EXTRA_CONTRIBUTORS)
                        .map(|i| Contributor {
                            name: format!("c{i}"),
                            signing_key: SigningKey::from_seed(&[i as u8 + 1; 32]).public_key(),
                        })
                        .collect(),
                }
            }),
        ];
        for (name, mutate) in mutations {
            let mut m = fixed_manifest();
            mutate(&mut m);
            assert!(
                matches!(m.validate(), Err(VerificationError::InvalidManifest { .. })),
                "{name} accepted"
            );
            // Decoding validates too.
            assert!(
                Manifest::from_canonical_bytes(&m.to_canonical_bytes()).is_err(),
                "{name}"
            );
        }
    }

    #[test]
    fn non_canonical_election_id_rejected() {
        let m = fixed_manifest();
        let mut bytes = m.to_canonical_bytes();
        bytes[2..34].copy_from_slice(&[0xff; 32]);
        assert!(matches!(
            Manifest::from_canonical_bytes(&bytes),
            Err(DecodeError::NonCanonicalFieldElement { .. })
        ));
    }

    #[test]
    fn truncations_and_trailing_bytes_rejected() {
        let bytes = fixed_manifest().to_canonical_bytes();
        for len in 0..bytes.len() {
            assert!(Manifest::from_canonical_bytes(&bytes[..len]).is_err());
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Manifest::from_canonical_bytes(&longer).is_err());
    }
}
