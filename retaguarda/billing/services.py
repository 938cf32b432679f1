"""Billing's writers: the company's taxes, customer invoices drafted from orders and issued
(numbered, posted to the books, registered), credit notes that correct them, supplier bills,
and the settlement of open amounts that collections matches payments against.

A posted document is never edited or deleted; only drafts are. Numbers come at posting from a
gap-free series per company, series and year, so a rolled-back posting gives its number back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from retaguarda.common.errors import Conflict, NotFound, ValidationFailed
from retaguarda.common.fields import MoneyField, round_money
from retaguarda.common.inputs import date_in, decimal_in, text_in, valid_id
from retaguarda.core.permissions import Actor, require
from retaguarda.core.services import audit_record, event_emit, sequence_next
from retaguarda.ledger.choices import AccountRole, JournalKind
from retaguarda.ledger.models import JournalLine
from retaguarda.ledger.services import LineSpec, accounts_by_role, entry_post, reconcile
from retaguarda.parties.models import Address, Party
from retaguarda.sales.choices import OrderStatus
from retaguarda.sales.models import SalesOrder, SalesOrderLine
from retaguarda.sales.services import sales_order_complete, sales_order_invoiced

from . import taxdata
from .calculations import (
    ZERO,
    due_date_for,
    fiscal_position_default,
    invoiceable_quantity,
    number_format,
    payment_status,
    series_for,
    series_restarts_yearly,
    to_base,
)
from .choices import InvoiceKind, InvoiceStatus, InvoicingBasis, PaymentStatus
from .models import Invoice, InvoiceLine, InvoiceTax, Tax, TaxRule
from .taxes import LineInput, TaxDef, taxes_compute
from .taxes import TaxRule as RuleDef

# Hooks run inside invoice_post's transaction after the posting, for registers kept by layers
# above billing (Brazil's NF-e queue). Each takes (actor, invoice).
INVOICE_POSTED_HOOKS: list = []
# Hooks run in invoice_settle's transaction when a document becomes fully paid, for layers above
# billing (dunning lifts the block it put on the customer). Each takes (invoice).
INVOICE_PAID_HOOKS: list = []
QUANTITY_MAX = Decimal("1000000000")
# Dates a fiscal document may carry: anything else is a typing slip (and far years overflow).
DATE_MIN, DATE_MAX = date(1900, 1, 1), date(9000, 12, 31)
PRICE_MAX = Decimal("1000000000000")
# The regime assumed until the administrator sets one on the company's fiscal settings.
REGIME_DEFAULT = {"BR": "simples_nacional", "ES": "general"}


# --- taxes -------------------------------------------------------------------------------------


def taxes_install(company) -> None:
    """The country's default taxes and rules for a new company (a company-created hook, after the
    ledger installed the chart the taxes post to)."""
    settings = company.fiscal_settings or {}
    regime = settings.get("regime") or REGIME_DEFAULT.get(company.country, "")
    roles = accounts_by_role(company.pk)
    definitions = taxdata.default_taxes(company.country, regime)
    taxes = []
    for code, definition in definitions.items():
        sales_account = roles[definition.account_role]
        if definition.withheld:
            purchase_account = roles[AccountRole.TAX_PAYABLE]
        else:
            purchase_account = roles[AccountRole.TAX_RECEIVABLE]
        taxes.append(
            Tax(
                company=company,
                code=code,
                name=_tax_name(definition),
                family=definition.family,
                rate=definition.rate,
                price_included=definition.price_included,
                withheld=definition.withheld,
                category=definition.category,
                legal_mention=str(definition.legal_mention or ""),
                situation=definition.situation,
                sales_account=sales_account,
                purchase_account=purchase_account,
            )
        )
    Tax.objects.bulk_create(taxes)
    TaxRule.objects.bulk_create(
        TaxRule(
            company=company,
            tax_category=rule.tax_category,
            fiscal_position=rule.fiscal_position,
            tax_codes=list(rule.tax_codes),
            cfop=rule.cfop,
            priority=rule.priority,
        )
        for rule in taxdata.default_rules(company.country, regime, settings.get("state"))
    )


def books_ensure() -> int:
    """Give every company created before the books existed its chart, journals, fiscal year and
    taxes (run after each migration); returns how many companies were completed."""
    from retaguarda.core.models import Company
    from retaguarda.ledger.charts import ledger_ensure

    completed = 0
    for company in Company.objects.all():
        with transaction.atomic():
            installed = ledger_ensure(company)
            if not Tax.objects.filter(company=company).exists():
                taxes_install(company)
                installed = True
        completed += installed
    return completed


def _tax_name(definition: TaxDef) -> str:
    return f"{definition.family} {definition.rate.normalize():f} %"


def _tax_setup(company_id) -> tuple[dict[str, TaxDef], list[RuleDef], dict[str, Tax]]:
    taxes = {t.code: t for t in Tax.objects.filter(company_id=company_id, is_active=True)}
    definitions = {
        code: TaxDef(
            code=code,
            family=t.family,
            rate=t.rate,
            price_included=t.price_included,
            withheld=t.withheld,
            category=t.category,
            legal_mention=t.legal_mention,
            situation=t.situation,
        )
        for code, t in taxes.items()
    }
    rules = [
        RuleDef(
            tax_category=r.tax_category,
            fiscal_position=r.fiscal_position,
            tax_codes=tuple(r.tax_codes),
            cfop=r.cfop,
            priority=r.priority,
        )
        for r in TaxRule.objects.filter(company_id=company_id)
    ]
    return definitions, rules, taxes


# --- parties -----------------------------------------------------------------------------------


def _default_address(party: Party) -> Address | None:
    addresses = list(Address.objects.filter(party=party).order_by("-is_default", "pk")[:5])
    for kind in ("billing", "shipping"):
        for address in addresses:
            if address.kind == kind:
                return address
    return addresses[0] if addresses else None


def party_fiscal_position(company, party: Party, address: Address | None) -> str:
    if party.fiscal_position:
        return party.fiscal_position
    return fiscal_position_default(
        company_country=company.country,
        company_state=(company.fiscal_settings or {}).get("state", ""),
        party_country=(address.country if address else "") or party.tax_country,
        party_state=address.state if address else "",
        party_is_company=party.kind == "company",
        party_has_tax_id=bool(party.tax_id),
    )


def _party_snapshot(party: Party, address: Address | None) -> dict:
    snapshot = {
        "name": party.legal_name,
        "trade_name": party.trade_name,
        "tax_id": party.tax_id,
        "tax_country": party.tax_country,
        "email": party.email,
        "kind": party.kind,
    }
    if address is not None:
        for field in ("street", "number", "complement", "district", "city", "state", "postal_code", "country"):
            snapshot[field] = getattr(address, field)
    return snapshot


# --- drafting ----------------------------------------------------------------------------------


def _refuse_unless_draft(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.DRAFT:
        raise Conflict(
            _("This cannot be done while the document is %(status)s.") % {"status": invoice.get_status_display()},
            code="invalid_transition",
        )


def _invoice_locked(actor: Actor, invoice_id) -> Invoice:
    invoice = (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("party")
        .filter(company=actor.company, pk=valid_id(invoice_id) or 0)
        .first()
    )
    if invoice is None:
        raise NotFound(_("No such invoice."))
    return invoice


def _draft_compute(
    *, actor: Actor, invoice: Invoice, specs: list[dict], fiscal_position: str
) -> tuple[list[InvoiceLine], list[InvoiceTax]]:
    """Lines and tax summary of a draft from line specs (dicts of InvoiceLine fields plus
    `tax_category`), with the company's taxes and rules; totals set on `invoice`."""
    definitions, rules, taxes = _tax_setup(actor.company.pk)
    rounding = (actor.company.fiscal_settings or {}).get("rounding") or "line"
    computed = taxes_compute(
        lines=[
            LineInput(
                key=str(i),
                quantity=spec["quantity"],
                unit_price=spec["unit_price"],
                discount_percent=spec.get("discount_percent") or ZERO,
                tax_category=spec["tax_category"],
            )
            for i, spec in enumerate(specs)
        ],
        taxes=definitions,
        rules=rules,
        fiscal_position=fiscal_position,
        rounding=rounding,
    )
    lines = []
    for i, (spec, line_taxes) in enumerate(zip(specs, computed.lines, strict=True)):
        added = sum((t.amount for t in line_taxes.taxes if not t.withheld and not t.included), ZERO)
        lines.append(
            InvoiceLine(
                company=actor.company,
                invoice=invoice,
                position=i + 1,
                product_id=spec.get("product_id"),
                order_line_id=spec.get("order_line_id"),
                corrected_line_id=spec.get("corrected_line_id"),
                description=spec["description"],
                quantity=spec["quantity"],
                unit_code=spec.get("unit_code") or "C62",
                unit_price=spec["unit_price"],
                discount_percent=spec.get("discount_percent") or ZERO,
                tax_category=spec["tax_category"],
                account_id=spec["account_id"],
                net_amount=line_taxes.net_amount,
                tax_amount=added,
                taxes=[
                    {
                        "code": t.code,
                        "family": t.family,
                        "rate": str(t.rate),
                        "base": str(t.base),
                        "amount": str(t.amount),
                        "withheld": t.withheld,
                        "included": t.included,
                        "category": t.category,
                    }
                    for t in line_taxes.taxes
                ],
                cfop=computed.cfop_by_line.get(str(i), "") if computed.cfop_by_line else "",
                ncm=spec.get("ncm", ""),
                barcode=spec.get("barcode", ""),
            )
        )
    summary = [
        InvoiceTax(
            company=actor.company,
            invoice=invoice,
            tax=taxes[t.code],
            code=t.code,
            family=t.family,
            rate=t.rate,
            base=t.base,
            amount=t.amount,
            withheld=t.withheld,
            included=t.included,
            category=t.category,
        )
        for t in computed.summary
    ]
    invoice.net_total = computed.net_total
    invoice.tax_total = computed.tax_total
    invoice.withheld_total = computed.withheld_total
    invoice.grand_total = computed.grand_total
    invoice.payable = computed.payable
    mentions = []
    for t in computed.summary:
        mention = taxes[t.code].legal_mention
        if mention and mention not in mentions:
            mentions.append(mention)
    invoice.legal_mentions = mentions
    return lines, summary


