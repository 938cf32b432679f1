"""Invoices, credit notes, supplier bills and the tax set-up under /api/v1/billing/.

`POST /invoices` drafts the invoice of an order (what shipped and is not invoiced yet, or what
was ordered with `basis: "ordered"`), issued at once with `post: true`; `POST /invoices/{id}/post`
issues a draft (number, posting, open item). Issued documents are never deleted (409
`invalid_transition`): they are corrected with `POST /invoices/{id}/credit-notes`. Money and
quantities travel as decimal strings ("19.90", "2.000"), in the document's currency.
"""

import datetime
from decimal import Decimal
from typing import Annotated

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import WithJsonSchema

from retaguarda.core.apikit import ERRORS, Pagination

from . import services
from .documents import invoice_pdf
from .filters import DATE_MAX, DATE_MIN
from .selectors import (
    creditable_quantities,
    invoice_actions,
    invoice_get,
    invoice_search,
    tax_rules_for,
    taxes_for,
)

router = Router(tags=["billing"])

Number = Annotated[
    str | int | Decimal,
    WithJsonSchema({"type": ["string", "number"], "examples": ["2", "19.90"], "description": "A decimal number."}),
]
MoneyOut = Annotated[str, WithJsonSchema({"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$", "examples": ["19.90"]})]
QuantityOut = Annotated[
    str, WithJsonSchema({"type": "string", "pattern": r"^[0-9]+\.[0-9]{3}$", "examples": ["2.000"]})
]
DocumentDate = Annotated[datetime.date, Field(ge=DATE_MIN, le=DATE_MAX)]


# --- schemas ------------------------------------------------------------------------------------


class InvoiceCreateIn(Schema):
    order_id: int
    basis: str | None = Field(None, max_length=16, description='"shipped" (default by company policy) or "ordered".')
    post: bool = Field(False, description="Issue the invoice at once (number, posting) instead of a draft.")


class CreditLineIn(Schema):
    line_id: int = Field(description="A line of the invoice being corrected.")
    quantity: Number


class CreditNoteIn(Schema):
    lines: list[CreditLineIn] | None = Field(
        None, min_length=1, max_length=500, description="Leave out to credit everything not credited yet."
    )
    reason: str = Field(max_length=200)


class BillLineIn(Schema):
    description: str = Field(max_length=200)
    quantity: Number
    unit_price: Number
    tax_category: str = Field("standard", max_length=32)
    account_role: str = Field("purchases", max_length=24, description='"purchases" or "inventory".')


class SupplierBillIn(Schema):
    supplier_id: int
    supplier_reference: str = Field(max_length=64, description="The supplier's own invoice number.")
    issue_date: DocumentDate
    due_date: DocumentDate | None = None
    lines: list[BillLineIn] = Field(..., min_length=1, max_length=500)


class InvoicePartyOut(Schema):
    id: int
    name: str
    tax_id: str


class LineTaxOut(Schema):
    code: str
    family: str
    rate: str
    base: MoneyOut
    amount: MoneyOut
    withheld: bool
    included: bool


class InvoiceLineOut(Schema):
    id: int
    position: int
    product_id: int | None
    order_line_id: int | None
    corrected_line_id: int | None
    description: str
    quantity: QuantityOut
    unit_code: str
    unit_price: str
    discount_percent: str
    tax_category: str
    net_amount: MoneyOut
    tax_amount: MoneyOut
    taxes: list[LineTaxOut]
    creditable: QuantityOut | None = Field(
        description="What a credit note may still take of this line (issued customer invoices only)."
    )


class TaxSummaryOut(Schema):
    code: str
    family: str
    rate: str
    base: MoneyOut
    amount: MoneyOut
    withheld: bool
    included: bool
    category: str


class CorrectionOut(Schema):
    id: int
    number: str
    status: str
    issue_date: datetime.date
    payable: MoneyOut


class InvoiceSummaryOut(Schema):
    id: int
    kind: str
    status: str
    payment_status: str
    number: str
    supplier_reference: str
    party: InvoicePartyOut
    order_id: int | None
    corrected_invoice_id: int | None
    issue_date: datetime.date
    due_date: datetime.date
    overdue: bool
    currency: str
    net_total: MoneyOut
    tax_total: MoneyOut
    withheld_total: MoneyOut
    grand_total: MoneyOut
    payable: MoneyOut
    residual: MoneyOut = Field(description="What is still to be paid (or refunded), in the document's currency.")
    paid_at: datetime.date | None


class InvoiceOut(InvoiceSummaryOut):
    series: str
    rate: str = Field(description="Document currency to the company's currency.")
    fiscal_position: str
    language: str
    party_snapshot: dict[str, str] = Field(description="The party as it was when the document was drafted.")
    corrected_invoice_number: str
    correction_reason: str
    legal_mentions: list[str]
    notes: str
    lines: list[InvoiceLineOut]
    taxes: list[TaxSummaryOut]
    corrections: list[CorrectionOut]
    actions: list[str] = Field(description="What the caller may do now: post, delete, credit_note.")


