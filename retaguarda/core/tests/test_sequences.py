"""Gap-free document numbering: per company, series and year, under concurrent writers."""

import json
import os
import subprocess
import sys

import pytest
from django.db import connection, transaction

from retaguarda.core.models import Sequence
from retaguarda.core.services import sequence_next
from retaguarda.core.testing import company_build

from .sequence_hammer import hammer

THREADS, PER_THREAD, ROLLBACK_EVERY = 8, 25, 7


def _assert_gap_free(outcome: dict, last_number: int) -> None:
    issued = outcome["issued"]
    assert outcome["errors"] == []
    assert len(issued) == THREADS * PER_THREAD - len(outcome["rolled_back"])
    assert len(outcome["rolled_back"]) == THREADS * PER_THREAD // ROLLBACK_EVERY
    # No duplicates and no gaps: exactly 1..n, and every rolled-back number was issued again
    # (or was the very last one taken).
    assert sorted(issued) == list(range(1, len(issued) + 1))
    assert last_number == len(issued)
    assert set(outcome["rolled_back"]) <= set(issued) | {len(issued) + 1}


def test_numbers_start_at_one_and_follow_each_other(company):
    with transaction.atomic():
        assert [sequence_next(company=company, series="F", year=2025) for _ in range(3)] == [1, 2, 3]
    assert Sequence.objects.get(company=company, series="F", year=2025).last_number == 3


def test_a_rolled_back_transaction_gives_its_number_back(company):
    with transaction.atomic():
        assert sequence_next(company=company, series="F", year=2025) == 1
    with pytest.raises(ZeroDivisionError):
        with transaction.atomic():
            assert sequence_next(company=company, series="F", year=2025) == 2
            raise ZeroDivisionError
    with transaction.atomic():
        assert sequence_next(company=company, series="F", year=2025) == 2


def test_first_number_of_a_series_rolled_back_leaves_no_counter(company):
    with pytest.raises(ZeroDivisionError):
        with transaction.atomic():
            assert sequence_next(company=company, series="R", year=2025) == 1
            raise ZeroDivisionError
    assert not Sequence.objects.filter(company=company, series="R").exists()
    with transaction.atomic():
        assert sequence_next(company=company, series="R", year=2025) == 1


def test_series_years_and_companies_are_independent(company):
    other = company_build(country="BR")
    with transaction.atomic():
        assert sequence_next(company=company, series="F", year=2025) == 1
        assert sequence_next(company=company, series="F", year=2025) == 2
        assert sequence_next(company=company, series="R", year=2025) == 1
        assert sequence_next(company=company, series="F", year=2026) == 1
        assert sequence_next(company=other, series="F", year=2025) == 1
        assert sequence_next(company=company, series="F", year=2025) == 3
    rows = Sequence.objects.order_by("company_id", "series", "year").values_list(
        "company_id", "series", "year", "last_number"
    )
    assert list(rows) == [
        (company.pk, "F", 2025, 3),
        (company.pk, "F", 2026, 1),
        (company.pk, "R", 2025, 1),
        (other.pk, "F", 2025, 1),
    ]


def test_year_defaults_to_this_year(company):
    from django.utils import timezone

    with transaction.atomic():
        sequence_next(company=company, series="F")
    assert Sequence.objects.get(company=company, series="F").year == timezone.localdate().year


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_is_refused():
    company = company_build()
    with pytest.raises(RuntimeError, match="inside a transaction"):
        sequence_next(company=company, series="F", year=2025)
    assert not Sequence.objects.exists()


def test_concurrent_writers_on_a_sqlite_file(tmp_path):
    """Threads with their own connections to one SQLite file (WAL, BEGIN IMMEDIATE)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RETAGUARDA_", "DJANGO_")) and k != "DATABASE_URL"}
    env.update(
        RETAGUARDA_MODE="development",
        DATABASE_URL=f"sqlite:///{tmp_path / 'numbers.sqlite3'}",
        RETAGUARDA_VAR_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "-m", "retaguarda.core.tests.sequence_hammer"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert (outcome["vendor"], outcome["journal_mode"]) == ("sqlite", "wal")
    _assert_gap_free(outcome, outcome["last_number"])


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_on_postgresql():
    """Threads, each with its own PostgreSQL connection, racing from a counter that does not exist yet."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL run only; SQLite is covered by the file-based test")
    company = company_build()
    outcome = hammer(
        company_id=company.pk,
        series="F",
        year=2025,
        threads=THREADS,
        per_thread=PER_THREAD,
        rollback_every=ROLLBACK_EVERY,
    )
    _assert_gap_free(outcome, Sequence.objects.get(company=company, series="F", year=2025).last_number)
