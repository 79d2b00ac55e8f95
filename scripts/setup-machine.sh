#!/usr/bin/env bash
# Installs the Debian packages the test suite and benchmarks use, if they are missing:
# pytest-xdist (the comparison point and the `addopts = -n auto` test), pytest-timeout and
# pytest-cov (the combined coverage test compares with `pytest -n 2 --cov`), and
# the compiler better-sqlite3 (the history store) builds with when npm cannot fetch a prebuilt one;
# networkx for Debian's python3, so the JUnit parity test runs its networkx subset on pytest 7.2
# too (without its recommends: numpy, scipy and matplotlib are not needed there); Django,
# pytest-django, psycopg2 and PostgreSQL for the per-worker database test. pytest-random-order
# (Debian 12 has no pytest-randomly) is unpacked to its own folder, not installed: installed, it
# would load into every pytest run of Debian's python3 and fail those with -p no:cacheprovider.
set -euo pipefail
lean=()
[ -d /usr/lib/python3/dist-packages/networkx ] || lean+=(python3-networkx)
need=()
command -v make >/dev/null || need+=(make)
command -v g++ >/dev/null || need+=(g++)
[ -d /usr/lib/python3/dist-packages/xdist ] || need+=(python3-pytest-xdist)
[ -f /usr/lib/python3/dist-packages/pytest_timeout.py ] || need+=(python3-pytest-timeout)
[ -d /usr/lib/python3/dist-packages/pytest_cov ] || need+=(python3-pytest-cov)
[ -d /usr/lib/python3/dist-packages/django ] || need+=(python3-django)
[ -d /usr/lib/python3/dist-packages/pytest_django ] || need+=(python3-pytest-django)
[ -d /usr/lib/python3/dist-packages/psycopg2 ] || need+=(python3-psycopg2)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
if [ $((${#need[@]} + ${#lean[@]})) -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup-machine: need root to install ${need[*]} ${lean[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  if [ ${#need[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  if [ ${#lean[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${lean[@]}" >/dev/null
  fi
fi
random_order=/opt/bulkhead-test/random-order
if [ ! -d "$random_order/usr/lib/python3/dist-packages/random_order" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup-machine: need root to unpack python3-pytest-random-order into $random_order" >&2
    exit 1
  fi
  work=$(mktemp -d)
  chmod 755 "$work" # apt downloads as its _apt user
  # A bare machine may have no package lists yet (when nothing above needed installing).
  (cd "$work" && { apt-get download -qq python3-pytest-random-order >/dev/null 2>&1 || { apt-get update -qq && apt-get download -qq python3-pytest-random-order >/dev/null; }; })
  mkdir -p "$random_order"
  dpkg -x "$work"/python3-pytest-random-order_*.deb "$random_order"
  rm -rf "$work"
fi
echo "setup-machine: ok"
