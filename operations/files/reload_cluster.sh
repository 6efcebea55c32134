#!/usr/bin/env bash
# Reload a PostgreSQL cluster and wait until its postmaster has read the new configuration,
# so that what runs next (the pending-restart fact, a restart) sees the settings it applied.
# A reload is a signal: pg_ctlcluster returns before the server has acted on it.
#
#   reload_cluster.sh VERSION CLUSTER PORT
set -euo pipefail

if [ "$#" -ne 3 ]; then
    echo "usage: reload_cluster.sh VERSION CLUSTER PORT" >&2
    exit 2
fi
version=$1
cluster=$2
port=$3

loaded() {
    runuser -u postgres -- psql -X -A -t -q -p "$port" -d postgres -c 'SELECT pg_conf_load_time()'
}

before=$(loaded)
pg_ctlcluster "$version" "$cluster" reload
for _ in $(seq 1 100); do
    if [ "$(loaded)" != "$before" ]; then
        exit 0
    fi
    sleep 0.1
done
echo "cluster $version/$cluster did not read its configuration within 10 s of the reload" >&2
exit 1
