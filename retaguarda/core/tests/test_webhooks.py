"""Events and webhooks: outbox rows, signed deliveries to a real HTTP receiver, retries, replay.

Deliveries run through the real django-tasks database worker (`db_worker --batch`).
"""

import hashlib
import hmac
import json
import socket
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from retaguarda.common.errors import NotFound, PermissionDenied, ValidationFailed
from retaguarda.core.models import AuditLog, OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookSubscription
from retaguarda.core.services import (
    event_emit,
    webhook_subscription_create,
    webhook_subscription_deactivate,
    webhook_subscription_update,
)
from retaguarda.core.testing import actor_build, company_build
from retaguarda.core.webhooks import signature_verify, webhook_delivery_attempt, webhook_delivery_replay

from .webhook_receiver import Receiver, run_worker

TASK_PATH = "retaguarda.core.tasks.deliver_webhook"


@pytest.fixture
def receiver():
    made = []

    def make(statuses=(), default=200):
        r = Receiver(statuses=list(statuses), default=default).start()
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()


def subscribe(company, url, events=("*",), name="shop", is_active=True):
    return WebhookSubscription.objects.create(
        company=company, name=name, url=url, secret=f"whsec_test_{name}", events=list(events), is_active=is_active
    )


def emit(company, name="order.confirmed", payload=None, obj=None):
    with transaction.atomic():
        return event_emit(company=company, name=name, obj=obj, payload=payload or {"number": "F-2025-1"})


def verify_signature(secret: str, header: str, body: bytes) -> None:
    """Checked independently of webhooks.sign(): HMAC-SHA256 over "<t>.<body>"."""
    parts = dict(p.split("=", 1) for p in header.split(","))
    assert set(parts) == {"t", "v1"}
    assert abs(int(parts["t"]) - time.time()) < 60
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert parts["v1"] == expected


def due_now() -> None:
    """Let the clock reach the delivery's retry: its queued job becomes due now."""
    updated = DBTaskResult.objects.filter(task_path=TASK_PATH, status="READY").update(run_after=timezone.now())
    assert updated == 1


# Outbox -------------------------------------------------------------------------------------


def test_event_emit_writes_outbox_and_one_delivery_per_interested_subscription(
    company, django_capture_on_commit_callbacks
):
    other_company = company_build(country="BR")
    everything = subscribe(company, "https://a.example/hook", ["*"], name="all")
    orders = subscribe(company, "https://b.example/hook", ["order.*"], name="orders")
    subscribe(company, "https://c.example/hook", ["invoice.posted"], name="invoices")
    subscribe(company, "https://d.example/hook", ["*"], name="off", is_active=False)
    subscribe(other_company, "https://e.example/hook", ["*"], name="elsewhere")

    with django_capture_on_commit_callbacks() as callbacks:
        event = emit(company, "order.confirmed", {"total": "10.00"}, obj=company)
        # Nothing is queued before the transaction commits.
        assert DBTaskResult.objects.count() == 0
    assert len(callbacks) == 2
    for callback in callbacks:
        callback()

    assert OutboxEvent.objects.filter(company=company).count() == 1
    assert (event.name, event.object_type, event.object_id, event.payload) == (
        "order.confirmed",
        "core.company",
        str(company.pk),
        {"total": "10.00"},
    )
    deliveries = list(WebhookDelivery.objects.order_by("subscription_id"))
    assert [d.subscription_id for d in deliveries] == [everything.pk, orders.pk]
    assert all(d.status == "pending" and d.attempts == 0 and d.event_id == event.pk for d in deliveries)
    jobs = list(DBTaskResult.objects.all())
    assert [(j.task_path, j.queue_name, j.status) for j in jobs] == [(TASK_PATH, "webhooks", "READY")] * 2
    assert sorted(j.args_kwargs["args"][0] for j in jobs) == [d.pk for d in deliveries]
    assert {j.args_kwargs["kwargs"]["company_id"] for j in jobs} == {company.pk}


@pytest.mark.parametrize(
    ("events", "name", "wanted"),
    [
        (["*"], "order.confirmed", True),
        (["order.confirmed"], "order.confirmed", True),
        (["order.*"], "order.confirmed", True),
        (["order.*"], "orders.confirmed", False),
        (["order.*"], "order", False),
        (["invoice.posted", "order.shipped"], "order.confirmed", False),
        ([], "order.confirmed", False),
    ],
)
def test_subscription_wants(events, name, wanted):
    assert WebhookSubscription(events=events).wants(name) is wanted


