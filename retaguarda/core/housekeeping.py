"""Housekeeping: drop records that have served their purpose, so their tables stay small.

Idempotency records are kept for a retention period (24 hours by default, like the storefront
retry windows they serve); failed log-ins are kept as long as throttling can still read them.
Run `retaguarda prune` daily (cron or a systemd timer).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import IdempotencyRecord, LoginFailure


def login_failure_retention() -> timedelta:
    """Throttling reads failures within its window and locks from the failure that locked."""
    return timedelta(seconds=max(settings.LOGIN_THROTTLE_WINDOW_SECONDS, settings.LOGIN_THROTTLE_LOCK_SECONDS))


@transaction.atomic
def housekeeping_prune(*, idempotency_hours: int = 24, now=None) -> dict[str, int]:
    """Delete idempotency records older than `idempotency_hours` and log-in failures past use."""
    if idempotency_hours < 1:
        raise ValueError("idempotency_hours must be at least 1")
    now = now or timezone.now()
    idempotency, _ = IdempotencyRecord.objects.filter(created_at__lt=now - timedelta(hours=idempotency_hours)).delete()
    failures, _ = LoginFailure.objects.filter(at__lt=now - login_failure_retention()).delete()
    return {"idempotency_records": idempotency, "login_failures": failures}
