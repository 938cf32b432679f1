"""Reads of billing with business meaning: the searchable invoice list, one invoice with its
lines, tax summary and corrections, what is left to invoice on an order or to credit on an
invoice, a party's invoices and open amount, the dashboard's figures, and the tax set-up."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import BooleanField, Case, F, QuerySet, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from retaguarda.common.errors import NotFound
from retaguarda.common.inputs import valid_id
from retaguarda.core.permissions import Actor, require
from retaguarda.sales.choices import OrderStatus
from retaguarda.sales.models import SalesOrder, SalesOrderLine

from .calculations import invoiceable_quantity
from .choices import CUSTOMER_KINDS, InvoiceKind, InvoiceStatus, InvoicingBasis
from .filters import INVOICE_LISTING
from .models import Invoice, InvoiceLine, InvoiceTax, Tax, TaxRule

ZERO = Decimal("0.00")
QUANTITY_ZERO = Decimal("0.000")
INVOICEABLE_ORDER_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.CLOSED)


# --- the invoice list ---------------------------------------------------------------------------


def invoice_queryset(actor: Actor) -> QuerySet[Invoice]:
    """The company's invoices with their party, each marked `is_overdue` (posted, still open,
    past its due date today)."""
    today = timezone.localdate()
    return (
        Invoice.objects.filter(company=actor.company)
        .select_related("party")
        .annotate(
            is_overdue=Case(
                When(status=InvoiceStatus.POSTED, residual__gt=0, due_date__lt=today, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
    )


def invoice_search(actor: Actor, params) -> QuerySet[Invoice]:
    """The list page's and the API's search: INVOICE_LISTING's filters and sort on `params`."""
    require(actor, "billing.view")
    queryset = INVOICE_LISTING.filter(invoice_queryset(actor), params)
    queryset, _sort = INVOICE_LISTING.sort(queryset, params.get("sort"))
    return queryset


# --- one invoice --------------------------------------------------------------------------------


def invoice_get(actor: Actor, invoice_id, *, permission: str = "billing.view") -> Invoice:
    """One invoice of the actor's company with its lines (`prefetched_lines`), tax summary
    (`prefetched_taxes`) and the credit notes correcting it (`prefetched_corrections`), in four
    queries whatever its size; NotFound otherwise."""
    require(actor, permission)
    invoice = (
        invoice_queryset(actor)
        .select_related("company", "corrected_invoice", "order")
        .filter(pk=valid_id(invoice_id) or 0)
        .first()
    )
    if invoice is None:
        raise NotFound(_("No such invoice."))
    invoice.prefetched_lines = list(
        InvoiceLine.objects.filter(invoice=invoice).select_related("product").order_by("position")
    )
    invoice.prefetched_taxes = list(InvoiceTax.objects.filter(invoice=invoice).order_by("family", "rate", "code"))
    invoice.prefetched_corrections = list(
        Invoice.objects.filter(company=actor.company, corrected_invoice=invoice).order_by("issue_date", "pk")
    )
    return invoice


def creditable_quantities(invoice: Invoice) -> dict[int, Decimal]:
    """What a credit note may still take of each line of a posted customer invoice: invoiced
    less what drafted or posted credit notes already take (one query). Empty for any other
    document."""
    if invoice.kind != InvoiceKind.CUSTOMER_INVOICE or invoice.status != InvoiceStatus.POSTED:
        return {}
    lines = getattr(invoice, "prefetched_lines", None)
    if lines is None:
        lines = list(InvoiceLine.objects.filter(invoice=invoice).order_by("position"))
    credited: dict[int, Decimal] = defaultdict(lambda: QUANTITY_ZERO)
    for line_id, quantity in InvoiceLine.objects.filter(
        corrected_line__invoice=invoice, invoice__status__in=(InvoiceStatus.DRAFT, InvoiceStatus.POSTED)
    ).values_list("corrected_line_id", "quantity"):
        credited[line_id] += quantity
    return {line.pk: max(line.quantity - credited[line.pk], QUANTITY_ZERO) for line in lines}


def invoice_actions(actor: Actor, invoice: Invoice, creditable: dict[int, Decimal] | None = None) -> list[str]:
    """What the actor may do with the invoice now: "post" and "delete" (drafts), "credit_note"
    (a posted customer invoice with something left to credit; give `creditable` to know)."""
    if not actor.can("billing.change"):
        return []
    if invoice.status == InvoiceStatus.DRAFT:
        return ["post", "delete"]
    if creditable is not None and any(quantity > 0 for quantity in creditable.values()):
        return ["credit_note"]
    return []


