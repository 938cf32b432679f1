"""Webhook delivery: signed HTTP POSTs of outbox events, retried with exponential backoff.

Each delivery carries its schedule in `next_attempt_at`; a queued task names the schedule it
was queued for, and finding another one (the delivery was replayed, delivered or given up in
the meantime) does nothing. So a delivery is never sent twice by stale or duplicate tasks.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from retaguarda.common.errors import NotFound

from .choices import WebhookDeliveryStatus as Status
from .models import OutboxEvent, WebhookAttempt, WebhookDelivery
from .permissions import Actor, require

SIGNATURE_HEADER = "X-Retaguarda-Signature"
EVENT_HEADER = "X-Retaguarda-Event"
DELIVERY_HEADER = "X-Retaguarda-Delivery"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex; sent as `t=<timestamp>,v1=<hex>`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def signature_verify(secret: str, header: str, body: bytes, *, tolerance_seconds: int = 300) -> bool:
    """What a receiver does: recompute the signature and refuse stale timestamps (replays)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp, given = parts.get("t", ""), parts.get("v1", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={given}")


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
    """The wait after failed attempt number `attempt` (1-based): base * 2**(attempt-1)."""
    return timedelta(seconds=settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0))


def delivery_enqueue(*, delivery_id: int, company_id: int, scheduled_for: datetime) -> None:
    """Queue the task that attempts `delivery_id` at `scheduled_for` (the delivery's next_attempt_at)."""
    from .tasks import deliver_webhook

    task = deliver_webhook
    if scheduled_for > timezone.now():
        task = deliver_webhook.using(run_after=scheduled_for)
    task.enqueue(delivery_id, scheduled_for=scheduled_for.isoformat(), company_id=company_id)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would turn the POST into a GET elsewhere and a 200 there into "delivered".
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        return None, (str(getattr(exc, "reason", "") or exc) or type(exc).__name__)[:500]


def _claim(delivery_id: int, scheduled_for: datetime | None) -> WebhookDelivery | None:
    """Take the delivery for one attempt: None when it is not due under this schedule."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update().select_related("subscription", "event").get(pk=delivery_id)
        )
        if delivery.status in (Status.DELIVERED, Status.FAILED):
            return None
        if scheduled_for is not None and delivery.next_attempt_at != scheduled_for:
            return None
        if not delivery.subscription.is_active:
            delivery.status = Status.FAILED
            delivery.next_attempt_at = None
            delivery.last_error = "subscription is inactive"
            delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
            return None
        # In flight: a second task for the same schedule finds nothing to do.
        delivery.next_attempt_at = None
        delivery.save(update_fields=["next_attempt_at"])
        return delivery


def webhook_delivery_attempt(delivery_id: int, *, scheduled_for: datetime | None = None) -> WebhookDelivery:
    """Try one delivery now and record the outcome (delivered, retrying at a later time, or failed).

    With `scheduled_for`, the attempt happens only if the delivery is still scheduled for
    that moment; the returned delivery then says what was found.
    """
    delivery = _claim(delivery_id, scheduled_for)
    if delivery is None:
        return WebhookDelivery.objects.get(pk=delivery_id)
    company_id = delivery.subscription.company_id
    body = event_body(delivery.event)
    timestamp = str(int(time.time()))
    started = time.monotonic()
    status_code, error = _post(
        delivery.subscription.url,
        body,
        {
            "Content-Type": "application/json",
            "User-Agent": "retaguarda-webhooks/1",
            EVENT_HEADER: delivery.event.name,
            DELIVERY_HEADER: str(delivery.pk),
            SIGNATURE_HEADER: sign(delivery.subscription.secret, timestamp, body),
        },
    )
    duration_ms = int((time.monotonic() - started) * 1000)
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.last_status_code = status_code
        delivery.last_error = error
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=WebhookAttempt.objects.filter(delivery=delivery).count() + 1,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
        )
        if status_code is not None and 200 <= status_code < 300:
            delivery.status = Status.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status = Status.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.status = Status.RETRYING
            delivery.next_attempt_at = now + retry_delay(delivery.attempts)
            transaction.on_commit(
                lambda d=delivery: delivery_enqueue(
                    delivery_id=d.pk, company_id=company_id, scheduled_for=d.next_attempt_at
                )
            )
        delivery.save()
    return delivery


@transaction.atomic
def webhook_delivery_replay(*, actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again from the UI, whatever its state: a fresh round of attempts."""
    from .services import audit_record

    require(actor, "core.webhooks.manage")
    delivery = (
        WebhookDelivery.objects.select_for_update().filter(pk=delivery_id, subscription__company=actor.company).first()
    )
    if delivery is None:
        raise NotFound(_("No such delivery."))
    before = {"status": delivery.status, "attempts": delivery.attempts}
    delivery.status = Status.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    audit_record(
        actor=actor,
        company=actor.company,
        obj=delivery,
        action="webhook.replay",
        before=before,
        after={"status": Status.PENDING, "attempts": 0},
    )
    scheduled_for, company_id = delivery.next_attempt_at, actor.company.pk
    transaction.on_commit(
        lambda: delivery_enqueue(delivery_id=delivery.pk, company_id=company_id, scheduled_for=scheduled_for)
    )
    return delivery
