"""The writers of collections: bank accounts, payments received and paid (posted to the books and
allocated to invoices), credits applied and refunded, cancellations, and bank statements
imported and matched line by line.

How a payment posts (amounts in the company's currency):

- a customer's payment debits the bank and credits the receivable (the payment's open item,
  with the party); a payment to a supplier debits the payable and credits the bank; a refund
  to a customer debits the receivable, one from a supplier credits the payable.
- each allocation matches (ledger.reconcile) the invoice's open item with the payment's, and
  lowers the invoice's open amount (billing.invoice_settle). What is not allocated stays open
  on the payment's line: the party's credit, applied later (credit_apply) or refunded.
- a document in a foreign currency settled at another rate than it was booked at leaves a
  difference in the company's currency: it is posted to exchange gains or losses, with a line
  on the open items' account that is matched too, so both open items close exactly.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from retaguarda.billing.choices import InvoiceKind, InvoiceStatus
from retaguarda.billing.models import Invoice
from retaguarda.billing.services import invoice_settle, invoice_unsettle
from retaguarda.common.errors import Conflict, NotFound, ValidationFailed
from retaguarda.common.fields import MoneyField, round_money
from retaguarda.common.inputs import date_in, decimal_in, text_in, valid_id
from retaguarda.core.choices import Currency
from retaguarda.core.models import Company
from retaguarda.core.permissions import Actor, require
from retaguarda.core.services import audit_record, event_emit, sequence_next
from retaguarda.ledger.choices import AccountRole, JournalKind
from retaguarda.ledger.models import Account, Journal, JournalLine
from retaguarda.ledger.services import (
    AMOUNT_MAX,
    LineSpec,
    accounts_by_role,
    entry_post,
    entry_reverse_for_source,
    rate_for,
    reconcile,
    unreconcile,
)
from retaguarda.parties.models import Party
from retaguarda.parties.services import FieldErrors

from . import matching, statements
from .choices import Direction, PaymentKind, PaymentMethod, PaymentStatus, Side, StatementLineStatus
from .models import RATE_SCALE, BankAccount, BankStatement, BankStatementLine, Payment, PaymentAllocation

ZERO = Decimal("0.00")
PAYMENT_SOURCE = "collections.payment"
ALLOCATION_SOURCE = "collections.allocation"
PAYMENT_SERIES = "collections.payment"
MAX_ALLOCATIONS = 200
RATE_MAX = Decimal(1_000_000)

# The document kinds a side's payments settle, and the kinds that give a party credit.
INVOICE_KINDS = {Side.RECEIVABLE: InvoiceKind.CUSTOMER_INVOICE, Side.PAYABLE: InvoiceKind.SUPPLIER_BILL}
CREDIT_NOTE_KINDS = {Side.RECEIVABLE: InvoiceKind.CUSTOMER_CREDIT_NOTE, Side.PAYABLE: InvoiceKind.SUPPLIER_CREDIT_NOTE}
OPEN_ITEM_ROLES = {Side.RECEIVABLE: AccountRole.RECEIVABLE, Side.PAYABLE: AccountRole.PAYABLE}


class Errors(FieldErrors):
    """Field errors collected over the whole input, so one refusal names every bad field."""

    def collect(self, parse: Callable, *args, default=None, **kwargs):
        try:
            return parse(*args, **kwargs)
        except ValidationFailed as exc:
            for field, messages in exc.fields.items():
                for message in messages:
                    self.add(field, message)
            return default

    def raise_if_any(self) -> None:
        if self.fields:
            raise ValidationFailed(_("Check the highlighted fields."), fields=self.fields)


def side_of(*, kind: str, direction: str) -> str:
    """Receivables for a customer's payment or a refund to a customer; payables otherwise."""
    customer = (kind == PaymentKind.PAYMENT) == (direction == Direction.IN)
    return Side.RECEIVABLE if customer else Side.PAYABLE


def _user(actor: Actor):
    return actor.user if actor.user_id else None


def _money(amount: Decimal) -> Value:
    """An amount inside an expression, scaled like the money column it is added to."""
    return Value(amount, output_field=MoneyField())


def _not_found(field: str, message) -> NotFound:
    return NotFound(message, fields={field: [str(message)]})


# --- bank accounts ------------------------------------------------------------------------------


def iban_clean(value) -> str:
    """A valid IBAN in compact form, "" for blank; ValidationFailed otherwise."""
    text = text_in(value, "iban", 50)
    if not text:
        return ""
    iban = statements.normalise_iban(text)
    if not iban:
        raise ValidationFailed(_("Check the highlighted fields."), fields={"iban": [_("Enter a valid IBAN.")]})
    return iban


@transaction.atomic
def bank_account_create(
    *, actor: Actor, name: str, iban: str = "", currency: str | None = None, account_id=None, journal_id=None
) -> BankAccount:
    """A bank account (or till) of the company. Its payments post to `account_id` (default: the
    account with the bank role) in the journal `journal_id` (default: the bank journal)."""
    require(actor, "collections.change")
    company = actor.company
    errors = Errors()
    name = errors.collect(text_in, name, "name", 100, required=True, default="")
    iban = errors.collect(iban_clean, iban, default="")
    currency = currency or company.base_currency
    if currency not in Currency.values:
        errors.add("currency", _("Unknown currency."))
    if account_id not in (None, ""):
        account = Account.objects.filter(company=company, pk=valid_id(account_id) or 0, is_active=True).first()
        if account is None or account.reconcilable:
            errors.add("account_id", _("Choose an active account that is not an open-item account."))
    else:
        account = accounts_by_role(company.pk).get(AccountRole.BANK)
        if account is None:
            errors.add("account_id", _("No account holds the bank role: choose one."))
    if journal_id not in (None, ""):
        journal = Journal.objects.filter(company=company, pk=valid_id(journal_id) or 0).first()
        if journal is None or journal.kind not in (JournalKind.BANK, JournalKind.CASH):
            errors.add("journal_id", _("Choose a bank or cash journal."))
    else:
        journal = Journal.objects.filter(company=company, kind=JournalKind.BANK).order_by("code", "pk").first()
        if journal is None:
            errors.add("journal_id", _("The company has no bank journal."))
    errors.raise_if_any()
    if BankAccount.objects.filter(company=company, name=name).exists():
        raise ValidationFailed(
            _("Check the highlighted fields."), fields={"name": [_("Another bank account has this name.")]}
        )
    if iban and BankAccount.objects.filter(company=company, iban=iban).exists():
        raise ValidationFailed(
            _("Check the highlighted fields."), fields={"iban": [_("Another bank account has this IBAN.")]}
        )
    try:
        with transaction.atomic():
            bank_account = BankAccount.objects.create(
                company=company, name=name, iban=iban, currency=currency, account=account, journal=journal
            )
    except IntegrityError:
        raise Conflict(_("Another bank account has this name or IBAN."), code="duplicate_bank_account")
    audit_record(
        actor=actor,
        company=company,
        obj=bank_account,
        action="bankaccount.create",
        after={"name": name, "iban": iban, "currency": currency, "account": account.code, "journal": journal.code},
    )
    return bank_account


