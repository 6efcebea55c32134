#!/usr/bin/env bash
# What pgBackRest's repository says, for the backup facts: the host's clock (epoch seconds),
# then `info` as JSON, or the error that kept `info` from answering (an unreachable
# repository, a refused certificate).
#
#   pgbackrest_info.sh [STANZA]     line 1: epoch; line 2: ok|error; then JSON or the error
set -euo pipefail

args=(--output=json)
if [ -n "${1:-}" ]; then
    args+=("--stanza=$1")
fi
date +%s
if output=$(runuser -u postgres -- pgbackrest "${args[@]}" info 2>&1); then
    echo ok
else
    echo error
fi
printf '%s\n' "$output"
