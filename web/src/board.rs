//! Reading the board for the pages: a one-line view of any entry, and the tally.

use serde::Serialize;
use urna_protocol::board::{BoardEntry, Payload};
use urna_protocol::codec::Canonical;

use crate::election::Election;
use crate::error::WebError;

/// One board entry as the board view lists it.
#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct EntryView {
    /// The entry kind's name (PROTOCOL 9.3).
    pub kind: &'static str,
    /// Hex election id.
    pub election_id: String,
    /// What the entry says, in one line.
    pub detail: String,
}

/// Describes a board entry (canonical bytes). With `manifest_hash`, a ballot shows its
/// tracking code.
pub fn describe_entry(
    entry: &[u8],
    manifest_hash: Option<&[u8; 32]>,
) -> Result<EntryView, WebError> {
    let entry = BoardEntry::from_canonical_bytes(entry)?;
    let detail = match entry.payload() {
        Payload::Manifest(m) => format!("manifest: {}", m.title),
        Payload::Dealer(d) => format!("key ceremony: dealer {}", d.dealer()),
        Payload::Complaint(c) => format!(
            "key ceremony: trustee {} complains about dealer {}",
            c.complainer(),
            c.accused()
        ),
        Payload::RegistrationCodes(h) => format!("{} registration codes issued", h.len()),
        Payload::Registration { commitment, .. } => {
            format!("voter registered: {}", hex::encode(commitment.to_bytes()))
        }
        Payload::CensusFrozen { root, size } => format!(
            "census frozen: {size} voters, root {}",
            hex::encode(root.to_bytes())
        ),
        Payload::Open { at } => format!("voting opened at {at}"),
        Payload::Close { at } => format!("voting closed at {at}"),
        Payload::Ballot(b) => match manifest_hash {
            Some(h) => format!("ballot, tracking code {}", b.tracking_code(h)),
            None => format!("ballot, nullifier {}", hex::encode(b.nullifier.to_bytes())),
        },
        Payload::DecryptionShares(s) => format!("decryption shares of trustee {}", s.trustee()),
        Payload::Tally(t) => format!("tally of {} ballots", t.result.ballots()),
        Payload::SetupPhase1(c) | Payload::SetupPhase2(c) => {
            let phase = if entry.kind() == urna_protocol::board::EntryKind::SetupPhase1 {
                1
            } else {
                2
            };
            let what = if c.data.first() == Some(&1) {
                "beacon contribution"
            } else {
                "contribution"
            };
            format!(
                "setup ceremony: phase-{phase} {what} by contributor {}",
                c.contributor
            )
        }
        Payload::SetupKeys(k) => format!(
            "setup ceremony closed: verifying key {}",
            hex::encode(k.verifying_key_hash())
        ),
    };
    Ok(EntryView {
        kind: entry.kind().name(),
        election_id: hex::encode(entry.election_id().to_bytes()),
        detail,
    })
}

/// The published result of one election.
#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct ResultView {
    /// Ballots counted.
    pub ballots: u64,
    /// Per contest: title and per option its label and count.
    pub contests: Vec<ContestResult>,
}

/// One contest of [`ResultView`].
#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct ContestResult {
    /// Title.
    pub title: String,
    /// `(option label, votes)` in manifest order.
    pub counts: Vec<(String, u64)>,
}

/// Reads the tally entry of `election` (its board bytes) into labelled counts. The
/// board checked the decryption shares before appending the tally; a full recount is
/// the verifier's job (`urna-verify`).
pub fn tally_result(entry: &[u8], election: &Election) -> Result<ResultView, WebError> {
    let entry = BoardEntry::from_canonical_bytes(entry)?;
    if *entry.election_id() != election.id() {
        return Err(WebError::UnexpectedEntry(
            "the tally is for another election".into(),
        ));
    }
    let Payload::Tally(tally) = entry.payload() else {
        return Err(WebError::UnexpectedEntry(format!(
            "expected a tally, got a {} entry",
            entry.kind().name()
        )));
    };
    let contests = &election.manifest().contests;
    let counts = tally.result.counts();
    if counts.len() != contests.len()
        || contests
            .iter()
            .zip(counts)
            .any(|(c, n)| c.options.len() != n.len())
    {
        return Err(WebError::UnexpectedEntry(
            "the tally does not have the manifest's shape".into(),
        ));
    }
    Ok(ResultView {
        ballots: tally.result.ballots(),
        contests: contests
            .iter()
            .zip(counts)
            .map(|(c, n)| ContestResult {
                title: c.title.clone(),
                counts: c.options.iter().cloned().zip(n.iter().copied()).collect(),
            })
            .collect(),
    })
}
