//! The first pass (PROTOCOL 13.3, checks 5–9): the log's structure. Every line's index,
//! every full line's leaf hash and election, and the root of all leaf hashes against the
//! signed checkpoint, which proves together that the export holds every entry of the log
//! up to the checkpoint and nothing else. On the way it records, per nullifier, where its
//! last ballot is, which the second pass needs to know which ballots count.

use std::collections::HashMap;
use std::io::BufRead;

use urna_log::{leaf_hash, CompactRange};
use urna_protocol::board::EntryKind;

use crate::error::{Failure, VerifyError};
use crate::export::{ballot_key, raw_kind, Header, Line, LineReader};

/// What the first pass learnt about one nullifier's ballots.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NullifierInfo {
    /// Log index of its last ballot: the one that counts (PROTOCOL 12.2).
    pub(crate) last: u64,
    /// Ballot entries under it.
    pub(crate) ballots: u32,
    /// Dense number of the nullifier (for compact maps in the second pass).
    pub(crate) ordinal: u32,
}

/// The result of the first pass.
pub(crate) struct Scan {
    /// Per nullifier, from the raw bytes of the election's ballot entries.
    pub(crate) nullifiers: HashMap<[u8; 32], NullifierInfo>,
    /// Lines of the exported election.
    pub(crate) election_entries: u64,
}

/// Reads the lines after the header and checks the log's structure.
pub(crate) fn scan<R: BufRead>(
    lines: &mut LineReader<R>,
    header: &Header,
) -> Result<Scan, Failure> {
    let size = header.checkpoint.size();
    let mut range = CompactRange::new();
    let mut nullifiers: HashMap<[u8; 32], NullifierInfo> = HashMap::new();
    let mut election_entries = 0u64;
    let mut expected = 0u64;
    while let Some(raw) = lines
        .next_line()
        .map_err(|e| Failure::at(expected, None, e))?
    {
        let at = |e| Failure::at(expected, None, e);
        if expected == size {
            return Err(at(VerifyError::TrailingData { size }));
        }
        let line = Line::parse(raw).map_err(at)?;
        // PROTOCOL 13.3 check 5
        if line.index != expected {
            return Err(at(VerifyError::IndexMismatch {
                expected,
                found: line.index,
            }));
        }
        if let Some(full) = &line.full {
            // check 6
            let computed = leaf_hash(&full.bytes);
            if computed != line.leaf_hash {
                return Err(at(VerifyError::LeafHashMismatch {
                    claimed: line.leaf_hash.to_string(),
                    computed: computed.to_string(),
                }));
            }
            // check 7
            if full.election_id != header.election_id {
                return Err(at(VerifyError::WrongElection {
                    expected: hex::encode(header.election_id),
                    found: hex::encode(full.election_id),
                }));
            }
            election_entries += 1;
            if raw_kind(&full.bytes) == Some(EntryKind::Ballot as u8) {
                if let Some((nullifier, _)) = ballot_key(&full.bytes) {
                    let next = u32::try_from(nullifiers.len()).unwrap_or(u32::MAX);
                    let info = nullifiers.entry(nullifier).or_insert(NullifierInfo {
                        last: expected,
                        ballots: 0,
                        ordinal: next,
                    });
                    info.last = expected;
                    info.ballots = info.ballots.saturating_add(1);
                }
            }
        }
        range
            .push(line.leaf_hash)
            .map_err(|e| at(VerifyError::MalformedLine(e.to_string())))?;
        expected += 1;
    }
    // check 8
    if expected < size {
        return Err(Failure::at(
            expected,
            None,
            VerifyError::MissingEntries {
                expected: size,
                found: expected,
            },
        ));
    }
    // check 9
    let root = range.root();
    if root != *header.checkpoint.root() {
        return Err(Failure::global(VerifyError::RootMismatch {
            computed: root.to_string(),
            signed: header.checkpoint.root().to_string(),
        }));
    }
    Ok(Scan {
        nullifiers,
        election_entries,
    })
}
