#!/usr/bin/env bash
# Makes sure a Docker daemon answers: as root on Debian it installs docker.io when there is no Docker and starts
# dockerd when none runs. Exits non-zero, saying why, when no daemon can be had. When it started dockerd, it
# prints that daemon's process id on stdout, so a caller can stop what it started.
set -euo pipefail

DOCKERD_LOG="${DOCKERD_LOG:-/var/log/source-stripe-dockerd.log}"
say() { printf '[ensure_docker_daemon] %s\n' "$*" >&2; }

if docker info >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  say "no Docker daemon answers, and only root can install or start one"
  exit 1
fi
if ! command -v dockerd >/dev/null; then
  command -v apt-get >/dev/null || { say "no dockerd and no apt-get to install Debian's docker.io"; exit 1; }
  say "installing Debian's docker.io"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null || {
    say "could not install docker.io"
    exit 1
  }
fi
if ! docker info >/dev/null 2>&1; then
  say "starting dockerd (log: $DOCKERD_LOG)"
  nohup dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
  pid=$!
  for _ in $(seq 60); do
    if docker info >/dev/null 2>&1; then
      echo "$pid"
      exit 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  say "dockerd did not come up; last lines of $DOCKERD_LOG:"
  tail -n 20 "$DOCKERD_LOG" >&2
  kill "$pid" 2>/dev/null || true
  exit 1
fi
