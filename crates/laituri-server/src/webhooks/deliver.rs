//! One attempt of one delivery: the signed POST, what its answer means, and when to try again.
//!
//! The HTTP client is reqwest (with rustls): the workspace already builds it for the terminal's
//! sync and the server's tests, with the one TLS and crypto library the server uses, and it
//! gives a whole-request timeout, no redirects and a DNS resolver of our own (the loopback rule)
//! in a few lines; hyper-util's client would need TLS, timeouts and redirects put together by
//! hand. Redirects are not followed: a receiver that moved answers 3xx, which is retried and
//! shows in the log, and a redirect cannot lead a signed body somewhere the subscription did
//! not name.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine;
use hmac::{KeyInit, Mac};
use laituri_protocol::DeliveryStatus;
use laituri_protocol::webhooks::{ID_HEADER, MAX_EXCERPT, SIGNATURE_HEADER, TIMESTAMP_HEADER};

use super::{Attempted, DueDelivery, Settings, is_loopback, ms};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// `sha256=` and the Base64 of HMAC-SHA256(`secret`, `body`): the signature header's value.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        base64::engine::general_purpose::STANDARD.encode(tag)
    )
}

/// The client of every delivery of this process.
pub fn client(settings: &Settings) -> reqwest::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("laituri-webhooks/", env!("CARGO_PKG_VERSION")))
        .pool_idle_timeout(Duration::from_secs(30));
    if !settings.allow_loopback {
        builder = builder.dns_resolver(std::sync::Arc::new(NoLoopback));
    }
    builder.build()
}

/// Resolves names as the system does, without loopback addresses.
struct NoLoopback;

impl reqwest::dns::Resolve for NoLoopback {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let kept: Vec<SocketAddr> = found
                .filter(|a| !is_loopback(&a.ip().to_string()))
                .collect();
            if kept.is_empty() {
                let e: Box<dyn std::error::Error + Send + Sync> =
                    format!("{host} resolves to loopback addresses only, which are not allowed")
                        .into();
                return Err(e);
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// What a receiver answered, or why it did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Status {
        code: u16,
        excerpt: Option<String>,
    },
    /// No answer: `connect`, `timeout`, `refused_address` or `other`.
    Failed(&'static str),
}

/// POSTs `d`'s body once, signed, at `now_ms`.
pub async fn attempt(
    client: &reqwest::Client,
    d: &DueDelivery,
    settings: &Settings,
    now_ms: i64,
) -> Answer {
    if !settings.allow_loopback
        && reqwest::Url::parse(&d.url)
            .ok()
            .and_then(|u| u.host_str().map(is_loopback))
            .unwrap_or(false)
    {
        return Answer::Failed("refused_address");
    }
    let sent = client
        .post(&d.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(ID_HEADER, d.event_id.to_string())
        .header(TIMESTAMP_HEADER, now_ms.div_euclid(1_000).to_string())
        .header(SIGNATURE_HEADER, signature(&d.secret, d.body.as_bytes()))
        .body(d.body.clone())
        .send()
        .await;
    match sent {
        Ok(mut resp) => {
            let code = resp.status().as_u16();
            // A few hundred bytes of the answer at most: no receiver's body is kept beyond.
            let mut head = Vec::new();
            while head.len() < 4 * MAX_EXCERPT {
                match tokio::time::timeout(settings.timeout, resp.chunk()).await {
                    Ok(Ok(Some(chunk))) => head.extend_from_slice(&chunk),
                    _ => break,
                }
            }
            Answer::Status {
                code,
                excerpt: excerpt(&head),
            }
        }
        Err(e) if e.is_timeout() => Answer::Failed("timeout"),
        Err(e) if e.is_connect() => Answer::Failed("connect"),
        Err(e) => {
            tracing::debug!(error = %e, delivery = %d.delivery_id, "webhook attempt failed");
            Answer::Failed("other")
        }
    }
}

/// The first [`MAX_EXCERPT`] characters of an answer, control characters dropped.
fn excerpt(bytes: &[u8]) -> Option<String> {
    let text: String = String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_EXCERPT)
        .collect();
    let text = text.trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// The delay before attempt `n + 1` after `n` failed attempts: `first_retry` doubling up to
/// `max_retry`, of which a random part up to half is left out (so receivers that came back are
/// not hit by every retry at once).
pub fn backoff(settings: &Settings, failed: u32, jitter: f64) -> i64 {
    let first = ms(settings.first_retry).max(1);
    let cap = ms(settings.max_retry).max(first);
    let doublings = failed.saturating_sub(1).min(40);
    let full = first.saturating_mul(1_i64 << doublings.min(62)).min(cap);
    let jitter = jitter.clamp(0.0, 1.0);
    full - (full as f64 * 0.5 * jitter) as i64
}

/// The record of `d`'s attempt that got `answer`, at `now_ms`.
pub fn settle(d: &DueDelivery, answer: Answer, settings: &Settings, now_ms: i64) -> Attempted {
    settle_with(d, answer, settings, now_ms, rand::random::<f64>())
}

fn settle_with(
    d: &DueDelivery,
    answer: Answer,
    settings: &Settings,
    now_ms: i64,
    jitter: f64,
) -> Attempted {
    let attempts = d.attempts.saturating_add(1);
    let mut record = Attempted {
        delivery_id: d.delivery_id,
        webhook_id: d.webhook_id,
        claimed_until_ms: d.claimed_until_ms,
        attempts,
        status: DeliveryStatus::Pending,
        status_code: None,
        error: None,
        excerpt: None,
        next_attempt_at_ms: None,
        delivered_at_ms: None,
        gone: false,
    };
    match answer {
        Answer::Status { code, excerpt } => {
            record.status_code = Some(code);
            record.excerpt = excerpt;
            if (200..300).contains(&code) {
                record.status = DeliveryStatus::Delivered;
                record.delivered_at_ms = Some(now_ms);
                return record;
            }
            if code == 410 {
                record.status = DeliveryStatus::Failed;
                record.error = Some("gone".into());
                record.gone = true;
                return record;
            }
            record.error = Some("status".into());
        }
        Answer::Failed(kind) => record.error = Some(kind.into()),
    }
    let next = now_ms.saturating_add(backoff(settings, attempts, jitter));
    if next.saturating_sub(d.window_from_ms) > ms(settings.give_up_after) {
        record.status = DeliveryStatus::Failed;
    } else {
        record.next_attempt_at_ms = Some(next);
    }
    record
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_raw_body_in_base64() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="
        );
    }

