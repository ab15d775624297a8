#!/usr/bin/env bash
# arm64 (aarch64, Graviton) builds and tests on an x86_64 Debian 12 machine, changing nothing
# system-wide: no binfmt_misc registration (none exists), no foreign architecture in dpkg, no
# package installed on the host except python3-venv when missing.
#
#   scripts/arm64.sh toolchain          the Rust target aarch64-unknown-linux-gnu (rustup) and zig +
#                                       cargo-zigbuild in a venv (~/.cache/lambda-cache/zigbuild; same pins as the
#                                       trixie root of scripts/trixie.sh)
#   scripts/arm64.sh headers VER DIR    Debian's arm64 php<VER>-dev headers (8.2: Debian 12, 8.4:
#                                       Debian 13) unpacked in DIR, with DIR/php-config printing
#                                       them, for PHP_CONFIG in a cross build
#   scripts/arm64.sh root               only create or update the Debian 12 arm64 root
#   scripts/arm64.sh php-cmd            print the command that runs the root's PHP 8.2 (qemu)
#   scripts/arm64.sh run -- COMMAND...  run COMMAND (on the host) with ARM64_PHP and
#                                       LAMBDA_CACHE_PHP_CMD set to that command, and
#                                       LAMBDA_CACHE_HELPER_PHP_CMD to the host's php
#
# The root: build/bookworm-arm64 (ARM64_ROOT), Debian 12's arm64 php8.2-cli, php8.2-xml, php8.2-curl (the tests' DynamoDB client),
# php8.2-mbstring, phpunit, php-psr-cache and php-psr-simple-cache with their dependencies,
# downloaded by apt-get with a state of its own (build/apt-bookworm-arm64: APT::Architecture=arm64,
# the host's keyring) and unpacked with dpkg-deb -x: no maintainer script runs (they could not: a
# process an emulated binary execs is not emulated). What their scripts would do for PHP is done
# here: php.ini from php.ini-production.cli, every module's ini (/usr/share/php8.2-*/) in
# mods-available and enabled in cli/conf.d.
# The stamp build/bookworm-arm64/.lambda-cache-arm64 is written last, with the package list: a
# root without it, or with another list, is made again. build/bookworm-arm64.lock: one at a time.
#
# qemu: qemu-aarch64-static taken out of Debian's qemu-user-static .deb (apt-get download) into
# build/qemu: installing the package would register binfmt handlers at boot (binfmt.d). It runs
# PHP as `qemu-aarch64-static -L ROOT ROOT/usr/bin/php8.2`: the root's dynamic loader and
# libraries, and every absolute path that exists in the root (/etc/php, /usr/share/php,
# /usr/lib/php) opened there; any other path (the checkout, /tmp, /opt, /proc) is the host's.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$repo/build"
ROOT="${ARM64_ROOT:-$build/bookworm-arm64}"
MIRROR="${ARM64_MIRROR:-http://deb.debian.org/debian}"
SECURITY="${MIRROR%/debian}/debian-security"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
STAMP_NAME=.lambda-cache-arm64
PACKAGES=(php8.2-cli php8.2-xml php8.2-mbstring php8.2-curl phpunit php-psr-cache php-psr-simple-cache)
QEMU_DIR="$build/qemu"
QEMU="$QEMU_DIR/qemu-aarch64-static"
# Outside the checkout: zig 0.17 prints its lib_dir relative to the working directory when it lies
# below it, and cargo-zigbuild hands that relative path to bindgen, which runs ext-php-rs's build
# script elsewhere ('stdlib.h' file not found from a fresh clone).
VENV="${ZIGBUILD_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/lambda-cache/zigbuild}"
# The same pins as the Debian 13 root (scripts/trixie.sh, PIP_PACKAGES).
read -r -a PIP_PACKAGES <<<"$(sed -n 's/^PIP_PACKAGES=(\(.*\))$/\1/p' "$repo/scripts/trixie.sh")"
[ ${#PIP_PACKAGES[@]} -gt 0 ] || { echo "arm64.sh: no PIP_PACKAGES in scripts/trixie.sh" >&2; exit 1; }

say() { echo "arm64.sh: $*" >&2; }
die() { say "$*"; exit 1; }
usage() {
  echo "usage:" >&2
  sed -n '6,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}/  /' >&2
  exit 2
}
now() { date +%s.%N; }
phase_done() { say "$(awk -v a="$(now)" -v b="$2" -v p="$1" 'BEGIN { printf "%s: %.1f s", p, a - b }')"; }
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

host_install() {
  say "installing $* on the host with apt-get"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >&2
}

# lock NAME: an exclusive lock on build/NAME.lock (fd 9) until this script exits.
lock() {
  mkdir -p "$build"
  exec 9>"$build/$1.lock"
  flock -n 9 && return 0
  say "waiting for another arm64.sh ($1)"
  flock 9
}

# apt_foreign DIR ARCH SUITE APT-GET-ARGS...: apt-get with a state, cache and sources of its own in
# DIR (the host's apt configuration otherwise: proxies), for ARCH packages of SUITE.
apt_foreign() {
  local dir=$1 arch=$2 suite=$3
  shift 3
  mkdir -p "$dir/lists/partial" "$dir/archives/partial" "$dir/parts" "$dir/prefs"
  [ -f "$dir/status" ] || : >"$dir/status"
  local opts="arch=$arch signed-by=$KEYRING"
  printf '%s\n' "deb [$opts] $MIRROR $suite main" "deb [$opts] $MIRROR $suite-updates main" \
    "deb [$opts] $SECURITY $suite-security main" >"$dir/sources.list"
  apt-get -q -o Dir::State="$dir" -o Dir::State::Lists="$dir/lists" -o Dir::State::status="$dir/status" \
    -o Dir::Cache="$dir" -o Dir::Cache::archives="$dir/archives" -o Dir::Cache::pkgcache="" \
    -o Dir::Cache::srcpkgcache="" -o Dir::Etc::SourceList="$dir/sources.list" \
    -o Dir::Etc::SourceParts="$dir/parts" -o Dir::Etc::Preferences="$dir/prefs/none" \
    -o Dir::Etc::PreferencesParts="$dir/prefs" -o APT::Architecture="$arch" -o APT::Architectures="$arch" \
    -o APT::Install-Recommends=false -o APT::Install-Suggests=false -o Debug::NoLocking=1 \
    -o APT::Sandbox::User=root "$@"
}

# --- toolchain ----------------------------------------------------------------------------------

ensure_toolchain() {
  local t
  t=$(now)
  command -v rustup >/dev/null 2>&1 || die "no rustup (scripts/deps.sh installs Rust)"
  if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
    rustup target add aarch64-unknown-linux-gnu >&2
  fi
  lock zigbuild
  local want="${PIP_PACKAGES[*]}"
  if [ "$(cat "$VENV/.lambda-cache-pins" 2>/dev/null)" != "$want" ]; then
    python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' 2>/dev/null || host_install python3-venv
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-cache-dir "${PIP_PACKAGES[@]}" >&2
    ln -sf "$("$VENV/bin/python" -c 'import ziglang, os; print(os.path.dirname(ziglang.__file__))')/zig" "$VENV/bin/zig"
    echo "$want" >"$VENV/.lambda-cache-pins"
    phase_done "toolchain (rustup target aarch64-unknown-linux-gnu, ${PIP_PACKAGES[*]})" "$t"
  fi
}

# --- PHP headers for a cross build --------------------------------------------------------------

ensure_headers() {
  local ver=$1 dir=$2 suite
  case "$ver" in 8.2) suite=bookworm ;; 8.4) suite=trixie ;; *) die "headers: PHP 8.2 or 8.4, not $ver" ;; esac
  mkdir -p "$(dirname "$dir")"
  dir="$(cd "$(dirname "$dir")" && pwd)/$(basename "$dir")"
  if [ ! -f "$dir/.lambda-cache-headers" ]; then
    local t
    t=$(now)
    # Debian 12's keyring carries Debian 13's keys since 2023.3+deb12u1.
    [ "$suite" != trixie ] || [ -f /usr/share/keyrings/debian-archive-trixie-stable.gpg ] || host_install debian-archive-keyring
    lock "apt-$suite-arm64"
    local state="$build/apt-$suite-arm64"
    apt_foreign "$state" arm64 "$suite" update >/dev/null
    (cd "$state/archives" && apt_foreign "$state" arm64 "$suite" download "php$ver-dev" >/dev/null)
    local deb
    deb="$(ls -t "$state/archives/php$ver-dev_"*_arm64.deb | head -n 1)"
    rm -rf "$dir"
    mkdir -p "$dir"
    dpkg-deb -x "$deb" "$dir"
    basename "$deb" >"$dir/.lambda-cache-headers"
    phase_done "arm64 PHP $ver headers ($(basename "$deb"))" "$t"
  fi
  # PHP 8.4's zend_types.h includes <arm_neon.h> on aarch64, which bindgen (the system's
  # libclang) cannot parse among cargo-zigbuild's headers (zig's clang builtins, of a newer LLVM).
  # The PHP headers use NEON in one macro body only (HT_HASH_RESET), never in a declaration, and
  # neither ext-php-rs's wrapper.c nor bindgen expands it: an empty <arm_neon.h> first in the
  # include path. Were the macro ever used, the build would fail, not miscompile.
  mkdir -p "$dir/shim"
  printf '%s\n' '/* Empty for the cross build of lambda_cache (scripts/arm64.sh): PHP headers need no NEON declarations. */' \
    >"$dir/shim/arm_neon.h"
  # php-config is a shell script: its --includes, moved under DIR, the shim first. ext-php-rs's
  # build script asks for nothing else (its version checks run PHP itself: the host's, the same
  # minor version).
  cat >"$dir/php-config" <<EOF