# --- open items in motion -------------------------------------------------------------------------


@dataclass
class _Open:
    """An open item being consumed: its ledger line, and what is open in the document's currency
    and (always positive) in the company's."""

    line_id: int
    account_id: int
    party_id: int
    is_debit: bool
    base: Decimal
    amount: Decimal
    reference: str = ""

    def take(self, amount: Decimal) -> Decimal:
        """The company-currency share of `amount`: in proportion to what is open, and all of it
        when `amount` is all that is open, so the last allocation closes the item exactly."""
        if amount >= self.amount:
            share = self.base
        else:
            share = min(round_money(self.base * amount / self.amount), self.base)
        self.base -= share
        self.amount -= amount
        return share


def _open_of_line(line: JournalLine, amount: Decimal, reference: str = "") -> _Open:
    return _Open(
        line_id=line.pk,
        account_id=line.account_id,
        party_id=line.party_id,
        is_debit=line.residual > 0,
        base=abs(line.residual),
        amount=amount,
        reference=reference,
    )


@dataclass
class _Match:
    """One allocation waiting for its ledger matches: the pairs to reconcile and the row to save."""

    allocation: PaymentAllocation
    pairs: list[tuple[int, int, Decimal]]


def _match(
    *,
    actor: Actor,
    giver: _Open,
    taker: _Open,
    amount: Decimal,
    on_date: datetime.date,
    roles: dict,
    allocation: PaymentAllocation,
) -> _Match:
    """Consume `amount` of both open items; post the exchange difference when their
    company-currency shares differ, and return the pairs that close them."""
    if giver.is_debit == taker.is_debit:
        raise Conflict(_("These open items cannot be matched with each other."), code="not_matchable")
    giver_base, taker_base = giver.take(amount), taker.take(amount)
    debit, credit = (giver, taker) if giver.is_debit else (taker, giver)
    debit_base, credit_base = (giver_base, taker_base) if giver.is_debit else (taker_base, giver_base)
    pairs = []
    common = min(debit_base, credit_base)
    if common > 0:
        pairs.append((debit.line_id, credit.line_id, common))
    difference = credit_base - debit_base
    allocation.amount_base = taker_base
    if difference:
        # More was credited than debited: the open items' account takes a debit and the
        # difference is a gain; the other way round, a credit and a loss.
        gain = difference > 0
        value = abs(difference)
        description = _("Exchange difference %(reference)s") % {"reference": taker.reference or giver.reference}
        specs = [
            LineSpec(
                account_id=debit.account_id,
                debit=value if gain else ZERO,
                credit=ZERO if gain else value,
                party_id=debit.party_id,
                description=description[:200],
                reference=(taker.reference or giver.reference)[:100],
                due_date=on_date,
            ),
            LineSpec(
                account_id=roles[AccountRole.EXCHANGE_GAIN if gain else AccountRole.EXCHANGE_LOSS].pk,
                debit=ZERO if gain else value,
                credit=value if gain else ZERO,
                description=description[:200],
                reference=(taker.reference or giver.reference)[:100],
            ),
        ]
        allocation.save()
        entry = entry_post(
            actor=actor,
            company=actor.company,
            journal_kind=JournalKind.GENERAL,
            date=on_date,
            lines=specs,
            reference=(taker.reference or giver.reference)[:100],
            description=description[:200],
            source_type=ALLOCATION_SOURCE,
            source_id=str(allocation.pk),
        )
        line_id = JournalLine.objects.filter(entry=entry, position=1).values_list("pk", flat=True).get()
        pairs.append((line_id, credit.line_id, value) if gain else (debit.line_id, line_id, value))
        allocation.exchange_entry = entry
    return _Match(allocation=allocation, pairs=pairs)


def _matches_apply(actor: Actor, matches: list[_Match]) -> None:
    """Reconcile every pair in one call, and save the allocations with their reconciliations:
    a fixed number of queries whatever the number of allocations (an exchange difference
    posts its own entry)."""
    fresh = [m.allocation for m in matches if m.allocation.pk is None]
    if fresh:
        PaymentAllocation.objects.bulk_create(fresh)
    exchanged = [m.allocation for m in matches if m.allocation not in fresh and m.allocation.exchange_entry_id]
    if exchanged:
        PaymentAllocation.objects.bulk_update(exchanged, ["exchange_entry", "amount_base"])
    pairs = [pair for match in matches for pair in match.pairs]
    if not pairs:
        return
    made = reconcile(actor=actor, company=actor.company, pairs=pairs)
    through = PaymentAllocation.reconciliations.through
    links, start = [], 0
    for match in matches:
        for reconciliation in made[start : start + len(match.pairs)]:
            links.append(through(paymentallocation_id=match.allocation.pk, reconciliation_id=reconciliation.pk))
        start += len(match.pairs)
    through.objects.bulk_create(links)


# --- input ----------------------------------------------------------------------------------------


def _party(actor: Actor, errors: Errors, party_id, side: str) -> Party | None:
    pk = valid_id(party_id)
    if pk is None:
        errors.add("party_id", _("Choose a customer or supplier."))
        return None
    party = Party.objects.filter(company=actor.company, pk=pk).first()
    if party is None:
        raise _not_found("party_id", _("No such customer or supplier."))
    if side == Side.RECEIVABLE and not party.is_customer:
        errors.add("party_id", _("%(name)s is not a customer.") % {"name": party})
    elif side == Side.PAYABLE and not party.is_supplier:
        errors.add("party_id", _("%(name)s is not a supplier.") % {"name": party})
    return party


def _amount(errors: Errors, value, field: str = "amount") -> Decimal | None:
    return errors.collect(
        decimal_in,
        value,
        field,
        places=2,
        minimum=ZERO,
        strict_min=True,
        maximum=AMOUNT_MAX,
        too_small=_("Enter an amount above zero."),
    )


EARLIEST_DATE = datetime.date(2000, 1, 1)
# Payments are recorded when the money moved: a date far ahead is a typo.
LATEST_DAYS_AHEAD = 366


