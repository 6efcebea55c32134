#!/usr/bin/env bash
# The tenant move runner (DESIGN.md decision 10): one move of one tenant, run as root on the
# primary. The operation `tenant_moves` (operations/moves.py) uploads it together with the
# move's psql scripts (adxdb/plan/move_scripts.py, adxdb/plan/move_catch_up.py), runs it,
# then removes every upload.
#
#   tenant_move.sh --slug SLUG --work-dir DIR --port PORT --database DB --target-database DB \
#       [--source-database DB] \
#       --state-sql F --capture-sql F --export-sql F --catch-up-sql F --done-sql F \
#       --freeze-sql F --final-sql F --switch-sql F --unfreeze-sql F --cleanup-sql F \
#       [--moved-sql F] [--vacuum-sql F] [--catch-up-passes N] [--catch-up-rows N] \
#       [--target-host HOST] [--source-host HOST] \
#       [--mover-port PORT --mover ROLE --ca-file FILE --pgpass FILE] \
#       [--unfence-sql FILE --unfenced-sql FILE] \
#       [--mode copy|unfence|tidy|readdress --tidy-sql F --readdress-check-sql F
#        --identity-sql F --old-host HOST]
#
# --database is the primary's main database (the registry), reached as postgres on PORT. The
# old location is --source-database (default: --database): on the primary too, or with
# --source-host on another host; the new one is --target-database, with --target-host on
# another host. A location on another host is reached over TLS (verify-full against
# --ca-file) as --mover, whose password is in the --pgpass file: installed for postgres
# (0600), the upload removed, the copy removed on exit. No argument is a secret.
#
# Steps: one move of a tenant at a time on this primary (flock in the work dir); the registry
# must still say where this deploy found the tenant; the tenant's writes at the old location
# are captured from here on (capture); the copy stream goes into the new location's psql,
# whose output is the receipt (only a receipt that says it committed lets the move go on);
# catch-up passes copy the captured rows again while the tenant writes, until a pass copies at
# most --catch-up-rows of them (or after --catch-up-passes); then the tenant's writes, and no
# other tenant's, are frozen (a fence at the old location), a last pass copies what is left
# and checks the counts, and the switch points the registry at the new location. The freeze's
# length is printed. A failure anywhere before the switch's commit lifts the freeze and
# leaves the registry and every row where they were. After the switch, an old location outside
# the main database keeps its freeze as its fence for good and stops capturing (--moved-sql); a
# new location outside the main database has its fence lifted (--unfence-sql there, then
# --unfenced-sql on the primary clears the switch's pending mark; --mode unfence does only
# that, for a later deploy); the old rows are deleted (--cleanup-sql). --mode tidy runs
# --tidy-sql on the primary, under the tenant's lock: what a killed or abandoned move left for
# a tenant now in place. --mode readdress checks that the database at --target-host is the
# tenant's live one (--readdress-check-sql there: not fenced, and holding the tenant's rows or
# answering with the identity --old-host shows, --identity-sql), then switches the registry
# (--switch-sql).
set -euo pipefail

readonly COMMITTED=adx-move-committed        # a stream's last line (adxdb.plan.move_scripts)
readonly DONE_FILE_VARIABLE=adx_done_file    # where a catch-up pass lists what it applied

usage() {
    echo "tenant_move.sh: $1" >&2
    exit 2
}

