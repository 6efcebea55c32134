#!/usr/bin/env bash
# Export one tenant's rows from its database on this host (sql/export/tenant.sql, given as
# SQL) into OUTDIR/{data,control}, packed as OUTDIR.tar for the control machine to fetch.
#
#   tenant_export.sh SQL OUTDIR SOCKET_DIR PORT DATABASE MODE SCHEMA TENANT_ID SLUG
set -euo pipefail

export_sql=$1 outdir=$2 socket_dir=$3 port=$4 database=$5 mode=$6 schema=$7 tenant_id=$8 slug=$9
cd /
rm -rf "$outdir" "$outdir.tar"
install -d -m 700 -o postgres -g postgres "$(dirname "$outdir")"
install -d -m 700 -o postgres -g postgres "$outdir" "$outdir/data" "$outdir/control"
runuser -u postgres -- psql -X -q -h "$socket_dir" -p "$port" -d "$database" \
    -v "mode=$mode" -v "schema=$schema" -v "tenant_id=$tenant_id" -v "outdir=$outdir" \
    -f - <<<"$export_sql"
rm -f "$outdir/commands.psql"
tables=$(find "$outdir/data" -name '*.csv' | wc -l)
control=$(find "$outdir/control" -name '*.csv' | wc -l)
tar -C "$outdir" -cf "$outdir.tar" data control
chmod 600 "$outdir.tar"
rm -rf "$outdir"
printf 'tenant-export %s: %s data table(s), %s control-plane table(s) from %s (%s)\n' \
    "$slug" "$tables" "$control" "$database" "$mode"
