#!/usr/bin/env bash
# Runs CMD with a throwaway PostgreSQL 15 cluster: ZUMIK_DATABASE_URL points at a fresh database on 127.0.0.1
# (password auth); the cluster and its files are removed when CMD ends, however it ends.
#   bash scripts/with-postgres.sh zumik-monitor migrate --config monitor.yaml
# PG_LISTEN=ADDR listens on another (loopback) address, e.g. one reachable from network namespaces.
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
[ -x "$bin/initdb" ] || { echo "with-postgres: PostgreSQL 15 is not installed (scripts/setup.sh)" >&2; exit 2; }
[ $# -gt 0 ] || { echo "usage: with-postgres.sh CMD [ARG…]" >&2; exit 2; }
listen=${PG_LISTEN:-127.0.0.1}
dir=$(mktemp -d /tmp/zumik-pg.XXXXXX)
as_pg=()
if [ "$(id -u)" = 0 ]; then
    as_pg=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
password=$(head -c 18 /dev/urandom | base64 | tr -d '+/=')
mkdir -p "$dir/socket"
printf '%s' "$password" >"$dir/pwfile"
[ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
cleanup() {
    "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
"${as_pg[@]}" "$bin/initdb" -D "$dir/data" -U zumik -E UTF8 --locale=C --auth-local=trust \
    --auth-host=scram-sha-256 --pwfile="$dir/pwfile" --no-sync >/dev/null
# Clients from any loopback address (initdb allows 127.0.0.1 only): locations in network namespaces.
echo "host all all 127.0.0.0/8 scram-sha-256" >>"$dir/data/pg_hba.conf"
"${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-c listen_addresses=$listen -p $port -k $dir/socket -c fsync=off" start >/dev/null
"$bin/psql" -h "$dir/socket" -p "$port" -U zumik -d postgres -v ON_ERROR_STOP=1 -qc "CREATE DATABASE zumik" >/dev/null
export ZUMIK_DATABASE_URL="postgres://zumik:$password@$listen:$port/zumik?sslmode=disable"
export ZUMIK_PG_SOCKET_DIR="$dir/socket" ZUMIK_PG_PORT="$port"
"$@"
