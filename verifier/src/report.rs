//! The verifier's report: what was checked and what the board says, readable
//! ([`fmt::Display`]) and machine-readable (`serde`, for `--json`).

use core::fmt;

use serde::Serialize;

/// The election's phase at the end of the export (PROTOCOL 12.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Manifest posted; key ceremony and registration.
    Setup,
    /// Census frozen, voting not open.
    Frozen,
    /// Voting open.
    Open,
    /// Voting closed, no tally yet.
    Closed,
    /// The tally is on the board.
    Tallied,
}

impl Phase {
    /// The phase's name.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Setup => "setup",
            Phase::Frozen => "frozen",
            Phase::Open => "open",
            Phase::Closed => "closed",
            Phase::Tallied => "tallied",
        }
    }
}

/// One contest's verified result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContestResult {
    /// The contest's title.
    pub title: String,
    /// Each option's label and count, in manifest order.
    pub options: Vec<(String, u64)>,
}

/// What the report says of an election whose Groth16 keys are fixed by its manifest.
pub const FIXED_KEYS_CAVEAT: &str = "the Groth16 keys were fixed before the election and \
are not checked against any ceremony: if they come from a single-party setup, whoever made \
them could forge eligibility proofs (vote without being in the census, or many times); \
--require-ceremony refuses such a board";

/// One setup contribution on the board, verified (PROTOCOL 14.10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContributionReport {
    /// The ceremony's phase: 1 (powers of tau) or 2 (the circuit's `delta`).
    pub phase: u8,
    /// Log index of its entry.
    pub index: u64,
    /// The contributor's index: 0 the authority, `1..=n` the trustees, then the
    /// manifest's extra contributors.
    pub contributor: u32,
    /// The contributor's name in the manifest.
    pub name: String,
    /// Whether it is the phase's closing beacon contribution (public secrets).
    pub beacon: bool,
    /// The transcript hash after it (hex): what its contributor published.
    pub hash: String,
}

/// A ceremony on the board, as far as the export shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CeremonyReport {
    /// Where the ceremony stands: `phase1`, `phase2` or `closed`.
    pub stage: String,
    /// Every contribution, in log order.
    pub contributions: Vec<ContributionReport>,
    /// Log index of the board's `setup-keys` entry, once the ceremony is closed.
    pub keys_entry: Option<u64>,
    /// The final transcript hash (hex), once closed.
    pub transcript_hash: Option<String>,
    /// SHA-256 of the derived verifying key (hex), once closed.
    pub verifying_key_hash: Option<String>,
    /// SHA-256 of the derived proving key (PROTOCOL 10.5, hex), once closed.
    pub proving_key_hash: Option<String>,
}

/// Where the election's Groth16 keys come from (PROTOCOL 3.1, 14.10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum SetupReport {
    /// The manifest fixes the keys' hashes; they are not checked against any ceremony.
    FixedKeys {
        /// The manifest's `verifying_key_hash` (hex), which the header's key matches.
        verifying_key_hash: String,
        /// The manifest's `proving_key_hash` (hex).
        proving_key_hash: String,
        /// What this means ([`FIXED_KEYS_CAVEAT`]).
        caveat: String,
    },
    /// A multi-party ceremony on the board, verified from the generators on.
    Ceremony(CeremonyReport),
}

/// A successful verification: every check of PROTOCOL §13 held for every entry.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The election (hex).
    pub election_id: String,
    /// The manifest's title.
    pub title: String,
    /// The log's origin.
    pub origin: String,
    /// Entries in the log up to the checkpoint (all elections).
    pub tree_size: u64,
    /// The checkpoint's root (hex).
    pub root: String,
    /// Entries of this election.
    pub election_entries: u64,
    /// Entries of this election by kind name.
    pub entries_by_kind: Vec<(String, u64)>,
    /// The phase the board shows.
    pub phase: Phase,
    /// Where the Groth16 keys come from, and the ceremony's contributions.
    pub setup: SetupReport,
    /// Signatures verified.
    pub signatures: u64,
    /// Trustees who posted a dealer message.
    pub dealers: Vec<u32>,
    /// Valid complaints (each disqualifies a dealer).
    pub complaints: u64,
    /// Registered voters (census size).
    pub registrations: u64,
    /// Ballot entries on the board, re-votes included.
    pub ballots_cast: u64,
    /// Ballots superseded by a later ballot of the same voter.
    pub ballots_superseded: u64,
    /// Ballots counted: the last per nullifier.
    pub ballots_counted: u64,
    /// Trustees whose decryption shares were verified.
    pub trustees_with_shares: Vec<u32>,
    /// The verified result per contest, once the tally is on the board.
    pub results: Option<Vec<ContestResult>>,
    /// The checks that were run, in order.
    pub checks: Vec<String>,
    /// Wall time of the verification, in seconds.
    pub seconds: f64,
}