#!/bin/sh
# php-config of Debian's arm64 php$ver-dev ($(cat "$dir/.lambda-cache-headers")), paths moved under
# this directory; --includes starts with shim/ (an empty arm_neon.h, see scripts/arm64.sh).
set -e
d=\$(cd "\$(dirname "\$0")" && pwd)
out=\$(sh "\$d/usr/bin/php-config$ver" "\$@")
case "\$1" in --includes) out="-I\$d/shim \$out" ;; esac
printf '%s\n' "\$out" | sed "s#/usr/include/#\$d/usr/include/#g"
EOF
  chmod 0755 "$dir/php-config"
}

# --- qemu and the root --------------------------------------------------------------------------

ensure_qemu() {
  [ -x "$QEMU" ] && return 0
  lock qemu
  [ -x "$QEMU" ] && return 0
  local tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && { apt-get download -q qemu-user-static >/dev/null 2>&1 ||
                   { $sudo apt-get update -qq >&2 && apt-get download -q qemu-user-static >/dev/null; }; })
  dpkg-deb -x "$tmp"/qemu-user-static_*.deb "$tmp/x"
  mkdir -p "$QEMU_DIR"
  cp "$tmp/x/usr/bin/qemu-aarch64-static" "$QEMU.new"
  mv "$QEMU.new" "$QEMU"
  rm -rf "$tmp"
}

