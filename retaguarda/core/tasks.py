"""Background jobs of core, run by `retaguarda worker` (django-tasks database backend).

Convention for every area's tasks: a task that works for one company takes a `company_id`
keyword argument. The background jobs page shows an administrator the jobs of their company
(and the instance-wide jobs without a company), never another company's.
"""

from __future__ import annotations

from datetime import datetime

from django_tasks import task

from .webhooks import webhook_delivery_attempt


@task(queue_name="webhooks")
def deliver_webhook(delivery_id: int, scheduled_for: str | None = None, company_id: int | None = None) -> str:
    """One attempt of a webhook delivery; a failed attempt queues the next one with backoff."""
    when = datetime.fromisoformat(scheduled_for) if scheduled_for else None
    return webhook_delivery_attempt(delivery_id, scheduled_for=when).status
