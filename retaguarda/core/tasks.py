"""Background jobs of core, run by `retaguarda worker` (django-tasks database backend)."""

from __future__ import annotations

from django_tasks import default_task_backend, task

from .webhooks import webhook_delivery_attempt


@task(queue_name="webhooks")
def deliver_webhook(delivery_id: int) -> str:
    delivery = webhook_delivery_attempt(delivery_id)
    if delivery.status == "retrying" and delivery.next_attempt_at is not None:
        if default_task_backend.supports_defer:
            deliver_webhook.using(run_after=delivery.next_attempt_at).enqueue(delivery_id)
    return delivery.status