ensure_root() {
  local want="${PACKAGES[*]}"
  [ -f "$ROOT/$STAMP_NAME" ] && [ "$(sed -n 's/^packages: //p' "$ROOT/$STAMP_NAME")" = "$want" ] && return 0
  lock bookworm-arm64
  [ -f "$ROOT/$STAMP_NAME" ] && [ "$(sed -n 's/^packages: //p' "$ROOT/$STAMP_NAME")" = "$want" ] && return 0
  local t
  t=$(now)
  local state="$build/apt-bookworm-arm64"
  local log="$build/bookworm-arm64.log"
  {
    apt_foreign "$state" arm64 bookworm update &&
      apt_foreign "$state" arm64 bookworm install -y --download-only "${PACKAGES[@]}"
  } >"$log" 2>&1 || { tail -n 30 "$log" >&2; die "apt-get failed (whole log: $log)"; }
  # The packages an install would unpack (the state's status is empty: all of them), by file name.
  local debs=() pkg ver
  while read -r pkg ver; do
    debs+=("$state/archives/${pkg}_${ver//:/%3a}_"*.deb)
  done < <(apt_foreign "$state" arm64 bookworm install -s "${PACKAGES[@]}" 2>>"$log" |
             sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1 \2/p')
  [ ${#debs[@]} -gt 0 ] || die "no packages to unpack (log: $log)"
  rm -rf --one-file-system "$ROOT" "$ROOT.new"
  mkdir -p "$ROOT.new"
  local deb
  for deb in "${debs[@]}"; do
    [ -f "$deb" ] || die "missing $deb (log: $log)"
    dpkg-deb -x "$deb" "$ROOT.new"
  done
  # What php8.2-cli's and php8.2-common's maintainer scripts would do.
  local etc="$ROOT.new/etc/php/8.2"
  mkdir -p "$etc/cli/conf.d" "$etc/mods-available"
  cp "$ROOT.new/usr/lib/php/8.2/php.ini-production.cli" "$etc/cli/php.ini"
  cp "$ROOT.new"/usr/share/php8.2-*/*/*.ini "$etc/mods-available/"
  local ini name prio
  for ini in "$etc"/mods-available/*.ini; do
    name="$(basename "$ini")"
    prio="$(sed -n 's/^; *priority=\([0-9]*\).*/\1/p' "$ini" | head -n 1)"
    cp "$ini" "$etc/cli/conf.d/${prio:-20}-$name"
  done
  # Paths the root must not shadow for the emulated PHP (qemu -L looks there first).
  local p
  for p in tmp proc dev sys opt run work root home var/tmp; do
    [ ! -e "$ROOT.new/$p" ] || rm -rf --one-file-system "$ROOT.new/${p:?}"
  done
  printf 'complete: bookworm arm64 %s %s\npackages: %s\n' "$MIRROR" "$(date -u +%FT%TZ)" "$want" >"$ROOT.new/$STAMP_NAME"
  mv "$ROOT.new" "$ROOT"
  rm -f "$log"
  phase_done "the Debian 12 arm64 root ($ROOT, ${#debs[@]} packages)" "$t"
}

php_cmd() { echo "$QEMU -L $ROOT $ROOT/usr/bin/php8.2"; }

[ $# -ge 1 ] || usage
cmd=$1
shift
case "$cmd" in
  toolchain) [ $# -eq 0 ] || usage; ensure_toolchain ;;
  headers) [ $# -eq 2 ] || usage; ensure_headers "$1" "$2" ;;
  root) [ $# -eq 0 ] || usage; ensure_qemu; ensure_root ;;
  php-cmd) [ $# -eq 0 ] || usage; ensure_qemu; ensure_root; php_cmd ;;
  run)
    [ $# -ge 2 ] && [ "$1" = -- ] || usage
    shift
    ensure_qemu
    ensure_root
    exec 9>&-
    # Test helpers that do not load the extension (the fault proxy) run on the host's PHP when
    # there is one: emulated, their own slowness would eat into the timeouts the tests check.
    helper="$(command -v php || true)"
    ARM64_PHP="$(php_cmd)" LAMBDA_CACHE_PHP_CMD="$(php_cmd)" LAMBDA_CACHE_HELPER_PHP_CMD="${helper:-$(php_cmd)}" exec "$@"
    ;;
  *) usage ;;
esac