def _draft_save(invoice: Invoice, lines: list[InvoiceLine], summary: list[InvoiceTax]) -> Invoice:
    invoice.save()
    for line in lines:
        line.invoice = invoice
    for tax in summary:
        tax.invoice = invoice
    InvoiceLine.objects.bulk_create(lines)
    InvoiceTax.objects.bulk_create(summary)
    return invoice


@transaction.atomic
def invoice_create_for_order(*, actor: Actor, order_id, basis: str | None = None, issue_date=None) -> Invoice:
    """A draft customer invoice for what the order has not been invoiced for yet: its shipped
    quantities (net of returns) or, by company policy or `basis`, its ordered ones. The
    quantities are recorded on the order's lines at once, so nothing is invoiced twice."""
    return _create_for_order(actor=actor, order_id=order_id, basis=basis, issue_date=issue_date)


def _create_for_order(*, actor: Actor, order_id, basis: str | None, issue_date) -> Invoice:
    require(actor, "billing.change")
    company = actor.company
    basis = basis or (company.fiscal_settings or {}).get("invoicing_basis") or InvoicingBasis.SHIPPED
    if basis not in InvoicingBasis.values:
        raise ValidationFailed(_("Choose what to invoice."), fields={"basis": [_("Not valid.")]})
    order = SalesOrder.objects.select_related("customer").filter(company=company, pk=valid_id(order_id) or 0).first()
    if order is None:
        raise NotFound(_("No such order."))
    if order.status not in (OrderStatus.CONFIRMED, OrderStatus.CLOSED):
        raise Conflict(_("Only confirmed orders can be invoiced."), code="order_not_confirmed")
    order_lines = list(
        SalesOrderLine.objects.select_related("product", "product__uom").filter(order=order).order_by("position")
    )
    quantities = {line.pk: invoiceable_quantity(line, basis) for line in order_lines}
    quantities = {pk: q for pk, q in quantities.items() if q > 0}
    if not quantities:
        raise Conflict(_("Nothing of this order is left to invoice."), code="nothing_to_invoice")
    issue_date = date_in(issue_date, "issue_date") if issue_date else timezone.localdate()
    if not DATE_MIN <= issue_date <= DATE_MAX:
        raise ValidationFailed(_("Check the highlighted fields."), fields={"issue_date": [_("Enter a valid date.")]})
    party = order.customer
    address = _default_address(party)
    roles = accounts_by_role(company.pk)
    invoice = _new_invoice(
        actor, kind=InvoiceKind.CUSTOMER_INVOICE, party=party, address=address, issue_date=issue_date
    )
    invoice.order = order
    invoice.currency = order.currency
    specs = []
    for line in order_lines:
        quantity = quantities.get(line.pk)
        if not quantity:
            continue
        specs.append(
            {
                "product_id": line.product_id,
                "order_line_id": line.pk,
                "description": line.description,
                "quantity": quantity,
                "unit_price": line.unit_price,
                "discount_percent": line.discount_percent,
                "tax_category": line.tax_category,
                "account_id": roles[
                    AccountRole.SERVICE_REVENUE if line.product.kind == "service" else AccountRole.REVENUE
                ].pk,
                "ncm": line.product.ncm,
                "barcode": line.product.barcode,
            }
        )
    lines, summary = _draft_compute(actor=actor, invoice=invoice, specs=specs, fiscal_position=invoice.fiscal_position)
    _draft_save(invoice, lines, summary)
    sales_order_invoiced(actor=actor, order_id=order.pk, quantities=quantities)
    audit_record(
        actor=actor,
        company=company,
        obj=invoice,
        action="invoice.create",
        after={"order": order.number, "net_total": invoice.net_total, "payable": invoice.payable},
    )
    invoice.prefetched_lines = lines
    return invoice


