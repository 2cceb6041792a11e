"""Where the test data lives: the repository's own copies and the shared seed beside it."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
SEED = DATA / "seed.txt"
SHARED_SEED = REPO.parent / "shared" / "seed" / "maldon-csp-statutory-functions-2016.txt"
