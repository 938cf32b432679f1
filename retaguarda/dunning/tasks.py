"""Background jobs of dunning, run by `retaguarda worker`: each company's daily run, which
queues the next day's run when it ends, so that one start (`retaguarda dunning_run --schedule`)
keeps it going."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django_tasks import task

# The hour of the day (in the instance's time zone) the daily run starts.
DAILY_HOUR = 6


def next_daily_start(now: datetime.datetime | None = None) -> datetime.datetime:
    """The next DAILY_HOUR o'clock after `now`."""
    now = timezone.localtime(now or timezone.now())
    start = now.replace(hour=DAILY_HOUR, minute=0, second=0, microsecond=0)
    return start if start > now else start + datetime.timedelta(days=1)


def _daily_pending(company_id: int) -> bool:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        task_path=dunning_daily.module_path,
        status="READY",
        args_kwargs__kwargs__company_id=company_id,
    ).exists()


def dunning_daily_schedule(*, company_id: int, run_after: datetime.datetime | None = None) -> bool:
    """Queue the company's next daily run (at the next DAILY_HOUR by default) unless one is
    queued already. Returns whether one was queued."""
    if _daily_pending(company_id):
        return False
    dunning_daily.using(run_after=run_after or next_daily_start()).enqueue(company_id=company_id)
    return True


@task()
def dunning_daily(company_id: int) -> dict:
    """Today's dunning run of the company, sent at once; then tomorrow's is queued."""
    from .services import dunning_run_daily

    try:
        run = dunning_run_daily(company_id=company_id)
    finally:
        # Queued even when today's run failed, so one failure does not stop the daily runs.
        dunning_daily_schedule(company_id=company_id, run_after=next_daily_start())
    return {"run_id": run.pk, "as_of": run.as_of.isoformat(), "letters": run.letter_count}
