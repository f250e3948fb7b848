#!/bin/sh
# tomcat-ctl: the container's control script (the harness runs it with `docker exec`).
#   keep            main process: follow the console log (the JVM is never PID 1)
#   start           start Tomcat in the background (catalina.sh run; JAVA_OPTS from /opt/harness/run/java.opts)
#   state           one word: stopped | starting | started
#   log             the console log since the last start
#   kill [SIGNAL]   signal the JVM (default KILL); the container and its address stay
#   stop            graceful: SIGTERM (Tomcat's shutdown hook stops the connectors and the web apps)
set -u
run=/opt/harness/run
console=/opt/harness/log/console.log
pidfile=$run/server.pid

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

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
keep)
    mkdir -p "$(dirname "$console")" "$run"
    touch "$console"
    exec tail -n +1 -F "$console"
    ;;
start)
    if pid=$(server_pid); then echo "tomcat-ctl: server already running (pid $pid)" >&2; exit 1; fi
    mkdir -p "$run"
    touch "$console"
    stat -c %s "$console" > "$run/log.offset"
    echo "tomcat-ctl: starting Tomcat $(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$console"
    rm -f "$pidfile"
    rm -rf "$CATALINA_BASE/work/"* "$CATALINA_BASE/temp/"*
    # catalina.sh run execs the JVM, and setsid execs catalina.sh: the background pid is the JVM's.
    JAVA_OPTS=$(cat "$run/java.opts" 2>/dev/null || true) \
        setsid "$CATALINA_HOME/bin/catalina.sh" run >> "$console" 2>&1 < /dev/null &
    echo $! > "$pidfile"
    ;;
state)
    if pid=$(server_pid); then
        log=$(log_since_start)
        if echo "$log" | grep -q 'Server startup in'; then echo started
        else echo starting; fi
    else
        echo stopped
    fi
    ;;
log)
    log_since_start
    ;;
kill)
    pid=$(server_pid) || { echo "tomcat-ctl: no server running" >&2; exit 1; }
    kill -s "${1:-KILL}" "$pid"
    ;;
stop)
    pid=$(server_pid) || { echo "tomcat-ctl: no server running" >&2; exit 1; }
    kill -s TERM "$pid"
    ;;
*)
    echo "usage: tomcat-ctl keep|start|state|log|kill|stop" >&2
    exit 2
    ;;
esac