def _new_invoice(actor: Actor, *, kind: str, party: Party, address: Address | None, issue_date: date) -> Invoice:
    company = actor.company
    days = party.payment_term.days if party.payment_term_id else 0
    return Invoice(
        company=company,
        kind=kind,
        party=party,
        series=series_for(company.country, kind),
        issue_date=issue_date,
        due_date=due_date_for(issue_date, days),
        currency=company.base_currency,
        rate=Decimal(1),
        fiscal_position=party_fiscal_position(company, party, address),
        language=party.language or company.default_language,
        party_snapshot=_party_snapshot(party, address),
        created_by=actor.user if actor.user_id else None,
    )


@transaction.atomic
def invoice_draft_delete(*, actor: Actor, invoice_id) -> None:
    """Delete a draft (never an issued document): its order lines become invoiceable again."""
    require(actor, "billing.change")
    invoice = _invoice_locked(actor, invoice_id)
    _refuse_unless_draft(invoice)
    lines = list(InvoiceLine.objects.filter(invoice=invoice, order_line__isnull=False))
    if invoice.order_id and lines:
        sign = 1 if invoice.kind == InvoiceKind.CUSTOMER_CREDIT_NOTE else -1
        sales_order_invoiced(
            actor=actor,
            order_id=invoice.order_id,
            quantities={line.order_line_id: sign * line.quantity for line in lines},
        )
    audit_record(actor=actor, company=actor.company, obj=invoice, action="invoice.delete", before={"draft": invoice.pk})
    invoice.delete()


