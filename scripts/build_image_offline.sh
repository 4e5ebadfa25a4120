#!/usr/bin/env bash
# Builds the connector image without pulling anything from an image registry, for air-gapped installs and build
# machines that reach only Debian's and Python's package mirrors:
#
#   sudo EXTRA_CA_DIR=/usr/local/share/ca-certificates scripts/build_image_offline.sh [IMAGE_TAG]
#
# As root on Debian it installs docker.io if there is no Docker, and starts dockerd if none is running
# (scripts/ensure_docker_daemon.sh; a dockerd it starts keeps running for later builds and tests). It makes a
# Debian bookworm base (Python 3.11) with debootstrap, imports it as a local image and keeps it for later runs, then
# builds ./Dockerfile on it. Certificates (*.crt, *.pem) in EXTRA_CA_DIR are handed to the build as a BuildKit
# secret, for pip behind a TLS-intercepting proxy: they are read at build time only and end up in no layer.
#
# Environment: EXTRA_CA_DIR (certificates to trust while building), DEBIAN_MIRROR (default deb.debian.org),
# IMAGE_TAG (default airbyte/source-stripe:dev, what acceptance-test-config.yml names).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE_TAG="${1:-${IMAGE_TAG:-airbyte/source-stripe:dev}}"
EXTRA_CA_DIR="${EXTRA_CA_DIR:-}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BASE_PACKAGES="python3,python3-venv"
# The base's tag names its recipe, so a changed recipe builds a new base instead of reusing a stale one.
BASE_IMAGE="source-stripe-local-base:bookworm-$(printf '%s' "$BASE_PACKAGES" | sha256sum | cut -c1-12)"

say() { printf '[build_image_offline] %s\n' "$*" >&2; }

# `docker build --secret` needs BuildKit: Docker 23+ clients only have it through the buildx plugin, while Debian's
# docker.io client has it built in. Use whichever this machine can.
pick_buildkit_client() {
  if docker buildx version >/dev/null 2>&1; then
    echo docker
  elif [ -x /usr/bin/docker ] && [ "$(/usr/bin/docker version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1)" -lt 23 ]; then
    echo /usr/bin/docker
  else
    say "no Docker client with BuildKit here: install docker-buildx (or Debian's docker.io)"
    exit 1
  fi
}

ensure_local_base() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    say "reusing the local base $BASE_IMAGE"
    return
  fi
  command -v debootstrap >/dev/null || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  local rootfs
  rootfs="$(mktemp -d /tmp/source-stripe-rootfs.XXXXXX)"
  trap 'rm -rf "$rootfs"' RETURN
  say "making the local base with debootstrap from $DEBIAN_MIRROR (a few minutes, once)"
  debootstrap --variant=minbase --include="$BASE_PACKAGES" bookworm "$rootfs" "$DEBIAN_MIRROR" >/dev/null
  # Package caches, documentation and locales are of no use in a connector image.
  rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*
  tar --numeric-owner -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' \
    - "$BASE_IMAGE" >/dev/null
  say "local base $BASE_IMAGE: $(docker image inspect --format '{{.Size}}' "$BASE_IMAGE" | numfmt --to=iec)"
}

build_connector_image() {
  local client="$1" bundle
  bundle="$(mktemp)"
  trap 'rm -f "$bundle"' RETURN
  if [ -n "$EXTRA_CA_DIR" ]; then
    find "$EXTRA_CA_DIR" -maxdepth 1 -type f \( -name '*.crt' -o -name '*.pem' \) -exec cat {} + >"$bundle"
    say "trusting $(grep -c 'BEGIN CERTIFICATE' "$bundle" || true) extra CA certificate(s) from $EXTRA_CA_DIR while building"
  fi
  say "building $IMAGE_TAG on $BASE_IMAGE"
  DOCKER_BUILDKIT=1 "$client" build --progress=plain --network host \
    --build-arg BASE_IMAGE="$BASE_IMAGE" \
    --secret id=extra_ca,src="$bundle" \
    --tag "$IMAGE_TAG" "$REPO_ROOT"
}

started=$SECONDS
"$REPO_ROOT/scripts/ensure_docker_daemon.sh" >/dev/null
client="$(pick_buildkit_client)"
ensure_local_base
build_connector_image "$client"
# Each rebuild leaves the previous image untagged; only this connector's are removed.
docker image prune --force --filter "label=io.airbyte.name=airbyte/source-stripe" >/dev/null
say "built $IMAGE_TAG: $(docker image inspect --format '{{.Size}}' "$IMAGE_TAG" | numfmt --to=iec) in $((SECONDS - started)) s"
