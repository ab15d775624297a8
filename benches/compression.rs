//! Which compression for DynamoDB values: ratio and speed on cache-like payloads.
//! `cargo bench --no-default-features --bench compression`

use std::hint::black_box;
use std::time::Instant;

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

fn time<F: FnMut() -> usize>(mut f: F) -> (usize, f64) {
    let mut size = f();
    let n = 200;
    let t = Instant::now();
    for _ in 0..n {
        size = black_box(f());
    }
    (size, t.elapsed().as_secs_f64() * 1e6 / n as f64)
}

fn main() {
    println!(
        "{:<26} {:<12} {:>9} {:>8} {:>11} {:>11}",
        "payload", "codec", "bytes", "ratio", "comp us", "decomp us"
    );
    for (name, p) in payloads() {
        let z1 = zstd::bulk::compress(&p, 1).unwrap();
        let z3 = zstd::bulk::compress(&p, 3).unwrap();
        let l = lz4_flex::compress_prepend_size(&p);
        let d = {
            use std::io::Write;
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
            e.write_all(&p).unwrap();
            e.finish().unwrap()
        };
        let rows: Vec<(&str, usize, f64, f64)> = vec![
            {
                let (s, c) = time(|| zstd::bulk::compress(&p, 1).unwrap().len());
                let (_, dt) = time(|| zstd::bulk::decompress(&z1, p.len()).unwrap().len());
                ("zstd 1", s, c, dt)
            },
            {
                let (s, c) = time(|| zstd::bulk::compress(&p, 3).unwrap().len());
                let (_, dt) = time(|| zstd::bulk::decompress(&z3, p.len()).unwrap().len());
                ("zstd 3", s, c, dt)
            },
            {
                let (s, c) = time(|| lz4_flex::compress_prepend_size(&p).len());
                let (_, dt) = time(|| lz4_flex::decompress_size_prepended(&l).unwrap().len());
                ("lz4", s, c, dt)
            },
            {
                use std::io::{Read, Write};
                let (s, c) = time(|| {
                    let mut e =
                        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
                    e.write_all(&p).unwrap();
                    e.finish().unwrap().len()
                });
                let (_, dt) = time(|| {
                    let mut out = Vec::new();
                    flate2::read::DeflateDecoder::new(&d[..])
                        .read_to_end(&mut out)
                        .unwrap();
                    out.len()
                });
                ("deflate 6", s, c, dt)
            },
        ];
        for (codec, size, c, dt) in rows {
            println!(
                "{:<26} {:<12} {:>9} {:>7.2}x {:>11.1} {:>11.1}",
                name,
                codec,
                size,
                p.len() as f64 / size as f64,
                c,
                dt
            );
        }
    }
}
