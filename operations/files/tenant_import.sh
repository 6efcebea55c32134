#!/usr/bin/env bash
# Load a tenant export (an uploaded tar of data/*.csv) into the tenant's location on this host
# with the psql script rendered from its manifest: one transaction, each table checked.
#
#   tenant_import.sh WORKDIR PORT DATABASE SLUG     (WORKDIR holds export.tar and import.psql)
set -euo pipefail

workdir=$1 port=$2 database=$3 slug=$4
cd /
trap 'rm -rf "$workdir"' EXIT
tar -C "$workdir" -xf "$workdir/export.tar"
chown -R postgres:postgres "$workdir"
runuser -u postgres -- psql -X -q -p "$port" -d "$database" -f "$workdir/import.psql"
printf 'tenant-import %s: %s table(s) loaded into %s and checked against the manifest\n' \
    "$slug" "$(find "$workdir/data" -name '*.csv' | wc -l)" "$database"