# --- posting -----------------------------------------------------------------------------------


def _posting_lines(
    invoice: Invoice, lines: Sequence[InvoiceLine], summary: Sequence[InvoiceTax], roles
) -> list[LineSpec]:
    """The journal lines of a document, in the company's currency.

    A customer invoice debits the receivable (open item, with the party and due date) and any
    tax withheld by the customer, and credits revenue per account and each added tax. Taxes
    included in the price (Brazil's ICMS, PIS, COFINS) are carved out of revenue into the tax
    account. Credit notes swap the sides; supplier bills post to the payable and the expense or
    stock accounts, with deductible tax. Conversion rounding goes to the rounding account, so the
    entry always balances exactly.
    """
    rate = invoice.rate
    customer = invoice.kind in (InvoiceKind.CUSTOMER_INVOICE, InvoiceKind.CUSTOMER_CREDIT_NOTE)
    credit = invoice.kind in (InvoiceKind.CUSTOMER_CREDIT_NOTE, InvoiceKind.SUPPLIER_CREDIT_NOTE)
    # Amounts as "normal side" of an invoice: + on the counterpart side (revenue/expense), − on
    # the open item side; then flipped for credit notes and supplier documents.
    normal: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    by_account: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        # Taxes included in the price are carved out of the line's revenue (or cost) account.
        included = sum((Decimal(t["amount"]) for t in line.taxes if t.get("included")), ZERO)
        by_account[line.account_id] += line.net_amount - included
    for tax in summary:
        account_id = tax.tax.sales_account_id if customer else tax.tax.purchase_account_id
        if tax.withheld:
            normal[(account_id, "withheld")] -= tax.amount
        else:
            normal[(account_id, "tax")] += tax.amount
    for account_id, amount in by_account.items():
        normal[(account_id, "net")] += amount
    specs: list[tuple[int, Decimal, str]] = []  # account, amount (+ = revenue side), kind
    for (account_id, kind), amount in normal.items():
        if amount:
            specs.append((account_id, to_base(amount, rate), kind))
    open_role = AccountRole.RECEIVABLE if customer else AccountRole.PAYABLE
    open_amount = to_base(invoice.payable, rate)
    difference = sum((amount for _, amount, _k in specs), ZERO) - open_amount
    if difference:
        specs.append((roles[AccountRole.ROUNDING].pk, -difference, "rounding"))
    # Customer invoice: revenue side is credit. Supplier bill: expense side is debit.
    revenue_is_credit = customer != credit
    result = [
        LineSpec(
            account_id=roles[open_role].pk,
            debit=open_amount if revenue_is_credit else ZERO,
            credit=ZERO if revenue_is_credit else open_amount,
            party_id=invoice.party_id,
            due_date=invoice.due_date,
            reference=invoice.number,
            description=invoice.number,
            currency=invoice.currency if invoice.rate != 1 else "",
            amount_currency=(invoice.payable if revenue_is_credit else -invoice.payable) if invoice.rate != 1 else None,
        )
    ]
    for account_id, amount, kind in specs:
        side_credit = (amount > 0) == revenue_is_credit
        value = abs(amount)
        result.append(
            LineSpec(
                account_id=account_id,
                debit=ZERO if side_credit else value,
                credit=value if side_credit else ZERO,
                party_id=invoice.party_id if kind == "withheld" else None,
                reference=invoice.number,
                description=invoice.number,
            )
        )
    return result


