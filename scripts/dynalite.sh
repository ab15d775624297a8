#!/usr/bin/env bash
# Runs a command next to a throw-away, in-memory DynamoDB emulator (dynalite) on a free loopback port.
#
#   scripts/dynalite.sh run -- COMMAND [ARGS...]
#
# - installs Node.js and npm with apt-get when they are missing, and a pinned dynalite into
#   build/dynalite/ (ignored by git) when it is missing or another version, one run at a time
#   (build/dynalite.lock);
# - starts dynalite on 127.0.0.1 on a port the OS picks (listen on port 0, race-free), tables
#   created, deleted and updated at once, data in memory only;
# - runs COMMAND with LAMBDA_CACHE_DYNAMODB_ENDPOINT=http://127.0.0.1:PORT and, where not already
#   set, AWS_REGION=us-east-1, AWS_ACCESS_KEY_ID=test, AWS_SECRET_ACCESS_KEY=test,
#   AWS_EC2_METADATA_DISABLED=true;
# - stops dynalite when COMMAND ends, fails or is interrupted, and exits with COMMAND's status.
#
# DYNALITE_INSTANCES=N (1..16, default 1) starts N independent emulators, each with its own port and
# its own empty store; the first is LAMBDA_CACHE_DYNAMODB_ENDPOINT, and DYNALITE_ENDPOINTS lists all
# N, space-separated (it is set with one instance too). benches/dynamo.php uses the others as
# replicas of the first: dynalite serves one request at a time, real DynamoDB serves many at once.
#
# Version: dynalite 3.2.2, the last 3.x. dynalite 4 declares `node >= 20`, but a fresh Debian 12
# gets Node 18 from `apt install nodejs`; 3.2.2 declares no Node floor and runs on Node 18 and 20.
# Its only native module, leveldown, is an optional dependency used for on-disk stores (--path)
# alone: `--omit=optional` leaves it out, so the install never compiles anything.
set -euo pipefail

DYNALITE_VERSION=3.2.2
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$root/build/dynalite"
module="$prefix/node_modules/dynalite"

usage() {
  echo "usage: $0 run -- COMMAND [ARGS...]" >&2
  exit 2
}
[ $# -ge 3 ] && [ "$1" = run ] && [ "$2" = -- ] || usage
shift 2

say() { echo "dynalite.sh: $*" >&2; }

ensure_node() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "installing nodejs and npm with apt-get"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >&2
}

installed_version() {
  [ -f "$module/package.json" ] || return 0
  node -p "require(process.argv[1]).version" "$module/package.json" 2>/dev/null || true
}

# Two runs on a fresh checkout (two make targets at once) would both npm install into
# build/dynalite: the install holds build/dynalite.lock (flock, fd 8), and a run that waited for it
# finds dynalite installed and installs nothing.
ensure_dynalite() {
  [ "$(installed_version)" = "$DYNALITE_VERSION" ] && return 0
  mkdir -p "$root/build"
  exec 8>"$root/build/dynalite.lock"
  if ! flock -n 8; then
    say "waiting for another dynalite.sh installing into build/dynalite"
    flock 8
  fi
  [ "$(installed_version)" = "$DYNALITE_VERSION" ] || install_dynalite
  exec 8>&-
}

install_dynalite() {
  say "installing dynalite@$DYNALITE_VERSION into build/dynalite"
  mkdir -p "$prefix"
  local log
  log="$(mktemp)"
  if ! npm install --prefix "$prefix" --no-audit --no-fund --omit=optional "dynalite@$DYNALITE_VERSION" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    say "npm install dynalite@$DYNALITE_VERSION failed"
    exit 1
  fi
  rm -f "$log"
  if [ "$(installed_version)" != "$DYNALITE_VERSION" ]; then
    say "npm did not install dynalite@$DYNALITE_VERSION into $prefix"
    exit 1
  fi
}

ensure_node
ensure_dynalite

instances="${DYNALITE_INSTANCES:-1}"
if ! [[ "$instances" =~ ^[0-9]+$ ]] || [ "$instances" -lt 1 ] || [ "$instances" -gt 16 ]; then
  say "DYNALITE_INSTANCES must be a whole number from 1 to 16, got '$instances'"
  exit 2
fi

workdir="$(mktemp -d "${TMPDIR:-/tmp}/dynalite.XXXXXX")"
pids=()

cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# dynalite's own CLI listens on every interface; its API takes the host, so start it from there.
# Options are the CLI's --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 (no --path: memory).
launcher='
var server = require(process.argv[1])({createTableMs: 0, deleteTableMs: 0, updateTableMs: 0});
server.listen(0, "127.0.0.1", function () {
  console.log("Listening at http://127.0.0.1:" + server.address().port);
});
process.on("SIGTERM", function () { process.exit(0); });
process.on("SIGINT", function () { process.exit(0); });
'

# Starts instance $1 in the background and sets $port once it answers; exits on failure.
start_instance() {
  local log="$workdir/dynalite.$1.log" pid answered=""
  : >"$log"
  node -e "$launcher" "$module" </dev/null >>"$log" 2>&1 &
  pid=$!
  pids+=("$pid")
  port=""
  # Bounded wait: the port line, then an HTTP answer (dynalite answers GET / with "healthy").
  for _ in $(seq 1 150); do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "dynalite exited before it answered; its log:"
      sed 's/^/  /' "$log" >&2 || true
      exit 1
    fi
    if [ -z "$port" ]; then
      port="$(sed -n 's~^Listening at http://127\.0\.0\.1:\([0-9][0-9]*\)$~\1~p' "$log" 2>/dev/null | head -n 1 || true)"
    fi
    if [ -n "$port" ] && (
      exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
      printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
      IFS= read -r -t 2 status <&3 || exit 1
      [[ "$status" == "HTTP/1."*" 200"* ]]
    ) 2>/dev/null; then
      answered=1
      break
    fi
    sleep 0.1
  done
  if [ -z "$answered" ]; then
    say "dynalite did not answer within 15 s; its log:"
    sed 's/^/  /' "$log" >&2 || true
    exit 1
  fi
}

endpoints=()
for i in $(seq 1 "$instances"); do
  start_instance "$i"
  endpoints+=("http://127.0.0.1:$port")
done
port="${endpoints[0]##*:}"

export LAMBDA_CACHE_DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_EC2_METADATA_DISABLED="${AWS_EC2_METADATA_DISABLED:-true}"

export DYNALITE_ENDPOINTS="${endpoints[*]}"

say "dynalite $DYNALITE_VERSION at $DYNALITE_ENDPOINTS (pid ${pids[*]})"

set +e
"$@"
rc=$?
set -e
exit "$rc"
