#!/usr/bin/env bash
# Runs a command inside a Debian 13 (trixie) root, for PHP 8.4, PHPUnit 11.5 and psr/cache 3.0,
# without installing a single Debian 13 package on the Debian 12 host.
#
#   scripts/trixie.sh run -- COMMAND [ARGS...]   run COMMAND in the root (working directory: the
#                                                same path as outside when it is in the checkout,
#                                                else the checkout), exit with its status
#   scripts/trixie.sh shell                      an interactive bash in the root
#   scripts/trixie.sh root                       only create or update the root
#   scripts/trixie.sh remove                     delete the root
#
# The root: build/trixie/ (ignored by git; TRIXIE_ROOT=/some/dir puts it elsewhere, e.g. to share
# one between checkouts), made with `debootstrap --variant=minbase trixie` from
# http://deb.debian.org/debian (TRIXIE_MIRROR), checked against the host's Debian archive keyring
# (debian-archive-keyring, which carries the trixie keys on Debian 12), then the packages below
# installed with apt-get. The stamp file build/trixie/.lambda-cache-trixie is written last: a root
# without it is half-built and made again from scratch; a root whose stamp lists other packages
# gets the missing ones installed. A lock (build/trixie.lock) keeps two invocations from building
# the same root at once.
#
# Each run happens in private mount and PID namespaces (unshare --mount --pid --fork): proc, sys,
# dev (a bind of the host's, /dev/pts included, with a fresh /dev/shm), a fresh tmpfs on /tmp,
# the checkout bound at the same path as on the host (absolute paths in the Makefile work), the
# host's ~/.rustup bound read-only at /root/.rustup, and the host's ~/.cargo as the read-only
# lower layer of an overlay at /root/.cargo whose writable upper layer is a tmpfs of the run
# (cargo can take its locks and add crates; the host's registry index and crates make offline
# builds work; nothing is written back to the host). When the command ends, fails or is
# interrupted, the namespaces die: the kernel kills every process left in the root and drops
# every mount. Nothing is ever mounted in the host's mount namespace.
#
# The command gets a clean environment: HOME=/root, PATH with /root/.cargo/bin first,
# RUSTUP_HOME, CARGO_HOME, LANG=C.UTF-8, TERM, and from the caller CI, NO_COLOR, CARGO_NET_OFFLINE,
# CARGO_BUILD_JOBS, RUST_BACKTRACE, the CA bundle variables (SSL_CERT_FILE, NODE_EXTRA_CA_CERTS,
# PIP_CERT, ...) and the variables named in TRIXIE_PASS_ENV (space-separated). The CA certificates
# added on the host (/usr/local/share/ca-certificates) are added to the root's bundle.
#
# Needs root (debootstrap, mounts). Installs the host's debootstrap with apt-get when missing.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="${TRIXIE_ROOT:-$repo/build/trixie}"
MIRROR="${TRIXIE_MIRROR:-http://deb.debian.org/debian}"
SUITE=trixie
STAMP_NAME=.lambda-cache-trixie
STAMP="$ROOT/$STAMP_NAME"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# What building the extension and the whole PHPUnit suite need (see Makefile, test-php84-inside).
PACKAGES=(
  php8.4-cli php8.4-dev php8.4-fpm php8.4-curl php-psr-cache php-psr-simple-cache php-symfony-cache
  php-apcu php-igbinary phpunit
  clang libclang-dev gcc libc6-dev pkg-config
  nodejs npm
  zip unzip binutils make util-linux mount procps ca-certificates python3-venv
)
# The layer's .so must need no glibc symbol newer than 2.34 (Amazon Linux 2023), and trixie's glibc
# 2.41 headers make C code (LMDB's mdb.c) call __isoc23_strtol@GLIBC_2.38: the layer is built with
# `cargo zigbuild --target x86_64-unknown-linux-gnu.2.34` (zig's glibc 2.34 headers and stubs).
# Both from PyPI, pinned, into a venv at /opt/zigbuild in the root; zig and cargo-zigbuild are
# linked into /usr/local/bin there.
PIP_PACKAGES=(ziglang==0.17.1 cargo-zigbuild==0.24.1)

say() { echo "trixie.sh: $*" >&2; }
die() { say "$*"; exit 1; }
usage() {
  echo "usage:" >&2
  sed -n '5,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}/  /' >&2
  exit 2
}
now() { date +%s.%N; }
# One line per phase: "trixie.sh: <phase>: <seconds> s".
phase_done() { say "$(awk -v a="$(now)" -v b="$2" -v p="$1" -v s="${3:-}" 'BEGIN { printf "%s: %.1f s%s", p, a - b, s }')"; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap and mounts): sudo $0 $*"

