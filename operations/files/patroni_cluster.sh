#!/usr/bin/env bash
# The HA cluster as this member sees it, as one JSON object: every member (patronictl list:
# role, state, timeline, lag, pending restart) and this member's replication slots.
#
#   patroni_cluster.sh PORT
set -euo pipefail

port=$1
config=$(find /etc/patroni -maxdepth 1 -name '[0-9]*-*.yml' | sort | head -n1)
if [ -z "$config" ]; then
    echo null
    exit 0
fi
members=$(runuser -u postgres -- patronictl -c "$config" list -f json 2>/dev/null) || members=null
slots=$(runuser -u postgres -- psql -X -A -t -p "$port" -d postgres -c \
    "SELECT coalesce(json_agg(json_build_object('slot', slot_name, 'type', slot_type,
        'active', active, 'restart_lsn', restart_lsn::text) ORDER BY slot_name), '[]')
     FROM pg_replication_slots" 2>/dev/null) || slots=null
printf '{"members": %s, "slots": %s}\n' "${members:-null}" "${slots:-null}"
