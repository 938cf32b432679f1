"""Login throttling kept in the database, so it holds across web processes.

The first few failures within the window cost nothing; each further failure doubles the wait
before the next try is accepted; the failure that reaches the lock threshold locks the user
name for the lock period, counted from that failure. While a wait or a lock runs, tries are
refused without checking the password, so guessing gains nothing. Every failure and every
lock is written to the audit log; a successful log-in clears the failures.
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import LoginFailure


def _failures(username: str):
    return LoginFailure.objects.filter(username=username.lower())


def _recent(username: str):
    since = timezone.now() - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
    return _failures(username).filter(at__gte=since)


def _seconds_until(moment) -> int:
    return max(0, math.ceil((moment - timezone.now()).total_seconds()))


def login_wait_seconds(username: str) -> int:
    """Seconds to wait before the next attempt for `username` is accepted (0: go ahead)."""
    lock_period = timedelta(seconds=settings.LOGIN_THROTTLE_LOCK_SECONDS)
    locked_at = (
        _failures(username)
        .filter(locked=True, at__gt=timezone.now() - lock_period)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    if locked_at is not None:
        return _seconds_until(locked_at + lock_period)
    failures = list(
        _recent(username).order_by("-at").values_list("at", flat=True)[: settings.LOGIN_THROTTLE_LOCK_FAILURES]
    )
    count = len(failures)
    if count < settings.LOGIN_THROTTLE_FREE_FAILURES:
        return 0
    # Past an expired lock the count may still be at the threshold: the longest wait applies,
    # and the next failure locks again.
    count = min(count, settings.LOGIN_THROTTLE_LOCK_FAILURES - 1)
    wait = 2 ** (count - settings.LOGIN_THROTTLE_FREE_FAILURES + 1)
    return _seconds_until(failures[0] + timedelta(seconds=wait))


@transaction.atomic
def login_failure_record(*, username: str, ip: str) -> bool:
    """Record a failed attempt; True when this failure locked the user name."""
    from .services import audit_record

    failure = LoginFailure.objects.create(username=username.lower(), ip=ip[:64])
    count = _recent(username).count()
    # ">=": two failures recorded at once must not step over the threshold unnoticed.
    locked = count >= settings.LOGIN_THROTTLE_LOCK_FAILURES
    if locked:
        LoginFailure.objects.filter(pk=failure.pk).update(locked=True)
    audit_record(
        actor=None,
        company=None,
        object_type="auth.login",
        object_id=username.lower()[:64],
        action="login.locked" if locked else "login.failed",
        after={"ip": ip, "failures": count},
    )
    return locked


@transaction.atomic
def login_success_record(*, user, ip: str) -> None:
    from .services import audit_record

    LoginFailure.objects.filter(username=user.username.lower()).delete()
    audit_record(
        actor=None,
        company=None,
        object_type="core.user",
        object_id=user.pk,
        action="login.succeeded",
        after={"ip": ip, "username": user.username},
    )
