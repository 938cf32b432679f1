"""`make test`: the whole suite on SQLite, then again on PostgreSQL when one is reachable.

RETAGUARDA_TEST_DATABASE_URL names the PostgreSQL server (default
postgres://postgres@127.0.0.1:5432/); RETAGUARDA_REQUIRE_POSTGRES=1 and
RETAGUARDA_REQUIRE_BROWSER=1 (set by CI) turn a missing server or Chromium into a failure.
Extra arguments go to pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/"


def postgres_url() -> str:
    base = os.environ.get("RETAGUARDA_TEST_DATABASE_URL", DEFAULT_PG)
    # The test database is created by pytest-django as test_<name>.
    if base.rstrip("/").count("/") <= 2:
        base = base.rstrip("/") + "/retaguarda"
    return base


def postgres_reachable(url: str) -> tuple[bool, str]:
    try:
        import psycopg

        conninfo = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(conninfo, connect_timeout=3):
            return True, ""
    except Exception as exc:  # noqa: BLE001 - report whatever the driver says
        return False, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def run_pytest(label: str, env: dict, args: list[str]) -> int:
    print(f"\n=== retaguarda tests on {label} ===", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", *args], cwd=ROOT, env=env)


def main() -> int:
    args = sys.argv[1:] or ["-q"]
    base_env = dict(os.environ, RETAGUARDA_MODE="development", RETAGUARDA_DEBUG="0")
    base_env.pop("DATABASE_URL", None)
    results: list[tuple[str, str]] = []

    code = run_pytest("SQLite", dict(base_env, RETAGUARDA_VAR_DIR=str(ROOT / "var" / "test")), args)
    results.append(("SQLite", "passed" if code == 0 else f"FAILED (exit {code})"))

    url = postgres_url()
    ok, why = postgres_reachable(url)
    if ok:
        code_pg = run_pytest("PostgreSQL", dict(base_env, DATABASE_URL=url), args)
        results.append(("PostgreSQL", "passed" if code_pg == 0 else f"FAILED (exit {code_pg})"))
    elif os.environ.get("RETAGUARDA_REQUIRE_POSTGRES") == "1":
        results.append(("PostgreSQL", f"FAILED: unreachable at {url}: {why}"))
    else:
        results.append(("PostgreSQL", f"skipped: unreachable at {url} ({why})"))

    print("\n=== databases ===")
    for label, outcome in results:
        print(f"{label}: {outcome}")
    return 0 if all(o == "passed" or o.startswith("skipped") for _, o in results) else 1


if __name__ == "__main__":
    sys.exit(main())