slug="" work_dir="" port="" database="" target_database="" source_database="" mode=copy
state_sql="" capture_sql="" export_sql="" catch_up_sql="" done_sql="" freeze_sql=""
final_sql="" switch_sql="" unfreeze_sql="" cleanup_sql="" moved_sql="" vacuum_sql="" catch_up_passes=5
catch_up_rows=100 target_host="" source_host="" mover_port="" mover="" ca_file="" pgpass=""
unfence_sql="" unfenced_sql="" tidy_sql="" readdress_check_sql="" identity_sql="" old_host=""
while (($# > 0)); do
    (($# >= 2)) || usage "$1 needs a value"
    case $1 in
        --slug) slug=$2 ;;
        --work-dir) work_dir=$2 ;;
        --port) port=$2 ;;
        --database) database=$2 ;;
        --target-database) target_database=$2 ;;
        --source-database) source_database=$2 ;;
        --mode) mode=$2 ;;
        --state-sql) state_sql=$2 ;;
        --capture-sql) capture_sql=$2 ;;
        --export-sql) export_sql=$2 ;;
        --catch-up-sql) catch_up_sql=$2 ;;
        --done-sql) done_sql=$2 ;;
        --freeze-sql) freeze_sql=$2 ;;
        --final-sql) final_sql=$2 ;;
        --switch-sql) switch_sql=$2 ;;
        --unfreeze-sql) unfreeze_sql=$2 ;;
        --cleanup-sql) cleanup_sql=$2 ;;
        --moved-sql) moved_sql=$2 ;;
        --vacuum-sql) vacuum_sql=$2 ;;
        --catch-up-passes) catch_up_passes=$2 ;;
        --catch-up-rows) catch_up_rows=$2 ;;
        --target-host) target_host=$2 ;;
        --source-host) source_host=$2 ;;
        --mover-port) mover_port=$2 ;;
        --mover) mover=$2 ;;
        --ca-file) ca_file=$2 ;;
        --pgpass) pgpass=$2 ;;
        --unfence-sql) unfence_sql=$2 ;;
        --unfenced-sql) unfenced_sql=$2 ;;
        --tidy-sql) tidy_sql=$2 ;;
        --readdress-check-sql) readdress_check_sql=$2 ;;
        --identity-sql) identity_sql=$2 ;;
        --old-host) old_host=$2 ;;
        *) usage "unknown argument $1" ;;
    esac
    shift 2
done
[[ $mode == copy || $mode == unfence || $mode == tidy || $mode == readdress ]] ||
    usage "--mode must be copy, unfence, tidy or readdress"
[[ $catch_up_passes =~ ^[0-9]+$ && $catch_up_rows =~ ^[0-9]+$ ]] ||
    usage "--catch-up-passes and --catch-up-rows must be whole numbers"
required=(slug work_dir port database target_database)
if [[ $mode == copy ]]; then
    required+=(state_sql capture_sql export_sql catch_up_sql done_sql freeze_sql final_sql)
    required+=(switch_sql unfreeze_sql cleanup_sql)
fi
if [[ $mode == tidy ]]; then
    required+=(tidy_sql)
fi
if [[ $mode == readdress ]]; then
    required+=(state_sql switch_sql readdress_check_sql identity_sql old_host)
fi
if [[ $mode == unfence ]]; then
    required+=(unfence_sql unfenced_sql)
fi
if [[ -n $target_host || -n $source_host || -n $old_host ]]; then
    required+=(mover_port mover ca_file pgpass)
fi
if [[ -n $source_host && $mode == copy ]]; then
    required+=(moved_sql)
fi
source_database=${source_database:-$database}
for name in "${required[@]}"; do
    [[ -n ${!name} ]] || usage "--${name//_/-} is required"
done

primary_psql() {
    runuser -u postgres -- psql -X -q -A -t -v ON_ERROR_STOP=1 -p "$port" -d "$database" "$@"
}

install -d -m 0700 -o postgres -g postgres "$work_dir"
exec 3>&1 # the runner's own output: progress lines reach it from inside $(...) too
# One move of a tenant at a time on this primary: a deploy that waited here finds the move
# done (and stops) or still to do (and does it).
exec 9>"$work_dir/$slug.lock"
flock -w 3600 9

receipt=$work_dir/$slug.receipt
done_file=$work_dir/$slug.done
rm -f "$receipt" "$done_file"
cleanup=("$receipt" "$done_file")
if [[ -n $target_host || -n $source_host || -n $old_host ]]; then
    installed_pgpass=$work_dir/$slug.pgpass
    install -m 0600 -o postgres -g postgres "$pgpass" "$installed_pgpass"
    rm -f "$pgpass"
    cleanup+=("$installed_pgpass")
