#!/bin/sh
# Start httpd (mod_jk) with the harness's configuration, then keep the container alive by following its error
# log. httpd is not the container's main process: killing it (a fault) leaves the container and its address,
# and `start-httpd.sh start` inside the container starts it again.
set -e
conf=/etc/httpd-harness/httpd.conf
logs=/var/log/httpd-harness
for f in "$conf" /etc/httpd-harness/workers.properties; do
    [ -f "$f" ] || { echo "start-httpd: $f is missing (the harness copies it in before start)" >&2; exit 2; }
done
mkdir -p "$logs" /run/httpd-harness
touch "$logs/error_log" "$logs/access_log" "$logs/mod_jk.log"
apache2 -f "$conf" -t 2>&1 || { echo "start-httpd: configuration test of $conf failed" >&2; exit 3; }
apache2 -f "$conf" -k start
[ "${1:-}" = start ] && exit 0
exec tail -n +1 -F "$logs/error_log"
