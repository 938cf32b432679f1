"""Login throttling: free failures, growing waits, the lock, the audit rows, success clearing it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from retaguarda.core.models import AuditLog, LoginFailure
from retaguarda.core.testing import PASSWORD, user_build
from retaguarda.core.throttle import login_failure_record, login_success_record, login_wait_seconds
from retaguarda.web.views import locked_message, throttle_message

WRONG = "not-the-password"


class Clock:
    """A frozen clock for timezone.now() (and so for auto_now_add), moved by hand."""

    def __init__(self):
        self.now = datetime(2025, 3, 14, 9, 0, 0, tzinfo=UTC)

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(autouse=True)
def english():
    """The expected messages are computed here: in the language the pages answer in."""
    with translation.override("en"):
        yield


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("django.utils.timezone.now", clock)
    return clock


@pytest.fixture
def throttle_settings(settings):
    settings.LOGIN_THROTTLE_FREE_FAILURES = 3
    settings.LOGIN_THROTTLE_LOCK_FAILURES = 10
    settings.LOGIN_THROTTLE_WINDOW_SECONDS = 15 * 60
    settings.LOGIN_THROTTLE_LOCK_SECONDS = 15 * 60
    return settings


@pytest.fixture
def alice(company):
    return user_build(company, "sales", username="alice")


def log_in(password, username="alice"):
    return Client(REMOTE_ADDR="203.0.113.9").post(reverse("web:login"), {"username": username, "password": password})


def audit_actions():
    return list(AuditLog.objects.filter(action__startswith="login.").order_by("id").values_list("action", flat=True))


def test_free_failures_then_a_wait_that_doubles(alice, clock, throttle_settings):
    for _ in range(3):
        response = log_in(WRONG)
        assert response.status_code == 200
        assert "Wrong user name or password." in response.content.decode()
    assert LoginFailure.objects.count() == 3
    failed = AuditLog.objects.filter(action="login.failed").order_by("id")
    assert [(a.object_type, a.object_id, a.company_id, a.after) for a in failed] == [
        ("auth.login", "alice", None, {"ip": "203.0.113.9", "failures": n}) for n in (1, 2, 3)
    ]

    # Now every try waits, and the wait doubles with each further failure: 2, 4, 8 … 128 s.
    for failures, wait in [(3, 2), (4, 4), (5, 8), (6, 16), (7, 32), (8, 64), (9, 128)]:
        assert login_wait_seconds("alice") == wait
        response = log_in(WRONG)  # too early: refused without counting
        assert response.status_code == 429
        assert throttle_message(wait) in response.content.decode()
        assert LoginFailure.objects.count() == failures
        clock.advance(wait - 1)
        assert login_wait_seconds("ALICE") == 1  # user names are not case-sensitive here
        response = log_in(PASSWORD)  # even the right password waits
        assert response.status_code == 429
        assert "_auth_user_id" not in response.client.session
        clock.advance(1)
        assert login_wait_seconds("alice") == 0
        if failures < 9:
            assert log_in(WRONG).status_code == 200

    assert audit_actions() == ["login.failed"] * 9


def test_wait_messages():
    with translation.override("en"):
        messages = [throttle_message(w) for w in (1, 2, 59, 64, 900)]
    assert messages == [
        "Too many failed attempts. Try again in 1 second.",
        "Too many failed attempts. Try again in 2 seconds.",
        "Too many failed attempts. Try again in 59 seconds.",
        "Too many failed attempts. Try again in 2 minutes.",
        "Too many failed attempts. Try again in 15 minutes.",
    ]


def test_the_lock_after_the_threshold_and_its_end(alice, clock, throttle_settings):
    for _ in range(9):
        LoginFailure.objects.create(username="alice", ip="203.0.113.9")
    clock.advance(128)  # the wait after nine failures
    response = log_in(WRONG)  # the tenth failure locks

    assert response.status_code == 429
    assert locked_message() in response.content.decode()
    locked = AuditLog.objects.get(action="login.locked")
    assert (locked.object_id, locked.after) == ("alice", {"ip": "203.0.113.9", "failures": 10})
    assert login_wait_seconds("alice") == 15 * 60

    clock.advance(15 * 60 - 1)
    response = log_in(PASSWORD)
    assert response.status_code == 429
    assert throttle_message(1) in response.content.decode()
    assert LoginFailure.objects.count() == 10

    clock.advance(1)
    response = log_in(PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("web:home")
    assert LoginFailure.objects.count() == 0
    assert audit_actions() == ["login.locked", "login.succeeded"]


def test_success_clears_the_failures(alice, clock, throttle_settings):
    assert log_in(WRONG).status_code == 200
    assert log_in(WRONG).status_code == 200
    response = log_in(PASSWORD)

    assert response.status_code == 302
    assert LoginFailure.objects.count() == 0
    succeeded = AuditLog.objects.get(action="login.succeeded")
    assert (succeeded.object_type, succeeded.object_id, succeeded.after) == (
        "core.user",
        str(alice.pk),
        {"ip": "203.0.113.9", "username": "alice"},
    )
    # The count starts again from zero: three more free failures.
    for _ in range(3):
        assert log_in(WRONG).status_code == 200
    assert login_wait_seconds("alice") == 2


def test_failures_older_than_the_window_are_forgotten(alice, clock, throttle_settings):
    for _ in range(5):
        LoginFailure.objects.create(username="alice", ip="")
    assert login_wait_seconds("alice") == 8
    clock.advance(15 * 60 + 1)
    assert login_wait_seconds("alice") == 0
    assert log_in(PASSWORD).status_code == 302


def test_throttling_is_per_user_name(alice, company, clock, throttle_settings):
    user_build(company, "sales", username="bob")
    for _ in range(9):
        LoginFailure.objects.create(username="alice", ip="")
    clock.advance(128)
    assert login_failure_record(username="alice", ip="") is True
    assert login_wait_seconds("alice") == 15 * 60
    assert login_wait_seconds("bob") == 0
    assert log_in(PASSWORD, username="bob").status_code == 302


def test_unknown_user_names_are_throttled_too(db, clock, throttle_settings):
    for _ in range(3):
        assert log_in(WRONG, username="nobody").status_code == 200
    assert log_in(WRONG, username="nobody").status_code == 429
    assert audit_actions() == ["login.failed"] * 3


def test_the_lock_runs_its_full_period_from_the_locking_failure(db, clock, throttle_settings):
    """Earlier failures leaving the window do not shorten the lock."""
    for _ in range(9):
        LoginFailure.objects.create(username="eve", ip="")
    clock.advance(800)
    assert login_failure_record(username="eve", ip="") is True
    clock.advance(101)  # the first nine failures are now out of the window
    assert _recent_count("eve") == 1
    assert login_wait_seconds("eve") == 15 * 60 - 101


def test_after_a_lock_expires_the_next_failure_locks_again(db, clock, throttle_settings):
    throttle_settings.LOGIN_THROTTLE_LOCK_SECONDS = 60  # shorter than the window
    for _ in range(9):
        LoginFailure.objects.create(username="eve", ip="")
    clock.advance(128)
    assert login_failure_record(username="eve", ip="") is True
    clock.advance(60)
    assert login_wait_seconds("eve") == 68  # the lock is over; the longest wait (128 s) still runs
    clock.advance(68)
    assert login_wait_seconds("eve") == 0
    assert login_failure_record(username="eve", ip="") is True
    assert login_wait_seconds("eve") == 60
    assert audit_actions() == ["login.locked", "login.locked"]


def _recent_count(username):
    from retaguarda.core.throttle import _recent

    return _recent(username).count()


def test_recording_past_the_threshold_still_reports_the_lock(db, clock, throttle_settings):
    """Two failures recorded at once may step over the threshold; the lock is still reported."""
    for _ in range(10):
        LoginFailure.objects.create(username="eve", ip="")
    assert login_failure_record(username="eve", ip="198.51.100.1") is True
    assert AuditLog.objects.get().action == "login.locked"


def test_thresholds_come_from_settings(alice, clock, settings):
    settings.LOGIN_THROTTLE_FREE_FAILURES = 1
    settings.LOGIN_THROTTLE_LOCK_FAILURES = 3
    settings.LOGIN_THROTTLE_LOCK_SECONDS = 60
    assert login_failure_record(username="alice", ip="") is False
    assert login_wait_seconds("alice") == 2
    assert login_failure_record(username="alice", ip="") is False
    assert login_wait_seconds("alice") == 4
    assert login_failure_record(username="alice", ip="") is True
    assert login_wait_seconds("alice") == 60
    login_success_record(user=alice, ip="")
    assert login_wait_seconds("alice") == 0