fi
# The psql command line of a location: local (as postgres) or on HOST (as the mover, TLS).
location_psql() {
    local host=$1 db=$2 timeout=${3:-30}
    if [[ -z $host ]]; then
        printf '%s\0' runuser -u postgres -- psql -X -q -A -t -v ON_ERROR_STOP=1 -p "$port" \
            -v VERBOSITY=terse -d "$db"
    else
        local conninfo="host=$host port=$mover_port dbname=$db user=$mover"
        conninfo+=" sslmode=verify-full sslrootcert=$ca_file connect_timeout=$timeout"
        conninfo+=" application_name=adx-move"
        # A dedicated cluster's members (a,b,...): libpq keeps the one that leads.
        if [[ $host == *,* ]]; then
            conninfo+=" target_session_attrs=read-write"
        fi
        printf '%s\0' runuser -u postgres -- env "PGPASSFILE=$installed_pgpass" psql -X -q -A \
            -t -v ON_ERROR_STOP=1 -v VERBOSITY=terse "$conninfo"
    fi
}
mapfile -d '' -t target_psql < <(location_psql "$target_host" "$target_database")
mapfile -d '' -t source_psql < <(location_psql "$source_host" "$source_database")
trap 'rm -f "${cleanup[@]}"' EXIT

unfence_target() {
    if [[ -n $unfence_sql ]]; then
        "${target_psql[@]}" <"$unfence_sql" >/dev/null
        primary_psql <"$unfenced_sql" >/dev/null
    fi
}

if [[ $mode == unfence ]]; then
    echo "tenant $slug: lifting the fence at its new location"
    unfence_target
    exit 0
elif [[ $mode == tidy ]]; then
    echo "tenant $slug: tidying what a move left"
    primary_psql <"$tidy_sql" >/dev/null
    exit 0
elif [[ $mode == readdress ]]; then
    state=$(primary_psql <"$state_sql")
    if [[ $state == target ]]; then
        echo "tenant $slug: already re-addressed by another deploy"
        exit 0
    elif [[ $state != source ]]; then
        echo "tenant $slug: the registry no longer says where this deploy found it;" \
            "nothing was changed" >&2
        exit 1
    fi
    read -r found identity < <("${target_psql[@]}" <"$readdress_check_sql")
    if [[ $found == empty ]]; then
        # No row of the tenant there: the same database only if the old address shows it too.
        mapfile -d '' -t old_psql < <(location_psql "$old_host" "$target_database" 5)
        old_identity=$("${old_psql[@]}" <"$identity_sql" 2>/dev/null) || old_identity=""
        [[ $old_identity == "$identity" ]] && found=same
    fi
    if [[ $found != rows && $found != same ]]; then
        echo "tenant $slug: the database $target_database at ${target_host:-the primary} is" \
            "not the one registered at" \
            "$old_host (${found:-unreadable}: it holds none of the tenant's rows, or a move" \
            "fences it there, and $old_host does not answer as the same database); if that" \
            "host is gone, restore the database onto the new one first; nothing was changed" >&2
        exit 1
    fi
    primary_psql <"$switch_sql" >/dev/null
    echo "tenant $slug: re-addressed: the registry points at ${target_host:-the primary}"
    exit 0
fi

state=$(primary_psql <"$state_sql")
if [[ $state == target ]]; then
    echo "tenant $slug: already moved by another deploy"
    if [[ -n $moved_sql ]]; then
        "${source_psql[@]}" <"$moved_sql" >/dev/null
    fi
    unfence_target
    "${source_psql[@]}" <"$cleanup_sql" >/dev/null
    exit 0
elif [[ $state != source ]]; then
    echo "tenant $slug: the registry no longer says where this deploy found it;" \
        "nothing was copied" >&2
    exit 1
fi

# The copy's progress: the new location's psql prints `adx-progress TABLE ROWS BYTES` (the
# table's rows and bytes copied so far) after each statement of the copy; one line a table
# when it is done, and every 10 s while a large one goes on. Anything else is passed on.
progress() {
    local line table="" rows=0 bytes=0 started=${EPOCHREALTIME/./} said now
    said=$started
    while IFS= read -r line; do
        if [[ $line =~ ^adx-progress\ ([A-Za-z0-9_]+)\ ([0-9]+)\ ([0-9]+)$ ]]; then
            if [[ -n $table && $table != "${BASH_REMATCH[1]}" ]]; then
                progress_line copied "$table" "$rows" "$bytes" "$started"
                started=${EPOCHREALTIME/./}
                said=$started
            fi
            table=${BASH_REMATCH[1]} rows=${BASH_REMATCH[2]} bytes=${BASH_REMATCH[3]}
            now=${EPOCHREALTIME/./}
            if ((now - said >= 10000000)); then
                progress_line copying "$table" "$rows" "$bytes" "$started"
                said=$now
            fi
        else
            printf '%s\n' "$line" >&2
        fi
    done
    if [[ -n $table ]]; then
        progress_line copied "$table" "$rows" "$bytes" "$started"
    fi
}

