//! Per-pool counters (hits, misses, writes, errors by kind, DynamoDB requests and cost, bytes,
//! latency) and their CloudWatch Embedded Metric Format lines.
//!
//! Counting is relaxed atomics (a plain load and store on a store's read path): no lock, no
//! system call. The clock is read only around
//! operations that cost far more than reading it (DynamoDB calls, /tmp writes, deletes and
//! clears), never on a /tmp read: see [`Metrics::time_reads`].

use crate::error::Error;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

/// The core's error kinds, in the order of [`Metrics::errors`] (and their `stats()` keys).
pub const ERROR_KINDS: [&str; 8] = [
    "invalid_key",
    "invalid_config",
    "unsupported",
    "class_not_allowed",
    "too_large",
    "corrupt",
    "storage",
    "invalid_argument",
];

fn kind(e: &Error) -> usize {
    match e {
        Error::InvalidKey(_) => 0,
        Error::InvalidConfig(_) => 1,
        Error::Unsupported(_) => 2,
        Error::ClassNotAllowed(_) => 3,
        Error::TooLarge { .. } => 4,
        Error::Corrupt(_) => 5,
        Error::Storage(_) => 6,
        Error::InvalidArgument(_) => 7,
    }
}

/// A latency histogram in microseconds: log-linear buckets (four per power of two, so a
/// percentile is known within 25%), fixed in size, counts only.
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS],
}

/// Four exact buckets for 0-3 µs, then four per power of two up to 2^32 µs (71 minutes).
pub const BUCKETS: usize = 4 + 30 * 4;

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

/// The bucket of `us` microseconds.
pub fn bucket(us: u64) -> usize {
    if us < 4 {
        return us as usize;
    }
    let e = 63 - us.leading_zeros() as usize; // 2.. for us >= 4
    let sub = ((us >> (e - 2)) & 3) as usize;
    (4 + (e - 2) * 4 + sub).min(BUCKETS - 1)
}

/// The largest value of bucket `b` (what a percentile reports: an upper bound).
pub fn bucket_max(b: usize) -> u64 {
    if b < 4 {
        return b as u64;
    }
    let (e, sub) = ((b - 4) / 4 + 2, ((b - 4) % 4) as u64);
    ((5 + sub) << (e - 2)) - 1
}

impl Histogram {
    pub fn record(&self, us: u64) {
        self.buckets[bucket(us)].fetch_add(1, Relaxed);
    }

    pub fn counts(&self) -> [u64; BUCKETS] {
        std::array::from_fn(|i| self.buckets[i].load(Relaxed))
    }
}

/// The `p`th percentile (0 < p <= 100) of bucket counts, in microseconds; `None` without
/// samples.
pub fn percentile(counts: &[u64; BUCKETS], p: f64) -> Option<u64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = ((total as f64) * p / 100.0).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (b, &n) in counts.iter().enumerate() {
        seen += n;
        if seen >= rank {
            return Some(bucket_max(b));
        }
    }
    Some(bucket_max(BUCKETS - 1))
}

/// The counters of one pool.
#[derive(Default)]
pub struct Metrics {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub writes: AtomicU64,
    pub deletes: AtomicU64,
    pub clears: AtomicU64,
    pub errors: [AtomicU64; 8],
    /// Bytes of the entries read (hits) and written.
    pub bytes_read: AtomicU64,
    pub bytes_written: AtomicU64,
    /// DynamoDB: HTTP requests sent (attempts), of which retries, answers that were throttling.
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub throttles: AtomicU64,
    /// Consumed capacity units DynamoDB reported, in thousandths.
    pub capacity_milli: AtomicU64,
    /// DynamoDB: HTTP body bytes sent and received.
    pub http_bytes_out: AtomicU64,
    pub http_bytes_in: AtomicU64,
    pub read_latency: Histogram,
    pub write_latency: Histogram,
    /// Whether reads are timed (DynamoDB: yes; /tmp: no, a hit costs about a microsecond).
    pub time_reads: bool,
}

/// Adds 1.
pub fn inc(c: &AtomicU64) {
    c.fetch_add(1, Relaxed);
}