def _date(errors: Errors, value, field: str = "date") -> datetime.date:
    today = timezone.localdate()
    on_date = errors.collect(date_in, value, field) or today
    latest = today + datetime.timedelta(days=LATEST_DAYS_AHEAD)
    if not EARLIEST_DATE <= on_date <= latest:
        errors.add(
            field,
            _("Enter a date between %(first)s and %(last)s.")
            % {"first": EARLIEST_DATE.isoformat(), "last": latest.isoformat()},
        )
        return today
    return on_date


def _currency_and_rate(
    actor: Actor, errors: Errors, currency, rate, on_date: datetime.date
) -> tuple[str, Decimal | None]:
    company = actor.company
    currency = currency or company.base_currency
    if currency not in Currency.values:
        errors.add("currency", _("Unknown currency."))
        return currency, None
    if currency == company.base_currency:
        if rate not in (None, "") and errors.collect(decimal_in, rate, "rate", places=RATE_SCALE) != Decimal(1):
            errors.add("rate", _("The company's own currency has the rate 1."))
        return currency, Decimal(1)
    if rate in (None, ""):
        try:
            return currency, rate_for(company.pk, currency, on_date)
        except NotFound as exc:
            errors.add("rate", exc.message)
            return currency, None
    return currency, errors.collect(
        decimal_in, rate, "rate", places=RATE_SCALE, minimum=ZERO, strict_min=True, maximum=RATE_MAX
    )


def _base_check(errors: Errors, amount: Decimal | None, rate: Decimal | None) -> None:
    """The amount in the company's currency must be one the books can post."""
    if amount is not None and rate is not None and round_money(amount * rate) > AMOUNT_MAX:
        errors.add("rate", _("The amount in the company's currency is too large."))


def _allocation_rows(errors: Errors, allocations) -> list[tuple[int, Decimal, int]] | None:
    """(invoice id, amount, index) per allocation; None when `allocations` is None (default)."""
    if allocations is None:
        return None
    if isinstance(allocations, str | bytes | dict) or not isinstance(allocations, Sequence):
        errors.add("allocations", _("Give a list of invoices and amounts."))
        return []
    if len(allocations) > MAX_ALLOCATIONS:
        errors.add("allocations", _("At most %(count)d allocations at once.") % {"count": MAX_ALLOCATIONS})
        return []
    rows, seen = [], set()
    for index, row in enumerate(allocations):
        try:
            invoice_id, amount = row
        except (TypeError, ValueError):
            errors.add(f"allocations.{index}", _("Give an invoice and an amount."))
            continue
        pk = valid_id(invoice_id)
        if pk is None:
            errors.add(f"allocations.{index}.invoice_id", _("Choose an invoice."))
        elif pk in seen:
            errors.add(f"allocations.{index}.invoice_id", _("This invoice is listed twice."))
        amount = _amount(errors, amount, f"allocations.{index}.amount")
        if pk is not None and pk not in seen and amount is not None:
            rows.append((pk, amount, index))
        if pk is not None:
            seen.add(pk)
    return rows


def _bank(
    actor: Actor, errors: Errors, bank_account_id, method: str, roles: dict
) -> tuple[BankAccount | None, int, str]:
    """The bank account (or None), the ledger account its money posts to and the journal kind."""
    if bank_account_id not in (None, ""):
        pk = valid_id(bank_account_id)
        bank_account = (
            BankAccount.objects.select_related("journal").filter(company=actor.company, pk=pk).first() if pk else None
        )
        if bank_account is None:
            raise _not_found("bank_account_id", _("No such bank account."))
        if not bank_account.is_active:
            errors.add("bank_account_id", _("This bank account is archived."))
        return bank_account, bank_account.account_id, bank_account.journal.kind
    role = AccountRole.CASH if method == PaymentMethod.CASH else AccountRole.BANK
    account = roles.get(role)
    if account is None:
        errors.add("bank_account_id", _("Choose a bank account."))
        return None, 0, JournalKind.BANK
    return None, account.pk, JournalKind.CASH if method == PaymentMethod.CASH else JournalKind.BANK


def _invoices_locked(actor: Actor, ids) -> dict[int, Invoice]:
    """The company's invoices with these ids, locked in primary-key order, with open items."""
    rows = (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("open_item")
        .filter(company=actor.company, pk__in=ids)
        .order_by("pk")
    )
    return {invoice.pk: invoice for invoice in rows}


def _open_invoices_locked(actor: Actor, party: Party, side: str, currency: str) -> list[Invoice]:
    """The party's open invoices (or bills) in `currency`, oldest due first, locked."""
    rows = (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("open_item")
        .filter(
            company=actor.company,
            party=party,
            kind=INVOICE_KINDS[side],
            status=InvoiceStatus.POSTED,
            currency=currency,
            residual__gt=0,
        )
        .order_by("pk")
    )
    return sorted(rows, key=lambda invoice: (invoice.due_date, invoice.issue_date, invoice.pk))


def _invoice_check(
    errors: Errors,
    field: str,
    invoice: Invoice,
    *,
    party: Party,
    kinds,
    currency: str,
    amount: Decimal,
    amount_field: str,
) -> bool:
    if invoice.party_id != party.pk:
        errors.add(field, _("Invoice %(number)s is of another party.") % {"number": invoice})
    elif invoice.kind not in kinds:
        errors.add(field, _("Invoice %(number)s cannot be settled by this payment.") % {"number": invoice})
    elif invoice.status != InvoiceStatus.POSTED or invoice.open_item is None:
        errors.add(field, _("Invoice %(number)s is not issued.") % {"number": invoice})
    elif invoice.currency != currency:
        errors.add(
            field,
            _("Invoice %(number)s is in %(currency)s: the payment must be too.")
            % {"number": invoice, "currency": invoice.currency},
        )
    elif amount > invoice.residual:
        errors.add(
            amount_field,
            _("Only %(residual)s is open on invoice %(number)s.") % {"residual": invoice.residual, "number": invoice},
        )
    else:
        return True
    return False


# --- payments -------------------------------------------------------------------------------------


def payment_payload(payment: Payment) -> dict:
    """What the payment's events (and so webhooks) carry."""
    return {
        "id": payment.pk,
        "number": payment.number,
        "kind": payment.kind,
        "direction": payment.direction,
        "status": payment.status,
        "party_id": payment.party_id,
        "date": payment.date.isoformat(),
        "amount": payment.amount,
        "currency": payment.currency,
        "unapplied": payment.unapplied,
        "method": payment.method,
        "reference": payment.reference,
    }


