#!/usr/bin/env bash
# A restore drill (DESIGN.md decision 7), on the repository's host: restore one stanza's
# backup into a scratch instance with archiving off, recover to the target, verify each
# database with its uploaded SQL, stop and remove the instance, and record the result.
#
#   restore_drill.sh [--keep|--remove] STANZA TARGET REPO_PATH VERSION DRILL_DIR DATABASE...
#
# --keep restores and recovers, then leaves the instance running (socket DRILL_DIR/scratch/
# STANZA, port 5499) for a point-in-time export, and records nothing; --remove stops and
# removes a kept instance.
#
# TARGET is "latest" (the end of the archive) or a time ("2026-12-02 20:15:00.000000+00").
# Results: DRILL_DIR/results/STANZA.last.json (every drill), STANZA.verified.json (the last
# one that passed) and STANZA.history.jsonl. Progress goes to stdout; exit 1 when it failed.
set -euo pipefail

mode=drill
case "${1:-}" in
--keep | --remove)
    mode=${1#--}
    shift
    ;;
esac
stanza=$1
target=$2
repo_path=$3
version=$4
drill_dir=$5
shift 5
databases=("$@")

bin=/usr/lib/postgresql/$version/bin
scratch=$drill_dir/scratch/$stanza
data=$scratch/data
results=$drill_dir/results
port=5499
problems=()
verified=()
label=""
last_transaction=""

say() { printf 'restore-drill %s: %s\n' "$stanza" "$*"; }
as_postgres() { runuser -u postgres -- "$@"; }
scratch_psql() {
    as_postgres psql -X -q -A -t -h "$scratch" -p "$port" -v ON_ERROR_STOP=1 -v "target=$target" "$@"
}

remove_scratch() {
    if [ -f "$data/postmaster.pid" ]; then
        as_postgres "$bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$scratch"
}

record() {
    local finished verdict result
    finished=$(date +%s)
    if [ "${#problems[@]}" -eq 0 ]; then verdict=verified; else verdict=failed; fi
    result=$(
        jq -n -c \
            --arg stanza "$stanza" --arg host "$(uname -n)" --arg backup_set "$label" \
            --arg target "$target" --arg last_transaction "$last_transaction" \
            --arg verdict "$verdict" --argjson started "$started" --argjson finished "$finished" \
            --argjson databases "$(printf '%s\n' "${verified[@]}" | jq -s -c .)" \
            --argjson problems "$(printf '%s\n' "${problems[@]}" | jq -R . | jq -s -c 'map(select(. != ""))')" \
            '{stanza: $stanza, host: $host, backup_set: $backup_set, target: $target,
              last_transaction: $last_transaction, started: $started, finished: $finished,
              duration_seconds: ($finished - $started), databases: $databases,
              problems: ($problems + [$databases[].problems[]]),
              verdict: (if ($problems + [$databases[].problems[]]) == [] then "verified"
                        else "failed" end)}'
    )
    verdict=$(jq -r .verdict <<<"$result")
    install -d -m 750 -o root -g postgres "$results"
    printf '%s\n' "$result" >"$results/$stanza.last.json.tmp"
    mv "$results/$stanza.last.json.tmp" "$results/$stanza.last.json"
    printf '%s\n' "$result" >>"$results/$stanza.history.jsonl"
    if [ "$verdict" = verified ]; then
        cp "$results/$stanza.last.json" "$results/$stanza.verified.json.tmp"
        mv "$results/$stanza.verified.json.tmp" "$results/$stanza.verified.json"
    fi
    jq -r '.problems[] | "restore-drill \(.)"' <<<"$result"
    say "$verdict in $((finished - started)) s (backup set ${label:-none}, target $target)"
    [ "$verdict" = verified ]
}

# The scratch server's last log lines, on stderr (where recovery stopped, and why).
server_log() {
    echo "restore-drill $stanza: the scratch server's log ends with:" >&2
    tail -n 12 "$scratch/log/postgresql.log" >&2 || true
}

fail() {
    problems+=("$*")
    remove_scratch
    if [ "$mode" = keep ]; then # not a drill: nothing recorded
        echo "restore-drill $stanza: $*" >&2
        exit 1
    fi
    record || exit 1
}

started=$(date +%s)
cd /
install -d -m 750 -o root -g postgres "$drill_dir" "$drill_dir/scratch"
exec 9>"$drill_dir/scratch/.$stanza.lock"
if ! flock -n 9; then
    echo "restore-drill $stanza: another drill of this stanza is running on $(uname -n)" >&2
    exit 1
fi
remove_scratch # what a killed drill left
if [ "$mode" = remove ]; then
    say "scratch instance removed"
    exit 0
fi
trap remove_scratch EXIT
install -d -m 700 -o postgres -g postgres "$scratch" "$data" "$scratch/log"

