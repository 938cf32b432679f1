"""OVERSELL-1 as a test: 200 one-unit orders for 50 units at once through the HTTP API, served by
gunicorn with three workers, from 8 concurrent clients that are threads or separate processes.

Runs bench/oversell.py in a subprocess on the database of this test run: a SQLite file in the
SQLite run, a scratch PostgreSQL database in the PostgreSQL run.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def _pg_server() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"


@pytest.mark.parametrize("clients", ["threads", "processes"])
def test_exactly_the_stock_is_sold_under_concurrent_http_orders(clients):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RETAGUARDA_", "DJANGO_")) and k != "DATABASE_URL"}
    env["RETAGUARDA_MODE"] = "development"
    argv = [sys.executable, str(ROOT / "bench" / "oversell.py"), "--clients", clients, "--concurrency", "8"]
    if connection.vendor == "postgresql":
        argv += ["--database", "postgres", "--pg-url", _pg_server(), "--db-name", f"rtg_oversell_{clients}"]
    else:
        argv += ["--database", "sqlite"]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, result.stdout[-3000:] + result.stderr[-3000:]
    outcome = json.loads(lines[-1][len("RESULT ") :])
    assert (
        outcome["created_201"],
        outcome["rejected_409"],
        outcome["rejected_codes"],
        outcome["other_statuses"],
        outcome["confirmed_in_database"],
        outcome["orders_in_database"],
    ) == (50, 150, {"insufficient_stock": 150}, {}, 50, 50)
    assert (outcome["on_hand"], outcome["allocated"], outcome["allocations_sum"]) == ("50.000", "50.000", "50.000")
    assert outcome["order_lines_allocated_sum"] == "50.000"
    assert result.returncode == 0