@transaction.atomic
def invoice_post(*, actor: Actor, invoice_id) -> Invoice:
    """Issue a draft: it gets the next number of its series, its entry is posted (receivable,
    revenue and tax, or their opposites), its open item is recorded for payments, Spain's
    register gets its record, and `invoice.posted` is emitted. A credit note then settles what
    it can of the invoice it corrects."""
    require(actor, "billing.change")
    invoice = _invoice_locked(actor, invoice_id)
    _refuse_unless_draft(invoice)
    return _post(actor, invoice)


def _post(actor: Actor, invoice: Invoice, lines: list[InvoiceLine] | None = None) -> Invoice:
    company = actor.company
    if lines is None:
        lines = list(InvoiceLine.objects.filter(invoice=invoice).order_by("position"))
    summary = list(InvoiceTax.objects.select_related("tax").filter(invoice=invoice))
    year = invoice.issue_date.year
    yearly = series_restarts_yearly(company.country, invoice.kind)
    invoice.sequence_number = sequence_next(
        company=company, series=f"invoice:{invoice.kind}:{invoice.series}", year=year if yearly else 0
    )
    invoice.number = number_format(
        country=company.country,
        kind=invoice.kind,
        series=invoice.series,
        year=year,
        sequence_number=invoice.sequence_number,
    )
    roles = accounts_by_role(company.pk)
    customer = invoice.is_customer
    entry = entry_post(
        actor=actor,
        company=company,
        journal_kind=JournalKind.SALES if customer else JournalKind.PURCHASES,
        date=invoice.issue_date,
        lines=_posting_lines(invoice, lines, summary, roles),
        reference=invoice.number,
        description=str(invoice.party_snapshot.get("name", ""))[:200],
        source_type="billing.invoice",
        source_id=str(invoice.pk),
    )
    invoice.journal_entry = entry
    invoice.open_item_id = JournalLine.objects.filter(entry=entry, position=1).values_list("pk", flat=True).get()
    invoice.status = InvoiceStatus.POSTED
    invoice.residual = invoice.payable
    invoice.payment_status = payment_status(payable=invoice.payable, residual=invoice.residual)
    if invoice.payable == 0:
        invoice.paid_at = invoice.issue_date
    invoice.posted_at = timezone.now()
    invoice.posted_by = actor.user if actor.user_id else None
    invoice.save(
        update_fields=[
            "sequence_number",
            "number",
            "journal_entry",
            "open_item",
            "status",
            "residual",
            "payment_status",
            "paid_at",
            "posted_at",
            "posted_by",
        ]
    )
    for hook in INVOICE_POSTED_HOOKS:
        hook(actor, invoice)
    audit_record(
        actor=actor,
        company=company,
        obj=invoice,
        action="invoice.post",
        before={"status": InvoiceStatus.DRAFT},
        after={"status": InvoiceStatus.POSTED, "number": invoice.number, "payable": invoice.payable},
    )
    event_emit(company=company, name="invoice.posted", obj=invoice, payload=invoice_payload(invoice))
    if invoice.kind == InvoiceKind.CUSTOMER_CREDIT_NOTE and invoice.corrected_invoice_id:
        _credit_note_apply(actor, invoice)
    return invoice


