"""Electronic invoicing pages: an issued invoice's UBL and NF-e files; Brazil's NF-e (the
submissions with their status, "send now", cancelling, queuing an invoice issued without one,
the standing with the authority, the A1 certificate and its upload); Spain's invoice register
and the verification of its chain. Also what billing's pages show of it: the download links
of the invoice page (DOCUMENT_DOWNLOADS) and the NF-e block of the printed invoice (PDF_EXTRAS).

Views parse input and call one service; a refusal is shown on the page it came from, with the
refusal's status and nothing changed."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from retaguarda.billing.calculations import EU_COUNTRIES
from retaguarda.billing.choices import CUSTOMER_KINDS, InvoiceStatus
from retaguarda.common.errors import DomainError
from retaguarda.common.taxids import tax_id_format
from retaguarda.core.ui.decorators import forbidden, permission_required

from . import certificates, services
from .forms import CertificateUploadForm, NFeCancelForm
from .models import AuthorityMode, CompanyCertificate, NFeSubmission, SubmissionStatus
from .selectors import (
    NFE_LISTING,
    REGISTER_LISTING,
    XmlFile,
    certificate_current,
    invoice_nfe_xml,
    invoice_ubl,
    nfe_authority_state,
    nfe_submission_get,
    nfe_submission_of,
    nfe_submissions,
    nfe_unsent_invoices,
    register_check,
    register_records,
)

HASH_PREFIX = 12


def _refusal_page(request, exc: DomainError, *, back: str = ""):
    """The refusal's message with its status; 403 and 404 go to their own pages."""
    if exc.status in (403, 404):
        raise exc
    return render(
        request,
        "einvoicing/refused.html",
        {"message": exc.message, "details": exc.details, "back": back},
        status=exc.status,
    )


def _nfe_configured() -> bool:
    return bool(getattr(settings, "RETAGUARDA_NFE_AUTHORITIES", ""))


@permission_required("billing.view")
def home(request):
    """The company's page: NF-e in Brazil, the invoice register in Spain."""
    country = request.actor.company.country
    if country == "BR":
        return redirect("einvoicing:nfe_list")
    if country == "ES":
        return redirect("einvoicing:register")
    return render(request, "einvoicing/home.html", {"eu": country in EU_COUNTRIES})


# --- files of an issued invoice -----------------------------------------------------------------