/// Adds `n`.
pub fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Relaxed);
}

/// Adds `n` from the one thread that counts into `c`: a load and a store, no locked
/// instruction. For the counters of a store's calls (a PHP object is used by one thread); the
/// DynamoDB client's counters, which its runtime's threads may share, use [`add`].
pub fn bump(c: &AtomicU64, n: u64) {
    c.store(c.load(Relaxed).wrapping_add(n), Relaxed);
}

impl Metrics {
    pub fn new(time_reads: bool) -> Self {
        Metrics {
            time_reads,
            ..Default::default()
        }
    }

    pub fn error(&self, e: &Error) {
        inc(&self.errors[kind(e)]);
    }

    /// What one HTTP call to DynamoDB did.
    pub fn call(&self, sent: &Sent) {
        add(&self.requests, u64::from(sent.attempts));
        add(&self.retries, u64::from(sent.attempts.saturating_sub(1)));
        add(&self.throttles, u64::from(sent.throttles));
        add(&self.http_bytes_out, sent.bytes_out);
        add(&self.http_bytes_in, sent.bytes_in);
    }

    pub fn capacity(&self, units: f64) {
        add(&self.capacity_milli, (units * 1000.0).round() as u64);
    }

    pub fn snapshot(&self) -> Snapshot {
        let l = |c: &AtomicU64| c.load(Relaxed);
        Snapshot {
            hits: l(&self.hits),
            misses: l(&self.misses),
            writes: l(&self.writes),
            deletes: l(&self.deletes),
            clears: l(&self.clears),
            errors: std::array::from_fn(|i| l(&self.errors[i])),
            bytes_read: l(&self.bytes_read),
            bytes_written: l(&self.bytes_written),
            requests: l(&self.requests),
            retries: l(&self.retries),
            throttles: l(&self.throttles),
            capacity_milli: l(&self.capacity_milli),
            http_bytes_out: l(&self.http_bytes_out),
            http_bytes_in: l(&self.http_bytes_in),
            read_latency: self.read_latency.counts(),
            write_latency: self.write_latency.counts(),
        }
    }
}

/// A timer that reads the clock only when asked to time.
pub struct Timer(Option<Instant>);

impl Timer {
    pub fn start(on: bool) -> Timer {
        Timer(on.then(Instant::now))
    }

    pub fn stop(self, into: &Histogram) {
        if let Some(t) = self.0 {
            into.record(t.elapsed().as_micros().min(u128::from(u64::MAX)) as u64);
        }
    }
}

/// What the HTTP client did for one call: attempts sent, throttling answers, body bytes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sent {
    pub attempts: u32,
    pub throttles: u32,
    pub bytes_out: u64,
    pub bytes_in: u64,
}

