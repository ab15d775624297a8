//! Build facts for `php --ri lambda_cache`: the git commit, the target triple and the oldest
//! glibc the build can run on. Cheap (two git commands) and reproducible: the values depend on
//! the checkout, never on the time, and the script runs again only when the commit, the
//! sources or the inputs named below change.

use std::env;
use std::path::Path;
use std::process::Command;

fn main() {
    let dir = env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let target = env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=LAMBDA_CACHE_GIT_COMMIT={}", commit(&dir));
    println!("cargo:rustc-env=LAMBDA_CACHE_TARGET={target}");
    println!(
        "cargo:rustc-env=LAMBDA_CACHE_GLIBC_FLOOR={}",
        glibc_floor(&target)
    );
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-env-changed=LAMBDA_CACHE_GLIBC_FLOOR");
}

fn git(dir: &str, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        // Never write the index (git status refreshes it otherwise): that would rerun us.
        .arg("--no-optional-locks")
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The short hash of HEAD, with `-dirty` when tracked files differ from it; "unknown" outside
/// a git checkout (a source tarball, a Docker context without .git).
fn commit(dir: &str) -> String {
    let Some(hash) = git(dir, &["rev-parse", "--short=10", "HEAD"]).filter(|h| !h.is_empty())
    else {
        return "unknown".into();
    };
    // Worktrees keep HEAD and the index apart from the refs: ask git where they are.
    // Not the index: git status rewrites it, and every rewrite would rebuild the crate; an
    // edit of the sources reruns this script anyway.
    let mut watched = vec!["HEAD".to_string(), "packed-refs".into()];
    if let Some(head_ref) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(head_ref);
    }
    for p in watched {
        if let Some(path) = git(dir, &["rev-parse", "--git-path", &p]) {
            let path = Path::new(dir).join(path);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    let dirty = git(
        dir,
        &["status", "--porcelain", "--untracked-files=no", "--", "."],
    )
    .is_some_and(|s| !s.is_empty());
    if dirty {
        format!("{hash}-dirty")
    } else {
        hash
    }
}

/// `2.NN` after `gnu.` in `text` (cargo-zigbuild's `<triple>.2.34` targets).
fn zig_glibc(text: &str) -> Option<String> {
    text.match_indices("gnu.").find_map(|(i, m)| {
        let rest = &text[i + m.len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let v = rest[..end].trim_end_matches('.');
        (v.starts_with("2.") && v.len() > 2).then(|| v.to_string())
    })
}

/// The oldest glibc the .so can load on: the `LAMBDA_CACHE_GLIBC_FLOOR` given; else the glibc
/// of a cargo-zigbuild target (`--target x86_64-unknown-linux-gnu.2.34`: cargo-zigbuild passes
/// the plain triple to cargo and names its zig wrapper, the C compiler and linker of the
/// target, after the full one); else, when building for the host, the host's glibc (the .so
/// links against it, so it may need symbols up to that version).
fn glibc_floor(target: &str) -> String {
    if let Some(v) = env::var("LAMBDA_CACHE_GLIBC_FLOOR")
        .ok()
        .filter(|v| !v.is_empty())
    {
        return format!("{v} (given)");
    }
    if !target.contains("-gnu") {
        return "none (not a glibc target)".into();
    }
    let underscored = target.replace('-', "_");
    let vars = [
        format!("CC_{underscored}"),
        format!("CC_{target}"),
        "TARGET_CC".into(),
        format!("CARGO_TARGET_{}_LINKER", underscored.to_uppercase()),
    ];
    for var in &vars {
        println!("cargo:rerun-if-env-changed={var}");
        let Ok(value) = env::var(var) else { continue };
        if let Some(v) = zig_glibc(&value) {
            return format!("{v} (cargo-zigbuild target)");
        }
        // An older cargo-zigbuild names its wrapper without the version: it is in the script.
        if value.contains("zig") {
            if let Some(v) = std::fs::read_to_string(&value)
                .ok()
                .and_then(|s| zig_glibc(&s))
            {
                return format!("{v} (cargo-zigbuild target)");
            }
        }
    }
    if env::var("HOST").ok().as_deref() == Some(target) {
        if let Some(v) = Command::new("getconf")
            .arg("GNU_LIBC_VERSION")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .strip_prefix("glibc ")
                    .map(str::to_string)
            })
        {
            return format!("{v} (the build host's glibc)");
        }
    }
    "unknown".into()
}
