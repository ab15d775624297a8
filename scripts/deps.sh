#!/usr/bin/env bash
# Installs what building and testing LambdaCache needs on Debian 12, when it is missing.
# Idempotent: a machine that has everything gets no apt call at all.
set -euo pipefail

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
# apt-get update once, before the first install (none when nothing is missing).
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    $sudo apt-get update -qq >&2
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >&2
}

packages=(php8.2-cli php8.2-dev php8.2-curl php8.2-fpm libclang-dev clang make binutils
          zip unzip util-linux phpunit php-psr-cache php-psr-simple-cache php-symfony-cache php-apcu
          php-igbinary hyperfine time)
# The DynamoDB emulator (dynalite, installed by scripts/dynalite.sh) runs on Node.js.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  apt_install "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "deps: installing Rust with rustup (stable, minimal profile)" >&2
  command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal >&2
fi
# make lint (part of make test) needs rustfmt and clippy, which rustup's minimal profile leaves out.
if command -v rustup >/dev/null 2>&1; then
  for c in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c" >&2
  done
fi