/// The consumed capacity in a DynamoDB answer asked with `ReturnConsumedCapacity: TOTAL`: the
/// sum of every `"CapacityUnits":` number (one object for single-item calls, one per table for
/// batches). The text cannot occur elsewhere: within JSON strings quotes are escaped.
pub fn consumed_capacity(answer: &[u8]) -> f64 {
    const NEEDLE: &[u8] = b"\"CapacityUnits\":";
    let mut total = 0.0;
    for at in memchr::memmem::find_iter(answer, NEEDLE) {
        let rest = &answer[at + NEEDLE.len()..];
        let len = rest
            .iter()
            .position(|c| !matches!(c, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-' | b' '))
            .unwrap_or(rest.len());
        if let Some(n) = std::str::from_utf8(&rest[..len])
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
        {
            total += n;
        }
    }
    total
}

/// The counters at one moment; [`Snapshot::since`] gives the activity between two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub hits: u64,
    pub misses: u64,
    pub writes: u64,
    pub deletes: u64,
    pub clears: u64,
    pub errors: [u64; 8],
    pub bytes_read: u64,
    pub bytes_written: u64,
    pub requests: u64,
    pub retries: u64,
    pub throttles: u64,
    pub capacity_milli: u64,
    pub http_bytes_out: u64,
    pub http_bytes_in: u64,
    pub read_latency: [u64; BUCKETS],
    pub write_latency: [u64; BUCKETS],
}

impl Default for Snapshot {
    fn default() -> Self {
        Metrics::default().snapshot()
    }
}

impl Snapshot {
    /// The activity since `earlier`.
    pub fn since(&self, earlier: &Snapshot) -> Snapshot {
        let d = |a: u64, b: u64| a.saturating_sub(b);
        Snapshot {
            hits: d(self.hits, earlier.hits),
            misses: d(self.misses, earlier.misses),
            writes: d(self.writes, earlier.writes),
            deletes: d(self.deletes, earlier.deletes),
            clears: d(self.clears, earlier.clears),
            errors: std::array::from_fn(|i| d(self.errors[i], earlier.errors[i])),
            bytes_read: d(self.bytes_read, earlier.bytes_read),
            bytes_written: d(self.bytes_written, earlier.bytes_written),
            requests: d(self.requests, earlier.requests),
            retries: d(self.retries, earlier.retries),
            throttles: d(self.throttles, earlier.throttles),
            capacity_milli: d(self.capacity_milli, earlier.capacity_milli),
            http_bytes_out: d(self.http_bytes_out, earlier.http_bytes_out),
            http_bytes_in: d(self.http_bytes_in, earlier.http_bytes_in),
            read_latency: std::array::from_fn(|i| d(self.read_latency[i], earlier.read_latency[i])),
            write_latency: std::array::from_fn(|i| {
                d(self.write_latency[i], earlier.write_latency[i])
            }),
        }
    }

    /// Whether nothing happened.
    pub fn is_idle(&self) -> bool {
        *self == Snapshot::default()
    }

    /// The values `stats()` shows, by name: `(key, value, unit)`. `dynamodb`: with the
    /// DynamoDB request counters. Latency percentiles are in milliseconds, left out without
    /// samples.
    pub fn values(&self, dynamodb: bool) -> Vec<(String, Value)> {
        use Value::{Float, Int};
        let mut out = vec![
            ("hits".to_string(), Int(self.hits)),
            ("misses".into(), Int(self.misses)),
            ("writes".into(), Int(self.writes)),
            ("deletes".into(), Int(self.deletes)),
            ("clears".into(), Int(self.clears)),
            ("errors".into(), Int(self.errors.iter().sum())),
        ];
        for (name, n) in ERROR_KINDS.iter().zip(self.errors) {
            out.push((format!("errors_{name}"), Int(n)));
        }
        out.push(("bytes_read".into(), Int(self.bytes_read)));
        out.push(("bytes_written".into(), Int(self.bytes_written)));
        if dynamodb {
            out.extend([
                ("dynamodb_requests".to_string(), Int(self.requests)),
                ("dynamodb_retries".into(), Int(self.retries)),
                ("dynamodb_throttles".into(), Int(self.throttles)),
                (
                    "dynamodb_consumed_capacity".into(),
                    Float(self.capacity_milli as f64 / 1000.0),
                ),
                ("dynamodb_bytes_sent".into(), Int(self.http_bytes_out)),
                ("dynamodb_bytes_received".into(), Int(self.http_bytes_in)),
            ]);
        }
        for (kind, counts) in [("read", &self.read_latency), ("write", &self.write_latency)] {
            for (p, name) in [(50.0, "p50"), (99.0, "p99")] {
                if let Some(us) = percentile(counts, p) {
                    out.push((
                        format!("{kind}_latency_{name}_ms"),
                        Float(us as f64 / 1000.0),
                    ));
                }
            }
        }
        out
    }
}

/// A counter or a measure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Int(u64),
    Float(f64),
}