def _xml_response(file: XmlFile) -> HttpResponse:
    response = HttpResponse(file.content, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{file.name}"'
    return response


@require_GET
@permission_required("billing.view")
def invoice_ubl_view(request, pk: int):
    try:
        return _xml_response(invoice_ubl(actor=request.actor, invoice_id=pk))
    except DomainError as exc:
        return _refusal_page(request, exc, back=reverse("billing:invoice_detail", args=[pk]))


@require_GET
@permission_required("billing.view")
def invoice_nfe_view(request, pk: int):
    try:
        return _xml_response(invoice_nfe_xml(actor=request.actor, invoice_id=pk))
    except DomainError as exc:
        return _refusal_page(request, exc, back=reverse("billing:invoice_detail", args=[pk]))


def invoice_downloads(invoice) -> list[tuple[str, str]]:
    """The invoice page's links (billing's DOCUMENT_DOWNLOADS): the UBL file in the EU; in
    Brazil the NF-e file by its state, or why the invoice has no NF-e. At most two queries."""
    if invoice.status != InvoiceStatus.POSTED or invoice.kind not in CUSTOMER_KINDS:
        return []
    country = invoice.company.country
    if country in EU_COUNTRIES:
        return [(_("UBL XML"), reverse("einvoicing:invoice_ubl", args=[invoice.pk]))]
    if country != "BR":
        return []
    nfe_url = reverse("einvoicing:invoice_nfe", args=[invoice.pk])
    submission = nfe_submission_of(invoice, with_xml=False)
    if submission is not None:
        if submission.status == SubmissionStatus.AUTHORIZED:
            return [(_("NF-e XML (authorized)"), nfe_url)]
        return [(_("NF-e XML (%(status)s)") % {"status": submission.get_status_display().lower()}, nfe_url)]
    expiry = (
        CompanyCertificate.objects.filter(company_id=invoice.company_id, is_active=True)
        .values_list("not_after", flat=True)
        .first()
    )
    if expiry is None:
        why = (_("NF-e not issued: no certificate"), reverse("einvoicing:certificate"))
    elif expiry <= timezone.now():
        why = (_("NF-e not issued: the certificate expired"), reverse("einvoicing:certificate"))
    else:
        why = (_("NF-e not issued"), reverse("einvoicing:nfe_list"))
    return [why, (_("NF-e XML (preview)"), nfe_url)]


def nfe_pdf_html(invoice) -> str:
    """The authorized NF-e's access key and protocol on the printed invoice (billing's
    PDF_EXTRAS), in the document's language; "" when it has no authorized NF-e."""
    if invoice.company.country != "BR" or not invoice.number or invoice.kind not in CUSTOMER_KINDS:
        return ""
    submission = (
        NFeSubmission.objects.filter(invoice=invoice, status=SubmissionStatus.AUTHORIZED)
        .only("access_key", "protocol", "authorized_at")
        .first()
    )
    if submission is None:
        return ""
    key = submission.access_key
    return render_to_string(
        "einvoicing/partials/nfe_pdf.html",
        {
            "access_key": " ".join(key[i : i + 4] for i in range(0, len(key), 4)),
            "protocol": submission.protocol,
            "authorized_at": submission.authorized_at,
        },
    )


# --- NF-e ---------------------------------------------------------------------------------------


def _nfe_page(request, *, status: int = 200, error: str = ""):
    actor = request.actor
    context = NFE_LISTING.page(request, nfe_submissions(actor))
    state = nfe_authority_state(actor)
    context.update(
        {
            "state": state,
            "in_contingency": state.mode == AuthorityMode.CONTINGENCY,
            "certificate": certificate_current(actor),
            "unsent": nfe_unsent_invoices(actor),
            "configured": _nfe_configured(),
            "can_change": actor.can("billing.change"),
            "statuses": SubmissionStatus.choices,
            "error": error,
        }
    )
    template = "einvoicing/partials/nfe_table.html" if request.htmx else "einvoicing/nfe_list.html"
    return render(request, template, context, status=status)


@require_GET
@permission_required("billing.view")
def nfe_list(request):
    return _nfe_page(request)


@require_POST
@permission_required("billing.change")
def nfe_send_view(request):
    try:
        counts = services.nfe_send_now(actor=request.actor)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        return _nfe_page(request, status=exc.status, error=exc.message)
    messages.success(
        request,
        _(
            "Sent: %(authorized)s authorized, %(rejected)s rejected, %(denied)s denied, "
            "%(failed)s to retry, %(waiting)s waiting."
        )
        % counts,
    )
    return redirect("einvoicing:nfe_list")


@require_POST
@permission_required("billing.change")
def nfe_queue_view(request, invoice_pk: int):
    try:
        submission = services.nfe_invoice_queue(actor=request.actor, invoice_id=invoice_pk)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        return _nfe_page(request, status=exc.status, error=exc.message)
    messages.success(request, _("NF-e %(key)s queued.") % {"key": submission.access_key})
    return redirect("einvoicing:nfe_list")


@permission_required("billing.view")
def nfe_cancel_view(request, pk: int):
    actor = request.actor
    submission = nfe_submission_get(actor, pk)
    if request.method == "POST" and not actor.can("billing.change"):
        return forbidden(request)
    form = NFeCancelForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                services.nfe_cancel_request(
                    actor=actor, submission_id=submission.pk, reason=form.cleaned_data["reason"]
                )
            except DomainError as exc:
                if exc.status in (403, 404):
                    raise
                form.add_service_errors(exc)
                status = exc.status
            else:
                messages.success(request, _("NF-e %(key)s cancelled.") % {"key": submission.access_key})
                return redirect("einvoicing:nfe_list")
    return render(
        request,
        "einvoicing/nfe_cancel.html",
        {
            "submission": submission,
            "form": form,
            "can_change": actor.can("billing.change"),
            "cancellable": submission.status == SubmissionStatus.AUTHORIZED,
        },
        status=status,
    )


@permission_required("billing.view")
def certificate_view(request):
    actor = request.actor
    if request.method == "POST" and not actor.can("billing.change"):
        return forbidden(request)
    form = CertificateUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                row = certificates.certificate_upload(
                    actor=actor, pfx=form.pfx(), password=form.cleaned_data["password"]
                )
            except DomainError as exc:
                if exc.status in (403, 404):
                    raise
                form.add_service_errors(exc)
                status = exc.status
            else:
                messages.success(
                    request,
                    _("Certificate %(subject)s stored; valid until %(date)s.")
                    % {"subject": row.subject, "date": timezone.localtime(row.not_after).date().isoformat()},
                )
                return redirect("einvoicing:certificate")
    certificate = certificate_current(actor)
    return render(
        request,
        "einvoicing/certificate.html",
        {
            "certificate": certificate,
            "cnpj": tax_id_format("BR", certificate.cnpj) if certificate is not None else "",
            "expired": certificate is not None and certificate.not_after <= timezone.now(),
            "expiring": certificate is not None
            and certificate.not_after - timezone.now() <= certificates.EXPIRY_WARNING,
            "form": form,
            "can_change": actor.can("billing.change"),
            "is_brazil": actor.company.country == "BR",
        },
        status=status,
    )


# --- Spain's invoice register -------------------------------------------------------------------


@require_GET
@permission_required("billing.view")
def register_view(request):
    context = REGISTER_LISTING.page(request, register_records(request.actor))
    for record in context["object_list"]:
        record.hash_prefix = record.hash[:HASH_PREFIX]
        record.previous_prefix = record.previous_hash[:HASH_PREFIX]
    return render(request, "einvoicing/register.html", context)


@require_POST
@permission_required("billing.view")
def register_verify_view(request):
    check = register_check(request.actor)
    (messages.success if check.ok else messages.error)(request, check.message)
    return redirect("einvoicing:register")