# Delivery through the worker ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_delivery_is_signed_and_carries_the_exact_payload(receiver):
    company = company_build()
    hook = receiver()
    subscription = subscribe(company, hook.url)
    event = emit(company, "order.confirmed", {"number": "F-2025-1", "lines": [1, 2]}, obj=company)

    run_worker()

    assert len(hook.requests) == 1
    request = hook.requests[0]
    assert request.path == "/hooks/retaguarda"
    assert json.loads(request.body) == {
        "id": event.pk,
        "event": "order.confirmed",
        "company": company.pk,
        "created_at": event.created_at.isoformat(),
        "object": {"type": "core.company", "id": str(company.pk)},
        "data": {"number": "F-2025-1", "lines": [1, 2]},
    }
    delivery = WebhookDelivery.objects.get()
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-retaguarda-event"] == "order.confirmed"
    assert request.headers["x-retaguarda-delivery"] == str(delivery.pk)
    verify_signature(subscription.secret, request.headers["x-retaguarda-signature"], request.body)
    assert signature_verify(subscription.secret, request.headers["x-retaguarda-signature"], request.body)
    assert not signature_verify("whsec_wrong", request.headers["x-retaguarda-signature"], request.body)
    assert not signature_verify(subscription.secret, request.headers["x-retaguarda-signature"], request.body + b" ")

    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.next_attempt_at) == (
        "delivered",
        1,
        200,
        None,
    )
    assert delivery.delivered_at == delivery.last_attempt_at
    assert list(WebhookAttempt.objects.values_list("number", "status_code", "error")) == [(1, 200, "")]
    job = DBTaskResult.objects.get()
    assert (job.status, job.return_value, job.args_kwargs["args"]) == ("SUCCESSFUL", "delivered", [delivery.pk])


@pytest.mark.django_db(transaction=True)
def test_receiver_failing_first_then_succeeding(receiver, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    company = company_build()
    hook = receiver(statuses=[500])
    subscription = subscribe(company, hook.url)
    emit(company)

    run_worker()

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        "retrying",
        1,
        500,
        "HTTP 500",
    )
    assert delivery.next_attempt_at - delivery.last_attempt_at == timedelta(seconds=30)
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.run_after == delivery.next_attempt_at
    assert retry.args_kwargs["kwargs"]["scheduled_for"] == delivery.next_attempt_at.isoformat()

    run_worker()  # not due yet: nothing is sent
    assert len(hook.requests) == 1

    due_now()
    run_worker()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.next_attempt_at) == (
        "delivered",
        2,
        200,
        None,
    )
    assert list(WebhookAttempt.objects.order_by("id").values_list("number", "status_code", "error")) == [
        (1, 500, "HTTP 500"),
        (2, 200, ""),
    ]
    assert len(hook.requests) == 2
    assert hook.requests[0].body == hook.requests[1].body
    for request in hook.requests:
        verify_signature(subscription.secret, request.headers["x-retaguarda-signature"], request.body)
    assert list(DBTaskResult.objects.order_by("enqueued_at").values_list("status", "return_value")) == [
        ("SUCCESSFUL", "retrying"),
        ("SUCCESSFUL", "delivered"),
    ]


