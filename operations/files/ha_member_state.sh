#!/usr/bin/env bash
# The state of one member of an HA cluster, as one JSON object: what etcd says the cluster is (its initialize key: the system identifier of the
# cluster's data), the local data folder (its system identifier, empty, fresh: only the
# databases initdb makes), and Patroni's own view of the member (GET /patroni).
#
#   ha_member_state.sh DATA_DIR BIN_DIR ENDPOINTS KEY REST_URL
set -euo pipefail

data_dir=$1 bin_dir=$2 endpoints=$3 key=$4 rest_url=$5
tls=/etc/patroni/tls

initialize=null
if [ -r "$tls/host.key" ]; then
    value=$(ETCDCTL_API=3 etcdctl --endpoints="$endpoints" --cacert="$tls/ca.crt" \
        --cert="$tls/host.crt" --key="$tls/host.key" --command-timeout=3s \
        get "$key" --print-value-only 2>/dev/null) || value=unreachable
    if [ "$value" = unreachable ]; then
        initialize='"unreachable"'
    elif [ -n "$value" ]; then
        initialize="\"$value\""
    fi
fi

sysid=null
empty=true
fresh=true
if [ -d "$data_dir" ] && [ -n "$(ls -A "$data_dir" 2>/dev/null)" ]; then
    empty=false
    if [ -f "$data_dir/global/pg_control" ]; then
        id=$("$bin_dir/pg_controldata" -D "$data_dir" 2>/dev/null |
            sed -n 's/^Database system identifier: *//p')
        [ -n "$id" ] && sysid="\"$id\""
    fi
    # initdb makes three databases (template1, template0, postgres): more is data.
    count=$(find "$data_dir/base" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)
    if [ "$count" -gt 3 ]; then fresh=false; fi
fi

member=$(curl -s --max-time 3 --cacert "$tls/ca.crt" "$rest_url/patroni" 2>/dev/null) || member=
case $member in
\{*) ;;
*) member=null ;;
esac

printf '{"initialize": %s, "sysid": %s, "empty": %s, "fresh": %s, "member": %s}\n' \
    "$initialize" "$sysid" "$empty" "$fresh" "$member"