    #[test]
    fn retries_double_to_an_hour_with_jitter_and_give_up_after_two_days() {
        let s = Settings::default();
        let minute = 60_000;
        let full: Vec<i64> = (1..=9).map(|n| backoff(&s, n, 0.0)).collect();
        assert_eq!(
            full,
            [1, 2, 4, 8, 16, 32, 60, 60, 60].map(|m| m * minute),
            "no jitter"
        );
        assert_eq!(backoff(&s, 1, 1.0), minute / 2, "at most half left out");
        assert_eq!(backoff(&s, u32::MAX, 0.3), backoff(&s, 100, 0.3));

        let d = DueDelivery {
            delivery_id: Uuid::nil(),
            webhook_id: Uuid::nil(),
            event_id: Uuid::nil(),
            url: "http://127.0.0.1:1/".into(),
            secret: "s".repeat(16),
            body: "{}".into(),
            attempts: 0,
            window_from_ms: 0,
            claimed_until_ms: 5,
        };
        // Walk a delivery that is never answered: retried for 48 hours, then failed.
        let (mut now, mut d2, mut tries) = (0, d.clone(), 0);
        loop {
            let r = settle_with(&d2, Answer::Failed("connect"), &s, now, 0.5);
            tries += 1;
            match r.next_attempt_at_ms {
                Some(next) => {
                    assert_eq!(r.status, DeliveryStatus::Pending);
                    assert!(next > now);
                    now = next;
                    d2.attempts = r.attempts;
                }
                None => {
                    assert_eq!(r.status, DeliveryStatus::Failed);
                    break;
                }
            }
        }
        assert!((47 * 3_600_000..=48 * 3_600_000).contains(&now), "{now}");
        assert!(tries > 40, "{tries}");

        let ok = settle_with(
            &d,
            Answer::Status {
                code: 204,
                excerpt: None,
            },
            &s,
            7,
            0.0,
        );
        assert_eq!(
            (ok.status, ok.delivered_at_ms, ok.attempts),
            (DeliveryStatus::Delivered, Some(7), 1)
        );
        let gone = settle_with(
            &d,
            Answer::Status {
                code: 410,
                excerpt: Some("bye".into()),
            },
            &s,
            7,
            0.0,
        );
        assert!(gone.gone && gone.status == DeliveryStatus::Failed);
        for code in [301, 400, 404, 429, 500, 503] {
            let r = settle_with(
                &d,
                Answer::Status {
                    code,
                    excerpt: None,
                },
                &s,
                7,
                0.0,
            );
            assert_eq!(r.status, DeliveryStatus::Pending, "{code}");
            assert_eq!(r.next_attempt_at_ms, Some(7 + 60_000), "{code}");
        }
    }

    #[test]
    fn an_excerpt_is_short_and_plain() {
        let long = format!("\x1b[31m{}", "x".repeat(5_000));
        let e = excerpt(long.as_bytes()).unwrap();
        assert_eq!(e.chars().count(), MAX_EXCERPT);
        assert!(!e.contains('\x1b'));
        assert_eq!(excerpt(b"  \n"), None);
    }
}
