//! Prometheus metrics, served at `/metrics`. Each board has its own registry, so tests
//! may run several boards in one process.

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// The board's metrics.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    /// Ballots appended (re-votes included).
    pub ballots_accepted: IntCounter,
    /// Ballot submissions answered with the receipt of a ballot already on the board.
    pub ballots_replayed: IntCounter,
    /// Ballots rejected, by error code.
    pub ballots_rejected: IntCounterVec,
    /// Seconds spent verifying one batch of ballots.
    pub ballot_verification_seconds: Histogram,
    /// Ballots verified together in one batch.
    pub ballot_batch_size: Histogram,
    /// Requests committed together in one group (one transaction, one checkpoint).
    pub append_group_size: Histogram,
    /// Seconds to write and commit one group (the storage transaction, fsync included).
    pub append_commit_seconds: Histogram,
    /// Entries appended, by kind.
    pub entries_appended: IntCounterVec,
    /// The log size.
    pub log_size: IntGauge,
}

impl Metrics {
    /// Registers the board's metrics in a new registry.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("urna".into()), None)?;
        let ballots_accepted = IntCounter::new("ballots_accepted_total", "Ballots appended")?;
        let ballots_replayed = IntCounter::new(
            "ballots_replayed_total",
            "Ballot submissions answered with an earlier receipt",
        )?;
        let ballots_rejected = IntCounterVec::new(
            Opts::new("ballots_rejected_total", "Ballots rejected, by error code"),
            &["reason"],
        )?;
        let ballot_verification_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "ballot_verification_seconds",
                "Time to verify a batch of ballots",
            )
            .buckets(vec![
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
        )?;
        let ballot_batch_size = Histogram::with_opts(
            HistogramOpts::new(
                "ballot_batch_size",
                "Ballots verified together in one batch",
            )
            .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0]),
        )?;
        let append_group_size = Histogram::with_opts(
            HistogramOpts::new(
                "append_group_size",
                "Append requests committed together in one group",
            )
            .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]),
        )?;
        let append_commit_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "append_commit_seconds",
                "Time to write and commit one group of entries",
            )
            .buckets(vec![
                0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            ]),
        )?;
        let entries_appended = IntCounterVec::new(
            Opts::new("entries_appended_total", "Board entries appended, by kind"),
            &["kind"],
        )?;
        let log_size = IntGauge::new("log_size", "Number of entries in the log")?;
        registry.register(Box::new(ballots_accepted.clone()))?;
        registry.register(Box::new(ballots_replayed.clone()))?;
        registry.register(Box::new(ballots_rejected.clone()))?;
        registry.register(Box::new(ballot_verification_seconds.clone()))?;
        registry.register(Box::new(ballot_batch_size.clone()))?;
        registry.register(Box::new(append_group_size.clone()))?;
        registry.register(Box::new(append_commit_seconds.clone()))?;
        registry.register(Box::new(entries_appended.clone()))?;
        registry.register(Box::new(log_size.clone()))?;
        Ok(Self {
            registry,
            ballots_accepted,
            ballots_replayed,
            ballots_rejected,
            ballot_verification_seconds,
            ballot_batch_size,
            append_group_size,
            append_commit_seconds,
            entries_appended,
            log_size,
        })
    }

    /// The text exposition format.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut buf = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buf)?;
        String::from_utf8(buf).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}
