//! The waits between attempts: full jitter, doubling from a base up to a cap. Used by the
//! client between attempts of one call, and by the store between rounds of unprocessed work.

use std::time::Duration;

/// Waits between retries: full jitter, doubling from `base` up to `max`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    pub rounds: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(10),
            max: Duration::from_millis(200),
            rounds: 8,
        }
    }
}

impl Backoff {
    /// A seed for [`delay`](Self::delay): the clock's nanoseconds, so processes that fail
    /// together do not retry together.
    pub fn seed() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::from(d.subsec_nanos()))
            .unwrap_or(1)
    }

    /// The wait before retry `round` (0-based): up to `base * 2^round`, at most `max`.
    pub fn delay(&self, round: u32, seed: u64) -> Duration {
        let cap = self.base.saturating_mul(1 << round.min(16)).min(self.max);
        // xorshift over the seed: jitter without a random-number crate.
        let mut x =
            seed ^ 0x9e37_79b9_7f4a_7c15 ^ u64::from(round).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let nanos = cap.as_nanos().max(1) as u64;
        Duration::from_nanos(x % nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_under_the_cap() {
        let b = Backoff::default();
        for round in 0..10 {
            for seed in 0..50 {
                assert!(b.delay(round, seed) <= b.max);
            }
        }
    }
}
