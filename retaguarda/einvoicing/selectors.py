"""Reads of electronic invoicing: an issued invoice's UBL or NF-e file (checked before it is
served), the company's NF-e submissions and standing with the authority, its A1 certificate,
and Spain's invoice register with the verification of its chain."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retaguarda.billing.calculations import EU_COUNTRIES
from retaguarda.billing.choices import CUSTOMER_KINDS, InvoiceStatus
from retaguarda.billing.documents import invoice_file_name
from retaguarda.billing.models import Invoice, VerifactuRecord
from retaguarda.common.errors import Conflict, NotFound, ValidationFailed
from retaguarda.common.inputs import valid_id
from retaguarda.core.permissions import Actor, require
from retaguarda.core.ui.listing import Filter, Listing

from . import nfe
from .document import InvoiceDocument
from .mapping import document_for
from .models import (
    AuthorityMode,
    CompanyCertificate,
    NFeAuthorityState,
    NFeSubmission,
    SubmissionStatus,
)
from .register import register_verify
from .ubl import VAT_CODES, ubl_invoice, ubl_validate
from .verifactu import ChainCheck

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# Submissions whose nfeProc (the NF-e with its authorization) exists.
WITH_PROTOCOL = (SubmissionStatus.AUTHORIZED, SubmissionStatus.CANCELLED)
UNSENT_INVOICES_SHOWN = 50

NFE_LISTING = Listing(
    search_fields=("access_key", "protocol", "invoice__number"),
    sorts={"created": "created_at", "number": "number", "status": "status", "authorized": "authorized_at"},
    default_sort="-created",
    filters=(Filter("status", "status", gettext_lazy("Status"), choices=tuple(SubmissionStatus.choices)),),
)
REGISTER_LISTING = Listing(search_fields=("number",), sorts={"position": "position"}, default_sort="-position")


@dataclass(frozen=True)
class XmlFile:
    """A file to download: its name, its bytes, and what it is ("ubl"; for NF-e "authorized"
    (nfeProc), "signed" (sent or waiting, no authorization yet) or "preview" (unsigned))."""

    name: str
    content: bytes
    kind: str


# --- the issued document ------------------------------------------------------------------------


def _issued_invoice(actor: Actor, invoice_id) -> Invoice:
    require(actor, "billing.view")
    invoice = (
        Invoice.objects.select_related("company", "corrected_invoice", "order")
        .filter(company=actor.company, pk=valid_id(invoice_id) or 0)
        .first()
    )
    if invoice is None:
        raise NotFound(_("No such invoice."))
    if invoice.status != InvoiceStatus.POSTED or invoice.kind not in CUSTOMER_KINDS:
        raise Conflict(
            _("Only issued customer invoices and credit notes have an electronic document."), code="not_issued"
        )
    return invoice


def _file_stem(invoice: Invoice) -> str:
    return invoice_file_name(invoice).removesuffix(".pdf")


def _ubl_problem(document: InvoiceDocument) -> str:
    """Why EN 16931 cannot express the document, or ""."""
    for line in document.lines:
        for tax in line.taxes:
            if tax.code.upper() not in VAT_CODES and not tax.withheld:
                return _(
                    "line %(line)s carries %(tax)s %(rate)s %%, a tax that is neither VAT nor withheld "
                    "(such as the equivalence surcharge), which EN 16931 has no place for"
                ) % {"line": line.position, "tax": tax.code, "rate": format(tax.rate.normalize(), "f")}
    return ""


def invoice_ubl(*, actor: Actor, invoice_id) -> XmlFile:
    """The UBL 2.1 (EN 16931) invoice or credit note of an issued customer document of a company in
    the EU, checked against the UBL schema and the EN 16931 rules before it is given. Conflict
    (409) when it cannot be expressed in EN 16931 or does not pass the rules."""
    invoice = _issued_invoice(actor, invoice_id)
    if invoice.company.country not in EU_COUNTRIES:
        raise Conflict(
            _("UBL (EN 16931) invoices are made for companies in the European Union."), code="ubl_not_applicable"
        )
    document = document_for(invoice)
    problem = _ubl_problem(document)
    if not problem:
        try:
            xml = ubl_invoice(document)
        except ValueError as exc:
            problem = str(exc)
    if problem:
        raise Conflict(
            _("This document cannot be written as an EN 16931 (UBL) invoice: %(reason)s.") % {"reason": problem},
            code="ubl_not_expressible",
        )
    errors = ubl_validate(xml)
    if errors:
        raise Conflict(
            _("The UBL invoice does not pass the EN 16931 rules: %(error)s") % {"error": errors[0]},
            code="ubl_invalid",
            details=[{"message": error} for error in errors],
        )
    return XmlFile(name=f"{_file_stem(invoice)}-ubl.xml", content=xml, kind="ubl")


def nfe_submission_of(invoice: Invoice, *, with_xml: bool = True) -> NFeSubmission | None:
    """The invoice's NF-e submission: the live one, else the last rejected one (in one query)."""
    rows = NFeSubmission.objects.filter(invoice=invoice).order_by("-pk")
    if not with_xml:
        rows = rows.defer("xml", "protocol_xml")
    live = [row for row in rows if row.status != SubmissionStatus.REJECTED]
    return live[0] if live else next(iter(rows), None)


