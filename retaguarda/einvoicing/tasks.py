"""Background jobs of electronic invoicing, run by `retaguarda worker` (django-tasks database
backend): sending a company's queued NF-e to the authority, and reviewing its A1 certificate's
expiry (queued at upload for the day the 30-day warning starts)."""

from __future__ import annotations

from django.db.models import Min
from django.utils import timezone
from django_tasks import task

from retaguarda.core.models import Company

from .models import PENDING_STATUSES, NFeSubmission


@task()
def nfe_send_queue(company_id: int) -> dict:
    """Send the company's due NF-e (see `nfe_submissions_send`) with the authorities its
    instance configures, then schedule the next run for the earliest retry still pending."""
    from .nfe_services import nfe_authorities_for, nfe_submissions_send

    company = Company.objects.get(pk=company_id)
    authorities = nfe_authorities_for(company)
    if authorities is None:
        return {"configured": 0}
    counts = nfe_submissions_send(
        company=company,
        authority=authorities.authority,
        contingency_authority=authorities.contingency_authority,
        certificate=authorities.certificate,
    )
    following = NFeSubmission.objects.filter(company=company, status__in=PENDING_STATUSES).aggregate(
        at=Min("next_attempt_at")
    )["at"]
    if following is not None:
        later = nfe_send_queue
        if following > timezone.now():
            later = nfe_send_queue.using(run_after=following)
        later.enqueue(company_id=company_id)
    return {"configured": 1, **counts}


@task()
def certificate_review(company_id: int) -> dict:
    """Raise (or clear) the company's "certificate expiring" deviation (`certificates_review`)."""
    from .certificates import certificates_review

    deviation = certificates_review(Company.objects.get(pk=company_id))
    return {"deviation_id": deviation.pk if deviation is not None else None}
