#!/usr/bin/env bash
# The read jobs' queries (`adxdb <job> INVENTORY`) on the estate's databases of this host:
# psql as postgres on the unix socket, then SET ROLE to the monitoring role, so a job reads
# with adx_monitor's privileges and no more; each result as CSV with its header.
#
#   job_queries.sh PORT ROLE DATABASES NAME SQL [NAME SQL ...]
#
# DATABASES: the estate's database names, space-separated (identifiers: no quoting needed).
# Prints "--adx-job-- down" when no server answers. Otherwise, per database of the host that
# allows connections: "--adx-job-- unlisted DATABASE" for one not in DATABASES, else per query
# "--adx-job-- ok|error DATABASE NAME" followed by the CSV or by psql's error.
set -euo pipefail

port=$1 role=$2 databases=$3
shift 3
cd / || exit 1 # psql as postgres warns of a working directory it cannot read
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
if ! pg_isready -q -p "$port"; then
    echo "--adx-job-- down"
    exit 0
fi
present=$(runuser -u postgres -- psql -X -q -A -t -p "$port" -d postgres -c \
    "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate AND datname <> 'postgres' ORDER BY 1") || exit 1
for database in $present; do
    case " $databases " in
    *" $database "*) ;;
    *)
        echo "--adx-job-- unlisted $database"
        continue
        ;;
    esac
    index=1
    while [ "$index" -lt "$#" ]; do
        name=${!index}
        next=$((index + 1))
        query=${!next}
        if output=$(printf 'SET ROLE %s;\n%s\n' "$role" "$query" | runuser -u postgres -- \
            psql -X -q -v ON_ERROR_STOP=1 --csv -p "$port" -d "$database" 2>"$errors"); then
            echo "--adx-job-- ok $database $name"
            printf '%s\n' "$output"
        else
            echo "--adx-job-- error $database $name"
            cat "$errors"
        fi
        index=$((index + 2))
    done
done