# pgBackRest reads this configuration alone: the repository here, the scratch instance as the
# stanza's cluster; the restore_command it writes names it, so WAL comes from here too.
cat >"$scratch/pgbackrest.conf" <<EOF
[global]
repo1-path=$repo_path
lock-path=$scratch/lock
log-path=$scratch/log
log-level-console=info
log-level-file=off

[$stanza]
pg1-path=$data
pg1-port=$port
pg1-socket-path=$scratch
EOF
chown postgres:postgres "$scratch/pgbackrest.conf"

# What is committed now is in the archive first: check switches each member's WAL segment and
# waits until the repository holds it (a cluster that cannot be reached keeps what is there).
if as_postgres pgbackrest "--stanza=$stanza" check >/dev/null 2>&1; then
    say "the archive holds every write committed before $(date -u '+%H:%M:%S UTC')"
else
    say "the cluster could not be reached: drilling what the archive holds"
fi

restore=(pgbackrest "--config=$scratch/pgbackrest.conf" "--stanza=$stanza" --archive-mode=off)
if [ "$target" = latest ]; then
    restore+=(--type=default)
else
    restore+=(--type=time "--target=$target" --target-action=promote)
fi
say "restoring (target $target) into $data"
if ! output=$(as_postgres "${restore[@]}" restore 2>&1); then
    fail "pgbackrest restore failed: $(grep -E 'ERROR|WARN' <<<"$output" | tail -n 3 | tr '\n' ' ')"
    exit 1
fi
label=$(sed -n 's/.*restore backup set \([0-9A-Za-z_-]*\).*/\1/p' <<<"$output" | head -n 1)
say "restored backup set ${label:-?} ($(du -sm "$data" | cut -f1) MB) in $(($(date +%s) - started)) s"

# Debian keeps a cluster's configuration in /etc: the copy gets a minimal one of its own, a
# socket in the scratch folder and no TCP, no archiving, no hot standby (recovery just runs).
cat >"$data/postgresql.conf" <<EOF
port = $port
listen_addresses = ''
unix_socket_directories = '$scratch'
hot_standby = off
archive_mode = off
ssl = off
shared_preload_libraries = ''
logging_collector = off
EOF
echo 'local all postgres peer' >"$data/pg_hba.conf"
: >"$data/pg_ident.conf"
chown postgres:postgres "$data/postgresql.conf" "$data/pg_hba.conf" "$data/pg_ident.conf"

say "recovering"
# 9>&-: the server must not hold the drill's lock (a kept instance is removed by another run)
if ! as_postgres "$bin/pg_ctl" -D "$data" -l "$scratch/log/postgresql.log" -w -t 86400 start >/dev/null 9>&-; then
    server_log
    fail "recovery failed: $(grep -E 'FATAL|PANIC' "$scratch/log/postgresql.log" | tail -n 2 | tr '\n' ' ')"
    exit 1
fi
# pg_ctl counts a server in recovery as started: wait for recovery's end (and its promotion).
until [ "$(scratch_psql -d postgres -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; do
    if ! as_postgres "$bin/pg_ctl" -D "$data" status >/dev/null; then
        server_log
    fail "recovery failed: $(grep -E 'FATAL|PANIC' "$scratch/log/postgresql.log" | tail -n 2 | tr '\n' ' ')"
        exit 1
    fi
    sleep 1
done
last_transaction=$(scratch_psql -d postgres -c 'SELECT coalesce(pg_last_xact_replay_timestamp()::text, $$$$)')
say "recovered in $(($(date +%s) - started)) s; last transaction replayed: ${last_transaction:-none}"
if [ "$target" != latest ] && [ -n "$last_transaction" ] &&
    [ "$(scratch_psql -d postgres <<<"SELECT pg_last_xact_replay_timestamp() > :'target'::timestamptz")" = t ]; then
    problems+=("recovery went past the target: last transaction $last_transaction")
fi

if [ "$mode" = keep ]; then
    if [ "${#problems[@]}" -gt 0 ]; then
        printf 'restore-drill %s\n' "${problems[@]}" >&2
        exit 1
    fi
    trap - EXIT
    say "kept: socket $scratch, port $port"
    exit 0
fi

for database in "${databases[@]}"; do
    if found=$(scratch_psql -d "$database" -f "$drill_dir/verify/$stanza/$database.sql" 2>&1); then
        verified+=("$found")
        say "$(jq -r '"verified \(.database): ledger \(.ledger_rows) rows, \(.indexes_checked) indexes, \(.tables | length) tables, \([.tables[]] | add // 0) rows, \(.problems | length) problem(s)"' <<<"$found")"
    else
        problems+=("database $database: $(tail -n 1 <<<"$found")")
    fi
done

as_postgres "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
remove_scratch
trap - EXIT
record