# One progress line (to fd 3, the runner's output): $1 copying|copied, table $2, rows $3,
# bytes $4 since $5 (microseconds).
progress_line() {
    local us=$((${EPOCHREALTIME/./} - $5))
    ((us > 0)) || us=1
    local tenths_mb=$(($4 * 10 / 1048576)) tenths_s=$((us / 100000))
    local rate=$(($3 * 1000000 / us)) tenths_rate=$(($4 * 10000000 / us / 1048576))
    printf 'tenant %s: %s %s: %d rows, %d.%d MB in %d.%d s (%d rows/s, %d.%d MB/s)\n' >&3 \
        "$slug" "$1" "$2" "$3" $((tenths_mb / 10)) $((tenths_mb % 10)) \
        $((tenths_s / 10)) $((tenths_s % 10)) "$rate" $((tenths_rate / 10)) $((tenths_rate % 10))
}

# A stream from the old location into the new one, one transaction there; true when its
# receipt says it committed. The new location's messages go through `progress`.
stream() {
    rm -f "$receipt"
    "${source_psql[@]}" -v "$DONE_FILE_VARIABLE=$done_file" <"$1" |
        "${target_psql[@]}" 2>&1 >"$receipt" | progress && grep -qx "$COMMITTED" "$receipt"
}

# One catch-up pass (its script $1): prints how many captured changes it copied again.
catch_up() {
    rm -f "$done_file"
    stream "$1" || return 1
    "${source_psql[@]}" <"$done_sql"
}

unfreeze() {
    "${source_psql[@]}" <"$unfreeze_sql" >/dev/null || true
}

"${source_psql[@]}" <"$capture_sql" >/dev/null
if ! stream "$export_sql"; then
    echo "tenant $slug: the copy did not commit; nothing was switched" >&2
    exit 1
fi
# The new location's tables vacuumed (a schema or database of the tenant's own): the last
# pass counts their rows under the freeze from the visibility map. Not needed for the move.
if [[ -n $vacuum_sql ]] && ! "${target_psql[@]}" <"$vacuum_sql" >/dev/null; then
    echo "tenant $slug: VACUUM of the new location failed; the move goes on" >&2
fi
passes=0
while :; do
    passes=$((passes + 1))
    if ! applied=$(catch_up "$catch_up_sql"); then
        echo "tenant $slug: catch-up pass $passes did not commit; nothing was switched" >&2
        exit 1
    fi
    echo "tenant $slug: catch-up pass $passes copied $applied changed row(s) again"
    if ((applied <= catch_up_rows || passes >= catch_up_passes)); then
        break
    fi
done
frozen_at=$(date +%s.%N)
if ! "${source_psql[@]}" <"$freeze_sql" >/dev/null; then
    unfreeze
    exit 1
fi
if ! applied=$(catch_up "$final_sql"); then
    echo "tenant $slug: the last catch-up pass did not commit; nothing was switched" >&2
    unfreeze
    exit 1
fi
frozen_ms=$(awk -v a="$frozen_at" -v b="$(date +%s.%N)" 'BEGIN { printf "%d", (b - a) * 1000 }')
if ! primary_psql -v "adx_frozen_ms=$frozen_ms" <"$switch_sql" >/dev/null; then
    unfreeze
    exit 1
fi
thawed_at=$(date +%s.%N)
frozen_for=$(awk -v a="$frozen_at" -v b="$thawed_at" 'BEGIN { printf "%.2f", b - a }')
echo "tenant $slug: switched; its writes were frozen for $frozen_for s" \
    "(the last pass copied $applied changed row(s))"
if [[ -n $moved_sql ]]; then
    "${source_psql[@]}" <"$moved_sql" >/dev/null
fi
unfence_target
"${source_psql[@]}" <"$cleanup_sql" >/dev/null
