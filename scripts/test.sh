#!/usr/bin/env bash
# Install the project with its dev tools into .venv, lint, type-check, check the import
# contracts and run every test (in parallel with pytest-xdist; the slow whole-process
# tests too, which a bare `pytest` leaves out).
# With CSP_TEST_POSTGRES_URL set (`.ci/run` starts a server and sets it), the database
# tests run a second time on PostgreSQL, plus the replica and locking tests.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy (strict)"
.venv/bin/mypy
echo "== import contracts (layers, no cycles)"
.venv/bin/lint-imports --no-cache
echo "== pytest on SQLite, slow whole-process tests included"
.venv/bin/python -m pytest -q -n "${CSP_TEST_WORKERS:-auto}" -m "slow or not slow" "$@"
if [ -n "${CSP_TEST_POSTGRES_URL:-}" ]; then
  echo "== pytest on PostgreSQL (the database tests again)"
  CSP_TEST_DATABASE_URL="$CSP_TEST_POSTGRES_URL" .venv/bin/python -m pytest -q \
    -n "${CSP_TEST_WORKERS:-auto}" -m "db and not slow"
fi
