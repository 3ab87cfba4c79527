//! What can go wrong: one [`VerifyError`] variant per check (PROTOCOL §13), and the
//! [`Failure`] that names the first entry at fault.

use core::fmt;

use urna_ceremony::CeremonyError;
use urna_log::LogError;
use urna_protocol::{DecodeError, VerificationError};

/// The check that failed. Each variant is one check of PROTOCOL §13 (the variant name is
/// the error name listed there), except the first three, which are not verdicts on the
/// board but on the verifier's input or machine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The export could not be read (file or network I/O).
    #[error("cannot read the export: {0}")]
    Io(#[from] std::io::Error),
    /// The board could not be fetched.
    #[error("cannot fetch the export: {0}")]
    Http(String),
    /// A bad argument (URL, election id) or the verifier could not start.
    #[error("usage: {0}")]
    Usage(String),

    // --- §13.1 the export --------------------------------------------------------
    /// A line longer than any valid line can be.
    #[error("line longer than {max} bytes")]
    LineTooLong {
        /// The limit.
        max: usize,
    },
    /// The export is empty.
    #[error("the export has no header line")]
    MissingHeader,
    /// The header names another format than `urna-board-export/v2`.
    #[error("unsupported export format {found:?} (expected {expected:?})")]
    UnsupportedFormat {
        /// The format the header names.
        found: String,
        /// The format this verifier reads.
        expected: &'static str,
    },
    /// The header is not JSON of the expected shape, or a value in it is malformed.
    #[error("malformed header: {0}")]
    MalformedHeader(String),
    /// The board's signed-note verifier key does not parse.
    #[error("bad board verifier key: {0}")]
    BadVerifierKey(LogError),
    /// The checkpoint does not open: malformed, not signed by the `vkey`, or another origin.
    #[error("checkpoint does not verify: {0}")]
    BadCheckpoint(LogError),
    /// The header's `tree_size` is not the checkpoint's size.
    #[error("header says {header} entries, the checkpoint {checkpoint}")]
    TreeSizeMismatch {
        /// The header's `tree_size`.
        header: u64,
        /// The signed size.
        checkpoint: u64,
    },
    /// The header's verifying key is not a valid canonical Groth16 key.
    #[error("the header's verifying key does not decode: {0}")]
    BadVerifyingKey(String),
    /// The header has no verifying key, but the election's keys are fixed by its manifest
    /// (only a ceremony election's key is on the board, in its `setup-keys` entry).
    #[error("the election's keys are fixed by its manifest, but the header has no verifying key")]
    MissingVerifyingKey,
    /// The header has a verifying key, but the election's ceremony has not fixed one: the
    /// board has no `setup-keys` entry (PROTOCOL 13.1, 14.10).
    #[error(
        "the header has a verifying key, but the election's ceremony is not closed \
         (no setup-keys entry)"
    )]
    UnexpectedVerifyingKey,

    // --- §13.2 the log -------------------------------------------------------------
    /// A line is not JSON of the expected shape, or a value in it is malformed.
    #[error("malformed line: {0}")]
    MalformedLine(String),
    /// Lines must carry the indices 0, 1, 2, … in order.
    #[error("line carries index {found}, expected {expected}")]
    IndexMismatch {
        /// The next index.
        expected: u64,
        /// The index on the line.
        found: u64,
    },
    /// The leaf hash on a line is not the hash of its entry bytes.
    #[error("leaf hash {claimed} is not the hash of the entry ({computed})")]
    LeafHashMismatch {
        /// The line's leaf hash (hex).
        claimed: String,
        /// `SHA-256(0x00 ‖ entry)` (hex).
        computed: String,
    },
    /// A full line names another election than the header.
    #[error("entry of election {found}, the export is of {expected}")]
    WrongElection {
        /// The header's election (hex).
        expected: String,
        /// The entry's election (hex).
        found: String,
    },
    /// Fewer lines than the checkpoint's size.
    #[error("the export ends after {found} entries, the checkpoint has {expected}")]
    MissingEntries {
        /// The checkpoint's size.
        expected: u64,
        /// Lines read.
        found: u64,
    },
    /// More lines than the checkpoint's size.
    #[error("more lines than the checkpoint's {size} entries")]
    TrailingData {
        /// The checkpoint's size.
        size: u64,
    },
    /// The root of all leaf hashes is not the signed root.
    #[error("the leaf hashes give root {computed}, the checkpoint signs {signed}")]
    RootMismatch {
        /// The recomputed root (hex).
        computed: String,
        /// The checkpoint's root (hex).
        signed: String,
    },

    // --- §13.3 entries -------------------------------------------------------------
    /// An entry's bytes are not a canonical board entry.
    #[error("entry does not decode: {0}")]
    EntryDecode(DecodeError),
    /// An entry decodes but re-encodes differently.
    #[error("entry is not canonically encoded")]
    NonCanonicalEntry,
    /// The line's `kind` is not the entry's kind.
    #[error("line says kind {line:?}, the entry is {entry:?}")]
    KindMismatch {
        /// The line's `kind`.
        line: String,
        /// The decoded entry's kind.
        entry: &'static str,
    },
    /// The election's first entry is not its manifest.
    #[error("the election's first entry is a {kind} entry, not its manifest")]
    ManifestNotFirst {
        /// The kind found first.
        kind: &'static str,
    },
    /// The export holds no entry of the election.
    #[error("no entry of the election is in the export")]
    NoManifest,
    /// A second manifest for the election.
    #[error("a second manifest for the election")]
    DuplicateManifest,
    /// The manifest breaks a rule of PROTOCOL 3.2 or cannot seed the key ceremony.
    #[error("invalid manifest: {0}")]
    InvalidManifest(String),
    /// The manifest's `board_key` is not the key that signs the checkpoints.
    #[error("the manifest's board key is not the checkpoint's signing key")]
    BoardKeyMismatch,
    /// The header's verifying key is not the election's: its SHA-256 is not the
    /// manifest's `verifying_key_hash` (fixed keys), or it is not the key of the
    /// `setup-keys` entry (a ceremony on the board).
    #[error("the header's verifying key (hash {actual}) is not the election's (hash {expected})")]
    VerifyingKeyMismatch {
        /// The election's key hash (hex): the manifest's, or the `setup-keys` key's.
        expected: String,
        /// The hash of the header's key (hex).
        actual: String,
    },
    /// `--require-ceremony`: the manifest fixes the Groth16 keys instead of running a
    /// ceremony on the board, so nothing shows that no one knows their trapdoor.
    #[error(
        "the manifest fixes the Groth16 keys (no ceremony on the board) and a ceremony is \
         required: whoever made the keys could forge eligibility proofs"
    )]
    CeremonyRequired,
    /// The signature rule of PROTOCOL 9.5: wrong or missing signature, or a trustee index
    /// that names no trustee.
    #[error("signature: {0}")]
    BadSignature(VerificationError),
    /// An entry the phase rules of PROTOCOL 12.1 do not allow at its place in the log.
    #[error("out of order: {0}")]
    WrongPhase(String),
    /// A second entry where one is allowed (dealer message, complaint pair, shares).
    #[error("duplicate entry: {0}")]
    DuplicateEntry(String),
    /// A dealer message fails PROTOCOL 7.4 (a)–(d).
    #[error("invalid dealer message: {0}")]
    InvalidDealerMessage(VerificationError),
    /// A complaint is not valid (PROTOCOL 7.5), or its dealer has no message.
    #[error("invalid complaint: {0}")]
    InvalidComplaint(VerificationError),
    /// The key ceremony does not yield an election key (PROTOCOL 7.6).
    #[error("key ceremony: {0}")]
    KeyCeremony(VerificationError),
    /// A registration-code hash posted twice.
    #[error("registration code hash already posted")]
    DuplicateCodeHash,
    /// A registration whose code hash was never posted.
    #[error("registration code was never posted")]
    UnknownRegistrationCode,
    /// A registration with a code already spent.
    #[error("registration code already used at entry {first}")]
    RegistrationCodeReused {
        /// The registration that spent it.
        first: u64,
    },
    /// An identity commitment registered twice.
    #[error("identity commitment already registered")]
    DuplicateCommitment,
    /// More registrations than the census tree holds.
    #[error("the census of depth {depth} is full")]
    CensusFull {
        /// The manifest's census depth.
        depth: u32,
    },
    /// The census-frozen entry's size is not the number of registrations.
    #[error("census-frozen says {entry} voters, {registrations} registered")]
    CensusSizeMismatch {
        /// The entry's size.
        entry: u64,
        /// Registrations on the board.
        registrations: u64,
    },
    /// The census-frozen root is not the root of the registrations in board order.
    #[error("census root {entry} is not the root {computed} of the registrations")]
    CensusRootMismatch {
        /// The entry's root (hex).
        entry: String,
        /// The recomputed root (hex).
        computed: String,
    },
    /// The open entry's time cannot lie in the manifest's window.
    #[error("open at {at} is outside the window [{opens_at}, {closes_at}) ± {skew} s")]
    OpenOutsideWindow {
        /// The entry's time.
        at: u64,
        /// The manifest's `opens_at`.
        opens_at: u64,
        /// The manifest's `closes_at`.
        closes_at: u64,
        /// The clock skew the board allows.
        skew: u64,
    },
    /// The close entry's time is before the open entry's.
    #[error("close at {close} is before open at {open}")]
    CloseBeforeOpen {
        /// The open time.
        open: u64,
        /// The close time.
        close: u64,
    },
    /// A ballot before the open entry.
    #[error("ballot before voting opened")]
    BallotBeforeOpen,
    /// A ballot after the close entry.
    #[error("ballot after voting closed (entry {close})")]
    BallotAfterClose {
        /// Index of the close entry.
        close: u64,
    },
    /// A ballot made against another census root than the frozen one.
    #[error("ballot is made against another census root than the frozen one")]
    WrongCensusRoot,
    /// A second ballot with the nullifier and digest of an earlier one: the board must
    /// answer a replay with the old receipt, never append it (PROTOCOL 12.2).
    #[error("replay of the ballot at entry {original} (same nullifier and digest)")]
    ReplayedBallot {
        /// The earlier ballot.
        original: u64,
    },
    /// A ballot re-using a ciphertext first cast under another nullifier (PROTOCOL 12.2).
    #[error("ballot re-uses a ciphertext first cast under another nullifier")]
    CiphertextReused,
    /// A ballot fails PROTOCOL 6.6 (shape, validity proofs, eligibility proof).
    #[error("invalid ballot: {0}")]
    InvalidBallot(VerificationError),
    /// Decryption shares fail PROTOCOL 8.3 (a)–(c).
    #[error("invalid decryption shares: {0}")]
    InvalidDecryptionShares(VerificationError),
    /// The published aggregate is not the sum of the counted ballots (PROTOCOL 8.6 (a)).
    #[error("the tally's aggregate is not the sum of the counted ballots")]
    AggregateMismatch,
    /// The published result is not the decryption of the aggregate (PROTOCOL 8.6 (c)).
    #[error("the published result is not the decryption: {0}")]
    TallyMismatch(String),
    /// The tally cannot be re-derived from the shares (PROTOCOL 8.3 (d)–(e), 8.5).
    #[error("the tally cannot be decrypted: {0}")]
    InvalidTally(VerificationError),
    /// An entry of the election after its tally.
    #[error("entry after the tally")]
    EntryAfterTally,

    // --- PROTOCOL 14.10: the setup ceremony on the board ----------------------------
    /// A `setup-keys` entry in an election whose manifest fixes its keys (setup
    /// contributions there fail the signature rule: `UnknownContributor`).
    #[error("a setup entry in an election whose keys are fixed by its manifest")]
    SetupWithoutCeremony,
    /// Rule 1: a setup entry after the census froze.
    #[error("setup entry after the census froze")]
    SetupAfterFreeze,
    /// Rule 2: a setup entry after the `setup-keys` entry.
    #[error("setup entry after the ceremony's keys were fixed (setup-keys at entry {keys})")]
    SetupAfterKeys {
        /// Index of the `setup-keys` entry.
        keys: u64,
    },
    /// Rule 2: a setup entry of a stage the ceremony is not at: a phase-1 contribution
    /// after phase 1's beacon, a phase-2 contribution before it, a `setup-keys` entry
    /// before phase 2's beacon.
    #[error("a {kind} entry while the ceremony is at stage {stage}")]
    SetupOutOfOrder {
        /// The entry's kind.
        kind: &'static str,
        /// Where the ceremony stands (`phase1`, `phase2`, `closed`).
        stage: &'static str,
    },
    /// Rule 3: a beacon contribution posted by another contributor than the authority.
    #[error("beacon contribution by contributor {contributor}; only the authority (contributor 0) posts beacons")]
    BeaconNotByAuthority {
        /// The contributor that posted it.
        contributor: u32,
    },
    /// Rule 3: a beacon contribution with no contribution with a secret before it in its
    /// phase.
    #[error("beacon without a secret contribution: {0}")]
    BeaconWithoutSecret(CeremonyError),
    /// Rule 4: the contribution does not decode or does not verify against the state
    /// the board's earlier contributions lead to (PROTOCOL 14.3, 14.5, 14.6); the
    /// ceremony error names the phase, the contribution and the check.
    #[error("invalid setup contribution: {0}")]
    InvalidContribution(CeremonyError),
    /// Rule 5: the election's entry after the phase-2 beacon is not the board's
    /// `setup-keys` entry (or the export ends after the beacon).
    #[error("the phase-2 beacon at entry {beacon} must be directly followed by the board's setup-keys entry")]
    SetupKeysNotNext {
        /// Index of the phase-2 beacon contribution.
        beacon: u64,
    },
    /// Rule 5: the `setup-keys` entry is not what the closed ceremony derives.
    #[error("setup-keys: the {what} is not the one the ceremony's transcript derives")]
    SetupKeyMismatch {
        /// `verifying key`, `proving key hash` or `transcript hash`.
        what: &'static str,
    },
    /// The census froze before the ceremony's `setup-keys` entry (PROTOCOL 12.1 rule 6).
    #[error("the census froze before the setup ceremony's keys were fixed (no setup-keys entry)")]
    SetupKeysMissing,
}

