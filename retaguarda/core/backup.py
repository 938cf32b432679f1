"""Backups: SQLite's online backup API, PostgreSQL's pg_dump / pg_restore (custom format)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connections


class BackupError(Exception):
    pass


def _pg_env(settings_dict) -> dict:
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    return env


def _pg_args(settings_dict) -> list[str]:
    args = []
    if settings_dict.get("HOST"):
        args += ["-h", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        args += ["-p", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["-U", str(settings_dict["USER"])]
    return args


def backup_database(target: Path, alias: str = "default") -> Path:
    connection = connections[alias]
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        destination = sqlite3.connect(str(target))
        try:
            connection.connection.backup(destination)
        finally:
            destination.close()
        return target
    if connection.vendor == "postgresql":
        if not shutil.which("pg_dump"):
            raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
        sd = connection.settings_dict
        result = subprocess.run(
            ["pg_dump", "-Fc", "--no-owner", "-f", str(target), *_pg_args(sd), sd["NAME"]],
            env=_pg_env(sd),
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise BackupError(result.stderr.strip())
        return target
    raise BackupError(f"backups of {connection.vendor} are not supported")


def restore_database(source: Path, alias: str = "default") -> None:
    """Replace the database's contents with the backup's. The target must not be in use."""
    source = Path(source)
    if not source.exists():
        raise BackupError(f"no such file: {source}")
    connection = connections[alias]
    if connection.vendor == "sqlite":
        try:
            origin = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            origin.execute("PRAGMA schema_version").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"not a SQLite backup: {exc}")
        connection.ensure_connection()
        try:
            origin.backup(connection.connection)
        finally:
            origin.close()
        return
    if connection.vendor == "postgresql":
        if not shutil.which("pg_restore"):
            raise BackupError("pg_restore is not installed (Debian: apt-get install postgresql-client)")
        sd = connection.settings_dict
        connection.close()
        result = subprocess.run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "-d",
                sd["NAME"],
                *_pg_args(sd),
                str(source),
            ],
            env=_pg_env(sd),
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise BackupError(result.stderr.strip())
        return
    raise BackupError(f"restores of {connection.vendor} are not supported")