# --- orders -------------------------------------------------------------------------------------


def invoicing_basis(company) -> str:
    """What the company invoices by default: shipped quantities, or ordered ones by policy."""
    basis = (company.fiscal_settings or {}).get("invoicing_basis")
    return basis if basis in InvoicingBasis.values else InvoicingBasis.SHIPPED


def invoiceable_quantities(order: SalesOrder, *, basis: str | None = None) -> dict[int, Decimal]:
    """Per order line id, what an invoice of the order would bill now (only lines with more than
    zero): shipped net of returns (or ordered) less already invoiced, as invoice_create_for_order
    counts it. Reads `order.prefetched_lines` when the order carries them, else one query.
    Empty unless the order is confirmed or closed."""
    if order.status not in INVOICEABLE_ORDER_STATUSES:
        return {}
    basis = basis or invoicing_basis(order.company)
    lines = getattr(order, "prefetched_lines", None)
    if lines is None:
        lines = list(SalesOrderLine.objects.filter(order=order).order_by("position"))
    result = {}
    for line in lines:
        quantity = invoiceable_quantity(line, basis)
        if quantity > 0:
            result[line.pk] = quantity
    return result


def order_for_invoicing(actor: Actor, order_id) -> SalesOrder:
    """An order of the actor's company with its lines (`prefetched_lines`), for the order page's
    invoicing panel; NotFound otherwise."""
    require(actor, "billing.view")
    order = SalesOrder.objects.filter(company=actor.company, pk=valid_id(order_id) or 0).first()
    if order is None:
        raise NotFound(_("No such order."))
    order.prefetched_lines = list(SalesOrderLine.objects.filter(order=order).order_by("position"))
    return order


def order_invoices(actor: Actor, order_id) -> list[Invoice]:
    """The invoices and credit notes of one order, oldest first (one query)."""
    require(actor, "billing.view")
    return list(invoice_queryset(actor).filter(order_id=valid_id(order_id) or 0).order_by("issue_date", "pk"))


# --- parties ------------------------------------------------------------------------------------


def party_invoices(actor: Actor, party_id, *, limit: int = 10) -> tuple[list[Invoice], bool]:
    """The party's latest documents, newest first, and whether there are older ones (one query)."""
    require(actor, "billing.view")
    rows = list(
        invoice_queryset(actor).filter(party_id=valid_id(party_id) or 0).order_by("-issue_date", "-pk")[: limit + 1]
    )
    return rows[:limit], len(rows) > limit


def party_open_amount(actor: Actor, party_id) -> Decimal:
    """What the customer still owes on posted invoices less what is still to be refunded on
    credit notes, in the company's currency (the receivable open items, one query)."""
    require(actor, "billing.view")
    total = Invoice.objects.filter(
        company=actor.company,
        party_id=valid_id(party_id) or 0,
        kind__in=CUSTOMER_KINDS,
        status=InvoiceStatus.POSTED,
    ).aggregate(total=Sum("open_item__residual"))["total"]
    return total or ZERO


# --- the dashboard ------------------------------------------------------------------------------


def billing_counts(actor: Actor) -> dict:
    """Orders that shipped goods not invoiced yet, and what customers owe on posted documents in
    the company's currency (two queries)."""
    require(actor, "billing.view")
    shipped_not_invoiced = (
        SalesOrderLine.objects.filter(company=actor.company, order__status__in=INVOICEABLE_ORDER_STATUSES)
        .filter(quantity_shipped__gt=F("quantity_returned") + F("quantity_invoiced"))
        .values("order_id")
        .distinct()
        .count()
    )
    receivable = Invoice.objects.filter(
        company=actor.company, kind__in=CUSTOMER_KINDS, status=InvoiceStatus.POSTED
    ).aggregate(total=Sum("open_item__residual"))["total"]
    return {
        "shipped_not_invoiced": shipped_not_invoiced,
        "receivable": receivable or ZERO,
        "currency": actor.company.base_currency,
    }


# --- taxes --------------------------------------------------------------------------------------


def taxes_for(actor: Actor) -> QuerySet[Tax]:
    require(actor, "billing.view")
    return (
        Tax.objects.filter(company=actor.company)
        .select_related("sales_account", "purchase_account")
        .order_by("family", "rate", "code")
    )


def tax_rules_for(actor: Actor) -> QuerySet[TaxRule]:
    require(actor, "billing.view")
    return TaxRule.objects.filter(company=actor.company).order_by("tax_category", "fiscal_position", "-priority", "pk")
