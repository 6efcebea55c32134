#!/usr/bin/env bash
# Prepare a Debian 12 machine to run the ADX test hosts (containers under a real Docker engine).
#
# Idempotent; run as root. It
#   1. installs the packages the test hosts need, running `apt-get update` only when one is missing;
#   2. starts dockerd in the background when no engine answers, and waits until it does.
#
# Nothing is configured that a second run would change: a converged machine prints "ok" lines only.
set -euo pipefail

PACKAGES=(docker.io debootstrap make openssh-client python3-venv shellcheck)
DOCKERD_LOG=/var/log/adx-dockerd.log
DOCKERD_WAIT_SECONDS=60

say() { printf 'host-setup: %s\n' "$*"; }
die() { printf 'host-setup: error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root"
[[ -r /etc/debian_version ]] || die "this is not a Debian machine"

# 1. Packages -------------------------------------------------------------------------------
missing=()
for package in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
    if [[ $status != installed ]]; then
        missing+=("$package")
    fi
done
if ((${#missing[@]} == 0)); then
    say "ok: packages already installed (${PACKAGES[*]})"
else
    say "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
    say "installed: ${missing[*]}"
fi

# 2. The Docker engine ----------------------------------------------------------------------
engine_answers() { docker version >/dev/null 2>&1; }

if engine_answers; then
    say "ok: the Docker engine answers ($(docker version --format '{{.Server.Version}}'))"
    exit 0
fi

if pgrep -x dockerd >/dev/null; then
    say "dockerd is running but does not answer yet; waiting"
else
    say "starting dockerd in the background (log: $DOCKERD_LOG)"
    # setsid + nohup: the engine outlives this shell and the terminal it came from.
    setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
fi

for ((waited = 0; waited < DOCKERD_WAIT_SECONDS; waited++)); do
    if engine_answers; then
        say "started: the Docker engine answers after ${waited}s" \
            "($(docker version --format '{{.Server.Version}}'))"
        exit 0
    fi
    sleep 1
done
tail -n 20 "$DOCKERD_LOG" >&2 || true
die "the Docker engine did not answer within ${DOCKERD_WAIT_SECONDS}s (see $DOCKERD_LOG)"