class InvoiceQuery(Schema):
    kind: str | None = None
    status: str | None = None
    payment: str | None = None
    party: str | None = None
    order: str | None = None
    issued_from: str | None = Field(None, description="YYYY-MM-DD")
    issued_to: str | None = Field(None, description="YYYY-MM-DD")
    overdue: str | None = Field(None, description="yes or no")
    q: str | None = Field(None, description="Number, supplier's number, party name or tax id.")
    sort: str | None = Field(None, description="number, issued, due, party, total, open; prefix - to reverse.")


class TaxOut(Schema):
    id: int
    code: str
    name: str
    family: str
    rate: str
    price_included: bool
    withheld: bool
    category: str
    legal_mention: str
    situation: str
    sales_account: str
    purchase_account: str
    is_active: bool


class TaxRuleOut(Schema):
    id: int
    tax_category: str
    fiscal_position: str
    tax_codes: list[str]
    cfop: str
    priority: int


# --- output -------------------------------------------------------------------------------------


def _summary_out(invoice) -> dict:
    return {
        "id": invoice.pk,
        "kind": invoice.kind,
        "status": invoice.status,
        "payment_status": invoice.payment_status,
        "number": invoice.number,
        "supplier_reference": invoice.supplier_reference,
        "party": {"id": invoice.party_id, "name": invoice.party.legal_name, "tax_id": invoice.party.tax_id},
        "order_id": invoice.order_id,
        "corrected_invoice_id": invoice.corrected_invoice_id,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "overdue": bool(getattr(invoice, "is_overdue", False)),
        "currency": invoice.currency,
        "net_total": str(invoice.net_total),
        "tax_total": str(invoice.tax_total),
        "withheld_total": str(invoice.withheld_total),
        "grand_total": str(invoice.grand_total),
        "payable": str(invoice.payable),
        "residual": str(invoice.residual),
        "paid_at": invoice.paid_at,
    }


def _line_taxes(line) -> list[dict]:
    return [
        {
            "code": str(t.get("code", "")),
            "family": str(t.get("family", "")),
            "rate": str(t.get("rate", "")),
            "base": str(t.get("base", "")),
            "amount": str(t.get("amount", "")),
            "withheld": bool(t.get("withheld")),
            "included": bool(t.get("included")),
        }
        for t in line.taxes or []
    ]


def _invoice_out(request, invoice_id) -> dict:
    invoice = invoice_get(request.actor, invoice_id)
    creditable = creditable_quantities(invoice)
    corrected = invoice.corrected_invoice
    return {
        **_summary_out(invoice),
        "series": invoice.series,
        "rate": str(invoice.rate),
        "fiscal_position": invoice.fiscal_position,
        "language": invoice.language,
        "party_snapshot": {str(k): "" if v is None else str(v) for k, v in (invoice.party_snapshot or {}).items()},
        "corrected_invoice_number": corrected.number if corrected else "",
        "correction_reason": invoice.correction_reason,
        "legal_mentions": [str(m) for m in invoice.legal_mentions or []],
        "notes": invoice.notes,
        "lines": [
            {
                "id": line.pk,
                "position": line.position,
                "product_id": line.product_id,
                "order_line_id": line.order_line_id,
                "corrected_line_id": line.corrected_line_id,
                "description": line.description,
                "quantity": str(line.quantity),
                "unit_code": line.unit_code,
                "unit_price": str(line.unit_price),
                "discount_percent": str(line.discount_percent),
                "tax_category": line.tax_category,
                "net_amount": str(line.net_amount),
                "tax_amount": str(line.tax_amount),
                "taxes": _line_taxes(line),
                "creditable": str(creditable[line.pk]) if line.pk in creditable else None,
            }
            for line in invoice.prefetched_lines
        ],
        "taxes": [
            {
                "code": tax.code,
                "family": tax.family,
                "rate": str(tax.rate),
                "base": str(tax.base),
                "amount": str(tax.amount),
                "withheld": tax.withheld,
                "included": tax.included,
                "category": tax.category,
            }
            for tax in invoice.prefetched_taxes
        ],
        "corrections": [
            {
                "id": note.pk,
                "number": note.number,
                "status": note.status,
                "issue_date": note.issue_date,
                "payable": str(note.payable),
            }
            for note in invoice.prefetched_corrections
        ],
        "actions": invoice_actions(request.actor, invoice, creditable),
    }