/// The EMF metric name and unit of a `stats()` key; `None` for keys not sent (error kinds
/// without errors are left out).
fn metric(key: &str, v: Value) -> Option<(String, &'static str)> {
    let unit = if key.ends_with("_ms") {
        "Milliseconds"
    } else if key.starts_with("bytes_")
        || key.ends_with("_bytes_sent")
        || key.ends_with("_received")
    {
        "Bytes"
    } else {
        "Count"
    };
    if key.starts_with("errors_") && v == Value::Int(0) {
        return None;
    }
    // hits -> Hits, dynamodb_consumed_capacity -> DynamoDbConsumedCapacity
    let name = key
        .split('_')
        .map(|w| match w {
            "dynamodb" => "DynamoDb".to_string(),
            "ms" => String::new(),
            "p50" | "p99" => w.to_uppercase(),
            w => w[..1].to_uppercase() + &w[1..],
        })
        .collect();
    Some((name, unit))
}

/// Where a pool's EMF lines go in CloudWatch: the metric namespace and the dimensions
/// (`Store`: tmp or dynamodb; `Namespace`: the pool's namespace, `(none)` when empty).
#[derive(Debug, Clone)]
pub struct EmfTarget {
    pub namespace: String,
    pub store: &'static str,
    pub pool_namespace: String,
}

/// The CloudWatch namespace used when the option or setting just turns EMF on.
pub const DEFAULT_EMF_NAMESPACE: &str = "LambdaCache";

/// One EMF line (JSON, no newline) for the activity `d` at `timestamp_ms`; `None` when there
/// was none.
pub fn emf_line(target: &EmfTarget, d: &Snapshot, timestamp_ms: u64) -> Option<String> {
    if d.is_idle() {
        return None;
    }
    let dynamodb = target.store == "dynamodb";
    let mut defs = Vec::new();
    let mut root = serde_json::Map::new();
    for (key, v) in d.values(dynamodb) {
        let Some((name, unit)) = metric(&key, v) else {
            continue;
        };
        defs.push(serde_json::json!({ "Name": name, "Unit": unit }));
        let value = match v {
            Value::Int(n) => serde_json::Value::from(n),
            Value::Float(f) => serde_json::Value::from(f),
        };
        root.insert(name, value);
    }
    let ns = if target.pool_namespace.is_empty() {
        "(none)"
    } else {
        &target.pool_namespace
    };
    root.insert("Store".into(), target.store.into());
    root.insert("Namespace".into(), ns.into());
    root.insert(
        "_aws".into(),
        serde_json::json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": target.namespace,
                "Dimensions": [["Store", "Namespace"]],
                "Metrics": defs,
            }],
        }),
    );
    Some(serde_json::Value::Object(root).to_string())
}

/// Turns a pool's counters into EMF lines of what happened since the last one.
pub struct Emitter {
    pub target: EmfTarget,
    last: std::sync::Mutex<Snapshot>,
}

impl Emitter {
    pub fn new(target: EmfTarget) -> Self {
        Emitter {
            target,
            last: Default::default(),
        }
    }

