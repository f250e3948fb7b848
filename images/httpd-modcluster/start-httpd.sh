#!/bin/sh
# Start httpd with the harness's configuration, then keep the container alive by following its error log.
# httpd is not the container's main process: killing it (a fault) leaves the container and its address,
# and `start-httpd.sh start` inside the container starts it again (a hard balancer restart).
# /run/httpd-harness/started marks that `apache2 -k start` returned: from then on no apache2 process means
# httpd ended (the harness then reports its error_log at once instead of waiting for a timeout).
set -e
conf=/etc/httpd-harness/httpd.conf
logs=/var/log/httpd-harness
[ -f "$conf" ] || { echo "start-httpd: $conf is missing (the harness copies it in before start)" >&2; exit 2; }
mkdir -p "$logs" /run/httpd-harness /var/cache/httpd-harness
rm -f /run/httpd-harness/started
touch "$logs/error_log" "$logs/access_log"
apache2 -f "$conf" -t 2>&1 || { echo "start-httpd: configuration test of $conf failed" >&2; exit 3; }
apache2 -f "$conf" -k start
touch /run/httpd-harness/started
[ "${1:-}" = start ] && exit 0
exec tail -n +1 -F "$logs/error_log"
