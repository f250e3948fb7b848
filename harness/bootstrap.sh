#!/usr/bin/env bash
# Set up everything the harness needs on this machine, then run one of its jobs.
#
#   bash harness/bootstrap.sh suite [pytest args...]   the default scenario suite (pytest scenarios/)
#   bash harness/bootstrap.sh tests [pytest args...]   the project's own tests: unit tier + docker tier
#   bash harness/bootstrap.sh setup                    only set up (Python env, Docker engine, tools)
#
# Idempotent: a second run reuses the virtualenv, the engine and the images. Root on Debian/Ubuntu gets
# Docker (docker.io) and mmdebstrap installed when missing; anyone else is told exactly what to do.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
job=${1:-}
[ $# -gt 0 ] && shift
venv=${HARNESS_VENV:-$here/.venv}

say() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { printf '[bootstrap] error: %s\n' "$*" >&2; exit 2; }
is_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
  is_root && command -v apt-get >/dev/null || die "missing: $* (install it with your package manager, or rerun as root on Debian/Ubuntu)"
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

case "$job" in
  suite|tests|setup) ;;
  -h|--help|help|"") sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; [ -n "$job" ] && exit 0 || exit 2 ;;
  *) die "unknown job '$job': accepted values are suite, tests, setup" ;;
esac

py=$(command -v python3 || true)
[ -n "$py" ] || apt_install python3 python3-venv
py=$(command -v python3)
"$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "python3 >= 3.10 is needed ($("$py" --version))"

if [ ! -x "$venv/bin/python" ]; then
  say "creating virtualenv $venv"
  "$py" -m venv "$venv" 2>/dev/null || { apt_install python3-venv; rm -rf "$venv"; "$py" -m venv "$venv"; }
fi
stamp="$venv/.harness-installed"
want=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing the harness and its dependencies into $venv"
  "$venv/bin/python" -m pip install -q --upgrade pip > "$venv/pip.log" 2>&1 || { cat "$venv/pip.log"; die "pip upgrade failed"; }
  "$venv/bin/python" -m pip install -q -e ".[dev]" >> "$venv/pip.log" 2>&1 \
    || { tail -n 40 "$venv/pip.log"; die "installing the harness failed (full log: $venv/pip.log)"; }
  echo "$want" > "$stamp"
fi

command -v git >/dev/null || apt_install git
"$venv/bin/harness" engine ensure
if ! "$venv/bin/harness" images has-base && ! command -v mmdebstrap >/dev/null; then
  apt_install mmdebstrap
fi

case "$job" in
  setup) say "ready: $venv/bin/pytest scenarios/ runs the suite" ;;
  suite) exec "$venv/bin/pytest" scenarios/ --require-docker "$@" ;;
  tests) exec "$venv/bin/pytest" tests/ scenarios/ --require-docker "$@" ;;
esac
