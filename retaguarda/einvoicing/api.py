"""Electronic invoicing under /api/v1/einvoicing/: an issued invoice's UBL 2.1 (EN 16931) file
and its NF-e file; Brazil's NF-e submissions, sending them now and cancelling one; Spain's
invoice register and the verification of its chain.

A file that cannot be made (a document EN 16931 cannot express, an NF-e missing the customer's
address) answers 409 with what is wrong; `details` lists every schema or rule message.
"""

import datetime
from typing import Annotated

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import WithJsonSchema

from retaguarda.core.apikit import ERRORS, ErrorOut, Pagination

from . import services
from .nfe import CANCEL_REASON_MAX, CANCEL_REASON_MIN
from .selectors import (
    XmlFile,
    invoice_nfe_xml,
    invoice_ubl,
    nfe_authority_state,
    nfe_submission_get,
    nfe_submissions,
    register_check,
    register_records,
)

router = Router(tags=["einvoicing"])

MoneyOut = Annotated[
    str, WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "examples": ["121.00"]})
]
XML_RESPONSE = {
    "responses": {
        "200": {
            "description": "The file, as an attachment.",
            "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


# --- schemas ------------------------------------------------------------------------------------


class SubmissionOut(Schema):
    id: int
    invoice_id: int
    invoice_number: str
    access_key: str
    previous_access_key: str = Field(description="The key before the note was re-issued in contingency (SVC).")
    series: int
    number: int
    environment: str = Field(description="1 production, 2 homologation.")
    status: str = Field(description="queued, sent, authorized, rejected, denied, contingency or cancelled.")
    cstat: str
    xmotivo: str
    protocol: str
    authorized_at: datetime.datetime | None
    attempts: int
    next_attempt_at: datetime.datetime | None
    last_error: str
    emission_type: str = Field(description="1 normal, 6 SVC-AN, 7 SVC-RS.")
    contingency_reason: str
    cancelled_at: datetime.datetime | None
    created_at: datetime.datetime


class SubmissionQuery(Schema):
    status: str | None = None
    q: str | None = Field(None, description="Access key, protocol or invoice number.")
    sort: str | None = Field(None, description="created, number, status, authorized; prefix - to reverse.")


class CancelIn(Schema):
    reason: str = Field(min_length=CANCEL_REASON_MIN, max_length=CANCEL_REASON_MAX)


class CancelOut(Schema):
    submission: SubmissionOut
    event_protocol: str
    registered_at: datetime.datetime | None


class SendOut(Schema):
    authorized: int
    rejected: int
    denied: int
    failed: int = Field(description="Kept for a retry.")
    waiting: int = Field(description="Waiting in contingency without an SVC authority.")
    contingency: int = Field(description="1 when the company is in contingency after the run.")


class AuthorityStateOut(Schema):
    mode: str = Field(description="normal or contingency.")
    consecutive_failures: int
    contingency_since: datetime.datetime | None
    contingency_reason: str


class RecordOut(Schema):
    position: int
    invoice_id: int
    kind: str
    number: str
    issue_date: datetime.date
    invoice_type: str
    tax_total: MoneyOut
    total: MoneyOut
    generated_at: datetime.datetime
    hash: str
    previous_hash: str


class RegisterQuery(Schema):
    q: str | None = Field(None, description="Invoice number.")
    sort: str | None = Field(None, description="position; prefix - to reverse (the default: the last first).")


class ChainCheckOut(Schema):
    ok: bool
    count: int = Field(description="Records read.")
    broken_index: int | None = Field(description="The first broken record, counted from 0.")
    broken_number: str
    reason: str = Field(description='"" when intact; hash_mismatch or previous_mismatch.')
    message: str


# --- output -------------------------------------------------------------------------------------


def _submission_out(row) -> dict:
    return {
        "id": row.pk,
        "invoice_id": row.invoice_id,
        "invoice_number": row.invoice.number,
        "access_key": row.access_key,
        "previous_access_key": row.previous_access_key,
        "series": row.series,
        "number": row.number,
        "environment": row.environment,
        "status": row.status,
        "cstat": row.cstat,
        "xmotivo": row.xmotivo,
        "protocol": row.protocol,
        "authorized_at": row.authorized_at,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at,
        "last_error": row.last_error,
        "emission_type": row.emission_type,
        "contingency_reason": row.contingency_reason,
        "cancelled_at": row.cancelled_at,
        "created_at": row.created_at,
    }


def _record_out(row) -> dict:
    return {
        "position": row.position,
        "invoice_id": row.invoice_id,
        "kind": row.kind,
        "number": row.number,
        "issue_date": row.issue_date,
        "invoice_type": row.invoice_type,
        "tax_total": str(row.tax_total),
        "total": str(row.total),
        "generated_at": row.generated_at,
        "hash": row.hash,
        "previous_hash": row.previous_hash,
    }


class _Rows:
    """A queryset the paginator reads one page of, shaped for output."""

    def __init__(self, queryset, shape):
        self.queryset, self.shape = queryset, shape

    def all(self):
        return self

    def count(self) -> int:
        return self.queryset.count()

    def __getitem__(self, window: slice) -> list:
        return [self.shape(row) for row in self.queryset[window]]


def _xml_response(file: XmlFile) -> HttpResponse:
    response = HttpResponse(file.content, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{file.name}"'
    return response


# --- files of an issued invoice -----------------------------------------------------------------


@router.get("/invoices/{invoice_id}/ubl", response=ERRORS, openapi_extra=XML_RESPONSE)
def invoice_ubl_download(request, invoice_id: int):
    """The UBL 2.1 Invoice or CreditNote (EN 16931) of an issued customer document of a company in
    the EU, validated against the UBL schema and the EN 16931 rules before it is served. 409
    `ubl_not_expressible` when EN 16931 cannot express it (the equivalence surcharge),
    `ubl_invalid` when it does not pass the rules, `ubl_not_applicable` outside the EU."""
    return _xml_response(invoice_ubl(actor=request.actor, invoice_id=invoice_id))


@router.get("/invoices/{invoice_id}/nfe", response=ERRORS, openapi_extra=XML_RESPONSE)
def invoice_nfe_download(request, invoice_id: int):
    """The NF-e of an issued invoice of a company in Brazil: the authorized nfeProc, else the
    signed NF-e of its submission, else an unsigned preview made now (409 `nfe_incomplete`
    naming what it lacks, such as the company's IBGE municipality code)."""
    return _xml_response(invoice_nfe_xml(actor=request.actor, invoice_id=invoice_id))


# --- NF-e ---------------------------------------------------------------------------------------


@router.get("/nfe/submissions", response={200: list[SubmissionOut], **ERRORS})
@paginate(Pagination)
def submission_list(request, query: Query[SubmissionQuery]):
    """The company's NF-e submissions, newest first (the XML is not included)."""
    params = {k: v for k, v in query.model_dump().items() if v is not None}
    return _Rows(nfe_submissions(request.actor, params), _submission_out)


@router.get("/nfe/state", response={200: AuthorityStateOut, **ERRORS})
def authority_state(request):
    """The company's standing with its authority: normal, or issuing in contingency (SVC)."""
    state = nfe_authority_state(request.actor)
    return {
        "mode": state.mode,
        "consecutive_failures": state.consecutive_failures,
        "contingency_since": state.contingency_since,
        "contingency_reason": state.contingency_reason,
    }


@router.post("/nfe/send", response={200: SendOut, 503: ErrorOut, **ERRORS})
def submissions_send(request):
    """Send every pending NF-e now. 409 `nfe_not_configured` when the instance has no
    authorities configured (RETAGUARDA_NFE_AUTHORITIES)."""
    return services.nfe_send_now(actor=request.actor)


@router.post("/nfe/submissions/{submission_id}/cancel", response={200: CancelOut, 503: ErrorOut, **ERRORS})
def submission_cancel(request, submission_id: int, payload: CancelIn):
    """Cancel an authorized NF-e within 24 hours of its authorization (event 110111). 409 when it
    is not authorized, the window passed or the authority refused (`nfe_cancel_refused`); 503
    `authority_unavailable` when the authority could not be reached (nothing cancelled)."""
    event = services.nfe_cancel_request(actor=request.actor, submission_id=submission_id, reason=payload.reason)
    return {
        "submission": _submission_out(nfe_submission_get(request.actor, submission_id)),
        "event_protocol": event.protocol,
        "registered_at": event.registered_at,
    }


# --- Spain's invoice register -------------------------------------------------------------------


@router.get("/register", response={200: list[RecordOut], **ERRORS})
@paginate(Pagination)
def register_list(request, query: Query[RegisterQuery]):
    """The company's invoice register (VERI*FACTU records), the last record first."""
    params = {k: v for k, v in query.model_dump().items() if v is not None}
    return _Rows(register_records(request.actor, params), _record_out)


@router.post("/register/verify", response={200: ChainCheckOut, **ERRORS})
def register_verify(request):
    """Walk the whole register and report the first broken link; changes nothing."""
    check = register_check(request.actor)
    return {
        "ok": check.ok,
        "count": check.count,
        "broken_index": check.broken_index,
        "broken_number": check.broken_number,
        "reason": check.reason,
        "message": check.message,
    }
