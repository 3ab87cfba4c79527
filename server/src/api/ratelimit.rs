//! Per-client rate limits on the write endpoints.
//!
//! Every `POST` passes a token bucket (GCRA, the `governor` crate) keyed by the client's
//! address: `per_second` tokens a second, at most `burst` at once. A client over its
//! limit gets `429 rate_limited` with `Retry-After`; reads are never limited.
//!
//! # The client's address
//!
//! The address of the TCP peer, unless the board runs behind a reverse proxy and
//! `--trust-forwarded-for` is set: then the *last* address of `X-Forwarded-For` (the one
//! the proxy itself appended; earlier ones are whatever the client claimed). IPv6
//! clients are keyed by their /64 prefix, since one host usually holds a whole /64.
//!
//! # Memory
//!
//! The limiter remembers one small state per recently seen key. A background task
//! forgets keys whose bucket is full again every [`FORGET_EVERY`], so the memory follows
//! the number of clients active in the last few seconds, not all clients ever seen.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::ApiError;

/// How often keys with a full bucket are forgotten.
pub const FORGET_EVERY: Duration = Duration::from_secs(10);

/// The rate-limit settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Sustained writes a second per client; 0 disables the limit.
    pub per_second: u32,
    /// Writes a client may send at once; 0 disables the limit.
    pub burst: u32,
    /// Take the client's address from `X-Forwarded-For` (behind a trusted proxy).
    pub trust_forwarded_for: bool,
}

/// Per-client token buckets.
pub struct ClientRateLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    trust_forwarded_for: bool,
}

impl std::fmt::Debug for ClientRateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRateLimit")
            .field("clients", &self.limiter.len())
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .finish()
    }
}

impl ClientRateLimit {
    /// The limiter for `config`, or `None` when it is disabled. Starts the task that
    /// forgets idle clients (so it must be called inside a Tokio runtime); the task ends
    /// when the limiter is dropped.
    pub fn start(config: RateLimitConfig) -> Option<Arc<Self>> {
        let per_second = NonZeroU32::new(config.per_second)?;
        let burst = NonZeroU32::new(config.burst)?;
        let limit = Arc::new(Self {
            limiter: DefaultKeyedRateLimiter::keyed(
                Quota::per_second(per_second).allow_burst(burst),
            ),
            clock: DefaultClock::default(),
            trust_forwarded_for: config.trust_forwarded_for,
        });
        tokio::spawn(forget_idle(Arc::downgrade(&limit)));
        Some(limit)
    }

    /// Takes one token of `client`'s bucket, or says how many seconds to wait.
    pub fn check(&self, client: IpAddr) -> Result<(), ApiError> {
        self.limiter.check_key(&key(client)).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            // Whole seconds, rounded up: waiting that long always finds a token.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            ApiError::RateLimited {
                retry_after: secs.max(1),
            }
        })
    }

    /// Clients currently remembered.
    pub fn clients(&self) -> usize {
        self.limiter.len()
    }

    /// Forgets the clients whose bucket is full again.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// The client address of a request: the socket's peer, or with
    /// `trust_forwarded_for` the last `X-Forwarded-For` address. `None` when neither is
    /// known (a router driven without a socket).
    pub fn client(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
        if self.trust_forwarded_for {
            if let Some(ip) = last_forwarded_for(headers) {
                return Some(ip);
            }
        }
        peer.map(|p| p.ip())
    }
}

async fn forget_idle(limit: Weak<ClientRateLimit>) {
    let mut tick = tokio::time::interval(FORGET_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(limit) = limit.upgrade() else {
            return;
        };
        limit.forget_idle();
    }
}

/// The bucket key of an address: IPv4 (and IPv4-mapped IPv6) as is, IPv6 by /64.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The last address of the last `X-Forwarded-For` header, if it parses.
fn last_forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let value = headers.get_all("x-forwarded-for").iter().next_back()?;
    let last = value.to_str().ok()?.rsplit(',').next()?.trim();
    last.parse::<IpAddr>()
        .ok()
        .or_else(|| last.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// The middleware: limits `POST`s per client; everything else passes.
pub async fn limit_writes(
    State(limit): State<Option<Arc<ClientRateLimit>>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(limit) = &limit {
        if request.method() == Method::POST {
            let peer = request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0);
            match limit.client(request.headers(), peer) {
                Some(client) => {
                    if let Err(e) = limit.check(client) {
                        tracing::debug!(%client, "rate limited");
                        return e.into_response();
                    }
                }
                None => {
                    // Only a router driven without a socket (tests, embedding) gets here.
                    tracing::debug!("no client address: not rate limited");
                }
            }
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(per_second: u32, burst: u32, trust: bool) -> RateLimitConfig {
        RateLimitConfig {
            per_second,
            burst,
            trust_forwarded_for: trust,
        }
    }

    #[tokio::test]
    async fn zero_disables() {
        assert!(ClientRateLimit::start(config(0, 10, false)).is_none());
        assert!(ClientRateLimit::start(config(10, 0, false)).is_none());
    }

    #[tokio::test]
    async fn burst_then_limited_per_client() {
        let limit = ClientRateLimit::start(config(1, 3, false)).unwrap();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            limit.check(a).unwrap();
        }
        match limit.check(a) {
            Err(ApiError::RateLimited { retry_after }) => assert_eq!(retry_after, 1),
            other => panic!("expected rate_limited, got {other:?}"),
        }
        // Another client has its own bucket.
        limit.check(b).unwrap();
        assert_eq!(limit.clients(), 2);
    }

    #[tokio::test]
    async fn ipv6_keyed_by_prefix() {
        let limit = ClientRateLimit::start(config(1, 1, false)).unwrap();
        limit.check("2001:db8:1:2::1".parse().unwrap()).unwrap();
        assert!(limit.check("2001:db8:1:2::ffff".parse().unwrap()).is_err());
        limit.check("2001:db8:1:3::1".parse().unwrap()).unwrap();
    }

    #[test]
    fn forwarded_for_only_when_trusted() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().unwrap(),
        );
        let peer: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let trusted = ClientRateLimit::start(config(1, 1, true)).unwrap();
            assert_eq!(
                trusted.client(&headers, Some(peer)),
                Some("198.51.100.7".parse().unwrap())
            );
            let direct = ClientRateLimit::start(config(1, 1, false)).unwrap();
            assert_eq!(direct.client(&headers, Some(peer)), Some(peer.ip()));
            // A trusted proxy that sent no header: the socket's address.
            assert_eq!(
                trusted.client(&HeaderMap::new(), Some(peer)),
                Some(peer.ip())
            );
        });
    }
}