def _statement_line_for_payment(
    actor: Actor, errors: Errors, statement_line_id, *, amount, direction
) -> BankStatementLine | None:
    if statement_line_id in (None, ""):
        return None
    pk = valid_id(statement_line_id)
    line = (
        BankStatementLine.objects.select_for_update(of=("self",))
        .select_related("bank_account")
        .filter(company=actor.company, pk=pk)
        .first()
        if pk
        else None
    )
    if line is None:
        raise _not_found("statement_line_id", _("No such statement line."))
    if line.status != StatementLineStatus.UNMATCHED:
        raise Conflict(
            _("This statement line is already %(status)s.") % {"status": line.get_status_display().lower()},
            code="statement_line_not_open",
        )
    if amount is not None and (abs(line.amount) != amount or (line.amount > 0) != (direction == Direction.IN)):
        errors.add("amount", _("The statement line is for %(amount)s.") % {"amount": line.amount})
    return line


def _post_payment(
    actor: Actor,
    *,
    kind: str,
    direction: str,
    party: Party,
    amount: Decimal,
    currency: str,
    rate: Decimal,
    on_date: datetime.date,
    method: str,
    reference: str,
    bank: tuple[BankAccount | None, int, str],
    statement_line: BankStatementLine | None,
    roles: dict,
    notes: str = "",
) -> tuple[Payment, _Open]:
    """Create the payment, post its entry (its open item first) and link its statement line."""
    company = actor.company
    side = side_of(kind=kind, direction=direction)
    bank_account, bank_account_id, journal_kind = bank
    base = round_money(amount * rate)
    number = sequence_next(company=company, series=PAYMENT_SERIES, year=on_date.year)
    payment = Payment.objects.create(
        company=company,
        number=f"PAY{on_date.year}-{number:06d}",
        party=party,
        direction=direction,
        kind=kind,
        date=on_date,
        amount=amount,
        currency=currency,
        rate=rate,
        amount_base=base,
        method=method,
        reference=reference,
        bank_account=bank_account,
        unapplied=amount,
        statement_line=statement_line,
        notes=notes,
        created_by=_user(actor),
    )
    foreign = currency != company.base_currency
    money_in = direction == Direction.IN
    description = (reference or str(party))[:200]
    lines = [
        LineSpec(
            account_id=roles[OPEN_ITEM_ROLES[side]].pk,
            debit=ZERO if money_in else base,
            credit=base if money_in else ZERO,
            party_id=party.pk,
            description=description,
            due_date=on_date,
            reference=payment.number,
            currency=currency if foreign else "",
            amount_currency=(-amount if money_in else amount) if foreign else None,
        ),
        LineSpec(
            account_id=bank_account_id,
            debit=base if money_in else ZERO,
            credit=ZERO if money_in else base,
            description=description,
            reference=payment.number,
            currency=currency if foreign and bank_account and bank_account.currency == currency else "",
            amount_currency=(amount if money_in else -amount)
            if foreign and bank_account and bank_account.currency == currency
            else None,
        ),
    ]
    entry = entry_post(
        actor=actor,
        company=company,
        journal_kind=journal_kind,
        date=on_date,
        lines=lines,
        reference=payment.number,
        description=description,
        source_type=PAYMENT_SOURCE,
        source_id=str(payment.pk),
    )
    open_item = JournalLine.objects.get(entry=entry, position=1)
    payment.journal_entry = entry
    payment.open_item = open_item
    if statement_line is not None:
        statement_line.status = StatementLineStatus.MATCHED
        statement_line.payment = payment
        statement_line.status_changed_at = timezone.now()
        statement_line.status_changed_by = _user(actor)
        statement_line.save(update_fields=["status", "payment", "status_changed_at", "status_changed_by"])
    return payment, _open_of_line(open_item, amount, payment.number)


@transaction.atomic
def payment_register(
    *,
    actor: Actor,
    party_id,
    amount,
    date=None,
    direction: str = Direction.IN,
    method: str = PaymentMethod.TRANSFER,
    reference: str = "",
    bank_account_id=None,
    allocations: Sequence[tuple[int, Decimal]] | None = None,
    currency: str | None = None,
    rate=None,
    statement_line_id=None,
    notes: str = "",
) -> Payment:
    """Record money received from a customer (direction "in") or paid to a supplier ("out"),
    post it, and allocate it to the party's invoices (bills): to `allocations` as (invoice id,
    amount) pairs, or by default to the open ones oldest due first. `allocations=[]` allocates
    nothing. What is left is the party's credit (`unapplied`).

    `date` defaults to today; `currency` to the company's (or the statement line's); `rate` to
    the latest recorded rate of that date. ValidationFailed names every bad field and writes
    nothing; ids of another company are NotFound."""
    require(actor, "collections.change")
    errors = Errors()
    if direction not in Direction.values:
        errors.add("direction", _("Choose in or out."))
        direction = Direction.IN
    if method not in PaymentMethod.values:
        errors.add("method", _("Choose a payment method."))
    side = side_of(kind=PaymentKind.PAYMENT, direction=direction)
    party = _party(actor, errors, party_id, side)
    amount = _amount(errors, amount)
    on_date = _date(errors, date)
    reference = errors.collect(text_in, reference, "reference", 100, default="")
    notes = errors.collect(text_in, notes, "notes", 200, default="")
    line = _statement_line_for_payment(actor, errors, statement_line_id, amount=amount, direction=direction)
    if line is not None:
        if bank_account_id in (None, ""):
            bank_account_id = line.bank_account_id
        elif valid_id(bank_account_id) != line.bank_account_id:
            errors.add("bank_account_id", _("The statement line is of another bank account."))
        if not currency and line.currency:
            currency = line.currency
    roles = accounts_by_role(actor.company.pk)
    bank = _bank(actor, errors, bank_account_id, method, roles)
    currency, rate = _currency_and_rate(actor, errors, currency, rate, on_date)
    _base_check(errors, amount, rate)
    rows = _allocation_rows(errors, allocations)
    if party is None:
        errors.raise_if_any()

    # Which invoices take the money: checked, locked, then allocated in order.
    planned: list[tuple[Invoice, Decimal]] = []
    if rows is None and amount is not None:
        remaining = amount
        for invoice in _open_invoices_locked(actor, party, side, currency):
            if remaining <= 0:
                break
            take = min(invoice.residual, remaining)
            planned.append((invoice, take))
            remaining -= take
    elif rows:
        invoices = _invoices_locked(actor, [pk for pk, _amount, _index in rows])
        for pk, share, index in rows:
            invoice = invoices.get(pk)
            if invoice is None:
                raise _not_found(f"allocations.{index}.invoice_id", _("No such invoice."))
            field = f"allocations.{index}.invoice_id"
            if _invoice_check(
                errors,
                field,
                invoice,
                party=party,
                kinds={INVOICE_KINDS[side]},
                currency=currency,
                amount=share,
                amount_field=f"allocations.{index}.amount",
            ):
                planned.append((invoice, share))
        total = sum((share for _pk, share, _index in rows), ZERO)
        if amount is not None and total > amount:
            errors.add(
                "allocations",
                _("The allocations add up to %(total)s, more than the payment.") % {"total": total},
            )
    errors.raise_if_any()

    payment, giver = _post_payment(
        actor,
        kind=PaymentKind.PAYMENT,
        direction=direction,
        party=party,
        amount=amount,
        currency=currency,
        rate=rate,
        on_date=on_date,
        method=method,
        reference=reference,
        bank=bank,
        statement_line=line,
        roles=roles,
        notes=notes,
    )
    allocated = _allocate_to_invoices(
        actor, payment=payment, giver=giver, planned=planned, on_date=on_date, roles=roles
    )
    payment.unapplied = amount - allocated
    payment.save(update_fields=["journal_entry", "open_item", "unapplied"])
    audit_record(
        actor=actor,
        company=actor.company,
        obj=payment,
        action="payment.register",
        after={
            **payment_payload(payment),
            "allocations": [f"{invoice.number} {share}" for invoice, share in planned],
        },
    )
    event_emit(company=actor.company, name="payment.registered", obj=payment, payload=payment_payload(payment))
    return payment


