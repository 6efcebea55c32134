#!/usr/bin/env bash
# The tenant move runner (DESIGN.md decision 10): one move of one tenant, run as root on the
# primary. The operation `tenant_moves` (operations/moves.py) uploads it together with the
# move's psql scripts (adxdb/plan/move_scripts.py), runs it, then removes every upload.
#
#   tenant_move.sh --slug SLUG --work-dir DIR --port PORT --database DB \
#       --export-sql FILE --switch-sql FILE --state-sql FILE --target-database DB \
#       [--target-host HOST --target-port PORT --target-user ROLE --ca-file FILE --pgpass FILE
#        --unfence-sql FILE --unfenced-sql FILE] [--mode copy|unfence]
#
# --database is the primary's main database (the registry and the tenant's rows), reached as
# postgres on PORT. Without --target-host the new location is on the primary too; with it, it
# is reached over TLS (verify-full against --ca-file) as --target-user, whose password is in
# the --pgpass file: installed for postgres (0600), the upload removed, the copy removed on
# exit. No argument is a secret.
#
# Steps: one move of a tenant at a time on this primary (flock in the work dir); the registry
# must still say where this deploy found the tenant; the export's copy stream goes into the new
# location's psql, whose output is the receipt; only a receipt that says the copy committed
# lets the switch run; a remote new location's fence is lifted once the switch committed (and
# again by a later run that finds the move done, should that have failed): --unfence-sql runs
# there, then --unfenced-sql on the primary clears the switch's pending mark. --mode unfence
# does only that (a later deploy, for a move whose lift failed).
set -euo pipefail

readonly COMMITTED=adx-move-committed     # the export's last line (adxdb.plan.move_scripts)
readonly CHECK_FILE_VARIABLE=adx_check_file  # where the export writes the switch's check

usage() {
    echo "tenant_move.sh: $1" >&2
    exit 2
}

slug="" work_dir="" port="" database="" export_sql="" switch_sql="" state_sql=""
target_database="" target_host="" target_port="" target_user="" ca_file="" pgpass=""
unfence_sql="" unfenced_sql="" mode=copy
while (($# > 0)); do
    (($# >= 2)) || usage "$1 needs a value"
    case $1 in
        --slug) slug=$2 ;;
        --work-dir) work_dir=$2 ;;
        --port) port=$2 ;;
        --database) database=$2 ;;
        --export-sql) export_sql=$2 ;;
        --switch-sql) switch_sql=$2 ;;
        --state-sql) state_sql=$2 ;;
        --target-database) target_database=$2 ;;
        --target-host) target_host=$2 ;;
        --target-port) target_port=$2 ;;
        --target-user) target_user=$2 ;;
        --ca-file) ca_file=$2 ;;
        --pgpass) pgpass=$2 ;;
        --unfence-sql) unfence_sql=$2 ;;
        --unfenced-sql) unfenced_sql=$2 ;;
        --mode) mode=$2 ;;
        *) usage "unknown argument $1" ;;
    esac
    shift 2
done
[[ $mode == copy || $mode == unfence ]] || usage "--mode must be copy or unfence"
required=(slug work_dir port database target_database)
if [[ $mode == copy ]]; then
    required+=(export_sql switch_sql state_sql)
fi
if [[ -n $target_host || $mode == unfence ]]; then
    required+=(target_host target_port target_user ca_file pgpass unfence_sql unfenced_sql)
fi
for name in "${required[@]}"; do
    [[ -n ${!name} ]] || usage "--${name//_/-} is required"
done

primary_psql() {
    runuser -u postgres -- psql -X -q -A -t -v ON_ERROR_STOP=1 -p "$port" -d "$database" "$@"
}

install -d -m 0700 -o postgres -g postgres "$work_dir"
# One move of a tenant at a time on this primary: a deploy that waited here finds the move
# done (and stops) or still to do (and does it).
exec 9>"$work_dir/$slug.lock"
flock -w 3600 9

check_file=$work_dir/$slug.check.sql
receipt=$work_dir/$slug.receipt
rm -f "$check_file" "$receipt"
cleanup=("$check_file" "$receipt")
if [[ -z $target_host ]]; then
    target_psql=(runuser -u postgres -- psql -X -q -A -t -v ON_ERROR_STOP=1 -p "$port"
        -v VERBOSITY=terse -d "$target_database")
else
    installed_pgpass=$work_dir/$slug.pgpass
    install -m 0600 -o postgres -g postgres "$pgpass" "$installed_pgpass"
    rm -f "$pgpass"
    cleanup+=("$installed_pgpass")
    conninfo="host=$target_host port=$target_port dbname=$target_database user=$target_user"
    conninfo+=" sslmode=verify-full sslrootcert=$ca_file connect_timeout=30"
    conninfo+=" application_name=adx-move"
    target_psql=(runuser -u postgres -- env "PGPASSFILE=$installed_pgpass" psql -X -q -A -t
        -v ON_ERROR_STOP=1 -v VERBOSITY=terse "$conninfo")
fi
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
fi

state=$(primary_psql <"$state_sql")
if [[ $state == target ]]; then
    echo "tenant $slug: already moved by another deploy"
    unfence_target
    exit 0
elif [[ $state != source ]]; then
    echo "tenant $slug: the registry no longer says where this deploy found it;" \
        "nothing was copied" >&2
    exit 1
fi

primary_psql -v "$CHECK_FILE_VARIABLE=$check_file" <"$export_sql" |
    "${target_psql[@]}" >"$receipt"
if ! grep -qx "$COMMITTED" "$receipt"; then
    echo "tenant $slug: the copy did not commit; nothing was switched" >&2
    exit 1
fi
primary_psql -v "$CHECK_FILE_VARIABLE=$check_file" <"$switch_sql"
unfence_target