def invoice_payload(invoice: Invoice) -> dict:
    return {
        "id": invoice.pk,
        "kind": invoice.kind,
        "number": invoice.number,
        "party_id": invoice.party_id,
        "order_id": invoice.order_id,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "currency": invoice.currency,
        "net_total": str(invoice.net_total),
        "tax_total": str(invoice.tax_total),
        "grand_total": str(invoice.grand_total),
        "payable": str(invoice.payable),
        "residual": str(invoice.residual),
        "payment_status": invoice.payment_status,
    }


@transaction.atomic
def invoice_issue_for_order(*, actor: Actor, order_id, basis: str | None = None, issue_date=None) -> Invoice:
    """Draft and issue the order's invoice in one step (the storefront's and OTC's path)."""
    invoice = _create_for_order(actor=actor, order_id=order_id, basis=basis, issue_date=issue_date)
    return _post(actor, invoice, lines=invoice.prefetched_lines)


# --- credit notes ------------------------------------------------------------------------------


@transaction.atomic
def credit_note_create(
    *, actor: Actor, invoice_id, lines: Sequence[tuple[int, Decimal]] | None = None, reason: str
) -> Invoice:
    """A draft credit note (Spain: factura rectificativa) correcting a posted customer invoice,
    for the given quantities of its lines (invoice line id, quantity) or for all that is not
    credited yet. Order lines give the credited quantities back to invoicing."""
    require(actor, "billing.change")
    reason = text_in(reason, "reason", max_length=200)
    if not reason:
        raise ValidationFailed(
            _("Say why the invoice is corrected."), fields={"reason": [_("This field is required.")]}
        )
    original = _invoice_locked(actor, invoice_id)
    if original.kind != InvoiceKind.CUSTOMER_INVOICE or original.status != InvoiceStatus.POSTED:
        raise Conflict(_("Only issued customer invoices can be corrected."), code="not_correctable")
    original_lines = list(InvoiceLine.objects.filter(invoice=original).order_by("position"))
    credited: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line_id, quantity in InvoiceLine.objects.filter(
        corrected_line__invoice=original, invoice__status__in=(InvoiceStatus.DRAFT, InvoiceStatus.POSTED)
    ).values_list("corrected_line_id", "quantity"):
        credited[line_id] += quantity
    available = {line.pk: line.quantity - credited[line.pk] for line in original_lines}
    if lines is None:
        wanted = {pk: q for pk, q in available.items() if q > 0}
    elif not lines:
        raise ValidationFailed(
            _("Choose what to credit."), fields={"lines": [_("Give at least one line and quantity.")]}
        )
    else:
        wanted, errors = {}, []
        for line_id, quantity in lines:
            pk = valid_id(line_id)
            try:
                quantity = decimal_in(quantity, "quantity", places=3, maximum=QUANTITY_MAX)
            except ValidationFailed:
                quantity = None
            if pk not in available or quantity is None or quantity <= 0 or quantity > available[pk]:
                errors.append(
                    _("Line %(id)s: credit at most what was invoiced and not credited yet.") % {"id": line_id}
                )
            else:
                wanted[pk] = wanted.get(pk, ZERO) + quantity
        if errors:
            raise ValidationFailed(_("The credit note could not be drafted."), fields={"lines": errors})
    if not wanted:
        raise Conflict(_("Everything on this invoice has been credited already."), code="nothing_to_credit")
    party = original.party
    address = _default_address(party)
    note = _new_invoice(
        actor, kind=InvoiceKind.CUSTOMER_CREDIT_NOTE, party=party, address=address, issue_date=timezone.localdate()
    )
    note.order_id = original.order_id
    note.corrected_invoice = original
    note.correction_reason = reason
    note.currency, note.rate = original.currency, original.rate
    note.fiscal_position = original.fiscal_position
    note.due_date = note.issue_date
    note.party_snapshot = original.party_snapshot
    specs = [
        {
            "product_id": line.product_id,
            "order_line_id": line.order_line_id,
            "corrected_line_id": line.pk,
            "description": line.description,
            "quantity": wanted[line.pk],
            "unit_code": line.unit_code,
            "unit_price": line.unit_price,
            "discount_percent": line.discount_percent,
            "tax_category": line.tax_category,
            "account_id": line.account_id,
            "ncm": line.ncm,
            "barcode": line.barcode,
        }
        for line in original_lines
        if line.pk in wanted
    ]
    new_lines, summary = _draft_compute(actor=actor, invoice=note, specs=specs, fiscal_position=note.fiscal_position)
    _draft_save(note, new_lines, summary)
    order_quantities = {
        line.order_line_id: -wanted[line.pk] for line in original_lines if line.pk in wanted and line.order_line_id
    }
    if original.order_id and order_quantities:
        sales_order_invoiced(actor=actor, order_id=original.order_id, quantities=order_quantities)
    audit_record(
        actor=actor,
        company=actor.company,
        obj=note,
        action="invoice.create",
        after={"corrects": original.number, "reason": reason, "payable": note.payable},
    )
    return note


