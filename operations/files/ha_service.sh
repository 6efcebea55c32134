#!/usr/bin/env bash
# etcd and Patroni on a member of an HA cluster: Debian's units where systemd runs (etcd,
# patroni@VERSION-CLUSTER), else daemons started with start-stop-daemon (test containers).
# Each reads its files when it starts; a file newer than its last start makes it stale: etcd
# restarts, Patroni reloads (SIGHUP: a restart of Patroni would stop PostgreSQL).
#
#   ha_service.sh state etcd|patroni UNIT FILE...   print {"running":..,"stale":..}
#   ha_service.sh start etcd UNIT ENDPOINT          (re)start etcd, wait until it is healthy
#   ha_service.sh start patroni UNIT CONFIG         start Patroni
#   ha_service.sh reload patroni UNIT               make Patroni re-read its configuration
set -euo pipefail

if [ "$#" -lt 3 ]; then
    echo "usage: ha_service.sh state|start|reload etcd|patroni UNIT [ARG...]" >&2
    exit 2
fi
mode=$1
service=$2
unit=$3
shift 3
pidfile=/run/adx-$service.pid
stamp=/run/adx-$service.started
if [ -d /run/systemd/system ]; then systemd=true; else systemd=false; fi

running() {
    if $systemd; then
        systemctl is-active --quiet "$unit"
    else
        # The pid file may outlive its process (a host restarted): the pid must be the daemon.
        [ -s "$pidfile" ] || return 1
        local comm
        comm=$(cat "/proc/$(cat "$pidfile")/comm" 2>/dev/null || true)
        [ "$comm" = etcd ] || [ "$comm" = patroni ]
    fi
}

stale() {
    [ ! -e "$stamp" ] && return 0
    [ -n "$(find "$@" -newer "$stamp" 2>/dev/null)" ]
}

etcd_healthy() {
    ETCDCTL_API=3 etcdctl --endpoints="https://$1" --cacert=/etc/etcd/tls/ca.crt \
        --cert=/etc/etcd/tls/host.crt --key=/etc/etcd/tls/host.key \
        --command-timeout=2s endpoint health >/dev/null 2>&1
}

stop_daemon() {
    if running; then
        local pid
        pid=$(cat "$pidfile")
        kill "$pid"
        for _ in $(seq 1 300); do
            kill -0 "$pid" 2>/dev/null || return 0
            sleep 0.1
        done
        echo "$service (pid $pid) did not stop within 30 s" >&2
        exit 1
    fi
}

case $mode in
state)
    is_running=false
    if running; then is_running=true; fi
    is_stale=false
    if stale "$@"; then is_stale=true; fi
    printf '{"running": %s, "stale": %s}\n' "$is_running" "$is_stale"
    ;;
start)
    touch "$stamp"
    mkdir -p /var/log/adx
    case $service in
    etcd)
        endpoint=$1
        if $systemd; then
            systemctl enable --quiet etcd.service
            systemctl restart --no-block etcd.service
        else
            stop_daemon
            # shellcheck disable=SC1091
            (set -a && . /etc/default/etcd && exec start-stop-daemon --start --background \
                --make-pidfile --pidfile "$pidfile" --chuid etcd:etcd \
                --output /var/log/adx/etcd.log --exec /usr/bin/etcd)
        fi
        # A new cluster answers once a quorum of its members runs (they start together).
        for _ in $(seq 1 900); do
            if etcd_healthy "$endpoint"; then exit 0; fi
            sleep 0.1
        done
        echo "etcd is not healthy at $endpoint 90 s after its start: see journalctl -u etcd" \
            "or /var/log/adx/etcd.log" >&2
        exit 1
        ;;
    patroni)
        config=$1
        if $systemd; then
            systemctl enable --quiet "$unit"
            systemctl start "$unit"
        elif ! running; then
            start-stop-daemon --start --background --make-pidfile --pidfile "$pidfile" \
                --chuid postgres:postgres --output /var/log/adx/patroni.log \
                --exec /usr/bin/patroni -- "$config"
        fi
        ;;
    esac
    ;;
reload)
    touch "$stamp"
    if $systemd; then
        systemctl reload "$unit"
    else
        kill -HUP "$(cat "$pidfile")"
    fi
    ;;
*)
    echo "ha_service.sh: unknown mode $mode" >&2
    exit 2
    ;;
esac