# Mount points of the host's mount namespace at or under a path (there should never be any).
mounts_under() {
  awk -v p="$1" '{ m = $5; gsub(/\\040/, " ", m); if (m == p || index(m, p "/") == 1) print m }' /proc/self/mountinfo
}

ensure_host_tools() {
  local missing=()
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  # Debian 12's keyring package carries the trixie archive and release keys since 2023.3+deb12u1.
  [ -f /usr/share/keyrings/debian-archive-trixie-stable.gpg ] || missing+=(debian-archive-keyring)
  command -v unshare >/dev/null 2>&1 && command -v flock >/dev/null 2>&1 || missing+=(util-linux)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} on the host with apt-get"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}

# --- entering the root --------------------------------------------------------------------------

# Runs in the new mount and PID namespaces (as PID 1 of the latter): mounts, then the command in
# a chroot with a clean environment. Arguments: MODE (admin|run) CWD -- COMMAND...
# shellcheck disable=SC2016
INNER='
set -euo pipefail
r=$TRIXIE_INNER_ROOT mode=$1 cwd=$2
shift 3
# The root a mount point of its own: inside the chroot, "/" can then be made private, as
# `unshare --mount` does (php-tests/Layer/LayerTest.php), and pivot_root-style tools work.
mount --bind "$r" "$r"
mount -t proc -o nosuid,nodev,noexec proc "$r/proc"
mount --rbind /sys "$r/sys"
mount -o remount,bind,ro "$r/sys"
mount --rbind /dev "$r/dev"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$r/dev/shm"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$r/tmp"
path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
env=(HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM="${TERM:-dumb}" DEBIAN_FRONTEND=noninteractive)
if [ "$mode" = run ]; then
  # The checkout, at the same path (after /tmp: a checkout under /tmp lands on the fresh tmpfs).
  mkdir -p "$r$TRIXIE_INNER_REPO"
  mount --bind "$TRIXIE_INNER_REPO" "$r$TRIXIE_INNER_REPO"
  # Rust: the toolchains read-only; CARGO_HOME writable over the host`s, which stays untouched.
  mkdir -p "$r/root/.rustup" "$r/root/.cargo" "$r/var/lib/lambda-cache-overlay"
  mount --bind "$TRIXIE_INNER_RUSTUP" "$r/root/.rustup"
  mount -o remount,bind,ro "$r/root/.rustup"
  mount -t tmpfs -o mode=0700 tmpfs "$r/var/lib/lambda-cache-overlay"
  mkdir -p "$r/var/lib/lambda-cache-overlay/upper" "$r/var/lib/lambda-cache-overlay/work"
  mount -t overlay overlay \
    -o "lowerdir=$TRIXIE_INNER_CARGO,upperdir=$r/var/lib/lambda-cache-overlay/upper,workdir=$r/var/lib/lambda-cache-overlay/work" \
    "$r/root/.cargo"
  path=/root/.cargo/bin:$path
  env+=(RUSTUP_HOME=/root/.rustup CARGO_HOME=/root/.cargo LAMBDA_CACHE_TRIXIE=1)
fi
env+=(PATH="$path")
for v in CI NO_COLOR CARGO_NET_OFFLINE CARGO_BUILD_JOBS RUST_BACKTRACE SSL_CERT_FILE SSL_CERT_DIR \
         NODE_EXTRA_CA_CERTS PIP_CERT REQUESTS_CA_BUNDLE CURL_CA_BUNDLE ${TRIXIE_PASS_ENV:-}; do
  if [ -n "${!v+x}" ]; then
    env+=("$v=${!v}")
  fi
done
# PID 1 of the namespace: it waits for the command and forwards TERM/HUP to every process in the
# namespace (kill -1 spares PID 1); SIGINT from the terminal reaches the command directly.
trap "kill -TERM -1 2>/dev/null || true" TERM HUP
trap ":" INT
env --default-signal=INT,QUIT chroot "$r" /usr/bin/env -i "${env[@]}" /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$cwd" "$@" <&0 &
child=$!
while :; do
  rc=0
  wait "$child" || rc=$?
  kill -0 "$child" 2>/dev/null || break
done
exit "$rc"
'

