//! The vectors of AWS's SigV4 test suite (`aws-sig-v4-test-suite`, credentials AKIDEXAMPLE,
//! region us-east-1, service `service`, 2015-08-30T12:36:00Z) that apply to this signer:
//! requests to `/` with no query, which is every request the client sends (an endpoint with a
//! path or a query is refused: `config.rs`). The vectors with another path or a query
//! (get-slash*, get-relative*, get-space, get-utf8, get-unreserved, *-query*) do not apply.
//! `get-header-value-multiline` is written as the three header lines it stands for: a header
//! value cannot hold a line break in HTTP/1.1 as hyper sends it.

use super::*;

const DATE: &str = "20150830T123600Z";
const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

struct Vector {
    name: &'static str,
    method: &'static str,
    /// As the suite's request lists them: names in their case, values as sent.
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
    /// The canonical headers and the signed-header list (method, `/`, the empty query and the
    /// body hash around them are the same in every vector).
    canonical_headers: &'static str,
    signed: &'static str,
    body_hash: &'static str,
    /// The hash at the end of the string to sign, and the signature.
    sts_hash: &'static str,
    signature: &'static str,
}

const HOST: (&str, &str) = ("Host", "example.amazonaws.com");
const XDATE: (&str, &str) = ("X-Amz-Date", DATE);
const FORM_HASH: &str = "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e";

const VECTORS: &[Vector] = &[
    Vector {
        name: "get-vanilla",
        method: "GET",
        headers: &[HOST, XDATE],
        body: "",
        canonical_headers: "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n",
        signed: "host;x-amz-date",
        body_hash: EMPTY,
        sts_hash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    },
    Vector {
        name: "post-vanilla",
        method: "POST",
        headers: &[HOST, XDATE],
        body: "",
        canonical_headers: "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n",
        signed: "host;x-amz-date",
        body_hash: EMPTY,
        sts_hash: "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
        signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    },
    Vector {
        name: "get-header-value-trim",
        method: "GET",
        headers: &[HOST, ("My-Header1", " value1"), ("My-Header2", " \"a   b   c\""), XDATE],
        body: "",
        canonical_headers: "host:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n",
        signed: "host;my-header1;my-header2;x-amz-date",
        body_hash: EMPTY,
        sts_hash: "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
        signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
    },
    Vector {
        name: "get-header-key-duplicate",
        method: "GET",
        headers: &[HOST, ("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1"), XDATE],
        body: "",
        canonical_headers: "host:example.amazonaws.com\nmy-header1:value2,value2,value1\nx-amz-date:20150830T123600Z\n",
        signed: "host;my-header1;x-amz-date",
        body_hash: EMPTY,
        sts_hash: "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
        signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
    },
    Vector {
        name: "get-header-value-order",
        method: "GET",
        headers: &[
            HOST,
            ("My-Header1", "value4"),
            ("My-Header1", "value1"),
            ("My-Header1", "value3"),
            ("My-Header1", "value2"),
            XDATE,
        ],
        body: "",
        canonical_headers: "host:example.amazonaws.com\nmy-header1:value4,value1,value3,value2\nx-amz-date:20150830T123600Z\n",
        signed: "host;my-header1;x-amz-date",
        body_hash: EMPTY,
        sts_hash: "31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86",
        signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
    },
    Vector {
        name: "get-header-value-multiline",
        method: "GET",
        headers: &[HOST, ("My-Header1", "value1"), ("My-Header1", "  value2"), ("My-Header1", "     value3"), XDATE],
        body: "",
        canonical_headers: "host:example.amazonaws.com\nmy-header1:value1,value2,value3\nx-amz-date:20150830T123600Z\n",
        signed: "host;my-header1;x-amz-date",
        body_hash: EMPTY,
        sts_hash: "b7b6cbfd8a0430b78891e986784da2630c8a135a8595cec25b26ea94f926ee55",
        signature: "ba17b383a53190154eb5fa66a1b836cc297cc0a3d70a5d00705980573d8ff790",
    },
    Vector {
        name: "post-header-key-case",
        method: "POST",
        headers: &[HOST, XDATE],
        body: "",
        canonical_headers: "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n",
        signed: "host;x-amz-date",
        body_hash: EMPTY,
        sts_hash: "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
        signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    },
    Vector {
        name: "post-header-key-sort",
        method: "POST",
        headers: &[HOST, ("My-Header1", "value1"), XDATE],
        body: "",
        canonical_headers: "host:example.amazonaws.com\nmy-header1:value1\nx-amz-date:20150830T123600Z\n",
        signed: "host;my-header1;x-amz-date",
        body_hash: EMPTY,
        sts_hash: "9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
        signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
    },
    Vector {
        name: "post-header-value-case",
        method: "POST",
        headers: &[HOST, ("My-Header1", "VALUE1"), XDATE],
        body: "",
        canonical_headers: "host:example.amazonaws.com\nmy-header1:VALUE1\nx-amz-date:20150830T123600Z\n",
        signed: "host;my-header1;x-amz-date",
        body_hash: EMPTY,
        sts_hash: "d51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93",
        signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
    },
    Vector {
        name: "post-x-www-form-urlencoded",
        method: "POST",
        headers: &[("Content-Type", "application/x-www-form-urlencoded"), HOST, XDATE],
        body: "Param1=value1",
        canonical_headers: "content-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n",
        signed: "content-type;host;x-amz-date",
        body_hash: FORM_HASH,
        sts_hash: "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
        signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
    },
    Vector {
        name: "post-x-www-form-urlencoded-parameters",
        method: "POST",
        headers: &[("Content-Type", "application/x-www-form-urlencoded; charset=utf8"), HOST, XDATE],
        body: "Param1=value1",
        canonical_headers: "content-type:application/x-www-form-urlencoded; charset=utf8\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n",
        signed: "content-type;host;x-amz-date",
        body_hash: FORM_HASH,
        sts_hash: "",
        signature: "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe",
    },
    Vector {
        name: "post-sts-header-before",
        method: "POST",
        headers: &[HOST, XDATE, ("X-Amz-Security-Token", TOKEN)],
        body: "",
        canonical_headers: "",
        signed: "host;x-amz-date;x-amz-security-token",
        body_hash: EMPTY,
        sts_hash: "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
        signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
    },
    Vector {
        // The token is sent, not signed: the request signs like post-vanilla.
        name: "post-sts-header-after",
        method: "POST",
        headers: &[HOST, XDATE],
        body: "",
        canonical_headers: "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n",
        signed: "host;x-amz-date",
        body_hash: EMPTY,
        sts_hash: "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
        signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    },
];

