#!/usr/bin/env bash
# pgBackRest's TLS server on a host: Debian's pgbackrest.service where systemd runs, else a
# daemon started with start-stop-daemon (test containers). The server reads its configuration
# and certificates when it starts, so a file newer than its last start means a restart.
#
#   pgbackrest_server.sh state PORT FILE...   print {"systemd":..,"running":..,"stale":..}
#   pgbackrest_server.sh start PORT           (re)start it and wait until it answers on PORT
set -euo pipefail

if [ "$#" -lt 2 ]; then
    echo "usage: pgbackrest_server.sh state|start PORT [FILE...]" >&2
    exit 2
fi
mode=$1
port=$2
shift 2
pidfile=/run/adx-pgbackrest-server.pid
stamp=/run/adx-pgbackrest-server.started
if [ -d /run/systemd/system ]; then systemd=true; else systemd=false; fi

running() {
    if $systemd; then
        systemctl is-active --quiet pgbackrest.service
    else
        # The pid file may outlive its process (a host restarted): the pid must be pgBackRest.
        [ -s "$pidfile" ] && [ "$(cat "/proc/$(cat "$pidfile")/comm" 2>/dev/null)" = pgbackrest ]
    fi
}

stale() {
    [ ! -e "$stamp" ] && return 0
    [ -n "$(find "$@" -newer "$stamp" 2>/dev/null)" ]
}

case $mode in
state)
    is_running=false
    if running; then is_running=true; fi
    is_stale=false
    if stale "$@"; then is_stale=true; fi
    printf '{"systemd": %s, "running": %s, "stale": %s}\n' "$systemd" "$is_running" "$is_stale"
    ;;
start)
    touch "$stamp"
    if $systemd; then
        systemctl enable --quiet pgbackrest.service
        systemctl restart pgbackrest.service
    else
        if running; then
            pid=$(cat "$pidfile")
            kill "$pid"
            for _ in $(seq 1 100); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
        fi
        start-stop-daemon --start --background --make-pidfile --pidfile "$pidfile" \
            --chuid postgres:postgres --exec /usr/bin/pgbackrest -- server
    fi
    for _ in $(seq 1 100); do
        if runuser -u postgres -- pgbackrest server-ping --tls-server-port="$port" 127.0.0.1 \
            >/dev/null 2>&1; then
            exit 0
        fi
        sleep 0.1
    done
    echo "pgBackRest's TLS server does not answer on port $port 10 s after its start:" \
        "see /var/log/pgbackrest/all-server.log" >&2
    exit 1
    ;;
*)
    echo "pgbackrest_server.sh: unknown mode $mode" >&2
    exit 2
    ;;
esac
