//! AWS Signature Version 4 for the requests of the DynamoDB client, written from the AWS
//! documentation: HMAC-SHA256 over a canonical form of the request. The derived signing key is
//! kept per day and secret, so a request costs two SHA-256 of small strings and one HMAC; the
//! credentials are given per request (they may be refreshed: `credentials`).

use super::credentials::Credentials;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

/// HMAC-SHA256 (RFC 2104).
pub fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(data);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

pub fn hex(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    crate::key::hex_into(bytes, &mut out);
    String::from_utf8(out).expect("hex digits are ASCII")
}

/// `YYYYMMDD'T'HHMMSS'Z'` for a time in seconds since the epoch (UTC).
pub fn amz_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Where requests are signed for, and the signing key of the last day and secret used.
pub struct Signer {
    pub region: String,
    pub service: String,
    /// Date, secret access key, signing key.
    key: std::sync::Mutex<Option<(String, String, [u8; 32])>>,
}

impl Signer {
    pub fn new(region: String, service: &str) -> Self {
        Signer {
            region,
            service: service.into(),
            key: Default::default(),
        }
    }

    fn signing_key(&self, secret: &str, date: &str) -> [u8; 32] {
        let mut cached = self.key.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((d, s, k)) = cached.as_ref() {
            if d == date && s == secret {
                return *k;
            }
        }
        let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
        let k = hmac(&k, self.region.as_bytes());
        let k = hmac(&k, self.service.as_bytes());
        let k = hmac(&k, b"aws4_request");
        *cached = Some((date.to_string(), secret.to_string(), k));
        k
    }

    /// The `Authorization` header of a request to `/` with these headers (every one signed, in
    /// any order and case: [`canonical_request`]) and body, at `amz_date`, signed with
    /// `credentials` (the session token, when there is one, is among the headers).
    pub fn authorization(
        &self,
        credentials: &Credentials,
        method: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        amz_date: &str,
    ) -> String {
        let date = &amz_date[..8];
        let (canonical, signed) = canonical_request(method, headers, body);
        let to_sign = self.string_to_sign(amz_date, &canonical);
        let key = self.signing_key(&credentials.secret_access_key, date);
        let signature = hex(&hmac(&key, to_sign.as_bytes()));
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={signed}, Signature={signature}",
            credentials.access_key_id,
            self.scope(date)
        )
    }

    fn scope(&self, date: &str) -> String {
        format!("{date}/{}/{}/aws4_request", self.region, self.service)
    }

    /// The string to sign of a canonical request sent at `amz_date`.
    pub fn string_to_sign(&self, amz_date: &str, canonical: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{}\n{}",
            self.scope(&amz_date[..8]),
            hex(&Sha256::digest(canonical.as_bytes()))
        )
    }
}

/// The canonical request of a request to `/` with no query, and its signed-header list. Every
/// header is signed: names lower-cased and sorted, the values of a name joined by commas in
/// the order given, each value trimmed with its inner runs of whitespace collapsed to one space
/// (AWS's `get-header-value-trim`, `get-header-key-duplicate` and `post-header-key-case`
/// vectors: `sigv4_suite.rs`).
pub fn canonical_request(method: &str, headers: &[(&str, &str)], body: &[u8]) -> (String, String) {
    let mut sorted: Vec<(Cow<'_, str>, &str)> = headers
        .iter()
        .map(|&(name, value)| (lower(name), value))
        .collect();
    // Stable: the values of a repeated name keep their order.
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let len = headers
        .iter()
        .map(|(n, v)| n.len() + v.len() + 2)
        .sum::<usize>();
    let mut canonical = String::with_capacity(len * 2 + method.len() + 72);
    canonical.push_str(method);
    canonical.push_str("\n/\n\n");
    let mut signed = String::with_capacity(len);
    for (i, (name, value)) in sorted.iter().enumerate() {
        if i > 0 && sorted[i - 1].0 == *name {
            canonical.pop();
            canonical.push(',');
        } else {
            if i > 0 {
                signed.push(';');
            }
            signed.push_str(name);
            canonical.push_str(name);
            canonical.push(':');
        }
        for (n, word) in value.split_ascii_whitespace().enumerate() {
            if n > 0 {
                canonical.push(' ');
            }
            canonical.push_str(word);
        }
        canonical.push('\n');
    }
    canonical.push('\n');
    canonical.push_str(&signed);
    canonical.push('\n');
    canonical.push_str(&hex(&Sha256::digest(body)));
    (canonical, signed)
}

/// `name` in lower case, borrowed when it already is (every header the client sends).
fn lower(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_test_suite_post_vanilla() {
        let s = Signer::new("us-east-1".into(), "service");
        let c = Credentials::new(
            "AKIDEXAMPLE".into(),
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            None,
        );
        let date = "20150830T123600Z";
        let auth = s.authorization(
            &c,
            "POST",
            &[("host", "example.amazonaws.com"), ("x-amz-date", date)],
            b"",
            date,
        );
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
        // The cached signing key gives the same answer.
        assert_eq!(
            auth,
            s.authorization(
                &c,
                "POST",
                &[("host", "example.amazonaws.com"), ("x-amz-date", date)],
                b"",
                date
            )
        );
        // Another secret (refreshed credentials) gets a key of its own, not the cached one.
        let other = Credentials::new("AKIDOTHER".into(), "other secret".into(), None);
        let again = s.authorization(
            &other,
            "POST",
            &[("host", "example.amazonaws.com"), ("x-amz-date", date)],
            b"",
            date,
        );
        assert!(again.contains("Credential=AKIDOTHER/"), "{again}");
        assert!(
            !again.ends_with("5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")
        );
        assert_eq!(
            auth,
            s.authorization(
                &c,
                "POST",
                &[("host", "example.amazonaws.com"), ("x-amz-date", date)],
                b"",
                date
            )
        );
    }

    #[test]
    fn hmac_rfc4231_case_2() {
        assert_eq!(
            hex(&hmac(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn dates() {
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(amz_date(951_782_400), "20000229T000000Z");
        assert_eq!(amz_date(4_102_444_799), "20991231T235959Z");
    }
}

#[cfg(test)]
#[path = "sigv4_suite.rs"]
mod suite;