impl VerifyError {
    /// The check's name: the variant name, as listed in PROTOCOL §13 (for `--json`).
    pub fn check(&self) -> String {
        // The derived `Debug` starts with the variant name.
        let debug = format!("{self:?}");
        debug
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    /// Whether this is a verdict on the board (exit code 1) rather than a failure to
    /// read it or bad usage (exit code 2).
    pub fn is_verdict(&self) -> bool {
        !matches!(
            self,
            VerifyError::Io(_) | VerifyError::Http(_) | VerifyError::Usage(_)
        )
    }
}

/// Why verification stopped: the first entry at fault (by log index) and the check it
/// failed. `index` is `None` for the header and for checks over the whole log (the root).
#[derive(Debug)]
pub struct Failure {
    /// Log index of the entry at fault.
    pub index: Option<u64>,
    /// Its kind, when it decoded.
    pub kind: Option<&'static str>,
    /// The check that failed.
    pub error: VerifyError,
}

impl Failure {
    /// A failure of the export as a whole (header, root, I/O).
    pub fn global(error: VerifyError) -> Self {
        Self {
            index: None,
            kind: None,
            error,
        }
    }

    /// A failure at log index `index`.
    pub fn at(index: u64, kind: Option<&'static str>, error: VerifyError) -> Self {
        Self {
            index: Some(index),
            kind,
            error,
        }
    }

    /// The process exit code for this failure: 1 if the board failed a check, 2 if it
    /// could not be read or the arguments were bad.
    pub fn exit_code(&self) -> u8 {
        if self.error.is_verdict() {
            1
        } else {
            2
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.index, self.kind) {
            (Some(i), Some(kind)) => write!(f, "entry {i} ({kind}): {}", self.error),
            (Some(i), None) => write!(f, "entry {i}: {}", self.error),
            (None, _) => write!(f, "{}", self.error),
        }
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<VerifyError> for Failure {
    fn from(error: VerifyError) -> Self {
        Self::global(error)
    }
}