def _allocate_to_invoices(
    actor: Actor, *, payment: Payment, giver: _Open, planned: list[tuple[Invoice, Decimal]], on_date, roles: dict
) -> Decimal:
    """Match the payment's open item with each planned invoice's and settle the invoices."""
    matches = []
    for invoice, share in planned:
        taker = _open_of_line(invoice.open_item, invoice.residual, invoice.number)
        allocation = PaymentAllocation(
            company=actor.company,
            payment=payment,
            invoice=invoice,
            date=on_date,
            amount=share,
            amount_base=ZERO,
            created_by=_user(actor),
        )
        matches.append(
            _match(
                actor=actor, giver=giver, taker=taker, amount=share, on_date=on_date, roles=roles, allocation=allocation
            )
        )
    _matches_apply(actor, matches)
    for invoice, share in planned:
        invoice_settle(invoice_id=invoice.pk, amount=share, paid_on=on_date)
    return sum((share for _invoice, share in planned), ZERO)


# --- credits: applied to invoices, refunded -------------------------------------------------------


@dataclass
class _Credit:
    """Something that gives a party credit: a payment's unapplied part or a credit note's
    open amount."""

    payment: Payment | None
    credit_note: Invoice | None
    date: datetime.date
    open: _Open

    @property
    def available(self) -> Decimal:
        return self.open.amount


def _credits_locked(
    actor: Actor, *, party: Party, side: str, currency: str, payment_id=None, credit_note_id=None
) -> list[_Credit]:
    """The party's credits in `currency`, oldest first, locked: the one named, or all of them."""
    credits: list[_Credit] = []
    payments = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("open_item")
        .filter(
            company=actor.company,
            party=party,
            status=PaymentStatus.POSTED,
            kind=PaymentKind.PAYMENT,
            direction=Direction.IN if side == Side.RECEIVABLE else Direction.OUT,
            currency=currency,
            unapplied__gt=0,
        )
        .order_by("pk")
    )
    notes = (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("open_item")
        .filter(
            company=actor.company,
            party=party,
            kind=CREDIT_NOTE_KINDS[side],
            status=InvoiceStatus.POSTED,
            currency=currency,
            residual__gt=0,
        )
        .order_by("pk")
    )
    if payment_id not in (None, ""):
        payments = payments.filter(pk=valid_id(payment_id) or 0)
        notes = notes.none()
    elif credit_note_id not in (None, ""):
        notes = notes.filter(pk=valid_id(credit_note_id) or 0)
        payments = payments.none()
    for payment in payments:
        credits.append(_Credit(payment, None, payment.date, _open_of_line(payment.open_item, payment.unapplied)))
        credits[-1].open.reference = payment.number
    for note in notes:
        if note.open_item is not None:
            open_item = _open_of_line(note.open_item, note.residual, note.number)
            credits.append(_Credit(None, note, note.issue_date, open_item))
    credits.sort(key=lambda c: (c.date, 0 if c.payment else 1, (c.payment or c.credit_note).pk))
    return credits


def _credit_source_named(actor: Actor, payment_id, credit_note_id) -> None:
    """NotFound when a named credit is not one of the company's."""
    if payment_id not in (None, ""):
        if not Payment.objects.filter(company=actor.company, pk=valid_id(payment_id) or 0).exists():
            raise _not_found("payment_id", _("No such payment."))
    if credit_note_id not in (None, ""):
        if not Invoice.objects.filter(company=actor.company, pk=valid_id(credit_note_id) or 0).exists():
            raise _not_found("credit_note_id", _("No such credit note."))


def _credits_take(credits: list[_Credit], amount: Decimal) -> list[tuple[_Credit, Decimal]]:
    taken, remaining = [], amount
    for credit in credits:
        if remaining <= 0:
            break
        share = min(credit.available, remaining)
        if share > 0:
            taken.append((credit, share))
            remaining -= share
    return taken


def _credits_match(actor: Actor, taken, *, taker, on_date, roles, **target) -> list[PaymentAllocation]:
    """Match each credit share taken against `taker` (an invoice's open item, or a refund's),
    recording an allocation to `target` (invoice= or refund=), then use the credits up; returns
    the allocations."""
    matches = [
        _match(
            actor=actor,
            giver=credit.open,
            taker=taker,
            amount=share,
            on_date=on_date,
            roles=roles,
            allocation=PaymentAllocation(
                company=actor.company,
                payment=credit.payment,
                credit_note=credit.credit_note,
                date=on_date,
                amount=share,
                amount_base=ZERO,
                created_by=_user(actor),
                **target,
            ),
        )
        for credit, share in taken
    ]
    _matches_apply(actor, matches)
    _credits_consume(taken, on_date)
    return [match.allocation for match in matches]


def _credits_consume(taken: list[tuple[_Credit, Decimal]], on_date) -> None:
    """Lower the credits used: a payment's unapplied part (guarded), a credit note's open amount."""
    for credit, share in taken:
        if credit.payment is not None:
            updated = Payment.objects.filter(pk=credit.payment.pk, unapplied__gte=share).update(
                unapplied=F("unapplied") - _money(share)
            )
            if not updated:
                raise Conflict(_("The payment's credit was used meanwhile."), code="credit_used")
        else:
            invoice_settle(invoice_id=credit.credit_note.pk, amount=share, paid_on=on_date)


