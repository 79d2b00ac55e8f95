#!/usr/bin/env bash
# Installs the Debian packages the test suite and benchmarks use, if they are missing:
# pytest-xdist (the comparison point and the `addopts = -n auto` test) and pytest-timeout, and
# the compiler better-sqlite3 (the history store) builds with when npm cannot fetch a prebuilt one.
set -euo pipefail
need=()
command -v make >/dev/null || need+=(make)
command -v g++ >/dev/null || need+=(g++)
[ -d /usr/lib/python3/dist-packages/xdist ] || need+=(python3-pytest-xdist)
[ -f /usr/lib/python3/dist-packages/pytest_timeout.py ] || need+=(python3-pytest-timeout)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup-machine: need root to install ${need[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
echo "setup-machine: ok"
