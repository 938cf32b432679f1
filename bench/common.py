"""What the benchmarks share: a scratch database on SQLite or PostgreSQL, Django set up on it,
gunicorn serving it, and the machine line of the report."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def prepare_database(database: str, workdir: Path, *, pg_url: str, db_name: str) -> str:
    """A fresh database: a SQLite file in `workdir`, or PostgreSQL `db_name` dropped and created."""
    if database == "sqlite":
        return f"sqlite:///{workdir / 'bench.sqlite3'}"
    import psycopg

    server = pg_url.rstrip("/")
    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db_name}"')
    return f"{server}/{db_name}"


def drop_database(database: str, *, pg_url: str, db_name: str) -> None:
    if database != "postgres":
        return
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(pg_url.rstrip("/") + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def django_setup(database_url: str, workdir: Path, *, migrate: bool = True) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("RETAGUARDA_MODE", "development")
    os.environ["RETAGUARDA_DEBUG"] = "0"
    os.environ["RETAGUARDA_VAR_DIR"] = str(workdir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retaguarda.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_start(*, workers: int, threads: int, workdir: Path) -> tuple[subprocess.Popen, str]:
    """`retaguarda serve` on a free port, as deployed; returns the process and its base URL."""
    from django.db import connections

    connections.close_all()
    port = free_port()
    log = open(workdir / "gunicorn.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "retaguarda",
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
        ],
        env=dict(os.environ),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((workdir / "gunicorn.log").read_text()[-2000:])
        try:
            with urllib.request.urlopen(base + "/login/", timeout=2) as response:
                if response.status == 200:
                    return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not answer within 60 s")


def gunicorn_stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def machine() -> str:
    from django.db import connection

    return (
        f"{connection.vendor} {connection.Database.sqlite_version if connection.vendor == 'sqlite' else ''}"
        f" python {platform.python_version()} {os.cpu_count()} CPUs {platform.machine()}"
    ).replace("  ", " ")