def _credit_note_apply(actor: Actor, note: Invoice) -> None:
    """Settle the corrected invoice with the credit note as far as both are open."""
    original = Invoice.objects.select_for_update().get(pk=note.corrected_invoice_id)
    amount = min(original.residual, note.residual)
    if amount <= 0 or original.currency != note.currency:
        return
    base = to_base(amount, note.rate)
    reconcile(actor=actor, company=actor.company, pairs=[(original.open_item_id, note.open_item_id, base)])
    invoice_settle(invoice_id=original.pk, amount=amount, paid_on=note.issue_date)
    invoice_settle(invoice_id=note.pk, amount=amount, paid_on=note.issue_date)


# --- supplier bills ----------------------------------------------------------------------------


@transaction.atomic
def supplier_bill_create(
    *, actor: Actor, supplier_id, supplier_reference: str, issue_date, lines: Sequence[dict], due_date=None
) -> Invoice:
    """A draft supplier bill. Each line: description, quantity, unit_price, tax_category and the
    account role it costs to ("purchases" by default, "inventory" for goods kept in stock)."""
    require(actor, "billing.change")
    company = actor.company
    errors: dict[str, list[str]] = {}
    supplier = Party.objects.filter(company=company, pk=valid_id(supplier_id) or 0, is_supplier=True).first()
    if supplier is None:
        errors["supplier_id"] = [_("Choose a supplier.")]
    reference = text_in(supplier_reference, "supplier_reference", max_length=64)
    if not reference:
        errors["supplier_reference"] = [_("Enter the supplier's invoice number.")]
    try:
        issue = date_in(issue_date, "issue_date")
    except ValidationFailed as exc:
        errors.update(exc.fields)
        issue = None
    else:
        if issue is None or not DATE_MIN <= issue <= DATE_MAX:
            errors["issue_date"] = [_("Enter the date of the bill.")]
    try:
        due = date_in(due_date, "due_date") if due_date else None
    except ValidationFailed as exc:
        errors.update(exc.fields)
        due = None
    else:
        if due is not None and (issue is None or not issue <= due <= DATE_MAX):
            errors["due_date"] = [_("The due date cannot be before the bill's date.")]
    roles = accounts_by_role(company.pk)
    specs, line_errors = [], []
    for i, raw in enumerate(lines if isinstance(lines, list | tuple) else []):
        if not isinstance(raw, dict):
            line_errors.append(_("Line %(n)s: enter a description, a quantity and a price.") % {"n": i + 1})
            continue
        try:
            quantity = decimal_in(raw.get("quantity"), "quantity", places=3, maximum=QUANTITY_MAX)
            price = decimal_in(raw.get("unit_price"), "unit_price", places=4, maximum=PRICE_MAX)
        except (ValidationFailed, AttributeError):
            quantity = price = None
        role = raw.get("account_role") or AccountRole.PURCHASES
        description = text_in(raw.get("description"), "description", max_length=200)
        if (
            not description
            or quantity is None
            or quantity <= 0
            or price is None
            or price < 0
            or role
            not in (
                AccountRole.PURCHASES,
                AccountRole.INVENTORY,
            )
        ):
            line_errors.append(_("Line %(n)s: enter a description, a quantity and a price.") % {"n": i + 1})
            continue
        specs.append(
            {
                "description": description,
                "quantity": quantity,
                "unit_price": price,
                "discount_percent": ZERO,
                "tax_category": str(raw.get("tax_category") or "standard")[:32],
                "account_id": roles[role].pk,
            }
        )
    if not specs and not line_errors:
        line_errors.append(_("Add at least one line."))
    if line_errors:
        errors["lines"] = line_errors
    if errors:
        raise ValidationFailed(_("The supplier bill could not be drafted."), fields=errors)
    if Invoice.objects.filter(company=company, party=supplier, supplier_reference=reference).exists():
        raise Conflict(
            _("Bill %(reference)s of this supplier is already recorded.") % {"reference": reference},
            code="duplicate_supplier_reference",
        )
    address = _default_address(supplier)
    bill = _new_invoice(actor, kind=InvoiceKind.SUPPLIER_BILL, party=supplier, address=address, issue_date=issue)
    bill.supplier_reference = reference
    if due is not None:
        bill.due_date = due
    new_lines, summary = _draft_compute(actor=actor, invoice=bill, specs=specs, fiscal_position=bill.fiscal_position)
    _draft_save(bill, new_lines, summary)
    audit_record(
        actor=actor, company=company, obj=bill, action="invoice.create", after={"supplier_reference": reference}
    )
    return bill


