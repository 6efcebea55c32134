#!/usr/bin/env bash
# Steps of a member joining an HA cluster under Patroni (operations/ha.py):
#
#   ha_member.sh stop VERSION CLUSTER              stop the server Debian's tools started
#   ha_member.sh wipe VERSION CLUSTER DATA_DIR     stop it and empty its data folder (a fresh
#                                                  cluster only: the caller checked)
#   ha_member.sh wait-initialized ENDPOINTS KEY    until etcd holds the cluster's initialize key
#   ha_member.sh wait-ready REST_URL SECONDS PORT  until Patroni runs the member: the leader
#                                                  writable (and, in synchronous mode with a
#                                                  replica running, its synchronous standby
#                                                  named), a replica streaming
#   ha_member.sh wait-leader CONFIG MEMBER [sync]  until Patroni says MEMBER leads, running
#                                                  (with "sync": its synchronous standby named)
#   ha_member.sh ready REST_URL PORT               print {"state":..,"role":..,"receiver":..,
#                                                  "pending_restart":..,
#                                                  "no_synchronous_standby":..}
#   ha_member.sh restart-pending CONFIG SCOPE MEMBER REST_URL SECONDS PORT
#                                                  restart a member whose restart is pending
#                                                  until it is not (3 tries, 5 s apart: a
#                                                  standby takes a lowered setting once it
#                                                  replayed the leader's change)
set -euo pipefail

mode=$1
shift
tls=/etc/patroni/tls

member_state() {
    local member state role receiver pending no_sync sync_mode
    member=$(curl -s --max-time 2 --cacert "$tls/ca.crt" "$1/patroni" 2>/dev/null) || member=
    state=$(printf '%s' "$member" | jq -r '.state // empty' 2>/dev/null) || state=
    role=$(printf '%s' "$member" | jq -r '.role // empty' 2>/dev/null) || role=
    pending=$(printf '%s' "$member" | jq -r '.pending_restart // false' 2>/dev/null) ||
        pending=false
    receiver=$(runuser -u postgres -- psql -X -A -t -p "$2" -d postgres \
        -c "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null) || receiver=
    # A leader in synchronous mode with a replica running but no synchronous standby yet
    # (right after a switchover or a restart) could not fail over: not ready.
    no_sync=false
    if [ "$role" = master ]; then
        sync_mode=$(curl -s --max-time 2 --cacert "$tls/ca.crt" "$1/config" 2>/dev/null |
            jq -r '.synchronous_mode // false' 2>/dev/null) || sync_mode=false
        if [ "$sync_mode" = true ]; then
            no_sync=$(curl -s --max-time 2 --cacert "$tls/ca.crt" "$1/cluster" 2>/dev/null |
                jq -r '[.members[]? | select(.role != "leader")] as $others
                    | ($others | any(.state == "running" or .state == "streaming"))
                      and ($others | all(.role != "sync_standby"))' 2>/dev/null) ||
                no_sync=false
        fi
    fi
    jq -cn --arg state "$state" --arg role "$role" --arg receiver "$receiver" \
        --argjson pending "${pending:-false}" --argjson no_sync "${no_sync:-false}" \
        '{state: $state, role: $role, receiver: $receiver, pending_restart: $pending,
          no_synchronous_standby: $no_sync}'
}

ready() {
    # The leader writable (with its synchronous standby, in synchronous mode, once a replica
    # runs), a replica streaming from it.
    local found
    found=$(member_state "$1" "$2")
    [ "$(printf '%s' "$found" | jq -r .state)" = running ] || return 1
    if [ "$(printf '%s' "$found" | jq -r .role)" = master ]; then
        [ "$(printf '%s' "$found" | jq -r .no_synchronous_standby)" = false ]
        return
    fi
    [ "$(printf '%s' "$found" | jq -r .receiver)" = streaming ]
}

wait_ready() {
    # wait_ready REST_URL SECONDS PORT
    for _ in $(seq 1 $(($2 * 2))); do
        if ready "$1" "$3"; then return 0; fi
        sleep 0.5
    done
    echo "Patroni does not run this member $2 s on: $(member_state "$1" "$3")" \
        "(see /var/log/adx/patroni.log or journalctl -u patroni@*)" >&2
    return 1
}

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
ready)
    member_state "$1" "$2"
    ;;
wait-leader)
    # With "sync": and, once another member runs, a synchronous standby is named.
    sync=${3:-}
    for _ in $(seq 1 120); do
        if runuser -u postgres -- patronictl -c "$1" list -f json 2>/dev/null |
            jq -e --arg m "$2" --arg sync "$sync" '
                any(.[]; .Member == $m and .Role == "Leader" and .State == "running")
                and ($sync != "sync"
                     or any(.[]; .Role == "Sync Standby")
                     or all(.[]; .Member == $m or (.State != "running" and .State != "streaming")))' \
                >/dev/null; then
            exit 0
        fi
        sleep 0.5
    done
    echo "$2 does not lead 60 s after the switchover${sync:+ (with a synchronous standby)}" >&2
    exit 1
    ;;
restart-pending)
    config=$1
    scope=$2
    member=$3
    url=$4
    seconds=$5
    port=$6
    for try in 1 2 3; do
        runuser -u postgres -- patronictl -c "$config" restart "$scope" "$member" --force \
            --pending >/dev/null
        wait_ready "$url" "$seconds" "$port"
        if [ "$(member_state "$url" "$port" | jq -r .pending_restart)" != true ]; then
            exit 0
        fi
        [ "$try" = 3 ] || sleep 5
    done
    echo "$member still waits for a restart after 3 restarts: $(member_state "$url" "$port")" >&2
    exit 1
    ;;
wait-ready)
    wait_ready "$1" "$2" "$3"
    ;;
*)
    echo "ha_member.sh: unknown mode $mode" >&2
    exit 2
    ;;
esac