@pytest.mark.django_db(transaction=True)
def test_exponential_backoff_then_failure_after_max_attempts(receiver, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.WEBHOOK_MAX_ATTEMPTS = 4
    company = company_build()
    hook = receiver(default=503)
    subscribe(company, hook.url)
    emit(company)

    waits = []
    for attempt in range(1, 5):
        if attempt > 1:
            due_now()
        run_worker()
        delivery = WebhookDelivery.objects.get()
        assert (delivery.attempts, delivery.last_status_code) == (attempt, 503)
        if delivery.next_attempt_at is not None:
            waits.append((delivery.next_attempt_at - delivery.last_attempt_at).total_seconds())

    assert waits == [30, 60, 120]  # base * 2**(n-1) after attempts 1, 2, 3
    assert (delivery.status, delivery.next_attempt_at) == ("failed", None)
    assert list(WebhookAttempt.objects.order_by("id").values_list("number", "status_code")) == [
        (1, 503),
        (2, 503),
        (3, 503),
        (4, 503),
    ]
    assert not DBTaskResult.objects.filter(status="READY").exists()
    run_worker()
    assert len(hook.requests) == 4


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_when_the_transaction_rolls_back(receiver):
    company = company_build()
    hook = receiver()
    subscribe(company, hook.url)

    with pytest.raises(ZeroDivisionError):
        with transaction.atomic():
            event_emit(company=company, name="order.confirmed", payload={"number": "F-1"})
            raise ZeroDivisionError
    run_worker()

    assert hook.requests == []
    assert OutboxEvent.objects.count() == 0
    assert WebhookDelivery.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_unreachable_receiver_is_retried(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    company = company_build()
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subscribe(company, f"http://127.0.0.1:{port}/hook")
    emit(company)

    run_worker()

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("retrying", 1, None)
    assert "refused" in delivery.last_error.lower()
    attempt = WebhookAttempt.objects.get()
    assert (attempt.number, attempt.status_code, attempt.error) == (1, None, delivery.last_error)


@pytest.mark.django_db(transaction=True)
def test_a_redirect_is_not_followed_nor_taken_for_success(receiver):
    company = company_build()
    target = receiver()
    hook = receiver(default=302)
    hook.extra_headers["Location"] = target.url
    subscribe(company, hook.url)
    emit(company)

    run_worker()

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == ("retrying", 302)
    assert target.requests == []


@pytest.mark.django_db(transaction=True)
def test_deactivated_subscription_gets_nothing_more(receiver):
    company = company_build()
    actor = actor_build(company)
    hook = receiver()
    subscription = subscribe(company, hook.url)
    emit(company)

    webhook_subscription_deactivate(actor=actor, subscription_id=subscription.pk)
    run_worker()

    assert hook.requests == []
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 0, "subscription is inactive")
    emit(company)
    assert WebhookDelivery.objects.count() == 1  # no delivery for an inactive subscription


# Replay -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_replay_sends_a_delivered_event_again(receiver):
    company = company_build()
    actor = actor_build(company)
    hook = receiver()
    subscribe(company, hook.url)
    emit(company)
    run_worker()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered"

    webhook_delivery_replay(actor=actor, delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    audit = AuditLog.objects.get(action="webhook.replay")
    assert (audit.actor_id, audit.object_id, audit.before, audit.after) == (
        actor.user.pk,
        str(delivery.pk),
        {"status": "delivered", "attempts": 1},
        {"status": "pending", "attempts": 0},
    )
    run_worker()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert len(hook.requests) == 2
    assert hook.requests[0].body == hook.requests[1].body
    assert list(WebhookAttempt.objects.order_by("id").values_list("number", "status_code")) == [(1, 200), (2, 200)]


@pytest.mark.django_db(transaction=True)
def test_replay_of_a_retrying_delivery_sends_once_not_twice(receiver, settings):
    """The retry job queued before the replay finds it stale and sends nothing."""
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    company = company_build()
    actor = actor_build(company)
    hook = receiver(statuses=[500])
    subscribe(company, hook.url)
    emit(company)
    run_worker()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "retrying"

    webhook_delivery_replay(actor=actor, delivery_id=delivery.pk)
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())  # the old retry is due too
    assert DBTaskResult.objects.filter(status="READY").count() == 2
    run_worker()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert len(hook.requests) == 2  # the failed first try and one replay
    assert WebhookAttempt.objects.count() == 2
    # The worker runs due jobs oldest first: the stale retry finds the replayed delivery pending
    # and leaves it alone; the replay's own job delivers it.
    assert list(DBTaskResult.objects.order_by("enqueued_at").values_list("return_value", flat=True)) == [
        "retrying",
        "pending",
        "delivered",
    ]


def test_replay_needs_the_permission_and_changes_nothing(company, role_user):
    from retaguarda.core.selectors import actor_for

    subscription = subscribe(company, "https://a.example/hook")
    event = OutboxEvent.objects.create(company=company, name="order.confirmed")
    delivery = WebhookDelivery.objects.create(subscription=subscription, event=event, status="failed", attempts=8)
    sales = actor_for(role_user("sales"), company.pk)

    with pytest.raises(PermissionDenied):
        webhook_delivery_replay(actor=sales, delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 8)
    assert not AuditLog.objects.filter(action="webhook.replay").exists()
    assert not DBTaskResult.objects.exists()


def test_replay_of_another_companys_delivery_is_not_found(company):
    other = company_build(country="BR")
    subscription = subscribe(other, "https://a.example/hook")
    event = OutboxEvent.objects.create(company=other, name="order.confirmed")
    delivery = WebhookDelivery.objects.create(subscription=subscription, event=event, status="failed", attempts=8)

    with pytest.raises(NotFound):
        webhook_delivery_replay(actor=actor_build(company), delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 8)


def test_direct_attempt_without_schedule_sends_now(company, receiver):
    hook = receiver()
    subscribe(company, hook.url)
    emit(company)
    delivery = WebhookDelivery.objects.get()

    assert webhook_delivery_attempt(delivery.pk).status == "delivered"
    assert webhook_delivery_attempt(delivery.pk).status == "delivered"  # already delivered: not sent again
    assert len(hook.requests) == 1


# Subscriptions ------------------------------------------------------------------------------


def test_subscription_create_generates_a_secret_and_audits(company, admin_actor):
    subscription = webhook_subscription_create(
        actor=admin_actor, name=" Shop ", url="https://shop.example/hooks", events="order.* invoice.posted"
    )
    other = webhook_subscription_create(actor=admin_actor, name="All", url="http://erp.example/in", events=["*"])

    assert (subscription.name, subscription.url, subscription.events, subscription.is_active) == (
        "Shop",
        "https://shop.example/hooks",
        ["order.*", "invoice.posted"],
        True,
    )
    assert subscription.secret.startswith("whsec_") and len(subscription.secret) > 40
    assert subscription.secret != other.secret
    audit = AuditLog.objects.get(action="webhook.create", object_id=str(subscription.pk))
    assert audit.after == {
        "name": "Shop",
        "url": "https://shop.example/hooks",
        "events": ["order.*", "invoice.posted"],
        "is_active": True,
    }
    assert "secret" not in json.dumps(audit.after)


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"name": "", "url": "https://a.example/", "events": "*"}, {"name"}),
        ({"name": "x" * 101, "url": "https://a.example/", "events": "*"}, {"name"}),
        ({"name": "a\x00b", "url": "https://a.example/", "events": "*"}, {"name"}),
        ({"name": "A", "url": "ftp://a.example/", "events": "*"}, {"url"}),
        ({"name": "A", "url": "not a url", "events": "*"}, {"url"}),
        ({"name": "A", "url": "https://a.example/", "events": ""}, {"events"}),
        ({"name": "A", "url": "https://a.example/", "events": "Order Confirmed!"}, {"events"}),
        ({"name": "", "url": "", "events": []}, {"name", "url", "events"}),
    ],
)
def test_subscription_with_bad_fields_is_refused_and_nothing_written(company, admin_actor, fields, bad):
    with pytest.raises(ValidationFailed) as refused:
        webhook_subscription_create(actor=admin_actor, **fields)
    assert set(refused.value.fields) == bad
    assert not WebhookSubscription.objects.exists()
    assert not AuditLog.objects.filter(action__startswith="webhook.").exists()