impl Report {
    /// The list of checks that ran for this board (PROTOCOL 13.3), for the report.
    pub(crate) fn describe_checks(&mut self) {
        let mut c = vec![
            "header: format, board key, signed checkpoint and its origin, tree size".to_owned(),
            format!(
                "log: {} lines with contiguous indices, leaf hashes, root equals the checkpoint",
                self.tree_size
            ),
            format!(
                "{} entries of the election decode canonically; manifest first, valid, \
                 signed by its authority; {}",
                self.election_entries,
                match self.setup {
                    SetupReport::FixedKeys { .. } =>
                        "board key and the header's verifying key match the manifest",
                    SetupReport::Ceremony(_) => "board key matches the manifest",
                }
            ),
            format!(
                "{} signatures under the keys the manifest names",
                self.signatures
            ),
        ];
        if let SetupReport::Ceremony(ceremony) = &self.setup {
            let count = |phase| {
                ceremony
                    .contributions
                    .iter()
                    .filter(|c| c.phase == phase)
                    .count()
            };
            let mut line = format!(
                "setup ceremony: {} phase-1 and {} phase-2 contributions verified from the \
                 generators on (proofs of knowledge, same-ratio checks, beacons by the \
                 authority after a secret contribution)",
                count(1),
                count(2)
            );
            if ceremony.keys_entry.is_some() {
                line.push_str(
                    "; the board's setup-keys entry is the derived verifying key, proving-key \
                     hash and transcript hash; ballots verified under that key",
                );
            } else {
                line.push_str(&format!(
                    "; the ceremony is at stage {}, no keys fixed yet",
                    ceremony.stage
                ));
            }
            c.push(line);
        }
        c.push(format!(
            "key ceremony: {} dealer messages, {} complaints verified",
            self.dealers.len(),
            self.complaints
        ));
        c.push(format!(
            "registration: {} codes spent once, census root recomputed",
            self.registrations
        ));
        if self.phase != Phase::Setup && self.phase != Phase::Frozen {
            c.push("open/close order and times; joint election key derived".to_owned());
            c.push(format!(
                "{} ballots: window, census root, validity and eligibility proofs (batched), \
                 no replay, no copied ciphertext",
                self.ballots_cast
            ));
            c.push(format!(
                "nullifier rule: {} counted, {} superseded; aggregate recomputed",
                self.ballots_counted, self.ballots_superseded
            ));
        }
        if !self.trustees_with_shares.is_empty() {
            c.push(format!(
                "decryption shares of trustees {:?} verified",
                self.trustees_with_shares
            ));
        }
        if self.results.is_some() {
            c.push("tally: aggregate and decrypted counts match".to_owned());
        }
        self.checks = c;
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Election {:?}", self.title)?;
        writeln!(f, "  id      {}", self.election_id)?;
        writeln!(
            f,
            "  board   {} (log of {} entries, root {})",
            self.origin, self.tree_size, self.root
        )?;
        writeln!(f, "  phase   {}", self.phase.name())?;
        match &self.setup {
            SetupReport::FixedKeys {
                verifying_key_hash,
                proving_key_hash,
                caveat,
            } => {
                writeln!(f, "  setup   fixed keys (manifest)")?;
                writeln!(f, "          verifying key sha256 {verifying_key_hash}")?;
                writeln!(f, "          proving key   sha256 {proving_key_hash}")?;
                writeln!(f, "          WARNING: {caveat}")?;
            }
            SetupReport::Ceremony(c) => {
                writeln!(
                    f,
                    "  setup   ceremony on the board, stage {} ({} contributions)",
                    c.stage,
                    c.contributions.len()
                )?;
                let width = c
                    .contributions
                    .iter()
                    .map(|k| k.name.chars().count())
                    .max()
                    .unwrap_or(0);
                for k in &c.contributions {
                    let name = format!("{:<width$}", k.name);
                    writeln!(
                        f,
                        "          phase {} entry {:>6}  contributor {:>2} {name}  {}  hash {}",
                        k.phase,
                        k.index,
                        k.contributor,
                        if k.beacon { "beacon" } else { "secret" },
                        k.hash
                    )?;
                }
                if let Some(h) = &c.transcript_hash {
                    writeln!(f, "          transcript hash      {h}")?;
                }
                if let Some(h) = &c.verifying_key_hash {
                    writeln!(f, "          verifying key sha256 {h}")?;
                }
                if let Some(h) = &c.proving_key_hash {
                    writeln!(f, "          proving key   sha256 {h}")?;
                }
                if let Some(i) = c.keys_entry {
                    writeln!(
                        f,
                        "          keys fixed by the board's setup-keys entry {i}"
                    )?;
                }
            }
        }
        let kinds: Vec<String> = self
            .entries_by_kind
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        writeln!(
            f,
            "  entries {} of this election: {}",
            self.election_entries,
            kinds.join(", ")
        )?;
        writeln!(
            f,
            "  ballots {} cast, {} superseded by re-votes, {} counted",
            self.ballots_cast, self.ballots_superseded, self.ballots_counted
        )?;
        match &self.results {
            Some(results) => {
                writeln!(f, "\nResult")?;
                for contest in results {
                    writeln!(f, "  {}", contest.title)?;
                    let width = contest
                        .options
                        .iter()
                        .map(|(l, _)| l.chars().count())
                        .max()
                        .unwrap_or(0);
                    for (label, n) in &contest.options {
                        writeln!(f, "    {label:<width$}  {n}")?;
                    }
                }
            }
            None => writeln!(f, "\nNo tally on the board yet.")?,
        }
        writeln!(f, "\nChecked")?;
        for check in &self.checks {
            writeln!(f, "  ok  {check}")?;
        }
        write!(f, "\nVerified in {:.2} s.", self.seconds)
    }
}