def _money(amount: Decimal) -> Value:
    """An amount inside an expression: scaled like the money column it is added to."""
    return Value(amount, output_field=MoneyField())


# --- settlement --------------------------------------------------------------------------------


def invoice_settle(*, invoice_id, amount: Decimal, paid_on: date) -> Invoice:
    """Lower a posted document's open amount by `amount` (its currency), in the caller's
    transaction, after the caller matched the open items in the ledger. Refuses more than is
    open. When the invoice becomes paid, `invoice.paid` is emitted and its order closes if it has
    shipped and been invoiced in full."""
    amount = round_money(Decimal(amount))
    if amount <= 0:
        raise ValidationFailed(_("Enter an amount above zero."), fields={"amount": [_("Enter an amount above zero.")]})
    updated = Invoice.objects.filter(pk=invoice_id, status=InvoiceStatus.POSTED, residual__gte=amount).update(
        residual=F("residual") - _money(amount)
    )
    if not updated:
        raise Conflict(_("That is more than is open on this invoice."), code="over_settlement")
    invoice = Invoice.objects.select_related("company").get(pk=invoice_id)
    status = payment_status(payable=invoice.payable, residual=invoice.residual)
    fields = []
    if status != invoice.payment_status:
        invoice.payment_status = status
        fields.append("payment_status")
    if status == PaymentStatus.PAID and invoice.paid_at is None:
        invoice.paid_at = paid_on
        fields.append("paid_at")
    if fields:
        invoice.save(update_fields=fields)
    if "paid_at" in fields:
        event_emit(company=invoice.company, name="invoice.paid", obj=invoice, payload=invoice_payload(invoice))
        for hook in INVOICE_PAID_HOOKS:
            hook(invoice)
        if invoice.order_id and invoice.kind == InvoiceKind.CUSTOMER_INVOICE:
            _order_complete_if_paid(invoice)
    return invoice


def _order_complete_if_paid(invoice: Invoice) -> None:
    from retaguarda.core.permissions import system_actor

    still_open = Invoice.objects.filter(
        order_id=invoice.order_id, kind=InvoiceKind.CUSTOMER_INVOICE, residual__gt=0
    ).exclude(status=InvoiceStatus.CANCELLED)
    if not still_open.exists():
        sales_order_complete(actor=system_actor(invoice.company), order_id=invoice.order_id)


def invoice_unsettle(*, invoice_id, amount: Decimal) -> Invoice:
    """Give `amount` back to a document's open amount (a payment was cancelled)."""
    amount = round_money(Decimal(amount))
    updated = Invoice.objects.filter(
        pk=invoice_id, status=InvoiceStatus.POSTED, residual__lte=F("payable") - _money(amount)
    ).update(residual=F("residual") + _money(amount))
    if not updated:
        raise Conflict(_("That is more than was paid on this invoice."), code="over_settlement")
    invoice = Invoice.objects.get(pk=invoice_id)
    invoice.payment_status = payment_status(payable=invoice.payable, residual=invoice.residual)
    invoice.paid_at = None if invoice.residual > 0 else invoice.paid_at
    invoice.save(update_fields=["payment_status", "paid_at"])
    return invoice
