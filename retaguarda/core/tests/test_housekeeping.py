import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from retaguarda.core.housekeeping import housekeeping_prune
from retaguarda.core.models import IdempotencyRecord, LoginFailure


def _record(company, key, age):
    record = IdempotencyRecord.objects.create(
        company=company, key=key, method="POST", path="/api/v1/x", request_hash="h", status_code=201, response_body="{}"
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - age)


def _failure(username, age):
    failure = LoginFailure.objects.create(username=username, ip="203.0.113.1")
    LoginFailure.objects.filter(pk=failure.pk).update(at=timezone.now() - age)


def test_prune_deletes_only_what_is_past_its_use(company):
    _record(company, "old", timedelta(hours=25))
    _record(company, "recent", timedelta(hours=23))
    _failure("old", timedelta(minutes=16))
    _failure("recent", timedelta(minutes=14))

    assert housekeeping_prune() == {"idempotency_records": 1, "login_failures": 1}
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]
    assert list(LoginFailure.objects.values_list("username", flat=True)) == ["recent"]


def test_prune_command_reports_counts_and_honours_the_retention(company):
    _record(company, "two-hours", timedelta(hours=2))
    out = io.StringIO()
    call_command("prune", idempotency_hours=1, stdout=out)
    assert out.getvalue().strip() == "deleted 1 idempotency records, 0 failed log-ins"
    assert not IdempotencyRecord.objects.exists()


def test_prune_refuses_a_retention_below_one_hour(company):
    _record(company, "kept", timedelta(hours=30))
    with pytest.raises(CommandError):
        call_command("prune", idempotency_hours=0)
    assert IdempotencyRecord.objects.count() == 1
