"""Login throttling kept in the database, so it holds across web processes.

The first few failures within the window cost nothing; each further failure doubles the wait
before the next try is accepted; past the lock threshold the user name is locked for the lock
period. Every failure and every lock is written to the audit log.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import LoginFailure


def _recent(username: str):
    since = timezone.now() - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
    return LoginFailure.objects.filter(username=username.lower(), at__gte=since)


def login_wait_seconds(username: str) -> int:
    """Seconds to wait before the next attempt for `username` is accepted (0: go ahead)."""
    failures = list(
        _recent(username).order_by("-at").values_list("at", flat=True)[: settings.LOGIN_THROTTLE_LOCK_FAILURES]
    )
    count = len(failures)
    if count < settings.LOGIN_THROTTLE_FREE_FAILURES:
        return 0
    last = failures[0]
    if count >= settings.LOGIN_THROTTLE_LOCK_FAILURES:
        wait = settings.LOGIN_THROTTLE_LOCK_SECONDS
    else:
        wait = 2 ** (count - settings.LOGIN_THROTTLE_FREE_FAILURES + 1)
    remaining = (last + timedelta(seconds=wait) - timezone.now()).total_seconds()
    return max(0, int(remaining + 0.999))


def login_failure_record(*, username: str, ip: str) -> bool:
    """Record a failed attempt; True when this failure locked the user name."""
    from .services import audit_record

    LoginFailure.objects.create(username=username.lower(), ip=ip[:64])
    count = _recent(username).count()
    locked = count == settings.LOGIN_THROTTLE_LOCK_FAILURES
    audit_record(
        actor=None,
        company=None,
        object_type="auth.login",
        object_id=username.lower()[:64],
        action="login.locked" if locked else "login.failed",
        after={"ip": ip, "failures": count},
    )
    return locked


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
