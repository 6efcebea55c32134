#!/usr/bin/env bash
# The restore drills recorded on this host, for the `RestoreDrillResults` fact: the host's
# clock (epoch seconds), then one line per result file: "<stanza>.last|verified <json>".
#
#   restore_drill_results.sh RESULTS_DIR
set -euo pipefail

date +%s
for file in "$1"/*.last.json "$1"/*.verified.json; do
    if [ -f "$file" ]; then
        name=$(basename "$file" .json)
        printf '%s %s\n' "$name" "$(head -n 1 "$file")"
    fi
done
