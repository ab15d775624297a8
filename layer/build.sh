#!/usr/bin/env bash
# Packs a built lambda_cache.so as a Bref extension layer zip:
#   bref/extensions/lambda_cache.so
#   bref/etc/php/conf.d/ext-lambda_cache.ini   (extension=/opt/bref/extensions/lambda_cache.so)
# Layer zips extract to /opt. The name says the PHP version and architecture:
#   dist/lambda-cache-php-<82|83|84|85>-<x86_64|arm64>.zip
#
# usage: layer/build.sh SO_FILE PHP_VERSION(e.g. 8.2) ARCH(x86_64|arm64) [OUT_DIR]
set -euo pipefail

so=${1:?usage: $0 SO_FILE PHP_VERSION ARCH [OUT_DIR]}
php_version=${2:?php version, e.g. 8.2}
arch=${3:?arch: x86_64 or arm64}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out=${4:-$root/dist}

case "$arch" in x86_64|arm64) ;; *) echo "layer: arch must be x86_64 or arm64, not $arch" >&2; exit 2 ;; esac
[[ "$php_version" =~ ^8\.[0-9]+$ ]] || { echo "layer: PHP version like 8.2 expected, not $php_version" >&2; exit 2; }
[ -f "$so" ] || { echo "layer: $so does not exist (build it first)" >&2; exit 1; }
command -v zip >/dev/null 2>&1 || { echo "layer: zip is missing (apt-get install zip)" >&2; exit 1; }

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bref/extensions" "$stage/bref/etc/php/conf.d" "$out"
# Stripped: symbols are a third of the file and Lambda layers count unzipped bytes. The host's
# GNU strip knows its own architecture only: for a cross-built .so (arm64 on x86_64), the
# target's binutils or llvm-strip when installed; a .so the linker already stripped (cargo
# zigbuild: no .symtab, no debug sections) is taken as it is.
stripped="$stage/bref/extensions/lambda_cache.so"
strip_so() {
  local tool
  for tool in strip aarch64-linux-gnu-strip x86_64-linux-gnu-strip llvm-strip; do
    command -v "$tool" >/dev/null 2>&1 || continue
    "$tool" --strip-unneeded -o "$stripped" "$so" 2>/dev/null && return 0
  done
  rm -f "$stripped"
  if ! readelf -S -W "$so" | grep -q -E ' \.(symtab|debug_[a-z]+) '; then
    cp "$so" "$stripped"
    return 0
  fi
  echo "layer: no strip for $(readelf -h "$so" | sed -n 's/^ *Machine: *//p') found (apt-get install llvm)" >&2
  return 1
}
strip_so
chmod 0755 "$stage/bref/extensions/lambda_cache.so"
cat > "$stage/bref/etc/php/conf.d/ext-lambda_cache.ini" <<'INI'
; LambdaCache: PSR-6/PSR-16 caches on /tmp and DynamoDB. Configuration: the README.
extension=/opt/bref/extensions/lambda_cache.so
; Defaults of every pool (a pool's options override them); set them in your project's
; php/conf.d/*.ini, which Bref loads after this file. `php --ri lambda_cache` shows them.
;lambda_cache.tmp_directory = /tmp/lambda-cache
;lambda_cache.tmp_max_bytes = 128M
;lambda_cache.dynamodb_table = my-cache-table
;lambda_cache.dynamodb_endpoint = https://dynamodb.eu-west-1.amazonaws.com
;lambda_cache.dynamodb_connect_timeout_ms = 1000
;lambda_cache.dynamodb_attempt_timeout_ms = 1000
;lambda_cache.dynamodb_operation_timeout_ms = 3000
;lambda_cache.dynamodb_max_attempts = 3
INI
zip_name="lambda-cache-php-${php_version/./}-$arch.zip"
rm -f "$out/$zip_name"
# Fixed timestamps and order: the same .so gives the same zip.
find "$stage" -exec touch -h -d '2020-01-01 00:00:00' {} +
(cd "$stage" && find bref | LC_ALL=C sort | zip -q -X -D "$out/$zip_name" -@)
size=$(stat -c %s "$stage/bref/extensions/lambda_cache.so")
echo "layer: $out/$zip_name (lambda_cache.so stripped: $size bytes)"