@transaction.atomic
def credit_apply(
    *, actor: Actor, party_id, invoice_id, amount, payment_id=None, credit_note_id=None, date=None
) -> list[PaymentAllocation]:
    """Settle `amount` of an invoice (or bill) with the party's credit: the unapplied part of its
    payments and the open amount of its posted credit notes, oldest first, or only the payment
    or credit note named. Refused when the credit or the invoice's open amount is smaller."""
    require(actor, "collections.change")
    errors = Errors()
    pk = valid_id(invoice_id)
    invoice = _invoices_locked(actor, [pk]).get(pk) if pk else None
    if invoice is None:
        raise _not_found("invoice_id", _("No such invoice."))
    side = Side.RECEIVABLE if invoice.is_customer else Side.PAYABLE
    party = _party(actor, errors, party_id, side)
    amount = _amount(errors, amount)
    on_date = _date(errors, date)
    _credit_source_named(actor, payment_id, credit_note_id)
    if party is None or amount is None:
        errors.raise_if_any()
    _invoice_check(
        errors,
        "invoice_id",
        invoice,
        party=party,
        kinds={INVOICE_KINDS[side]},
        currency=invoice.currency,
        amount=amount,
        amount_field="amount",
    )
    errors.raise_if_any()
    credits = _credits_locked(
        actor,
        party=party,
        side=side,
        currency=invoice.currency,
        payment_id=payment_id,
        credit_note_id=credit_note_id,
    )
    available = sum((c.available for c in credits), ZERO)
    if amount > available:
        raise ValidationFailed(
            _("Check the highlighted fields."),
            fields={"amount": [_("The party's credit is %(available)s.") % {"available": available}]},
        )
    taken = _credits_take(credits, amount)
    roles = accounts_by_role(actor.company.pk)
    taker = _open_of_line(invoice.open_item, invoice.residual, invoice.number)
    allocations = _credits_match(actor, taken, taker=taker, on_date=on_date, roles=roles, invoice=invoice)
    invoice_settle(invoice_id=invoice.pk, amount=amount, paid_on=on_date)
    audit_record(
        actor=actor,
        company=actor.company,
        obj=invoice,
        action="credit.apply",
        after={
            "amount": amount,
            "credits": [f"{(c.payment or c.credit_note)} {share}" for c, share in taken],
        },
    )
    return allocations


@transaction.atomic
def refund_register(
    *,
    actor: Actor,
    party_id,
    amount,
    date=None,
    direction: str = Direction.OUT,
    method: str = PaymentMethod.TRANSFER,
    reference: str = "",
    bank_account_id=None,
    payment_id=None,
    credit_note_id=None,
    currency: str | None = None,
    rate=None,
    statement_line_id=None,
    notes: str = "",
) -> Payment:
    """Pay back a party's credit: to a customer (direction "out": the bank is credited and the
    receivable debited) or from a supplier ("in"). The credit used is the payment or credit note
    named, else the party's credits oldest first; refunding more than the credit is refused."""
    require(actor, "collections.change")
    errors = Errors()
    if direction not in Direction.values:
        errors.add("direction", _("Choose in or out."))
        direction = Direction.OUT
    if method not in PaymentMethod.values:
        errors.add("method", _("Choose a payment method."))
    side = side_of(kind=PaymentKind.REFUND, direction=direction)
    party = _party(actor, errors, party_id, side)
    amount = _amount(errors, amount)
    on_date = _date(errors, date)
    reference = errors.collect(text_in, reference, "reference", 100, default="")
    notes = errors.collect(text_in, notes, "notes", 200, default="")
    _credit_source_named(actor, payment_id, credit_note_id)
    line = _statement_line_for_payment(actor, errors, statement_line_id, amount=amount, direction=direction)
    if line is not None:
        if bank_account_id in (None, ""):
            bank_account_id = line.bank_account_id
        elif valid_id(bank_account_id) != line.bank_account_id:
            errors.add("bank_account_id", _("The statement line is of another bank account."))
        if not currency and line.currency:
            currency = line.currency
    roles = accounts_by_role(actor.company.pk)
    bank = _bank(actor, errors, bank_account_id, method, roles)
    currency, rate = _currency_and_rate(actor, errors, currency, rate, on_date)
    _base_check(errors, amount, rate)
    if party is None or amount is None:
        errors.raise_if_any()
    credits = (
        _credits_locked(
            actor, party=party, side=side, currency=currency, payment_id=payment_id, credit_note_id=credit_note_id
        )
        if currency in Currency.values
        else []
    )
    available = sum((c.available for c in credits), ZERO)
    if amount > available:
        errors.add("amount", _("The party's credit is %(available)s.") % {"available": available})
    errors.raise_if_any()

    refund, taker = _post_payment(
        actor,
        kind=PaymentKind.REFUND,
        direction=direction,
        party=party,
        amount=amount,
        currency=currency,
        rate=rate,
        on_date=on_date,
        method=method,
        reference=reference,
        bank=bank,
        statement_line=line,
        roles=roles,
        notes=notes,
    )
    taken = _credits_take(credits, amount)
    _credits_match(actor, taken, taker=taker, on_date=on_date, roles=roles, refund=refund)
    # A refund is all allocated: it only ever pays back credit.
    refund.unapplied = ZERO
    refund.save(update_fields=["journal_entry", "open_item", "unapplied"])
    audit_record(
        actor=actor,
        company=actor.company,
        obj=refund,
        action="refund.register",
        after={
            **payment_payload(refund),
            "credits": [f"{(c.payment or c.credit_note)} {share}" for c, share in taken],
        },
    )
    event_emit(company=actor.company, name="payment.registered", obj=refund, payload=payment_payload(refund))
    return refund


# --- cancellation ---------------------------------------------------------------------------------


def _payment_locked(actor: Actor, payment_id) -> Payment:
    pk = valid_id(payment_id)
    payment = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("party")
        .filter(company=actor.company, pk=pk)
        .first()
        if pk
        else None
    )
    if payment is None:
        raise NotFound(_("No such payment."))
    return payment


