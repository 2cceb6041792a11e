#!/usr/bin/env bash
# Install the project with its dev tools into .venv, lint, type-check and run every test.
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
echo "== pytest on SQLite"
.venv/bin/python -m pytest -q "$@"
if [ -n "${CSP_TEST_POSTGRES_URL:-}" ]; then
  echo "== pytest on PostgreSQL"
  CSP_TEST_DATABASE_URL="$CSP_TEST_POSTGRES_URL" .venv/bin/python -m pytest -q -m "not slow" tests/integration tests/plan
fi