def nfe_document_problems(document: InvoiceDocument) -> dict[str, str]:
    """What the NF-e of `document` lacks, by field, in words the user can act on ({} when
    nothing): the company's place (state, IBGE code, address), the customer's address on the
    invoice, and each line's NCM code."""
    problems: dict[str, str] = {}
    seller, buyer = document.seller, document.buyer
    if (seller.state or "").upper() not in nfe.UF_CODES:
        problems["state"] = _("The company's state (UF) is not set in its fiscal settings.")
    city_code = seller.city_code or ""
    if len(city_code) != 7 or not city_code.isdigit():
        problems["city_code"] = _(
            'The company\'s municipality code (IBGE, 7 digits) is not set in its fiscal settings ("city_code").'
        )
    elif seller.state.upper() in nfe.UF_CODES and city_code[:2] != nfe.UF_CODES[seller.state.upper()]:
        problems["city_code"] = _("The company's municipality code (IBGE) is not in its state.")
    if not all((seller.street, seller.district, seller.city, seller.postal_code)):
        problems["address"] = _(
            "The company's address (street, district, city, postal code) is incomplete in its fiscal settings."
        )
    if not all((buyer.street, buyer.district, buyer.city, buyer.state, buyer.postal_code)):
        problems["buyer_address"] = _(
            "The customer's address on the invoice is incomplete (street, district, city, state, postal code)."
        )
    buyer_code = buyer.city_code or ""
    if len(buyer_code) != 7 or not buyer_code.isdigit():
        problems["buyer_city_code"] = _("The customer's municipality code (IBGE) is not on the invoice.")
    missing_ncm = [str(line.position) for line in document.lines if len(line.ncm or "") != 8]
    if missing_ncm:
        problems["lines"] = _("Lines without an NCM code (8 digits): %(lines)s.") % {"lines": ", ".join(missing_ncm)}
    return problems


def nfe_document_check(document: InvoiceDocument) -> None:
    """Conflict (409) naming everything the NF-e of `document` lacks."""
    problems = nfe_document_problems(document)
    if problems:
        raise Conflict(
            _("The NF-e cannot be made: %(problems)s") % {"problems": " ".join(problems.values())},
            code="nfe_incomplete",
            fields={field: [message] for field, message in problems.items()},
        )


def invoice_nfe_xml(*, actor: Actor, invoice_id) -> XmlFile:
    """The NF-e file of an issued invoice of a Brazilian company: the authorized nfeProc when the
    authority authorized it, else the signed NF-e of its submission, else an unsigned preview
    made from the invoice now (Conflict, 409, naming what it lacks when it cannot be made)."""
    invoice = _issued_invoice(actor, invoice_id)
    if invoice.company.country != "BR":
        raise Conflict(_("NF-e are issued by companies in Brazil."), code="nfe_not_applicable")
    submission = nfe_submission_of(invoice)
    if submission is not None and submission.status in WITH_PROTOCOL and submission.protocol_xml:
        content = nfe.nfe_proc_build(submission.xml.encode(), submission.protocol_xml.encode())
        return XmlFile(name=f"{submission.access_key}-procNFe.xml", content=content, kind="authorized")
    if submission is not None:
        return XmlFile(
            name=f"{submission.access_key}-NFe.xml", content=XML_DECLARATION + submission.xml.encode(), kind="signed"
        )
    document = document_for(invoice)
    nfe_document_check(document)
    try:
        xml = nfe.nfe_build(
            document,
            uf_code=nfe.uf_code_for(document.seller.state),
            city_code=document.seller.city_code,
            numeric_code=nfe.nfe_numeric_code(document.sequence_number),
        )
    except ValidationFailed as exc:
        raise Conflict(
            _("The NF-e cannot be made: %(reason)s") % {"reason": exc.message}, code="nfe_incomplete", fields=exc.fields
        ) from None
    errors = nfe.nfe_validate(xml)
    if errors:
        raise Conflict(
            _("The NF-e does not pass the official schema: %(error)s") % {"error": errors[0]},
            code="nfe_schema",
            details=[{"message": error} for error in errors],
        )
    return XmlFile(name=f"{_file_stem(invoice)}-NFe-preview.xml", content=XML_DECLARATION + xml, kind="preview")


