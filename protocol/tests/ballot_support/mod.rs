//! Shared fixtures for the ballot tests: a seeded election with a depth-4 census and
//! single-party (insecure, test-only) Groth16 keys.
#![allow(dead_code)] // each test binary uses a different subset of these helpers
#![allow(clippy::unwrap_used, clippy::expect_used)] // test fixtures

use curve25519_dalek::scalar::Scalar;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::OnceLock;
use urna_circuits::keys::setup_single_party;
use urna_circuits::{
    CensusRoot, CensusTree, ElectionId, Nullifier, PreparedVerifyingKey, ProvingKey, VoterSecret,
};
use urna_protocol::ballot::{encrypt_ballot, Ballot, BallotAudit, EncryptedBallot};
use urna_protocol::elgamal::ElectionPublicKey;
use urna_protocol::encryption::EncryptionPublicKey;
use urna_protocol::group::G;
use urna_protocol::manifest::{Contest, Manifest, Trustee};
use urna_protocol::signing::SigningKey;

pub const DEPTH: u32 = 4;

pub struct Election {
    pub manifest: Manifest,
    pub manifest_hash: [u8; 32],
    pub secret: Scalar,
    pub pk: ElectionPublicKey,
    pub proving_key: ProvingKey,
    pub pvk: PreparedVerifyingKey,
    pub voters: Vec<VoterSecret>,
    pub census: CensusTree,
    pub root: CensusRoot,
}

pub fn manifest(vk_hash: [u8; 32], pk_hash: [u8; 32]) -> Manifest {
    Manifest {
        election_id: ElectionId::from_bytes(&[0x07; 32]).unwrap(),
        title: "Test election".into(),
        contests: vec![
            Contest {
                title: "Chair".into(),
                options: vec!["A".into(), "B".into(), "C".into()],
                min_selections: 1,
                max_selections: 1,
            },
            Contest {
                title: "Committee".into(),
                options: vec!["P".into(), "Q".into(), "R".into(), "S".into()],
                min_selections: 0,
                max_selections: 2,
            },
        ],
        opens_at: 1_800_000_000,
        closes_at: 1_800_086_400,
        census_depth: DEPTH,
        trustees: vec![Trustee {
            name: "T1".into(),
            signing_key: SigningKey::from_seed(&[1; 32]).public_key(),
            encryption_key: EncryptionPublicKey::from_point(Scalar::from(5u64) * G).unwrap(),
        }],
        threshold: 1,
        authority_key: SigningKey::from_seed(&[0xa0; 32]).public_key(),
        board_key: SigningKey::from_seed(&[0xb0; 32]).public_key(),
        setup: urna_protocol::manifest::Setup::Keys {
            verifying_key_hash: vk_hash,
            proving_key_hash: pk_hash,
        },
    }
}

/// The shared election (setup once per test binary).
pub fn election() -> &'static Election {
    static E: OnceLock<Election> = OnceLock::new();
    E.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(0xe1ec);
        let (proving_key, vk) = setup_single_party(DEPTH, &mut rng).unwrap();
        let manifest = manifest(vk.verifying_key_hash(), proving_key.proving_key_hash());
        let secret = Scalar::from(0x5ec7u64) + Scalar::from(rng_u64(&mut rng));
        let pk = ElectionPublicKey::from_point(secret * G).unwrap();
        let voters: Vec<VoterSecret> = (0..6).map(|_| VoterSecret::random(&mut rng)).collect();
        let mut census = CensusTree::new(DEPTH).unwrap();
        for v in &voters {
            census.insert(v.identity_commitment().unwrap()).unwrap();
        }
        let root = census.root();
        Election {
            manifest_hash: manifest.manifest_hash(),
            manifest,
            secret,
            pk,
            proving_key,
            pvk: vk.prepare(),
            voters,
            census,
            root,
        }
    })
}

fn rng_u64(rng: &mut ChaCha20Rng) -> u64 {
    use rand_chacha::rand_core::RngCore;
    rng.next_u64()
}

impl Election {
    pub fn nullifier(&self, voter: usize) -> Nullifier {
        self.voters[voter]
            .nullifier(&self.manifest.election_id)
            .unwrap()
    }

    /// Encrypts `selections` for `voter` (no eligibility proof yet).
    pub fn encrypt(
        &self,
        voter: usize,
        selections: &[Vec<bool>],
        rng: &mut ChaCha20Rng,
    ) -> (EncryptedBallot, BallotAudit) {
        encrypt_ballot(
            &self.manifest,
            &self.pk,
            self.root,
            self.nullifier(voter),
            selections,
            rng,
        )
        .unwrap()
    }

    /// Proves eligibility for `voter` over `ballot`'s digest.
    pub fn prove(
        &self,
        voter: usize,
        ballot: &EncryptedBallot,
        rng: &mut ChaCha20Rng,
    ) -> urna_circuits::EligibilityProof {
        let statement = ballot.eligibility_statement(&self.manifest_hash);
        let path = self.census.path(voter as u64).unwrap();
        urna_circuits::prove(
            &self.proving_key,
            &self.voters[voter],
            &path,
            &statement,
            rng,
        )
        .unwrap()
    }

    /// A complete cast ballot.
    pub fn cast(&self, voter: usize, selections: &[Vec<bool>], rng: &mut ChaCha20Rng) -> Ballot {
        let (enc, _) = self.encrypt(voter, selections, rng);
        let proof = self.prove(voter, &enc, rng);
        enc.attach_eligibility(proof)
    }
}

pub fn default_selections() -> Vec<Vec<bool>> {
    vec![vec![false, true, false], vec![true, false, false, true]]
}

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}