# enter MODE CWD COMMAND...: runs COMMAND in the root, in namespaces of its own; returns its status.
# Signals to this script (TERM, HUP, INT) end the namespace: TERM to every process in it, and
# after 10 s SIGKILL through unshare --kill-child.
enter() {
  local mode=$1 cwd=$2
  shift 2
  # DNS as on the host (same network namespace).
  cat /etc/resolv.conf >"$ROOT/etc/resolv.conf" 2>/dev/null || true
  TRIXIE_INNER_ROOT="$ROOT" TRIXIE_INNER_REPO="$repo" TRIXIE_INNER_RUSTUP="$rustup_home" \
    TRIXIE_INNER_CARGO="$cargo_home" TRIXIE_INNER_SCRIPT="$INNER" \
    env --default-signal=INT,QUIT unshare --mount --propagation private --pid --fork --kill-child \
    bash -c 'eval "$TRIXIE_INNER_SCRIPT"' trixie-init "$mode" "$cwd" -- "$@" <&0 9>&- &
  upid=$!
  local rc
  trap 'interrupted TERM' TERM
  trap 'interrupted HUP' HUP
  trap 'interrupted INT' INT
  while :; do
    rc=0
    wait "$upid" || rc=$?
    kill -0 "$upid" 2>/dev/null || break
  done
  trap - TERM HUP INT
  upid=""
  return "$rc"
}

upid=""
killer=""
want=""
rustup_home="${RUSTUP_HOME:-$HOME/.rustup}"
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
interrupted() {
  if [ -z "$upid" ]; then
    case $1 in INT) exit 130 ;; HUP) exit 129 ;; *) exit 143 ;; esac
  fi
  if [ "$1" != INT ]; then
    # The namespace's PID 1 is unshare's child: it passes TERM on to everything in the root.
    local init
    init="$(cat "/proc/$upid/task/$upid/children" 2>/dev/null || true)"
    [ -z "$init" ] || kill -TERM $init 2>/dev/null || true
  fi
  if [ -z "$killer" ]; then
    # unshare blocks INT and TERM; killing it makes the kernel kill the namespace (--kill-child).
    (
      trap 'kill "$s" 2>/dev/null; exit 0' TERM
      sleep 10 &
      s=$!
      wait "$s"
      kill -KILL "$upid" 2>/dev/null
    ) </dev/null >/dev/null 2>&1 9>&- &
    killer=$!
  fi
}
cleanup_killer() { [ -z "$killer" ] || kill "$killer" 2>/dev/null || true; }
trap cleanup_killer EXIT

# --- creating the root --------------------------------------------------------------------------

stamp_packages() { sed -n 's/^packages: //p' "$STAMP" 2>/dev/null; }

remove_root() {
  [ -e "$ROOT" ] || return 0
  local m
  m="$(mounts_under "$ROOT")"
  [ -z "$m" ] || die "refusing to delete $ROOT: mounted under it: $m (umount them first)"
  rm -rf --one-file-system "$ROOT"
}

create_root() {
  local t
  if [ -e "$ROOT" ]; then
    say "$ROOT has no stamp ($STAMP_NAME): a half-built root, making it again"
    remove_root
  fi
  mkdir -p "$(dirname "$ROOT")"
  t=$(now)
  local gpg=(--keyring="$KEYRING")
  if [ "${TRIXIE_NO_CHECK_GPG:-}" = 1 ]; then
    say "WARNING: TRIXIE_NO_CHECK_GPG=1: debootstrap does not check the archive's signatures"
    gpg=(--no-check-gpg)
  fi
  local log="$(dirname "$ROOT")/trixie-debootstrap.log"
  # In namespaces of its own: the proc and sys mounts debootstrap makes in the root, and any
  # process a maintainer script starts, die with it even when it is killed.
  if ! unshare --mount --propagation private --pid --fork --kill-child \
      debootstrap --variant=minbase "${gpg[@]}" "$SUITE" "$ROOT" "$MIRROR" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "debootstrap failed (whole log: $log)"
  fi
  rm -f "$log"
  phase_done "creating the root (debootstrap --variant=minbase $SUITE)" "$t"
}