@transaction.atomic
def payment_cancel(*, actor: Actor, payment_id, reason: str) -> Payment:
    """Cancel a payment or refund: its matches are undone (the invoices it settled are open
    again, a refund's credit is the party's again), its entry and any exchange-difference
    entries are reversed, and its statement line is unmatched. A payment whose credit was since
    refunded is refused: cancel the refund first."""
    require(actor, "collections.change")
    reason = text_in(reason, "reason", 150, required=True)
    payment = _payment_locked(actor, payment_id)
    if payment.status != PaymentStatus.POSTED:
        raise Conflict(_("Payment %(number)s is already cancelled.") % {"number": payment}, code="already_cancelled")
    allocations = list(
        PaymentAllocation.objects.select_for_update(of=("self",))
        .filter(Q(payment=payment) | Q(refund=payment), is_reversed=False)
        .select_related("refund", "invoice", "credit_note")
        .order_by("pk")
    )
    refunded = [a.refund for a in allocations if a.payment_id == payment.pk and a.refund_id]
    if refunded:
        raise Conflict(
            _("Its credit was paid back by refund %(number)s: cancel the refund first.") % {"number": refunded[0]},
            code="credit_refunded",
        )
    reconciliation_ids = [
        pk
        for pk in PaymentAllocation.reconciliations.through.objects.filter(
            paymentallocation_id__in=[a.pk for a in allocations]
        ).values_list("reconciliation_id", flat=True)
    ]
    if reconciliation_ids:
        unreconcile(actor=actor, reconciliation_ids=reconciliation_ids)
    for allocation in allocations:
        if allocation.exchange_entry_id:
            entry_reverse_for_source(
                actor=actor,
                company=actor.company,
                source_type=ALLOCATION_SOURCE,
                source_id=allocation.pk,
                reason=reason,
            )
        if allocation.invoice_id:
            invoice_unsettle(invoice_id=allocation.invoice_id, amount=allocation.amount)
        if allocation.refund_id == payment.pk:
            # A cancelled refund gives the credit it paid back to the party again.
            if allocation.credit_note_id:
                invoice_unsettle(invoice_id=allocation.credit_note_id, amount=allocation.amount)
            elif allocation.payment_id:
                Payment.objects.filter(pk=allocation.payment_id).update(
                    unapplied=F("unapplied") + _money(allocation.amount)
                )
    PaymentAllocation.objects.filter(pk__in=[a.pk for a in allocations]).update(is_reversed=True)
    reversal = entry_reverse_for_source(
        actor=actor, company=actor.company, source_type=PAYMENT_SOURCE, source_id=payment.pk, reason=reason
    )
    if payment.statement_line_id:
        BankStatementLine.objects.filter(pk=payment.statement_line_id, payment=payment).update(
            status=StatementLineStatus.UNMATCHED,
            payment=None,
            status_changed_at=timezone.now(),
            status_changed_by=_user(actor),
        )
    before = {"status": payment.status, "unapplied": payment.unapplied}
    payment.status = PaymentStatus.CANCELLED
    payment.unapplied = ZERO
    payment.cancelled_at = timezone.now()
    payment.cancelled_by = _user(actor)
    payment.cancel_reason = reason
    payment.reversal_entry = reversal
    payment.save(
        update_fields=["status", "unapplied", "cancelled_at", "cancelled_by", "cancel_reason", "reversal_entry"]
    )
    audit_record(
        actor=actor,
        company=actor.company,
        obj=payment,
        action="payment.cancel",
        before=before,
        after={"status": payment.status, "reason": reason, "reversal": reversal.number},
    )
    event_emit(company=actor.company, name="payment.cancelled", obj=payment, payload=payment_payload(payment))
    return payment


# --- bank statements ------------------------------------------------------------------------------