    /// The line for the activity since the last call, `None` when there was none.
    pub fn take(&self, metrics: &Metrics, timestamp_ms: u64) -> Option<String> {
        let now = metrics.snapshot();
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let d = now.since(&last);
        *last = now;
        emf_line(&self.target, &d, timestamp_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_log_linear_and_cover_every_value() {
        for us in [
            0u64,
            1,
            3,
            4,
            5,
            7,
            8,
            9,
            15,
            16,
            100,
            1000,
            123_456,
            1 << 31,
        ] {
            let b = bucket(us);
            assert!(bucket_max(b) >= us, "{us} in {b}");
            assert!(b == 0 || bucket_max(b - 1) < us, "{us} in {b}");
            // Within 25% of the value from 4 µs on.
            assert!(bucket_max(b) as f64 <= (us as f64 * 1.25).max(3.0), "{us}");
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
        // Buckets are contiguous.
        for b in 1..BUCKETS {
            assert_eq!(bucket(bucket_max(b - 1) + 1), b);
        }
    }

    #[test]
    fn percentiles_come_from_the_counts() {
        let h = Histogram::default();
        assert_eq!(percentile(&h.counts(), 50.0), None);
        for _ in 0..98 {
            h.record(100);
        }
        h.record(10_000);
        h.record(20_000);
        let c = h.counts();
        assert_eq!(percentile(&c, 50.0), Some(bucket_max(bucket(100))));
        assert_eq!(percentile(&c, 98.0), Some(bucket_max(bucket(100))));
        assert_eq!(percentile(&c, 99.0), Some(bucket_max(bucket(10_000))));
        assert_eq!(percentile(&c, 100.0), Some(bucket_max(bucket(20_000))));
    }

    #[test]
    fn counters_add_and_snapshots_subtract() {
        let m = Metrics::new(false);
        inc(&m.hits);
        add(&m.bytes_read, 10);
        m.error(&Error::Storage("x".into()));
        m.call(&Sent {
            attempts: 3,
            throttles: 2,
            bytes_out: 5,
            bytes_in: 7,
        });
        m.capacity(0.5);
        let a = m.snapshot();
        assert_eq!((a.hits, a.bytes_read, a.errors[6]), (1, 10, 1));
        assert_eq!((a.requests, a.retries, a.throttles), (3, 2, 2));
        assert_eq!(
            (a.capacity_milli, a.http_bytes_out, a.http_bytes_in),
            (500, 5, 7)
        );
        inc(&m.misses);
        let d = m.snapshot().since(&a);
        assert_eq!((d.hits, d.misses, d.requests), (0, 1, 0));
        assert!(m.snapshot().since(&m.snapshot()).is_idle());
    }

    #[test]
    fn consumed_capacity_sums_every_table() {
        assert_eq!(
            consumed_capacity(
                br#"{"Item":{},"ConsumedCapacity":{"CapacityUnits":0.5,"TableName":"t"}}"#
            ),
            0.5
        );
        assert_eq!(
            consumed_capacity(
                br#"{"ConsumedCapacity":[{"CapacityUnits":2,"TableName":"a"},{"TableName":"b","CapacityUnits":1.5}]}"#
            ),
            3.5
        );
        // Quotes inside strings are escaped: a key cannot fake it.
        assert_eq!(
            consumed_capacity(br#"{"Item":{"id":{"S":"\"CapacityUnits\":9"}}}"#),
            0.0
        );
    }

    #[test]
    fn an_emf_line_declares_every_value_it_carries() {
        let m = Metrics::new(true);
        assert_eq!(
            Emitter::new(target()).take(&m, 1),
            None,
            "no activity, no line"
        );
        inc(&m.hits);
        inc(&m.misses);
        m.error(&Error::Corrupt("x".into()));
        m.read_latency.record(1500);
        let e = Emitter::new(target());
        let line = e.take(&m, 1_700_000_000_000).unwrap();
        assert_eq!(e.take(&m, 1_700_000_000_001), None, "deltas: nothing new");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000u64);
        let d = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(d["Namespace"], "LambdaCache");
        assert_eq!(d["Dimensions"], serde_json::json!([["Store", "Namespace"]]));
        assert_eq!(
            (&v["Store"], &v["Namespace"]),
            (&"dynamodb".into(), &"app".into())
        );
        let defs = d["Metrics"].as_array().unwrap();
        for def in defs {
            let name = def["Name"].as_str().unwrap();
            assert!(v[name].is_number(), "{name}");
            assert!(["Count", "Bytes", "Milliseconds"].contains(&def["Unit"].as_str().unwrap()));
        }
        let names: Vec<&str> = defs.iter().map(|d| d["Name"].as_str().unwrap()).collect();
        for n in [
            "Hits",
            "Misses",
            "Errors",
            "ErrorsCorrupt",
            "DynamoDbConsumedCapacity",
            "ReadLatencyP50",
        ] {
            assert!(names.contains(&n), "{n} in {names:?}");
        }
        assert!(!names.contains(&"ErrorsStorage"));
        assert!(!names.contains(&"WriteLatencyP50"));
        assert_eq!(
            (&v["Hits"], &v["ReadLatencyP99"]),
            (&1.into(), &1.535.into())
        );
    }

    fn target() -> EmfTarget {
        EmfTarget {
            namespace: DEFAULT_EMF_NAMESPACE.into(),
            store: "dynamodb",
            pool_namespace: "app".into(),
        }
    }
}