def test_subscription_update_and_deactivate_audit_what_changed(company, admin_actor):
    subscription = webhook_subscription_create(actor=admin_actor, name="Shop", url="https://a.example/", events="*")
    secret = subscription.secret
    webhook_subscription_update(
        actor=admin_actor,
        subscription_id=subscription.pk,
        name="Shop",
        url="https://b.example/",
        events=["order.*"],
        is_active=True,
    )
    webhook_subscription_deactivate(actor=admin_actor, subscription_id=subscription.pk)
    webhook_subscription_deactivate(actor=admin_actor, subscription_id=subscription.pk)  # no second row

    subscription.refresh_from_db()
    assert (subscription.url, subscription.events, subscription.is_active, subscription.secret) == (
        "https://b.example/",
        ["order.*"],
        False,
        secret,
    )
    rows = AuditLog.objects.filter(object_id=str(subscription.pk), action__startswith="webhook.").order_by("id")
    assert [(r.action, r.before, r.after) for r in rows] == [
        ("webhook.create", None, {"name": "Shop", "url": "https://a.example/", "events": ["*"], "is_active": True}),
        (
            "webhook.update",
            {"url": "https://a.example/", "events": ["*"]},
            {"url": "https://b.example/", "events": ["order.*"]},
        ),
        ("webhook.deactivate", {"is_active": True}, {"is_active": False}),
    ]


@pytest.mark.parametrize("role", ["manager", "sales", "finance", "partner"])
def test_subscription_services_need_the_permission(company, role_user, role):
    from retaguarda.core.selectors import actor_for

    admin = actor_build(company)
    subscription = webhook_subscription_create(actor=admin, name="Shop", url="https://a.example/", events="*")
    actor = actor_for(role_user(role), company.pk)
    audit_rows = AuditLog.objects.count()

    with pytest.raises(PermissionDenied):
        webhook_subscription_create(actor=actor, name="Mine", url="https://evil.example/", events="*")
    with pytest.raises(PermissionDenied):
        webhook_subscription_update(
            actor=actor,
            subscription_id=subscription.pk,
            name="Mine",
            url="https://evil.example/",
            events="*",
            is_active=True,
        )
    with pytest.raises(PermissionDenied):
        webhook_subscription_deactivate(actor=actor, subscription_id=subscription.pk)

    subscription.refresh_from_db()
    assert (WebhookSubscription.objects.count(), subscription.url, subscription.is_active) == (
        1,
        "https://a.example/",
        True,
    )
    assert AuditLog.objects.count() == audit_rows


def test_subscriptions_of_another_company_are_not_found(company, admin_actor):
    other_admin = actor_build(company_build(country="BR"))
    subscription = webhook_subscription_create(actor=other_admin, name="Theirs", url="https://a.example/", events="*")
    with pytest.raises(NotFound):
        webhook_subscription_deactivate(actor=admin_actor, subscription_id=subscription.pk)
    subscription.refresh_from_db()
    assert subscription.is_active is True
