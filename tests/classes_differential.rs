//! classes.rs against PHP's own unserialize(): thousands of mutated serialize() outputs (from
//! the seeds in fuzz/seeds/classes), each checked by `classes::serialized_classes`; those it
//! accepts are unserialized by one `php` process with `allowed_classes => true` and no class
//! defined, which reports every class it looked up or created. None may be missing from what
//! classes.rs reported: otherwise `allowedClasses` listing exactly those would let PHP create
//! an object of another class. Needs `php` (PHP_BINARY, else `php` on the PATH).
//! DIFF_CASES (default 50000) and DIFF_SEED change the run; DIFF_SHOW=1 prints the payloads
//! that only one side refuses (PHP: semantics such as an enum or a class it does not have;
//! classes.rs: bytes after the value, which PHP 8.2 ignores).

use lambda_cache::classes::{serialized_classes, ClassPolicy};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// splitmix64: the same payloads on every run with the same DIFF_SEED.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Bytes the serialize() grammar gives meaning to, and a few it does not.
const ALPHABET: &[u8] = b"0123456789:;\"{}+-.eENaAsSiIdbrROCx\\_ \0\xff";
/// Class names to swap in: the seeds', built-in ones, odd ones.
const NAMES: &[&str] = &[
    "Allowed",
    "Other",
    "stdClass",
    "ArrayObject",
    "ArrayIterator",
    "SplObjectStorage",
    "Exception",
    "DateTime",
    "Suit",
    "__PHP_Incomplete_Class",
    "a\\b",
    "\\Other",
    "X:Y",
    "",
];
/// Fragments to splice in.
const FRAGMENTS: &[&str] = &[
    "O:5:\"Other\":0:{}",
    "C:5:\"Other\":0:{}",
    "E:9:\"Other:Foo\";",
    "r:1;",
    "R:2;",
    "r:2;",
    "N;",
    "i:0;",
    "s:1:\"O\";",
    "a:1:{i:0;",
    "}",
    "O:8:\"stdClass\":1:{",
    "s:5:\"Other\";",
    "C:11:\"ArrayObject\":",
    "x:i:0;a:0:{};m:a:0:{}",
    "a:0:{}",
    "b:1;",
    "d:-0;",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], input: &[u8]) -> Vec<u8> {
    let mut b = input.to_vec();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(b.len() + 1);
        match rng.below(9) {
            0 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] = *rng.pick(ALPHABET);
            }
            1 => b.insert(at, *rng.pick(ALPHABET)),
            2 if !b.is_empty() => {
                let end = (at + 1 + rng.below(8)).min(b.len());
                b.drain(at.min(end)..end);
            }
            3 => {
                let f = rng.pick(FRAGMENTS).as_bytes();
                b.splice(at..at, f.iter().copied());
            }
            4 => {
                // A number near this position, changed.
                if let Some(start) = (at..b.len()).find(|&i| b[i].is_ascii_digit()) {
                    let end = (start..b.len())
                        .find(|&i| !b[i].is_ascii_digit())
                        .unwrap_or(b.len());
                    let n: u64 = std::str::from_utf8(&b[start..end])
                        .unwrap()
                        .parse()
                        .unwrap_or(0);
                    let new = match rng.below(5) {
                        0 => n.wrapping_add(1),
                        1 => n.wrapping_sub(1),
                        2 => 18446744073709551615 / (1 + rng.below(4) as u64),
                        3 => rng.below(40) as u64,
                        _ => n.wrapping_mul(2),
                    };
                    let mut text = new.to_string().into_bytes();
                    if rng.below(4) == 0 {
                        text.insert(0, *rng.pick(b"+-0"));
                    }
                    b.splice(start..end, text);
                }
            }
            5 => {
                // A quoted class name swapped for another, its length kept or fixed.
                if let Some(q) = (at..b.len()).find(|&i| b[i] == b'"') {
                    if let Some(len) = (q + 1..b.len()).find(|&i| b[i] == b'"').map(|e| e - q - 1) {
                        let name = rng.pick(NAMES).as_bytes();
                        b.splice(q + 1..q + 1 + len, name.iter().copied());
                        if rng.below(3) > 0 {
                            let colon = b[..q].iter().rposition(|&c| c == b':').unwrap_or(0);
                            let digits = b[..colon]
                                .iter()
                                .rposition(|&c| c == b':')
                                .map_or(0, |i| i + 1);
                            if digits < colon {
                                b.splice(digits..colon, name.len().to_string().into_bytes());
                            }
                        }
                    }
                }
            }
            6 => {
                // A slice of another seed.
                let other = rng.pick(seeds);
                let s = rng.below(other.len());
                let e = (s + rng.below(40)).min(other.len());
                b.splice(at..at, other[s..e].iter().copied());
            }
            7 if !b.is_empty() => {
                // A slice of this input repeated.
                let s = rng.below(b.len());
                let e = (s + rng.below(30)).min(b.len());
                let copy = b[s..e].to_vec();
                b.splice(at..at, copy);
            }
            _ => b.truncate(at),
        }
    }
    b
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn php_creates_no_class_that_classes_rs_did_not_report() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(dir.join("fuzz/seeds/classes"))
        .expect("fuzz/seeds/classes")
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    seeds.sort();
    assert!(seeds.len() >= 5, "seeds missing");
    let cases = env_or("DIFF_CASES", 50_000) as usize;
    let mut rng = Rng(env_or("DIFF_SEED", 14));

    // Mutants of the seeds and of earlier mutants that classes.rs accepted (as a fuzzer's
    // corpus grows), so that a good share of them reach PHP's object creation.
    let mut payloads = seeds.clone();
    let mut pool = seeds.clone();
    while payloads.len() < cases + seeds.len() {
        let from = rng.pick(&pool).clone();
        let mutant = mutate(&mut rng, &seeds, &from);
        if serialized_classes(&mutant).is_ok() && pool.len() < 4096 {
            pool.push(mutant.clone());
        }
        payloads.push(mutant);
    }
    let verdicts: Vec<Option<Vec<&[u8]>>> = payloads
        .iter()
        .map(|p| serialized_classes(p).ok())
        .collect();
    for (s, v) in seeds.iter().zip(&verdicts) {
        assert!(v.is_some(), "seed refused: {}", String::from_utf8_lossy(s));
    }

    let php = std::env::var("PHP_BINARY").unwrap_or_else(|_| "php".into());
    let mut child = Command::new(&php)
        .arg(dir.join("tests/classes_differential.php"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("this test needs PHP's CLI ({php}): {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let input: Vec<u8> = payloads
        .iter()
        .zip(&verdicts)
        .flat_map(|(p, v)| {
            let mut frame = vec![u8::from(v.is_some())];
            frame.extend_from_slice(&(p.len() as u32).to_le_bytes());
            frame.extend_from_slice(p);
            frame
        })
        .collect();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let lines: Vec<Vec<u8>> = BufReader::new(child.stdout.take().unwrap())
        .split(b'\n')
        .map(Result::unwrap)
        .collect();
    writer.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success(), "php failed");
    assert_eq!(lines.len(), payloads.len(), "php stopped early");

    let mut accepted = 0;
    let mut php_refused = 0;
    let mut stricter: BTreeMap<String, usize> = BTreeMap::new();
    for ((line, payload), verdict) in lines.iter().zip(&payloads).zip(&verdicts) {
        let mut parts = line.splitn(3, |&c| c == b' ');
        let _n = parts.next();
        let php_ok = parts.next() == Some(b"1");
        let created: BTreeSet<&[u8]> = (parts.next().unwrap_or_default().split(|&c| c == b' '))
            .filter(|c| !c.is_empty())
            .collect();
        let shown = String::from_utf8_lossy(payload);
        match verdict {
            Some(reported) => {
                accepted += 1;
                php_refused += usize::from(!php_ok);
                if !php_ok && std::env::var("DIFF_SHOW").is_ok() {
                    eprintln!("only PHP refuses: {shown}");
                }
                let reported: BTreeSet<Vec<u8>> =
                    reported.iter().map(|c| c.to_ascii_lowercase()).collect();
                for class in &created {
                    assert!(
                        reported.contains(*class),
                        "PHP created or loaded {}, classes.rs reported {:?}: {shown}",
                        String::from_utf8_lossy(class),
                        reported
                            .iter()
                            .map(|c| String::from_utf8_lossy(c))
                            .collect::<Vec<_>>()
                    );
                }
                let policy = ClassPolicy::only(&reported);
                assert!(policy.check_serialized(payload).is_ok());
            }
            None if php_ok => {
                if std::env::var("DIFF_SHOW").is_ok() {
                    eprintln!("only classes.rs refuses: {shown}");
                }
                let tag: String = shown.chars().take(12).collect();
                *stricter.entry(tag).or_default() += 1;
            }
            None => {}
        }
    }
    eprintln!(
        "{} payloads: classes.rs accepted {accepted} ({php_refused} of them refused by PHP); \
         {} refused by classes.rs only",
        payloads.len(),
        stricter.values().sum::<usize>()
    );
    assert!(
        accepted >= payloads.len() / 20,
        "too few accepted payloads: {accepted}"
    );
}
