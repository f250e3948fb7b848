#!/bin/sh
# wildfly-ctl: the container's control script (the harness runs it with `docker exec`).
#   keep                      main process: follow the console log (the JVM is never PID 1)
#   configure BASE CLI_FILE   copy standalone/configuration/BASE to harness.xml, then run the jboss-cli file
#                             (it starts with `embed-server --server-config=harness.xml`)
#   start [ARGS...]           start the server in the background with ARGS (saved; no ARGS: the saved ones)
#   state                     one word: stopped | starting | started | failed
#   kill [SIGNAL]             signal the server JVM (default KILL); the container and its address stay
#   stop [SUSPEND_TIMEOUT]    graceful: :shutdown(suspend-timeout=N) through the management interface
#   cli COMMAND               one jboss-cli command against the running server
set -u
home=${JBOSS_HOME:-/opt/wildfly}
run=/opt/harness/run
console=/opt/harness/log/console.log
pidfile=$run/server.pid
cli_opts="-Xms16m -Xmx160m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.net.preferIPv4Stack=true"

server_pid() {
    [ -s "$pidfile" ] || return 1
    pid=$(cat "$pidfile")
    stat=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
    case "$stat" in Z*) return 1 ;; esac  # killed, not reaped yet
    echo "$pid"
}

log_since_start() {
    offset=$(cat "$run/log.offset" 2>/dev/null || echo 0)
    tail -c +"$((offset + 1))" "$console" 2>/dev/null
}

jboss_cli() {
    JAVA_OPTS="$cli_opts" "$home/bin/jboss-cli.sh" "$@"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
keep)
    mkdir -p "$(dirname "$console")" "$run"
    touch "$console"
    exec tail -n +1 -F "$console"
    ;;
configure)
    [ $# -eq 2 ] || { echo "usage: wildfly-ctl configure BASE_CONFIG CLI_FILE" >&2; exit 2; }
    conf=$home/standalone/configuration
    [ -f "$conf/$1" ] || { echo "wildfly-ctl: no configuration $conf/$1" >&2; exit 2; }
    [ -f "$2" ] || { echo "wildfly-ctl: no CLI file $2" >&2; exit 2; }
    cp "$conf/$1" "$conf/harness.xml"
    rm -rf "$home/standalone/data" "$home/standalone/tmp"
    jboss_cli --file="$2" || { echo "wildfly-ctl: jboss-cli --file=$2 failed" >&2; exit 3; }
    rm -rf "$home/standalone/data" "$home/standalone/tmp" "$conf/standalone_xml_history"
    ;;
start)
    if pid=$(server_pid); then echo "wildfly-ctl: server already running (pid $pid)" >&2; exit 1; fi
    mkdir -p "$run"
    if [ $# -gt 0 ]; then printf '%s\n' "$@" > "$run/server.args"; fi
    [ -s "$run/server.args" ] || { echo "wildfly-ctl: no server arguments given or saved" >&2; exit 2; }
    touch "$console"
    stat -c %s "$console" > "$run/log.offset"
    echo "wildfly-ctl: starting server $(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$console"
    rm -f "$pidfile"
    # One argument per line in server.args; none contains a newline (the harness checks).
    set --
    while IFS= read -r arg; do set -- "$@" "$arg"; done < "$run/server.args"
    JBOSS_PIDFILE=$pidfile setsid "$home/bin/standalone.sh" "$@" >> "$console" 2>&1 < /dev/null &
    echo $! > "$run/launcher.pid"
    ;;
state)
    if pid=$(server_pid); then
        log=$(log_since_start)
        if echo "$log" | grep -q 'WFLYSRV0026'; then echo failed
        elif echo "$log" | grep -q 'WFLYSRV0025'; then echo started
        else echo starting; fi
    elif [ -s "$run/launcher.pid" ] && kill -0 "$(cat "$run/launcher.pid")" 2>/dev/null; then
        echo starting  # standalone.sh runs, the JVM pid is not written yet
    else
        echo stopped
    fi
    ;;
kill)
    pid=$(server_pid) || { echo "wildfly-ctl: no server running" >&2; exit 1; }
    kill -s "${1:-KILL}" "$pid"
    ;;
stop)
    server_pid > /dev/null || { echo "wildfly-ctl: no server running" >&2; exit 1; }
    jboss_cli --connect --command=":shutdown(suspend-timeout=${1:-0})"
    ;;
cli)
    jboss_cli --connect --command="$*"
    ;;
*)
    echo "usage: wildfly-ctl keep|configure|start|state|kill|stop|cli ..." >&2
    exit 2
    ;;
esac
