//! Where the DynamoDB store's credentials come from when none are passed: the keys of the
//! environment, else AWS's default chain (profiles with `credential_process`, web identity,
//! container credentials), against fakes on loopback: a scripted DynamoDB (`support`) that
//! records each request's Authorization header, and fake container-credentials and STS
//! endpoints. The chain reads the process environment and is kept per process, so each case
//! runs in a child process of its own (this test binary, run for that one test) with an
//! environment of its choosing: nothing races across parallel tests, and instance metadata is
//! never asked (`AWS_EC2_METADATA_DISABLED=true`, no network).

mod support;

use lambda_cache::aws::credentials;
use lambda_cache::aws::sigv4::{amz_date, now_secs};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};
use support::{reads, store_with, Answer, Server};

/// Set in the child process that runs one case.
const CHILD: &str = "LAMBDA_CACHE_CREDENTIALS_TEST_CHILD";

/// In the parent: runs test `name` in a child process (an environment with only `PATH`, an
/// empty `HOME` and instance metadata disabled), checks it passed, and answers false. In that
/// child: answers true, and the test goes on with its case.
fn in_child(name: &str) -> bool {
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    let home = scratch(name);
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env_clear()
        .env(CHILD, "1")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&home);
    assert!(
        out.status.success() && text.contains("1 passed"),
        "the child failed:\n{text}"
    );
    false
}

/// An empty directory of this case's own.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lc-creds-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn home() -> PathBuf {
    PathBuf::from(std::env::var("HOME").unwrap())
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// RFC 3339 (what credential endpoints answer) `secs` seconds from now.
fn in_secs(secs: u64) -> String {
    let d = amz_date(now_secs() + secs);
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &d[0..4],
        &d[4..6],
        &d[6..8],
        &d[9..11],
        &d[11..13],
        &d[13..15]
    )
}

