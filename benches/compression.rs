//! Which compression for DynamoDB values (docs/decisions.md): ratio and speed on cache-like
//! payloads. `cargo bench --no-default-features --bench compression` (divan) prints the ratios,
//! then the time to compress and to decompress each payload with each codec.

use std::io::{Read, Write};
use std::sync::LazyLock;

use divan::{black_box, Bencher};

const CODECS: [&str; 4] = ["zstd 1", "zstd 3", "lz4", "deflate 6"];
const CASES: [&str; 16] = [
    "zstd 1/records json 16KB",
    "zstd 1/html 9KB",
    "zstd 1/serialized objects 12KB",
    "zstd 1/random 8KB",
    "zstd 3/records json 16KB",
    "zstd 3/html 9KB",
    "zstd 3/serialized objects 12KB",
    "zstd 3/random 8KB",
    "lz4/records json 16KB",
    "lz4/html 9KB",
    "lz4/serialized objects 12KB",
    "lz4/random 8KB",
    "deflate 6/records json 16KB",
    "deflate 6/html 9KB",
    "deflate 6/serialized objects 12KB",
    "deflate 6/random 8KB",
];

static PAYLOADS: LazyLock<Vec<(&'static str, Vec<u8>)>> = LazyLock::new(payloads);

fn payloads() -> Vec<(&'static str, Vec<u8>)> {
    let mut records = String::new();
    for i in 0..200 {
        records.push_str(&format!(
            "{{\"id\":{i},\"name\":\"user {i}\",\"email\":\"user{i}@example.com\",\"roles\":[\"reader\",\"editor\"],\"score\":{}.{}}},",
            i * 37 % 1000,
            i % 10
        ));
    }
    let mut html = String::new();
    for i in 0..120 {
        html.push_str(&format!("<li class=\"menu-item\"><a href=\"/docs/page-{i}\">Page {i} of the documentation</a></li>\n"));
    }
    let mut serialized = String::new();
    for i in 0..150 {
        serialized.push_str(&format!("O:8:\"App\\\\User\":3:{{s:2:\"id\";i:{i};s:4:\"name\";s:{}:\"user {i}\";s:6:\"active\";b:1;}}", 5 + i.to_string().len()));
    }
    let mut noise = Vec::with_capacity(8192);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..8192 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.push(x as u8);
    }
    vec![
        ("records json 16KB", records.into_bytes()),
        ("html 9KB", html.into_bytes()),
        ("serialized objects 12KB", serialized.into_bytes()),
        ("random 8KB", noise),
    ]
}

fn compress(codec: &str, p: &[u8]) -> Vec<u8> {
    match codec {
        "zstd 1" => zstd::bulk::compress(p, 1).unwrap(),
        "zstd 3" => zstd::bulk::compress(p, 3).unwrap(),
        "lz4" => lz4_flex::compress_prepend_size(p),
        _ => {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
            e.write_all(p).unwrap();
            e.finish().unwrap()
        }
    }
}

fn decompress(codec: &str, c: &[u8], len: usize) -> Vec<u8> {
    match codec {
        "zstd 1" | "zstd 3" => zstd::bulk::decompress(c, len).unwrap(),
        "lz4" => lz4_flex::decompress_size_prepended(c).unwrap(),
        _ => {
            let mut out = Vec::with_capacity(len);
            flate2::read::DeflateDecoder::new(c)
                .read_to_end(&mut out)
                .unwrap();
            out
        }
    }
}

/// The codec and the payload of a case.
fn case(case: &str) -> (&str, &'static [u8]) {
    let (codec, name) = case.split_once('/').unwrap();
    (codec, &PAYLOADS.iter().find(|(n, _)| *n == name).unwrap().1)
}

fn main() {
    println!(
        "{:<26} {:<12} {:>9} {:>8}",
        "payload", "codec", "bytes", "ratio"
    );
    for (name, p) in PAYLOADS.iter() {
        for codec in CODECS {
            let c = compress(codec, p);
            assert_eq!(decompress(codec, &c, p.len()), *p, "{codec} round trip");
            println!(
                "{name:<26} {codec:<12} {:>9} {:>7.2}x",
                c.len(),
                p.len() as f64 / c.len() as f64
            );
        }
    }
    divan::main();
}

#[divan::bench(args = CASES)]
fn compress_payload(bencher: Bencher, name: &str) {
    let (codec, p) = case(name);
    bencher.bench_local(|| compress(codec, black_box(p)).len());
}

#[divan::bench(args = CASES)]
fn decompress_payload(bencher: Bencher, name: &str) {
    let (codec, p) = case(name);
    let c = compress(codec, p);
    bencher.bench_local(|| decompress(codec, black_box(&c), p.len()).len());
}
