"""What billing's issuing, the pages and the API ask of Brazil's NF-e, with the company's stored
certificate: queue an issued invoice's NF-e (billing's INVOICE_POSTED_HOOKS hook, and by hand
for an invoice issued without one), send the queue now, cancel an authorized NF-e.

Sending and cancelling reach the authority through `nfe_authorities_for(company)`, which reads
the RETAGUARDA_NFE_AUTHORITIES setting; without it they are refused with a clear message and
nothing changes (NF-e then stay queued)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from retaguarda.billing.choices import CUSTOMER_KINDS, InvoiceKind, InvoiceStatus
from retaguarda.billing.models import Invoice
from retaguarda.common.errors import Conflict, NotFound
from retaguarda.common.inputs import valid_id
from retaguarda.core.permissions import Actor, require

from .certificates import certificate_a1, certificate_a1_for, certificate_active
from .mapping import document_for
from .models import PENDING_STATUSES, NFeEvent, NFeSubmission, SubmissionStatus
from .nfe_services import AuthoritySet, nfe_authorities_for, nfe_cancel, nfe_submission_queue, nfe_submissions_send
from .selectors import nfe_document_check
from .signing import A1Certificate


def _queue(actor: Actor | None, invoice: Invoice, certificate: A1Certificate) -> NFeSubmission:
    document = document_for(invoice)
    nfe_document_check(document)
    return nfe_submission_queue(
        company=invoice.company, invoice_id=invoice.pk, document=document, certificate=certificate, actor=actor
    )


def nfe_queue_on_post(actor: Actor | None, invoice: Invoice) -> NFeSubmission | None:
    """Billing's INVOICE_POSTED_HOOKS hook: in the issuing transaction, queue the NF-e of a
    Brazilian company's customer invoice or credit note when the company has a valid
    certificate (the send is enqueued after commit). Without one nothing is queued and the
    invoice is issued all the same. When the NF-e cannot be made (the customer's address or a
    line's NCM code is missing), the issuing is refused with what is missing: in Brazil the
    NF-e is the invoice, and a number must not be used without one."""
    company = invoice.company
    if company.country != "BR" or invoice.kind not in CUSTOMER_KINDS:
        return None
    row = certificate_active(company)
    if row is None or row.not_after <= timezone.now():
        return None
    if invoice.kind == InvoiceKind.CUSTOMER_CREDIT_NOTE and not _corrected_has_nfe(invoice):
        # A return NF-e must reference the NF-e it corrects; an invoice issued without one has
        # nothing to reference.
        return None
    return _queue(actor, invoice, certificate_a1(row))


def _corrected_has_nfe(invoice: Invoice) -> bool:
    authorized = NFeSubmission.objects.filter(status=SubmissionStatus.AUTHORIZED)
    return authorized.filter(invoice_id=invoice.corrected_invoice_id).exists()


@transaction.atomic
def nfe_invoice_queue(*, actor: Actor, invoice_id) -> NFeSubmission:
    """Queue the NF-e of an issued invoice that has none (issued before the certificate was
    uploaded, or rejected by the authority and corrected since)."""
    require(actor, "billing.change")
    company = actor.company
    invoice = (
        Invoice.objects.select_related("company", "corrected_invoice", "order")
        .filter(company=company, pk=valid_id(invoice_id) or 0)
        .first()
    )
    if invoice is None:
        raise NotFound(_("No such invoice."))
    if company.country != "BR" or invoice.status != InvoiceStatus.POSTED or invoice.kind not in CUSTOMER_KINDS:
        raise Conflict(
            _("Only issued customer invoices of a company in Brazil get an NF-e."), code="nfe_not_applicable"
        )
    certificate = certificate_a1_for(company)
    if certificate is None:
        raise Conflict(_("Upload the company's valid A1 certificate first."), code="certificate_missing")
    return _queue(actor, invoice, certificate)


def _authorities(company) -> AuthoritySet:
    authorities = nfe_authorities_for(company)
    if authorities is None:
        raise Conflict(
            _(
                "Sending NF-e is not configured on this instance (the RETAGUARDA_NFE_AUTHORITIES setting): "
                "the NF-e stay queued."
            ),
            code="nfe_not_configured",
        )
    return authorities


def nfe_send_now(*, actor: Actor) -> dict[str, int]:
    """Send every pending NF-e of the company now, even those waiting for their next retry;
    returns `nfe_submissions_send`'s counts."""
    require(actor, "billing.change")
    company = actor.company
    if company.country != "BR":
        raise Conflict(_("NF-e are issued by companies in Brazil."), code="nfe_not_applicable")
    authorities = _authorities(company)
    now = timezone.now()
    NFeSubmission.objects.filter(company=company, status__in=PENDING_STATUSES, next_attempt_at__gt=now).update(
        next_attempt_at=now
    )
    return nfe_submissions_send(
        company=company,
        authority=authorities.authority,
        contingency_authority=authorities.contingency_authority,
        certificate=authorities.certificate or certificate_a1_for(company),
        now=now,
    )


def nfe_cancel_request(*, actor: Actor, submission_id, reason: str) -> NFeEvent:
    """Cancel an authorized NF-e at the authority (`nfe_cancel`), signed with the certificate
    the instance's authorities give, else the company's."""
    require(actor, "billing.change")
    company = actor.company
    if not NFeSubmission.objects.filter(company=company, pk=valid_id(submission_id) or 0).exists():
        raise NotFound(_("NF-e not found."))
    authorities = _authorities(company)
    certificate = authorities.certificate or certificate_a1_for(company)
    if certificate is None:
        raise Conflict(_("Upload the company's valid A1 certificate first."), code="certificate_missing")
    return nfe_cancel(
        actor=actor,
        submission_id=valid_id(submission_id),
        reason=reason,
        authority=authorities.authority,
        certificate=certificate,
    )