/// An HTTP endpoint on loopback that answers its requests with `answers` in order (the last
/// one again for every later request), one request per connection, and records each request.
struct Fake {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Fake {
    fn start(content_type: &'static str, answers: Vec<String>) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { return };
                let mut request = Vec::new();
                let mut buf = [0; 4096];
                let (head_end, length) = loop {
                    let Ok(n) = conn.read(&mut buf) else {
                        break (0, 0);
                    };
                    if n == 0 {
                        break (0, 0);
                    }
                    request.extend_from_slice(&buf[..n]);
                    if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&request[..end]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse().unwrap());
                        break (end + 4, length);
                    }
                };
                if head_end == 0 {
                    continue;
                }
                while request.len() < head_end + length {
                    match conn.read(&mut buf) {
                        Ok(n) if n > 0 => request.extend_from_slice(&buf[..n]),
                        _ => break,
                    }
                }
                let answer = {
                    let mut seen = seen.lock().unwrap();
                    seen.push(String::from_utf8_lossy(&request).into_owned());
                    answers[(seen.len() - 1).min(answers.len() - 1)].clone()
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        Fake { url, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// A DynamoDB that answers every GetItem with "no item".
fn dynamo() -> Server {
    Server::start(&[("GetItem", Answer::KeepAlive(200, "{}".into()))])
}

/// The access key ids the requests `dynamo` received were signed with, and the scopes.
fn signed_with(dynamo: &Server) -> Vec<String> {
    dynamo
        .header("authorization")
        .iter()
        .map(|a| {
            let credential = a.split("Credential=").nth(1).unwrap_or("");
            credential.split(',').next().unwrap().to_string()
        })
        .collect()
}

fn key_ids(dynamo: &Server) -> Vec<String> {
    signed_with(dynamo)
        .iter()
        .map(|c| c.split('/').next().unwrap().to_string())
        .collect()
}

/// One read of `store`, which must succeed (a miss).
fn read_ok(store: &lambda_cache::store::dynamodb::DynamoStore) {
    let (r, hits) = reads(store, &[b"k"]);
    assert_eq!(r, Ok(()));
    assert_eq!(hits, 0);
}

/// A store with no key pair given (and no region when `region` is None).
fn store(dynamo: &Server, region: Option<&str>) -> lambda_cache::store::dynamodb::DynamoStore {
    store_with(dynamo, |c| {
        c.access_key_id = None;
        c.secret_access_key = None;
        c.region = region.map(str::to_string);
    })
}

#[test]
fn container_credentials_are_cached_then_refreshed_before_they_expire() {
    if !in_child("container_credentials_are_cached_then_refreshed_before_they_expire") {
        return;
    }
    let answer = |n: u32, expires_in: u64| {
        format!(
            r#"{{"AccessKeyId":"ASIACONTAINER{n}","SecretAccessKey":"secret{n}","Token":"token{n}","Expiration":"{}"}}"#,
            in_secs(expires_in)
        )
    };
    // The first credentials live 4 s: fetched again from half their lifetime on (2-2.5 s).
    let container = Fake::start("application/json", vec![answer(1, 4), answer(2, 3600)]);
    std::env::set_var(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        format!("{}/creds", container.url),
    );
    let dynamo = dynamo();
    let store = store(&dynamo, Some("us-east-1"));
    let started = Instant::now();
    read_ok(&store);
    read_ok(&store);
    assert_eq!(container.requests().len(), 1, "cached between requests");
    assert!(container.requests()[0].starts_with("GET /creds HTTP/1.1"));
    let before = dynamo.header("authorization").len();
    assert!(before >= 2);
    assert!(key_ids(&dynamo).iter().all(|k| k == "ASIACONTAINER1"));
    assert!(dynamo
        .header("x-amz-security-token")
        .iter()
        .all(|t| t == "token1"));

    thread::sleep(Duration::from_millis(2600).saturating_sub(started.elapsed()));
    read_ok(&store);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "still before they expire"
    );
    assert_eq!(container.requests().len(), 2, "fetched again");
    let after = key_ids(&dynamo);
    assert!(after.len() > before);
    assert!(
        after[before..].iter().all(|k| k == "ASIACONTAINER2"),
        "{after:?}"
    );
    assert_eq!(
        dynamo.header("x-amz-security-token").last().unwrap(),
        "token2"
    );
    read_ok(&store);
    assert_eq!(container.requests().len(), 2);
    assert_eq!(credentials::chain().fetches(), 2);
}

#[test]
fn a_profile_gives_the_keys_and_the_region() {
    if !in_child("a_profile_gives_the_keys_and_the_region") {
        return;
    }
    let aws = home().join(".aws");
    write(
        &aws.join("credentials"),
        "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = nope\n\n\
         [dev]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = secret\n",
    );
    write(
        &aws.join("config"),
        "[default]\nregion = us-west-2\n\n[profile dev]\nregion = eu-central-1\n",
    );
    std::env::set_var("AWS_PROFILE", "dev");
    let dynamo = dynamo();
    read_ok(&store(&dynamo, None));
    let scopes = signed_with(&dynamo);
    assert!(!scopes.is_empty());
    for scope in scopes {
        assert!(
            scope.starts_with("AKIDPROFILE/")
                && scope.ends_with("/eu-central-1/dynamodb/aws4_request"),
            "{scope}"
        );
    }
    assert!(dynamo
        .header("x-amz-security-token")
        .iter()
        .all(String::is_empty));
}

#[test]
fn a_profile_with_credential_process_runs_it() {
    if !in_child("a_profile_with_credential_process_runs_it") {
        return;
    }
    let dir = home();
    let script = dir.join("creds.sh");
    let ran = dir.join("ran");
    write(
        &script,
        &format!(
            "#!/bin/sh\necho run >> {}\necho '{{\"Version\": 1, \"AccessKeyId\": \"ASIAPROCESS\", \"SecretAccessKey\": \"secret\", \"SessionToken\": \"process-token\", \"Expiration\": \"{}\"}}'\n",
            ran.display(),
            in_secs(3600)
        ),
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    // Named files instead of ~/.aws.
    let config = dir.join("elsewhere/config");
    write(
        &config,
        &format!(
            "[profile tool]\nregion = ap-southeast-2\ncredential_process = {}\n",
            script.display()
        ),
    );
    std::env::set_var("AWS_CONFIG_FILE", &config);
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", dir.join("elsewhere/none"));
    std::env::set_var("AWS_PROFILE", "tool");
    let dynamo = dynamo();
    let store = store(&dynamo, None);
    read_ok(&store);
    read_ok(&store);
    for scope in signed_with(&dynamo) {
        assert!(
            scope.starts_with("ASIAPROCESS/") && scope.contains("/ap-southeast-2/"),
            "{scope}"
        );
    }
    assert!(dynamo
        .header("x-amz-security-token")
        .iter()
        .all(|t| t == "process-token"));
    let runs = std::fs::read_to_string(&ran).unwrap();
    assert_eq!(runs.lines().count(), 1, "run once, then cached");
}

#[test]
fn a_web_identity_token_is_exchanged_at_sts() {
    if !in_child("a_web_identity_token_is_exchanged_at_sts") {
        return;
    }
    let answer = format!(
        r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:default:app</SubjectFromWebIdentityToken>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/cache/lc-test</Arn>
      <AssumedRoleId>AROAEXAMPLE:lc-test</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAWEBIDENTITY</AccessKeyId>
      <SecretAccessKey>secret</SecretAccessKey>
      <SessionToken>web-identity-session</SessionToken>
      <Expiration>{}</Expiration>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"#,
        in_secs(3600)
    );
    let sts = Fake::start("text/xml", vec![answer]);
    let token = home().join("token");
    write(&token, "the-web-identity-token");
    std::env::set_var("AWS_WEB_IDENTITY_TOKEN_FILE", &token);
    std::env::set_var("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/cache");
    std::env::set_var("AWS_ROLE_SESSION_NAME", "lc-test");
    std::env::set_var("AWS_ENDPOINT_URL_STS", &sts.url);
    std::env::set_var("AWS_REGION", "eu-west-1");
    let dynamo = dynamo();
    let store = store(&dynamo, None);
    read_ok(&store);
    read_ok(&store);
    let asked = sts.requests();
    assert_eq!(asked.len(), 1, "{asked:?}");
    for part in [
        "Action=AssumeRoleWithWebIdentity",
        "WebIdentityToken=the-web-identity-token",
        "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fcache",
        "RoleSessionName=lc-test",
    ] {
        assert!(asked[0].contains(part), "{part} in {}", asked[0]);
    }
    for scope in signed_with(&dynamo) {
        assert!(
            scope.starts_with("ASIAWEBIDENTITY/") && scope.contains("/eu-west-1/"),
            "{scope}"
        );
    }
    assert!(dynamo
        .header("x-amz-security-token")
        .iter()
        .all(|t| t == "web-identity-session"));
}

#[test]
fn keys_in_the_environment_are_used_without_the_chain() {
    if !in_child("keys_in_the_environment_are_used_without_the_chain") {
        return;
    }
    let container = Fake::start("application/json", vec!["{}".into()]);
    std::env::set_var(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        format!("{}/creds", container.url),
    );
    std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDENVIRONMENT");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "secret");
    std::env::set_var("AWS_SESSION_TOKEN", "environment-token");
    let dynamo = dynamo();
    read_ok(&store(&dynamo, Some("us-east-1")));
    assert!(key_ids(&dynamo).iter().all(|k| k == "AKIDENVIRONMENT"));
    assert!(dynamo
        .header("x-amz-security-token")
        .iter()
        .all(|t| t == "environment-token"));
    assert!(container.requests().is_empty());
    assert_eq!(credentials::chain().fetches(), 0);
}

#[test]
fn no_credentials_anywhere_fails_the_call_without_sending_it() {
    if !in_child("no_credentials_anywhere_fails_the_call_without_sending_it") {
        return;
    }
    let dynamo = dynamo();
    let (r, _) = reads(&store(&dynamo, Some("us-east-1")), &[b"k"]);
    let m = support::storage_error(r);
    assert!(m.contains("no credentials"), "{m}");
    assert!(dynamo.seen().is_empty());
}

#[test]
fn no_region_anywhere_is_said_at_the_first_call() {
    if !in_child("no_region_anywhere_is_said_at_the_first_call") {
        return;
    }
    std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDENVIRONMENT");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "secret");
    let dynamo = dynamo();
    let (r, _) = reads(&store(&dynamo, None), &[b"k"]);
    match r {
        Err(lambda_cache::Error::InvalidConfig(m)) => assert!(m.contains("no region"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(dynamo.seen().is_empty());
}

#[test]
fn a_forked_child_fetches_credentials_of_its_own() {
    if !in_child("a_forked_child_fetches_credentials_of_its_own") {
        return;
    }
    let answer = |n: u32| {
        format!(
            r#"{{"AccessKeyId":"ASIAPROCESS{n}","SecretAccessKey":"secret{n}","Token":"token{n}","Expiration":"{}"}}"#,
            in_secs(3600)
        )
    };
    let container = Fake::start("application/json", vec![answer(1), answer(2)]);
    std::env::set_var(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        format!("{}/creds", container.url),
    );
    let dynamo = dynamo();
    let store = store(&dynamo, Some("us-east-1"));
    read_ok(&store);
    let in_parent = dynamo.header("authorization").len();
    // The fakes' threads stay in this process and serve the child over loopback.
    match unsafe { libc::fork() } {
        0 => {
            let (r, _) = reads(&store, &[b"k"]);
            let fetches = credentials::chain().fetches();
            unsafe { libc::_exit(if r.is_ok() && fetches == 1 { 0 } else { 3 }) }
        }
        pid => {
            assert!(pid > 0);
            let mut status = 0;
            assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
            assert!(
                libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
                "{status}"
            );
        }
    }
    assert_eq!(container.requests().len(), 2, "one fetch per process");
    let ids = key_ids(&dynamo);
    assert!(ids.len() > in_parent);
    assert!(
        ids[..in_parent].iter().all(|k| k == "ASIAPROCESS1"),
        "{ids:?}"
    );
    assert!(
        ids[in_parent..].iter().all(|k| k == "ASIAPROCESS2"),
        "{ids:?}"
    );
    // The parent keeps its own.
    read_ok(&store);
    assert_eq!(container.requests().len(), 2);
    assert_eq!(key_ids(&dynamo).last().unwrap(), "ASIAPROCESS1");
}