# --- NF-e of the company ------------------------------------------------------------------------

_SUBMISSION_FIELDS = (
    "pk",
    "company_id",
    "invoice_id",
    "invoice__number",
    "access_key",
    "previous_access_key",
    "series",
    "number",
    "environment",
    "status",
    "cstat",
    "xmotivo",
    "protocol",
    "authorized_at",
    "attempts",
    "next_attempt_at",
    "last_error",
    "outcome_uncertain",
    "emission_type",
    "contingency_reason",
    "contingency_at",
    "cancelled_at",
    "created_at",
)


def nfe_submissions(actor: Actor, params=None) -> QuerySet[NFeSubmission]:
    """The company's NF-e submissions with their invoice's number, newest first, filtered and
    sorted by NFE_LISTING on `params` (the XML is not read)."""
    require(actor, "billing.view")
    rows = NFeSubmission.objects.filter(company=actor.company).select_related("invoice").only(*_SUBMISSION_FIELDS)
    if params is None:
        return rows.order_by("-created_at", "-pk")
    rows, _sort = NFE_LISTING.sort(NFE_LISTING.filter(rows, params), params.get("sort"))
    return rows


def nfe_submission_get(actor: Actor, submission_id) -> NFeSubmission:
    require(actor, "billing.view")
    row = nfe_submissions(actor).filter(pk=valid_id(submission_id) or 0).first()
    if row is None:
        raise NotFound(_("NF-e not found."))
    return row


def nfe_authority_state(actor: Actor) -> NFeAuthorityState:
    """The company's standing with its authority (normal when it never had a failure)."""
    require(actor, "billing.view")
    state = NFeAuthorityState.objects.filter(company=actor.company).first()
    return state or NFeAuthorityState(company=actor.company, mode=AuthorityMode.NORMAL)


def nfe_unsent_invoices(actor: Actor, *, limit: int = UNSENT_INVOICES_SHOWN) -> list[Invoice]:
    """Issued customer documents of a Brazilian company that have no NF-e (issued before the
    certificate was uploaded, or whose NF-e was rejected), oldest first."""
    require(actor, "billing.view")
    if actor.company.country != "BR":
        return []
    live = NFeSubmission.objects.filter(company=actor.company).exclude(status=SubmissionStatus.REJECTED)
    return list(
        Invoice.objects.filter(company=actor.company, status=InvoiceStatus.POSTED, kind__in=CUSTOMER_KINDS)
        .exclude(pk__in=live.values("invoice_id"))
        .only("pk", "number", "kind", "issue_date", "grand_total", "currency", "party_snapshot")
        .order_by("issue_date", "pk")[:limit]
    )


# --- the certificate ----------------------------------------------------------------------------


def certificate_current(actor: Actor) -> CompanyCertificate | None:
    """The company's active A1 certificate, without its file and password."""
    require(actor, "billing.view")
    return (
        CompanyCertificate.objects.filter(company=actor.company, is_active=True)
        .defer("pfx", "password_token")
        .select_related("uploaded_by")
        .first()
    )


# --- Spain's register ---------------------------------------------------------------------------


def register_records(actor: Actor, params=None) -> QuerySet[VerifactuRecord]:
    """The company's register records, the last one first (REGISTER_LISTING on `params`)."""
    require(actor, "billing.view")
    rows = VerifactuRecord.objects.filter(company=actor.company).only(
        "pk",
        "company_id",
        "invoice_id",
        "position",
        "kind",
        "number",
        "issue_date",
        "invoice_type",
        "tax_total",
        "total",
        "generated_at",
        "previous_hash",
        "hash",
    )
    rows, _sort = REGISTER_LISTING.sort(REGISTER_LISTING.filter(rows, params or {}), (params or {}).get("sort"))
    return rows


def register_check(actor: Actor) -> ChainCheck:
    """Walk the company's whole register and report the first broken link (`message` says it)."""
    require(actor, "billing.view")
    return register_verify(actor.company.pk)
