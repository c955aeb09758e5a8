#!/usr/bin/env bash
# Starts on loopback what a province runs on several machines: PostgreSQL (when down), a fresh
# database with the light demo world, two baiqian app nodes sharing a files directory and a data
# key, and HAProxy in front of them. `deploy/two-nodes.sh stop` stops the nodes and HAProxy.
#
#   deploy/two-nodes.sh            # balancer at http://127.0.0.1:8180, nodes at :8181 and :8182
#
# Settings (environment): BAIQIAN_BIN (default target/release/baiqian, built when missing),
# DEPLOY_DIR (default /tmp/baiqian-two-nodes), DEPLOY_DB (default baiqian_two_nodes),
# FRONT_PORT / NODE_A_PORT / NODE_B_PORT (8180 / 8181 / 8182).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BAIQIAN_BIN:-target/release/baiqian}
DIR=${DEPLOY_DIR:-/tmp/baiqian-two-nodes}
DB_NAME=${DEPLOY_DB:-baiqian_two_nodes}
FRONT=${FRONT_PORT:-8180}
NODE_A=${NODE_A_PORT:-8181}
NODE_B=${NODE_B_PORT:-8182}
PG_ADMIN=postgres://postgres@127.0.0.1:5432/postgres
DB=postgres://postgres@127.0.0.1:5432/$DB_NAME

stop() {
  for p in "$DIR"/*.pid; do
    [ -e "$p" ] || continue
    kill "$(cat "$p")" 2>/dev/null || true
    rm -f "$p"
  done
}

if [ "${1:-}" = stop ]; then
  stop
  echo "stopped"
  exit 0
fi

command -v haproxy >/dev/null 2>&1 || {
  echo "installing haproxy"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
}
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
[ -x "$BIN" ] || cargo build --release -p baiqian-cli

stop
mkdir -p "$DIR/shared"
psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME"
rm -rf "$DIR/shared/"*
# One data key and one files directory for every node (on machines: a secret both hold, and a
# shared mount).
export BAIQIAN_DATA_KEY_FILE="$DIR/shared/data.key"
export BAIQIAN_EVIDENCE_DIR="$DIR/shared/evidence"
"$BIN" demo --no-serve --light --db "$DB" >"$DIR/demo.log"

node() {
  local name=$1 port=$2
  # The demo's accounts are shared and have no second factor: none asked here.
  setsid "$BIN" serve --db "$DB" --listen "127.0.0.1:$port" --node "$name" --trusted-proxy \
    --second-factor-roles none >"$DIR/$name.log" 2>&1 &
  echo $! >"$DIR/$name.pid"
}
node node-a "$NODE_A"
node node-b "$NODE_B"

sed -e "s/@FRONT@/$FRONT/" -e "s/@NODE_A@/$NODE_A/" -e "s/@NODE_B@/$NODE_B/" \
  deploy/haproxy.cfg >"$DIR/haproxy.cfg"
haproxy -f "$DIR/haproxy.cfg" -c -q
setsid haproxy -f "$DIR/haproxy.cfg" -db >"$DIR/haproxy.log" 2>&1 &
echo $! >"$DIR/haproxy.pid"

for port in "$NODE_A" "$NODE_B" "$FRONT"; do
  up=""
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then up=1; break; fi
    sleep 0.2
  done
  if [ -z "$up" ]; then
    echo "nothing answers /healthz on 127.0.0.1:$port; see $DIR/*.log" >&2
    stop
    exit 1
  fi
done
echo "two nodes on $DB behind HAProxy: http://127.0.0.1:$FRONT (nodes :$NODE_A, :$NODE_B)"
echo "logs and pids in $DIR; stop with: deploy/two-nodes.sh stop"