fn signer() -> Signer {
    Signer::new("us-east-1".into(), "service")
}

fn credentials() -> Credentials {
    Credentials::new(
        "AKIDEXAMPLE".into(),
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        None,
    )
}

#[test]
fn every_applicable_vector_of_the_aws_test_suite() {
    let (s, c) = (signer(), credentials());
    let mut failures = Vec::new();
    for v in VECTORS {
        let canonical_headers = if v.name == "post-sts-header-before" {
            format!("host:example.amazonaws.com\nx-amz-date:{DATE}\nx-amz-security-token:{TOKEN}\n")
        } else {
            v.canonical_headers.to_string()
        };
        let creq = format!(
            "{}\n/\n\n{canonical_headers}\n{}\n{}",
            v.method, v.signed, v.body_hash
        );
        let (canonical, signed) = canonical_request(v.method, v.headers, v.body.as_bytes());
        if canonical != creq || signed != v.signed {
            failures.push(format!(
                "{}: canonical request\n{canonical}\nexpected\n{creq}",
                v.name
            ));
            continue;
        }
        let sts = s.string_to_sign(DATE, &canonical);
        if !v.sts_hash.is_empty()
            && sts
                != format!(
                    "AWS4-HMAC-SHA256\n{DATE}\n20150830/us-east-1/service/aws4_request\n{}",
                    v.sts_hash
                )
        {
            failures.push(format!("{}: string to sign\n{sts}", v.name));
        }
        let auth = s.authorization(&c, v.method, v.headers, v.body.as_bytes(), DATE);
        let expected = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders={}, Signature={}",
            v.signed, v.signature
        );
        if auth != expected {
            failures.push(format!("{}: authorization {auth}", v.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors fail:\n{}",
        failures.len(),
        VECTORS.len(),
        failures.join("\n\n")
    );
}