class _Rows:
    """A queryset seen by the paginator as rows already shaped for output: only the requested
    page is read (and counted), never the whole list."""

    def __init__(self, queryset, shape):
        self.queryset, self.shape = queryset, shape

    def all(self):
        return self

    def count(self) -> int:
        return self.queryset.count()

    def __getitem__(self, window: slice) -> list:
        return [self.shape(row) for row in self.queryset[window]]


# --- invoices -----------------------------------------------------------------------------------


@router.get("/invoices", response={200: list[InvoiceSummaryOut], **ERRORS})
@paginate(Pagination)
def invoice_list(request, query: Query[InvoiceQuery]):
    """Invoices, credit notes and supplier bills, newest first, with the list page's filters."""
    params = {k: v for k, v in query.model_dump().items() if v is not None}
    return _Rows(invoice_search(request.actor, params), _summary_out)


@router.post("/invoices", response={201: InvoiceOut, **ERRORS})
def invoice_create(request, payload: InvoiceCreateIn):
    """Draft the invoice of an order's uninvoiced quantities (409 `nothing_to_invoice` when there
    are none), or issue it at once with `post: true`."""
    create = services.invoice_issue_for_order if payload.post else services.invoice_create_for_order
    invoice = create(actor=request.actor, order_id=payload.order_id, basis=payload.basis)
    return Status(201, _invoice_out(request, invoice.pk))


@router.get("/invoices/{invoice_id}", response={200: InvoiceOut, **ERRORS})
def invoice_detail(request, invoice_id: int):
    return _invoice_out(request, invoice_id)


@router.delete("/invoices/{invoice_id}", response={204: None, **ERRORS})
def invoice_delete(request, invoice_id: int):
    """Delete a draft; its order's quantities become invoiceable again. Issued: 409."""
    services.invoice_draft_delete(actor=request.actor, invoice_id=invoice_id)
    return Status(204, None)


@router.post("/invoices/{invoice_id}/post", response={200: InvoiceOut, **ERRORS})
def invoice_post(request, invoice_id: int):
    """Issue a draft: its number, the posting to the books and its open item."""
    invoice = services.invoice_post(actor=request.actor, invoice_id=invoice_id)
    return _invoice_out(request, invoice.pk)


@router.post("/invoices/{invoice_id}/credit-notes", response={201: InvoiceOut, **ERRORS})
def credit_note_create(request, invoice_id: int, payload: CreditNoteIn):
    """Draft a credit note correcting an issued customer invoice, for the given quantities of
    its lines or for everything not credited yet."""
    lines = None
    if payload.lines is not None:
        lines = [(line.line_id, line.quantity) for line in payload.lines]
    note = services.credit_note_create(actor=request.actor, invoice_id=invoice_id, lines=lines, reason=payload.reason)
    return Status(201, _invoice_out(request, note.pk))


@router.get(
    "/invoices/{invoice_id}/pdf",
    response=ERRORS,
    openapi_extra={
        "responses": {
            "200": {
                "description": "The document, in its language.",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def invoice_pdf_download(request, invoice_id: int):
    name, pdf = invoice_pdf(actor=request.actor, invoice_id=invoice_id)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


# --- supplier bills -----------------------------------------------------------------------------


@router.post("/supplier-bills", response={201: InvoiceOut, **ERRORS})
def supplier_bill_create(request, payload: SupplierBillIn):
    """Record a supplier's bill as a draft (409 `duplicate_supplier_reference` when that
    supplier's number is already recorded)."""
    bill = services.supplier_bill_create(
        actor=request.actor,
        supplier_id=payload.supplier_id,
        supplier_reference=payload.supplier_reference,
        issue_date=payload.issue_date,
        due_date=payload.due_date,
        lines=[line.model_dump() for line in payload.lines],
    )
    return Status(201, _invoice_out(request, bill.pk))


# --- taxes --------------------------------------------------------------------------------------


@router.get("/taxes", response={200: list[TaxOut], **ERRORS})
def tax_list(request):
    return [
        {
            "id": tax.pk,
            "code": tax.code,
            "name": tax.name,
            "family": tax.family,
            "rate": str(tax.rate),
            "price_included": tax.price_included,
            "withheld": tax.withheld,
            "category": tax.category,
            "legal_mention": tax.legal_mention,
            "situation": tax.situation,
            "sales_account": tax.sales_account.code,
            "purchase_account": tax.purchase_account.code,
            "is_active": tax.is_active,
        }
        for tax in taxes_for(request.actor)
    ]


@router.get("/tax-rules", response={200: list[TaxRuleOut], **ERRORS})
def tax_rule_list(request):
    return [
        {
            "id": rule.pk,
            "tax_category": rule.tax_category,
            "fiscal_position": rule.fiscal_position,
            "tax_codes": [str(code) for code in rule.tax_codes or []],
            "cfop": rule.cfop,
            "priority": rule.priority,
        }
        for rule in tax_rules_for(request.actor)
    ]
