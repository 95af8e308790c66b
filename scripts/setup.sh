#!/usr/bin/env bash
# Sourced by scripts/demo.sh and scripts/test.sh. Prepares everything on a fresh machine:
#   1. the virtual environment (.venv) with the project and its pinned packages (via uv);
#   2. PostgreSQL at DATABASE_URL and Redis at REDIS_URL when they answer, otherwise
#      throwaway local servers under .local/ (Debian packages, installed if missing);
#   3. the default detector's model, models/centernet.onnx (fetched from the npm registry with
#      npm, integrity checked, converted once; npm is installed from Debian if missing);
#   3b. GraphiQL's files and the tests' GraphQL clients (npm ci in analytics_pipeline/api/graphiql
#      and tests/clients, pinned by their package-lock.json);
#   4. the database schema (analytics-pipeline db migrate).
# Exports DATABASE_URL and REDIS_URL for the caller.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
LOCAL="$ROOT/.local"
mkdir -p "$LOCAL"
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# --- 1. virtual environment -------------------------------------------------------------
PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "error: Python 3.11 or newer is needed (PYTHON=$PYTHON)" >&2; exit 2; }
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PYTHON" -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check uv \
    2> >(grep -v "^WARNING: Location" >&2)
fi
if ! .venv/bin/python -c 'import torch, torchvision' 2>/dev/null; then
  # pip, not uv: pip takes the pinned torch/torchvision from this machine's local wheels
  # (about 6 GB installed, 100 s); uv would download them.
  say "installing torch 2.14.1 and torchvision 0.29.1 (pip; several GB, a few minutes)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check \
    torch==2.14.1 torchvision==0.29.1 2> >(grep -v "^WARNING: Location" >&2)
fi
say "installing packages"
.venv/bin/uv pip install --quiet -p .venv/bin/python -e '.[dev]'
export PATH="$ROOT/.venv/bin:$PATH"

# --- 2. PostgreSQL and Redis --------------------------------------------------------------
if [ -f .env ]; then set -a; . ./.env; set +a; fi
export DATABASE_URL=${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/analytics}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}

apt_install() {
  command -v apt-get >/dev/null || { echo "error: $* missing and no apt-get to install it" >&2; exit 3; }
  say "installing $* (Debian packages)"
  [ -n "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v lock)" ] || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

postgres_answers() {
  python - "$1" <<'PY'
import sys, psycopg
try:
    psycopg.connect(sys.argv[1], dbname="postgres", connect_timeout=3).close()
except psycopg.OperationalError as exc:
    sys.exit(1)
PY
}

redis_answers() {
  python -c 'import sys, redis; redis.Redis.from_url(sys.argv[1], socket_connect_timeout=3).ping()' "$1" 2>/dev/null
}

start_local_postgres() {
  local port=55432 data="$LOCAL/postgres"
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$bindir" ]; then apt_install postgresql; bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1); fi
  local as=()
  if [ "$(id -u)" = 0 ]; then
    # PostgreSQL refuses to run as root: run it as the postgres user, in a folder that user
    # can reach (a checkout under a private folder such as mktemp -d is not reachable).
    as=(runuser -u postgres --)
    mkdir -p "$data" && chown postgres "$data"
    if ! runuser -u postgres -- test -w "$data"; then
      data="/var/tmp/analytics-pipeline-$(printf '%s' "$ROOT" | md5sum | cut -c1-8)/postgres"
      mkdir -p "$data" && chown postgres "$data" "$(dirname "$data")"
    fi
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    say "initialising a throwaway PostgreSQL in $data"
    mkdir -p "$data"
    (cd / && "${as[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=trust >/dev/null)
  fi
  if ! (cd / && "${as[@]}" "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1); then
    say "starting PostgreSQL on 127.0.0.1:$port"
    (cd / && "${as[@]}" "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w \
      -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" start >/dev/null)
  fi
  export DATABASE_URL="postgresql://postgres@127.0.0.1:$port/analytics"
}

start_local_redis() {
  local port=56379
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p "$LOCAL/redis"
  say "starting Redis on 127.0.0.1:$port"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --dir "$LOCAL/redis" --logfile "$LOCAL/redis/redis.log"
  export REDIS_URL="redis://127.0.0.1:$port/0"
  for _ in $(seq 50); do redis_answers "$REDIS_URL" && return; sleep 0.1; done
}

if postgres_answers "$DATABASE_URL"; then
  say "PostgreSQL answers at $DATABASE_URL"
else
  say "no PostgreSQL at $DATABASE_URL"; start_local_postgres
fi
if redis_answers "$REDIS_URL"; then
  say "Redis answers at $REDIS_URL"
else
  say "no Redis at $REDIS_URL"; start_local_redis
fi

# --- 3. the default detector's model -------------------------------------------------------
# @vladmandic/human's COCO CenterNet, converted to ONNX once (does nothing when it is there).
command -v npm >/dev/null || apt_install npm
.venv/bin/python -m analytics_pipeline.centernet.convert >/dev/null

# --- 3b. GraphiQL's files and the tests' GraphQL clients (npm, pinned by package-lock.json) ---
# npm ci installs exactly the locked versions and checks each tarball's integrity; it runs again
# only when a lockfile changed. GraphiQL is then served offline at /graphql.
for npm_dir in analytics_pipeline/api/graphiql tests/clients; do
  if [ ! -f "$npm_dir/node_modules/.package-lock.json" ] \
      || [ "$npm_dir/package-lock.json" -nt "$npm_dir/node_modules/.package-lock.json" ]; then
    say "npm ci in $npm_dir"
    npm ci --prefix "$npm_dir" --ignore-scripts --no-audit --no-fund --loglevel=error >&2
  fi
done

# --- 4. schema ------------------------------------------------------------------------------
analytics-pipeline db migrate