install_packages() {
  local t
  t=$(now)
  # No daemons started by maintainer scripts, no recommends, no documentation.
  printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
  chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$ROOT/etc/apt/apt.conf.d/90lambda-cache"
  printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/info/*' \
    'path-exclude=/usr/share/locale/*' 'path-include=/usr/share/locale/locale.alias' >"$ROOT/etc/dpkg/dpkg.cfg.d/90lambda-cache"
  # Point releases and security fixes too (the same mirror host).
  cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb ${MIRROR%/debian}/debian-security $SUITE-security main
EOF
  local log="$(dirname "$ROOT")/trixie-apt.log"
  if ! enter admin / sh -c 'apt-get update -q && apt-get install -y -q "$@" && apt-get clean' sh "${PACKAGES[@]}" >"$log" 2>&1 </dev/null ||
     ! sync_local_cas >>"$log" 2>&1 ||
     ! enter admin / sh -c 'set -e
        [ -x /opt/zigbuild/bin/pip ] || python3 -m venv /opt/zigbuild
        /opt/zigbuild/bin/pip install -q --disable-pip-version-check --no-cache-dir "$@"
        ln -sf /opt/zigbuild/bin/cargo-zigbuild /usr/local/bin/cargo-zigbuild
        ln -sf "$(/opt/zigbuild/bin/python -c "import ziglang, os; print(os.path.dirname(ziglang.__file__))")/zig" /usr/local/bin/zig
        zig version' sh "${PIP_PACKAGES[@]}" >>"$log" 2>&1 </dev/null; then
    tail -n 30 "$log" >&2
    die "installing packages in the root failed (whole log: $log)"
  fi
  rm -f "$log"
  grep -q '^127\.0\.0\.1[[:space:]].*localhost' "$ROOT/etc/hosts" 2>/dev/null || echo '127.0.0.1 localhost' >>"$ROOT/etc/hosts"
  phase_done "installing packages (${#PACKAGES[@]} from Debian 13, ${PIP_PACKAGES[*]} from PyPI)" "$t"
}

# The CA certificates added on the host (/usr/local/share/ca-certificates, e.g. a TLS-inspecting
# proxy's) are trusted in the root too: copied there and made part of its bundle when they differ.
local_cas_in_sync() {
  local src=/usr/local/share/ca-certificates
  [ -d "$src" ] || return 0
  diff -r -q "$src" "$ROOT/usr/local/share/ca-certificates" >/dev/null 2>&1
}

sync_local_cas() {
  local src=/usr/local/share/ca-certificates dst="$ROOT/usr/local/share/ca-certificates"
  [ -x "$ROOT/usr/sbin/update-ca-certificates" ] || return 0
  local_cas_in_sync && return 0
  rm -rf "$dst"
  mkdir -p "$dst"
  cp -a "$src/." "$dst/"
  enter admin / update-ca-certificates --fresh </dev/null >/dev/null
}

# A complete root with this package list and the host's CAs.
root_current() {
  [ -f "$STAMP" ] && [ "$(stamp_packages)" = "$want" ] && local_cas_in_sync
}

# lock -s|-x: the root's lock on fd 9, shared (runs) or exclusive (changing the root); a shared
# lock becomes exclusive once no other run holds the root.
lock() {
  flock -n "$1" 9 && return 0
  say "waiting for another trixie.sh using or building $ROOT"
  flock "$1" 9
}

ensure_root() {
  mkdir -p "$(dirname "$ROOT")"
  exec 9>"$ROOT.lock"
  want="${PACKAGES[*]} ${PIP_PACKAGES[*]}"
  lock -s
  if ! root_current; then
    lock -x
    if [ ! -f "$STAMP" ] || [ "$(stamp_packages)" != "$want" ]; then
      ensure_host_tools
      if [ ! -f "$STAMP" ]; then
        create_root
      else
        say "creating the root: cached ($ROOT); the package list changed"
      fi
      install_packages
      printf 'complete: %s %s %s\npackages: %s\n' "$SUITE" "$MIRROR" "$(date -u +%FT%TZ)" "$want" >"$STAMP.new"
      mv "$STAMP.new" "$STAMP"
    else
      say "creating the root: cached ($ROOT)"
      say "installing packages: cached"
    fi
    sync_local_cas
    # Runs share the root: hold it (shared) until this script exits, so no one rebuilds it meanwhile.
    lock -s
  else
    say "creating the root: cached ($ROOT)"
    say "installing packages: cached"
  fi
}

ensure_toolchain() {
  [ -d "$rustup_home/toolchains" ] && [ -x "$cargo_home/bin/cargo" ] ||
    die "no Rust toolchain at $cargo_home and $rustup_home (scripts/deps.sh installs one)"
}

# --- main ---------------------------------------------------------------------------------------

[ $# -ge 1 ] || usage
cmd=$1
shift
case "$cmd" in
  run)
    [ $# -ge 2 ] && [ "$1" = -- ] || usage
    shift
    ;;
  shell) [ $# -eq 0 ] || usage; set -- bash -l ;;
  root) [ $# -eq 0 ] || usage ;;
  remove)
    [ $# -eq 0 ] || usage
    mkdir -p "$(dirname "$ROOT")"
    exec 9>"$ROOT.lock"
    lock -x
    remove_root
    say "removed $ROOT"
    exit 0
    ;;
  *) usage ;;
esac

ensure_root
[ "$cmd" != root ] || exit 0
ensure_toolchain

cwd="$repo"
case "$PWD/" in "$repo"/*) cwd="$PWD" ;; esac
t=$(now)
rc=0
enter run "$cwd" "$@" || rc=$?
phase_done "running $(printf '%q ' "$@" | cut -c 1-80)" "$t" " (exit $rc)"
exit "$rc"
