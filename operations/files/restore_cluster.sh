#!/usr/bin/env bash
# Rebuild a lost cluster on this (fresh) host from its stanza on the backup host (DESIGN.md
# decision 7), in two steps around the deploy's configuration files:
#
#   restore_cluster.sh restore STANZA TARGET TARGET_EPOCH VERSION CLUSTER PORT
#       refuse when the cluster exists here, its data folder holds anything, the stanza holds
#       no backup or TARGET is before its oldest one; else create the Debian cluster as the
#       deploy does and restore into its (emptied, new) data folder
#   restore_cluster.sh start STANZA VERSION CLUSTER PORT
#       start it and wait until recovery ends and it is promoted (a new timeline)
#
# TARGET is "latest" (the end of the archive) or a time ("2026-12-02 20:15:00.000000+00").
set -euo pipefail

step=$1
stanza=$2
say() { printf 'restore %s: %s\n' "$stanza" "$*"; }
refuse() {
    printf 'restore %s: refused: %s\n' "$stanza" "$*" >&2
    exit 1
}
cd /

if [ "$step" = restore ]; then
    target=$3 target_epoch=$4 version=$5 cluster=$6 port=$7
    data=/var/lib/postgresql/$version/$cluster
    if pg_lsclusters -h 2>/dev/null | awk -v v="$version" -v c="$cluster" \
        '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
        refuse "cluster $version/$cluster exists on $(uname -n): a cluster is restored onto a" \
            "fresh host only (if a restore stopped half way, run the deploy)"
    fi
    if [ -d "$data" ] && [ -n "$(ls -A "$data")" ]; then
        refuse "$data on $(uname -n) is not empty: move it away first; nothing was changed"
    fi
    if ! info=$(runuser -u postgres -- pgbackrest "--stanza=$stanza" --output=json info 2>&1); then
        refuse "cannot read stanza $stanza in the repository: $(tail -n 1 <<<"$info")"
    fi
    oldest=$(jq -r '.[0].backup[0].timestamp.stop // empty' <<<"$info")
    label=$(jq -r '.[0].backup[0].label // empty' <<<"$info")
    if [ -z "$oldest" ]; then
        refuse "stanza $stanza holds no backup"
    fi
    restore=("--stanza=$stanza" --log-level-console=info)
    if [ "$target" = latest ]; then
        restore+=(--type=default)
    else
        if [ "$target_epoch" -lt "$oldest" ]; then
            refuse "--at $target: before the oldest backup of stanza $stanza ($label, finished" \
                "$(date -u -d "@$oldest" '+%Y-%m-%d %H:%M:%S UTC')): no backup holds that point in time"
        fi
        if [ "$target_epoch" -gt "$(date +%s)" ]; then
            refuse "--at $target: later than the clock of $(uname -n)"
        fi
        restore+=(--type=time "--target=$target" --target-action=promote)
    fi
    # Debian's layout as the deploy makes it (configuration in /etc, conf.d included), then the
    # fresh data folder, made this minute, is emptied for the restored one.
    pg_createcluster --locale C.UTF-8 --encoding UTF8 --port "$port" "$version" "$cluster" -- \
        --data-checksums --auth-local=peer --auth-host=scram-sha-256 >/dev/null
    find "$data" -mindepth 1 -delete
    started=$(date +%s)
    say "restoring (target $target) into $data"
    output=$(runuser -u postgres -- pgbackrest "${restore[@]}" restore 2>&1) || {
        printf '%s\n' "$output" >&2
        pg_dropcluster "$version" "$cluster" # a partial copy is no cluster: back to a fresh host
        refuse "pgbackrest restore failed"
    }
    set_label=$(sed -n 's/.*restore backup set \([0-9A-Za-z_-]*\).*/\1/p' <<<"$output" | head -n 1)
    say "restored backup set ${set_label:-?} ($(du -sm "$data" | cut -f1) MB) in $(($(date +%s) - started)) s"
elif [ "$step" = start ]; then
    version=$3 cluster=$4 port=$5
    started=$(date +%s)
    if ! pg_ctlcluster "$version" "$cluster" status >/dev/null 2>&1; then
        pg_ctlcluster "$version" "$cluster" start || true
    fi
    psql_now() { runuser -u postgres -- psql -X -A -t -p "$port" -d postgres -c "$1" 2>/dev/null; }
    until [ "$(psql_now 'SELECT pg_is_in_recovery()')" = f ]; do
        if ! pg_ctlcluster "$version" "$cluster" status >/dev/null 2>&1; then
            tail -n 5 "/var/log/postgresql/postgresql-$version-$cluster.log" >&2 || true
            refuse "recovery failed: see /var/log/postgresql/postgresql-$version-$cluster.log"
        fi
        sleep 1
    done
    say "recovered and promoted in $(($(date +%s) - started)) s: timeline" \
        "$(psql_now 'SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)'), last transaction" \
        "$(psql_now 'SELECT pg_last_xact_replay_timestamp()')"
else
    echo "usage: restore_cluster.sh restore|start ..." >&2
    exit 2
fi
