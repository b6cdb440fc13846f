#!/usr/bin/env bash
# Install the project with its test extras into .venv and run the whole suite.
# When PostgreSQL and Redis binaries are on this machine, throw-away servers are started
# on loopback for the run (so the suite covers both databases and the Redis features).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip_quiet() { .venv/bin/python -m pip install -q --disable-pip-version-check "$@" 2>&1 | { grep -v 'is ignored: it is neither' || true; }; }
pip_quiet --upgrade pip
pip_quiet -e '.[test]'

work=$(mktemp -d /tmp/hyperoru-test.XXXXXX)
chmod 755 "$work"
cleanup() {
  if [ -n "${PG_BIN:-}" ] && [ -f "$work/pg/postmaster.pid" ]; then
    $AS_PG "$PG_BIN/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  fi
  if [ -n "${REDIS_PID:-}" ]; then kill "$REDIS_PID" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# What this run cannot cover, said again at the very end (tests/skip_summary.py lists
# every skipped test by reason; this names the missing service or privilege behind it).
not_tested=()

free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "${HYPERORU_TEST_POSTGRES_URL:-}" ] && [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ]; then
  AS_PG=""
  if [ "$(id -u)" = "0" ]; then AS_PG="runuser -u postgres --"; fi
  mkdir -p "$work/pg" && chown -R "$( [ -n "$AS_PG" ] && echo postgres || id -un )" "$work/pg"
  pg_port=$(free_port)
  $AS_PG "$PG_BIN/initdb" -D "$work/pg" -U hyperoru --auth=trust -E UTF8 >/dev/null
  $AS_PG "$PG_BIN/pg_ctl" -D "$work/pg" -l "$work/pg/log" -w \
    -o "-h 127.0.0.1 -p $pg_port -k $work/pg -c fsync=off -c synchronous_commit=off -c max_connections=200" start >/dev/null
  "$PG_BIN/createdb" -h 127.0.0.1 -p "$pg_port" -U hyperoru hyperoru_test
  export HYPERORU_TEST_POSTGRES_URL="postgresql+asyncpg://hyperoru@127.0.0.1:$pg_port/hyperoru_test"
  echo "PostgreSQL on 127.0.0.1:$pg_port"
elif [ -z "${HYPERORU_TEST_POSTGRES_URL:-}" ]; then
  not_tested+=("PostgreSQL variants: no initdb under /usr/lib/postgresql/*/bin and HYPERORU_TEST_POSTGRES_URL unset")
fi

if [ -z "${HYPERORU_TEST_REDIS_URL:-}" ] && command -v redis-server >/dev/null; then
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --dir "$work" >"$work/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export HYPERORU_TEST_REDIS_URL="redis://127.0.0.1:$redis_port/0"
  echo "Redis on 127.0.0.1:$redis_port"
elif [ -z "${HYPERORU_TEST_REDIS_URL:-}" ]; then
  not_tested+=("Redis variants: no redis-server on PATH and HYPERORU_TEST_REDIS_URL unset")
fi

if [ "$(id -u)" != "0" ]; then
  not_tested+=("sandbox OS walls as nobody (tests/programs/test_os_walls.py, tests/test_data_dir.py): not root")
else
  # The sandbox runs the runner from this checkout as nobody: a folder on the way that
  # others cannot enter makes the sandbox fall back to the server's user.
  dir=$PWD
  while [ "$dir" != "/" ]; do
    if [ $((8#$(stat -c %a "$dir") & 1)) -eq 0 ]; then
      not_tested+=("sandbox OS walls as nobody: $dir is not enterable by others (mode $(stat -c %a "$dir"))")
      break
    fi
    dir=$(dirname "$dir")
  done
fi

.venv/bin/ruff check .
# Type checking of src/ (settings in pyproject.toml's [tool.mypy]).
.venv/bin/mypy
# One pytest worker per core (pytest-xdist); each gets its own database and Redis db number
# (tests/conftest.py). HYPERORU_TEST_WORKERS=0 runs everything in this one process.
set +e
.venv/bin/python -m pytest -p tests.skip_summary -n "${HYPERORU_TEST_WORKERS:-auto}" "$@"
status=$?
set -e
bash scripts/not_a_full_run.sh "${not_tested[@]}" >&2
exit $status
