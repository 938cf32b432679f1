"""Webhook delivery: signed HTTP POSTs of outbox events, retried with exponential backoff."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import OutboxEvent, WebhookAttempt, WebhookDelivery
from .permissions import Actor, require

SIGNATURE_HEADER = "X-Retaguarda-Signature"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex; sent as `t=<timestamp>,v1=<hex>`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def event_body(event: OutboxEvent) -> bytes:
    return json.dumps(
        {
            "id": event.pk,
            "event": event.name,
            "company": event.company_id,
            "created_at": event.created_at.isoformat(),
            "object": {"type": event.object_type, "id": event.object_id},
            "data": event.payload,
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


def retry_delay(attempt: int) -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0))


def webhook_delivery_attempt(delivery_id: int) -> WebhookDelivery:
    """Try one delivery now and record the outcome; the caller schedules any retry."""
    delivery = WebhookDelivery.objects.select_related("subscription", "event").get(pk=delivery_id)
    if delivery.status == "delivered":
        return delivery
    body = event_body(delivery.event)
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        delivery.subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "retaguarda-webhooks/1",
            "X-Retaguarda-Event": delivery.event.name,
            "X-Retaguarda-Delivery": str(delivery.pk),
            SIGNATURE_HEADER: sign(delivery.subscription.secret, timestamp, body),
        },
    )
    started = time.monotonic()
    status_code, error = None, ""
    try:
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            status_code = response.status
    except urllib.error.HTTPError as exc:
        status_code, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        error = str(getattr(exc, "reason", exc))[:500]
    duration_ms = int((time.monotonic() - started) * 1000)
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.last_status_code = status_code
        delivery.last_error = error
        WebhookAttempt.objects.create(
            delivery=delivery, number=delivery.attempts, status_code=status_code, error=error, duration_ms=duration_ms
        )
        if status_code is not None and 200 <= status_code < 300:
            delivery.status = "delivered"
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status = "failed"
            delivery.next_attempt_at = None
        else:
            delivery.status = "retrying"
            delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        delivery.save()
    return delivery


@transaction.atomic
def webhook_delivery_replay(*, actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again from the UI, whatever its state: a fresh round of attempts."""
    from .services import audit_record
    from .tasks import deliver_webhook

    require(actor, "core.webhooks.manage")
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id, subscription__company=actor.company)
    before = {"status": delivery.status, "attempts": delivery.attempts}
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    audit_record(
        actor=actor,
        company=actor.company,
        obj=delivery,
        action="webhook.replay",
        before=before,
        after={"status": "pending", "attempts": 0},
    )
    transaction.on_commit(lambda: deliver_webhook.enqueue(delivery.pk))
    return delivery
