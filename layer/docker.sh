#!/usr/bin/env bash
# make docker-layer-php84-arm64 -> layer/docker.sh php84 arm64: the layer zip for that PHP
# version and architecture, built in Docker on Bref's build image, into dist/.
set -euo pipefail
php=${1:?php82|php83|php84|php85}
arch=${2:?x86_64|arm64}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v docker >/dev/null 2>&1 || { echo "layer: docker is needed for $php-$arch" >&2; exit 1; }
case "$arch" in x86_64) platform=linux/amd64 ;; arm64) platform=linux/arm64 ;; *) echo "layer: bad arch $arch" >&2; exit 2 ;; esac
docker build -f "$root/layer/Dockerfile" --platform "$platform" --build-arg "PHP_VERSION=${php#php}" -o "$root/dist" "$root"