def decode_base64(text, field: str = "content_base64") -> bytes:
    """The bytes of a base64 text (the API's uploads); ValidationFailed when it is not base64."""
    try:
        return base64.b64decode((text or "").encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ValidationFailed(
            _("Check the highlighted fields."), fields={field: [_("Send the file's content encoded in base64.")]}
        )


@transaction.atomic
def statement_import(*, actor: Actor, bank_account_id, data: bytes, filename: str = "") -> BankStatement:
    """Read a CAMT.053, OFX or CSV statement of a bank account and keep its lines, with match
    proposals. The same statement twice is a Conflict; lines already imported from another
    (overlapping) statement are skipped. A file that cannot be read is refused whole."""
    require(actor, "collections.change")
    pk = valid_id(bank_account_id)
    bank_account = BankAccount.objects.filter(company=actor.company, pk=pk).first() if pk else None
    if bank_account is None:
        raise NotFound(_("No such bank account."))
    filename = text_in(filename, "filename", 255)
    if not isinstance(data, bytes | bytearray):
        raise ValidationFailed(_("Check the highlighted fields."), fields={"file": [_("Choose a file.")]})
    parsed = statements.statement_parse(
        bytes(data),
        filename=filename,
        csv_options=statements.CsvOptions(currency=bank_account.currency, account_iban=bank_account.iban),
    )
    if parsed.account_iban and bank_account.iban and parsed.account_iban != bank_account.iban:
        message = _("This statement is of the account %(iban)s, not of %(name)s.") % {
            "iban": parsed.account_iban,
            "name": bank_account,
        }
        raise ValidationFailed(message, fields={"file": [message]})
    if parsed.currency and parsed.currency != bank_account.currency:
        message = _("This statement is in %(currency)s; the account is in %(account)s.") % {
            "currency": parsed.currency,
            "account": bank_account.currency,
        }
        raise ValidationFailed(message, fields={"file": [message]})
    amounts = [line.amount for line in parsed.lines] + [parsed.opening_balance or ZERO, parsed.closing_balance or ZERO]
    if any(abs(amount) > AMOUNT_MAX for amount in amounts):
        message = _("The statement holds amounts too large to be real.")
        raise ValidationFailed(message, fields={"file": [message]})
    statement_id = parsed.statement_id[:100]
    if BankStatement.objects.filter(bank_account=bank_account, statement_id=statement_id).exists():
        raise _already_imported(statement_id)
    references = [line.bank_reference[:255] for line in parsed.lines]
    seen = set(
        BankStatementLine.objects.filter(bank_account=bank_account, bank_reference__in=references).values_list(
            "bank_reference", flat=True
        )
    )
    fresh = [line for line in parsed.lines if line.bank_reference[:255] not in seen]
    try:
        with transaction.atomic():
            statement = BankStatement.objects.create(
                company=actor.company,
                bank_account=bank_account,
                statement_id=statement_id,
                format=parsed.source_format,
                currency=parsed.currency or bank_account.currency,
                start_date=parsed.date_from,
                end_date=parsed.date_to,
                opening_balance=parsed.opening_balance,
                closing_balance=parsed.closing_balance,
                filename=filename,
                line_count=len(fresh),
                skipped_count=len(parsed.lines) - len(fresh),
                imported_by=_user(actor),
            )
            BankStatementLine.objects.bulk_create(
                [
                    BankStatementLine(
                        company=actor.company,
                        statement=statement,
                        bank_account=bank_account,
                        position=position,
                        booking_date=line.booking_date,
                        value_date=line.value_date,
                        amount=line.amount,
                        currency=line.currency or bank_account.currency,
                        counterparty_name=line.counterparty_name[:200],
                        counterparty_account=line.counterparty_account[:34],
                        reference=line.reference[:500],
                        bank_reference=line.bank_reference[:255],
                        raw=line.raw,
                    )
                    for position, line in enumerate(fresh, start=1)
                ]
            )
    except IntegrityError:  # a concurrent import of the same statement or lines
        raise _already_imported(statement_id)
    statement_proposals(company=actor.company, statement_id=statement.pk)
    audit_record(
        actor=actor,
        company=actor.company,
        obj=statement,
        action="bankstatement.import",
        after={
            "bank_account": bank_account.name,
            "statement": statement_id,
            "file": filename,
            "lines": statement.line_count,
            "skipped": statement.skipped_count,
        },
    )
    event_emit(
        company=actor.company,
        name="statement.imported",
        obj=statement,
        payload={"id": statement.pk, "bank_account_id": bank_account.pk, "lines": statement.line_count},
    )
    return statement


def _already_imported(statement_id: str) -> Conflict:
    message = _("Statement %(id)s of this account is already imported.") % {"id": statement_id}
    return Conflict(message, code="statement_already_imported", fields={"file": [message]})


def statement_proposals(*, company: Company, statement_id) -> list[BankStatementLine]:
    """Compute and store the match proposals of a statement's unmatched lines, against the open
    invoices and bills of the company (collections.matching). Returns the lines."""
    from .selectors import matching_open_items, party_ibans

    lines = list(
        BankStatementLine.objects.filter(
            company=company, statement_id=valid_id(statement_id) or 0, status=StatementLineStatus.UNMATCHED
        ).order_by("position")
    )
    if not lines:
        return lines
    items, invoices = matching_open_items(company)
    plain = [
        statements.StatementLine(
            booking_date=line.booking_date,
            value_date=line.value_date,
            amount=line.amount,
            currency=line.currency,
            counterparty_name=line.counterparty_name,
            counterparty_account=line.counterparty_account,
            reference=line.reference,
            bank_reference=line.bank_reference,
        )
        for line in lines
    ]
    by_line = {proposal.line_index: proposal for proposal in matching.proposals_for(plain, items, party_ibans(company))}
    for index, line in enumerate(lines):
        proposal = by_line.get(index)
        if proposal is None:
            line.proposal = {}
            continue
        first = invoices[proposal.items[0][0]]
        line.proposal = {
            "party_id": first.party_id,
            "party_name": str(first.party),
            "score": proposal.score,
            "reasons": list(proposal.reasons),
            "allocations": [
                {"invoice_id": key, "number": invoices[key].number, "amount": str(amount)}
                for key, amount in proposal.items
            ],
        }
    BankStatementLine.objects.bulk_update(lines, ["proposal"])
    return lines


def _line_locked(actor: Actor, line_id) -> BankStatementLine:
    pk = valid_id(line_id)
    line = (
        BankStatementLine.objects.select_for_update(of=("self",))
        .select_related("statement", "bank_account")
        .filter(company=actor.company, pk=pk)
        .first()
        if pk
        else None
    )
    if line is None:
        raise NotFound(_("No such statement line."))
    return line


@transaction.atomic
def statement_line_confirm(
    *,
    actor: Actor,
    line_id,
    allocations: Sequence[tuple[int, Decimal]] | None = None,
    party_id=None,
    method: str = PaymentMethod.TRANSFER,
) -> Payment:
    """Turn a statement line into a payment of its bank account, dated its booking date: to the
    allocations given, else its proposal's. The party is the allocated invoices', else
    `party_id`, else the proposal's. Money in is a customer's payment, money out a payment to
    a supplier; what is not allocated is the party's credit."""
    require(actor, "collections.change")
    line = _line_locked(actor, line_id)
    if line.status != StatementLineStatus.UNMATCHED:
        raise Conflict(
            _("This statement line is already %(status)s.") % {"status": line.get_status_display().lower()},
            code="statement_line_not_open",
        )
    proposal = line.proposal or {}
    same_party = party_id in (None, "") or valid_id(party_id) == proposal.get("party_id")
    if allocations is None and proposal and same_party:
        allocations = [(row["invoice_id"], Decimal(row["amount"])) for row in proposal.get("allocations", ())]
        party_id = proposal.get("party_id")
    if party_id in (None, ""):
        ids = [valid_id(row[0]) for row in allocations or () if isinstance(row, list | tuple) and row]
        party_ids = set(
            Invoice.objects.filter(company=actor.company, pk__in=[i for i in ids if i]).values_list(
                "party_id", flat=True
            )
        )
        if len(party_ids) == 1:
            party_id = party_ids.pop()
        else:
            party_id = proposal.get("party_id")
    if party_id in (None, ""):
        raise ValidationFailed(
            _("Check the highlighted fields."), fields={"party_id": [_("Choose who paid or was paid.")]}
        )
    return payment_register(
        actor=actor,
        party_id=party_id,
        amount=abs(line.amount),
        date=line.booking_date,
        direction=Direction.IN if line.amount > 0 else Direction.OUT,
        method=method,
        reference=(line.reference or line.counterparty_name)[:100],
        bank_account_id=line.bank_account_id,
        allocations=list(allocations) if allocations is not None else None,
        currency=line.currency or line.bank_account.currency,
        statement_line_id=line.pk,
    )


def _line_status_set(actor: Actor, line_id, *, from_status: str, to_status: str, action: str) -> BankStatementLine:
    require(actor, "collections.change")
    line = _line_locked(actor, line_id)
    if line.status != from_status:
        raise Conflict(
            _("This statement line is %(status)s.") % {"status": line.get_status_display().lower()},
            code="statement_line_not_open"
            if to_status == StatementLineStatus.IGNORED
            else "statement_line_not_ignored",
        )
    line.status = to_status
    line.status_changed_at = timezone.now()
    line.status_changed_by = _user(actor)
    line.save(update_fields=["status", "status_changed_at", "status_changed_by"])
    audit_record(
        actor=actor,
        company=actor.company,
        obj=line,
        action=action,
        before={"status": from_status},
        after={"status": to_status},
    )
    return line


@transaction.atomic
def statement_line_ignore(*, actor: Actor, line_id) -> BankStatementLine:
    """Set an unmatched line aside (bank fees booked elsewhere, a transfer between own accounts)."""
    return _line_status_set(
        actor,
        line_id,
        from_status=StatementLineStatus.UNMATCHED,
        to_status=StatementLineStatus.IGNORED,
        action="statementline.ignore",
    )


@transaction.atomic
def statement_line_reopen(*, actor: Actor, line_id) -> BankStatementLine:
    """Bring an ignored line back among the unmatched."""
    return _line_status_set(
        actor,
        line_id,
        from_status=StatementLineStatus.IGNORED,
        to_status=StatementLineStatus.UNMATCHED,
        action="statementline.reopen",
    )
