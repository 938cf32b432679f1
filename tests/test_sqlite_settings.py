"""The embedded database's settings: WAL, BEGIN IMMEDIATE, busy timeout, foreign keys."""

import pytest
from django.conf import settings
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite settings")


def test_sqlite_file_database_runs_in_wal_with_foreign_keys_and_busy_timeout(tmp_path, django_db_blocker):
    settings_dict = dict(connection.settings_dict, NAME=str(tmp_path / "probe.sqlite3"))
    wrapper = DatabaseWrapper(settings_dict, alias="probe")
    with django_db_blocker.unblock():
        try:
            with wrapper.cursor() as cursor:
                assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
                assert cursor.execute("PRAGMA foreign_keys").fetchone()[0] == 1
                assert cursor.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
        finally:
            wrapper.close()


def test_transactions_begin_immediate():
    assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_foreign_keys_are_on_in_the_test_database(db):
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1
