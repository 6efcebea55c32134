#!/usr/bin/env bash
# Steps of a member joining an HA cluster under Patroni (operations/ha.py):
#
#   ha_member.sh stop VERSION CLUSTER              stop the server Debian's tools started
#   ha_member.sh wipe VERSION CLUSTER DATA_DIR     stop it and empty its data folder (a fresh
#                                                  cluster only: the caller checked)
#   ha_member.sh wait-initialized ENDPOINTS KEY    until etcd holds the cluster's initialize key
#   ha_member.sh wait-ready REST_URL SECONDS PORT  until Patroni runs the member: the leader
#                                                  writable, a replica streaming
set -euo pipefail

mode=$1
shift
tls=/etc/patroni/tls

stop_server() {
    if pg_ctlcluster "$1" "$2" status >/dev/null 2>&1; then
        pg_ctlcluster "$1" "$2" stop -m fast
    fi
}

case $mode in
stop)
    stop_server "$1" "$2"
    ;;
wipe)
    stop_server "$1" "$2"
    find "$3" -mindepth 1 -delete
    ;;
wait-initialized)
    for _ in $(seq 1 1200); do
        if [ -n "$(ETCDCTL_API=3 etcdctl --endpoints="$1" --cacert="$tls/ca.crt" \
            --cert="$tls/host.crt" --key="$tls/host.key" --command-timeout=3s \
            get "$2" --print-value-only 2>/dev/null)" ]; then
            exit 0
        fi
        sleep 0.1
    done
    echo "the cluster has no leader yet 120 s on (no initialize key $2 in etcd)" >&2
    exit 1
    ;;
wait-ready)
    url=$1
    seconds=$2
    port=$3
    for _ in $(seq 1 $((seconds * 2))); do
        member=$(curl -s --max-time 2 --cacert "$tls/ca.crt" "$url/patroni" 2>/dev/null) || member=
        state=$(printf '%s' "$member" | jq -r '.state // empty' 2>/dev/null) || state=
        role=$(printf '%s' "$member" | jq -r '.role // empty' 2>/dev/null) || role=
        if [ "$state" = running ]; then
            if [ "$role" = master ]; then exit 0; fi
            receiver=$(runuser -u postgres -- psql -X -A -t -p "$port" -d postgres \
                -c "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null) || receiver=
            if [ "$receiver" = streaming ]; then exit 0; fi
        fi
        sleep 0.5
    done
    echo "Patroni does not run this member ${seconds} s on: state '${state:-none}', role" \
        "'${role:-none}' (see /var/log/adx/patroni.log or journalctl -u patroni@*)" >&2
    exit 1
    ;;
*)
    echo "ha_member.sh: unknown mode $mode" >&2
    exit 2
    ;;
esac
