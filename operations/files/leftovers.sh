#!/usr/bin/env bash
# What a killed deploy left on a host: uploads (psql scripts, pgpass files) in the deploy's
# private folder, migration run folders, and a move's installed pgpass and check files. An
# entry a run still uses (it holds a lock on it) or one younger than a minute (a run has just
# uploaded it and is about to lock it) is not a leftover. On a host reached through sudo, the
# SSH user's staging folder holds what a run killed between upload and copy left there.
#
#   leftovers.sh list|remove PRIVATE_DIR MIGRATIONS_DIR MOVE_WORK_DIR [STAGING_DIR]
set -euo pipefail

if [[ ($# -ne 4 && $# -ne 5) || ($1 != list && $1 != remove) ]]; then
    echo "usage: leftovers.sh list|remove PRIVATE_DIR MIGRATIONS_DIR MOVE_WORK_DIR" \
        "[STAGING_DIR]" >&2
    exit 2
fi
mode=$1
private_dir=$2
migrations_dir=$3
move_dir=$4
staging_dir=${5:-}

unused() {
    flock -n -x "$1" true 2>/dev/null
}

found=()
dirs=("$private_dir" "$migrations_dir")
if [[ -n $staging_dir ]]; then
    dirs+=("$staging_dir")
fi
for dir in "${dirs[@]}"; do
    [[ -d $dir ]] || continue
    while IFS= read -r -d '' entry; do
        if unused "$entry"; then
            found+=("$entry")
        fi
    done < <(find "$dir" -mindepth 1 -maxdepth 1 ! -newermt '60 seconds ago' -print0)
done
if [[ -d $move_dir ]]; then
    # A move holds its tenant's lock file while it runs; its other files are leftovers once
    # no move holds that lock.
    while IFS= read -r -d '' lock; do
        base=${lock%.lock}
        if unused "$lock"; then
            for extra in "$base.pgpass" "$base.check.sql" "$base.receipt" "$base.done"; do
                if [[ -e $extra ]]; then
                    found+=("$extra")
                fi
            done
        fi
    done < <(find "$move_dir" -mindepth 1 -maxdepth 1 -name '*.lock' -print0)
fi
for entry in "${found[@]}"; do
    echo "$entry"
    if [[ $mode == remove ]]; then
        rm -rf -- "$entry"
    fi
done
