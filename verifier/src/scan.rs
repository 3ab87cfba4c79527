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

/// Lines parsed and hashed together on every core, at most this many at a time...
const SCAN_BATCH_LINES: usize = 1024;
/// ...and at most this many bytes of line text.
const SCAN_BATCH_BYTES: usize = 32 << 20;

/// What the first pass needs of one line, computed on every core ahead of the in-order
/// checks.
struct Scanned {
    index: u64,
    leaf_hash: urna_log::Hash,
    full: Option<ScannedEntry>,
}

/// The part of a full line the first pass checks.
struct ScannedEntry {
    /// `leaf_hash(entry)`, recomputed.
    computed: urna_log::Hash,
    election_id: [u8; 32],
    /// The nullifier, for a ballot entry.
    nullifier: Option<[u8; 32]>,
}

fn scan_line(raw: &[u8]) -> Result<Scanned, VerifyError> {
    let line = Line::parse(raw)?;
    let full = line.full.map(|full| ScannedEntry {
        computed: leaf_hash(&full.bytes),
        election_id: full.election_id,
        nullifier: if raw_kind(&full.bytes) == Some(EntryKind::Ballot as u8) {
            ballot_key(&full.bytes).map(|(nullifier, _)| nullifier)
        } else {
            None
        },
    });
    Ok(Scanned {
        index: line.index,
        leaf_hash: line.leaf_hash,
        full,
    })
}

/// The in-order state of the first pass.
struct Walk<'a> {
    header: &'a Header,
    range: CompactRange,
    nullifiers: HashMap<[u8; 32], NullifierInfo>,
    election_entries: u64,
    expected: u64,
}

impl Walk<'_> {
    /// Parses and hashes the lines `raws` on every core, then checks them in log order,
    /// so the first failure reported is the first in the log.
    fn lines(&mut self, raws: Vec<Vec<u8>>) -> Result<(), Failure> {
        use rayon::prelude::*;
        let scanned: Vec<Result<Scanned, VerifyError>> =
            raws.par_iter().map(|raw| scan_line(raw)).collect();
        drop(raws);
        for line in scanned {
            self.line(line)
                .map_err(|e| Failure::at(self.expected, None, e))?;
            self.expected += 1;
        }
        Ok(())
    }

    fn line(&mut self, line: Result<Scanned, VerifyError>) -> Result<(), VerifyError> {
        let size = self.header.checkpoint.size();
        if self.expected == size {
            return Err(VerifyError::TrailingData { size });
        }
        let line = line?;
        // PROTOCOL 13.3 check 5
        if line.index != self.expected {
            return Err(VerifyError::IndexMismatch {
                expected: self.expected,
                found: line.index,
            });
        }
        if let Some(full) = &line.full {
            // check 6
            if full.computed != line.leaf_hash {
                return Err(VerifyError::LeafHashMismatch {
                    claimed: line.leaf_hash.to_string(),
                    computed: full.computed.to_string(),
                });
            }
            // check 7
            if full.election_id != self.header.election_id {
                return Err(VerifyError::WrongElection {
                    expected: hex::encode(self.header.election_id),
                    found: hex::encode(full.election_id),
                });
            }
            self.election_entries += 1;
            if let Some(nullifier) = full.nullifier {
                let next = u32::try_from(self.nullifiers.len()).unwrap_or(u32::MAX);
                let info = self.nullifiers.entry(nullifier).or_insert(NullifierInfo {
                    last: self.expected,
                    ballots: 0,
                    ordinal: next,
                });
                info.last = self.expected;
                info.ballots = info.ballots.saturating_add(1);
            }
        }
        self.range
            .push(line.leaf_hash)
            .map_err(|e| VerifyError::MalformedLine(e.to_string()))
    }
}

/// Reads the lines after the header and checks the log's structure. Lines are read in
/// batches; each batch is parsed and hashed on every core (hex decoding and SHA-256 of
/// every entry), then checked in log order.
pub(crate) fn scan<R: BufRead>(
    lines: &mut LineReader<R>,
    header: &Header,
) -> Result<Scan, Failure> {
    let size = header.checkpoint.size();
    let mut walk = Walk {
        header,
        range: CompactRange::new(),
        nullifiers: HashMap::new(),
        election_entries: 0,
        expected: 0,
    };
    loop {
        let (batch, error) = lines.read_batch(SCAN_BATCH_LINES, SCAN_BATCH_BYTES);
        let end = batch.is_empty();
        walk.lines(batch)?;
        if let Some(e) = error {
            // The lines before the bad one are checked first.
            return Err(Failure::at(walk.expected, None, e));
        }
        if end {
            break;
        }
    }
    let Walk {
        range,
        nullifiers,
        election_entries,
        expected,
        ..
    } = walk;
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
