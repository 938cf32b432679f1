"""The writers of the books: posting and reversing journal entries, matching open items,
fiscal years and periods (opening, closing, year-end), exchange rates and manual entries.

`entry_post` is what every operational document (invoices, shipments, payments) calls to post;
it checks no permission (the document's own service did) and writes no audit row (the
document audits). The manual services check `ledger.*` permissions and audit.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from retaguarda.common.errors import Conflict, NotFound, ValidationFailed
from retaguarda.common.fields import MoneyField, round_money
from retaguarda.common.inputs import date_in, decimal_in, text_in, valid_id
from retaguarda.core.choices import Currency
from retaguarda.core.models import Company
from retaguarda.core.permissions import Actor, require
from retaguarda.core.services import audit_record, sequence_next

from .choices import PROFIT_AND_LOSS_KINDS, AccountRole, EntryState, JournalKind, PeriodState
from .models import (
    RATE_SCALE,
    Account,
    AccountBalance,
    ExchangeRate,
    FiscalYear,
    Journal,
    JournalEntry,
    JournalLine,
    Period,
    Reconciliation,
)

ZERO = Decimal("0.00")
# Amounts above this are refused: far beyond any real entry, and far below the 64-bit limit of
# the scaled integer column, so a typo gives a field error rather than an overflow.
AMOUNT_MAX = Decimal("999999999999.99")
CLOSING_SOURCE = "ledger.fiscal_year_close"
REVERSAL_SOURCE = "ledger.reversal"


@dataclass(frozen=True)
class LineSpec:
    account_id: int
    debit: Decimal = Decimal(0)
    credit: Decimal = Decimal(0)
    party_id: int | None = None
    description: str = ""
    due_date: datetime.date | None = None
    reference: str = ""
    currency: str = ""
    amount_currency: Decimal | None = None


# --- lookups --------------------------------------------------------------------------------


def accounts_by_role(company_id: int) -> dict[str, Account]:
    """The company's accounts that hold a role, by role (one query)."""
    return {a.role: a for a in Account.objects.filter(company_id=company_id).exclude(role="")}


def journal_for(company_id: int, kind: str) -> Journal:
    """The company's journal of `kind` (a JournalKind); the first by code if there are several."""
    journal = Journal.objects.filter(company_id=company_id, kind=kind).order_by("code", "pk").first()
    if journal is None:
        raise NotFound(
            _("The company has no %(kind)s journal.") % {"kind": _label(JournalKind, kind)},
            fields={"journal": [_("No such journal.")]},
        )
    return journal


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _user(actor: Actor | None):
    user = getattr(actor, "user", None)
    return user if getattr(user, "pk", None) else None


# --- fiscal years, periods and balance rows ---------------------------------------------------


def _balance_rows_create(company_id: int, *, account_ids=None, period_ids=None) -> None:
    """Zero balance rows for accounts × periods (existing ones are left alone)."""
    if account_ids is None:
        account_ids = list(Account.objects.filter(company_id=company_id).values_list("pk", flat=True))
    if period_ids is None:
        period_ids = list(Period.objects.filter(company_id=company_id).values_list("pk", flat=True))
    AccountBalance.objects.bulk_create(
        [AccountBalance(company_id=company_id, account_id=a, period_id=p) for a in account_ids for p in period_ids],
        ignore_conflicts=True,
    )


def _fiscal_year_create(company: Company, year: int) -> FiscalYear:
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    overlapping = FiscalYear.objects.filter(company=company, start_date__lte=end, end_date__gte=start)
    if overlapping.exists():
        raise Conflict(
            _("A fiscal year overlapping %(year)s already exists.") % {"year": year}, code="fiscal_year_exists"
        )
    fiscal_year = FiscalYear.objects.create(company=company, name=str(year), start_date=start, end_date=end)
    Period.objects.bulk_create(
        [
            Period(
                company=company,
                fiscal_year=fiscal_year,
                code=f"{year}-{month:02d}",
                start_date=datetime.date(year, month, 1),
                end_date=datetime.date(year, month, calendar.monthrange(year, month)[1]),
            )
            for month in range(1, 13)
        ]
    )
    # Balance rows are made as accounts are first posted to in a period (_balances_add), so a
    # new company or year costs no accounts × periods rows.
    return fiscal_year


def fiscal_year_ensure(*, company: Company, year: int) -> FiscalYear:
    """The calendar fiscal year `year` of the company, created (12 monthly periods and their
    balance rows) if missing. No permission: posting and company creation call it."""
    existing = FiscalYear.objects.filter(company=company, start_date__year=year).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _fiscal_year_create(company, year)
    except IntegrityError:
        # A concurrent posting created it first (the unique start date refused ours).
        return FiscalYear.objects.get(company=company, start_date__year=year)


@transaction.atomic
def fiscal_year_open(*, actor: Actor, company: Company, year: int) -> FiscalYear:
    """Open the calendar fiscal year `year`: 12 monthly periods and their balance rows."""
    require(actor, "ledger.close")
    if company.pk != actor.company.pk:
        raise NotFound(_("No such company."))
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 9999:
        raise ValidationFailed(_("Check the highlighted fields."), fields={"year": [_("Enter a year.")]})
    if FiscalYear.objects.filter(company=company, start_date__year=year).exists():
        raise Conflict(_("The fiscal year %(year)s is already open.") % {"year": year}, code="fiscal_year_exists")
    fiscal_year = _fiscal_year_create(company, year)
    audit_record(actor=actor, company=company, obj=fiscal_year, action="fiscalyear.open", after={"year": year})
    return fiscal_year


@dataclass(frozen=True)
class _PeriodRef:
    pk: int
    fiscal_year_id: int
    year: int


def _period_closed(on_date: datetime.date) -> Conflict:
    return Conflict(
        _("The period of %(date)s is closed: entries can no longer be posted on that date.")
        % {"date": on_date.isoformat()},
        code="period_closed",
        fields={"date": [_("This date is in a closed period.")]},
    )


def _period_for(company: Company, on_date: datetime.date, *, allow_closed: bool = False) -> _PeriodRef:
    """The open period holding `on_date`, locked so that it cannot close under the posting.

    A date of a calendar year without a fiscal year gets that year opened on the way. The
    period row is locked with FOR UPDATE (PostgreSQL; SQLite holds the write lock anyway), so a
    period_close waits for postings in flight and postings after it see it closed. It costs
    little: postings of a period meet on its balance rows anyway.
    """
    for attempt in (1, 2):
        period = (
            Period.objects.select_for_update(of=("self",))
            .select_related("fiscal_year")
            .filter(company=company, start_date__lte=on_date, end_date__gte=on_date)
            .first()
        )
        if period is not None:
            break
        if attempt == 2:
            raise Conflict(
                _("No accounting period covers %(date)s.") % {"date": on_date.isoformat()},
                code="no_period",
                fields={"date": [_("No accounting period covers this date.")]},
            )
        fiscal_year_ensure(company=company, year=on_date.year)
    closed = PeriodState.CLOSED in (period.state, period.fiscal_year.state)
    if closed and not allow_closed:
        raise _period_closed(on_date)
    return _PeriodRef(pk=period.pk, fiscal_year_id=period.fiscal_year_id, year=period.fiscal_year.start_date.year)


def _balances_add(company_id: int, period_id: int, totals: dict[int, tuple[Decimal, Decimal]]) -> None:
    """Add debits and credits per account to the period's balance rows: the rows are locked in
    primary-key order (PostgreSQL), then one UPDATE with a CASE per column changes them all."""
    account_ids = sorted(totals)
    locked = list(
        AccountBalance.objects.select_for_update()
        .filter(period_id=period_id, account_id__in=account_ids)
        .order_by("pk")
        .values_list("account_id", flat=True)
    )
    if len(locked) != len(account_ids):
        # An account's first posting in the period: make its zero row (insert-or-ignore, so a
        # concurrent first posting cannot collide), then lock the rows in key order.
        _balance_rows_create(company_id, account_ids=sorted(set(account_ids) - set(locked)), period_ids=[period_id])
        list(
            AccountBalance.objects.select_for_update()
            .filter(period_id=period_id, account_id__in=account_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )

    def money(value: Decimal) -> Value:
        return Value(value, output_field=MoneyField())

    def case(index: int) -> Case:
        whens = [When(account_id=a, then=money(totals[a][index])) for a in account_ids]
        return Case(*whens, default=money(ZERO), output_field=MoneyField())

    AccountBalance.objects.filter(period_id=period_id, account_id__in=account_ids).update(
        debit=F("debit") + case(0), credit=F("credit") + case(1)
    )


# --- checking lines ---------------------------------------------------------------------------


@dataclass
class _Checked:
    lines: list[LineSpec]
    reconcilable: set[int] = field(default_factory=set)
    total_debit: Decimal = ZERO
    total_credit: Decimal = ZERO


def _amount(value, problems: list[str], n: int, name: str) -> Decimal:
    try:
        return decimal_in(value if value is not None else 0, name, places=2, minimum=Decimal(0), maximum=AMOUNT_MAX)
    except ValidationFailed as exc:
        detail = next(iter(exc.fields.values()))[0]
        problems.append(_("Line %(n)d, %(field)s: %(problem)s") % {"n": n, "field": name, "problem": detail})
        return ZERO


def _text(value, max_length: int, problems: list[str], n: int, name: str) -> str:
    try:
        return text_in(value, name, max_length)
    except ValidationFailed as exc:
        detail = next(iter(exc.fields.values()))[0]
        problems.append(_("Line %(n)d, %(field)s: %(problem)s") % {"n": n, "field": name, "problem": detail})
        return ""


def _lines_parse(lines: Sequence[LineSpec]) -> tuple[list[LineSpec], list[str]]:
    """Each line's own checks (no database): amounts, one side only, texts, currency."""
    problems: list[str] = []
    parsed: list[LineSpec] = []
    for n, spec in enumerate(lines, start=1):
        if isinstance(spec, Mapping):
            spec = line_specs_from([spec])[0]
        debit = _amount(spec.debit, problems, n, "debit")
        credit = _amount(spec.credit, problems, n, "credit")
        if debit and credit:
            problems.append(_("Line %(n)d: enter a debit or a credit, not both.") % {"n": n})
        elif not debit and not credit:
            problems.append(_("Line %(n)d: enter a debit or a credit.") % {"n": n})
        account_id = valid_id(spec.account_id)
        if account_id is None:
            problems.append(_("Line %(n)d: choose an account.") % {"n": n})
        party_id = None
        if spec.party_id not in (None, ""):
            party_id = valid_id(spec.party_id)
            if party_id is None:
                problems.append(_("Line %(n)d: no such customer or supplier.") % {"n": n})
        due_date = None
        try:
            due_date = date_in(spec.due_date, "due_date")
        except ValidationFailed:
            problems.append(_("Line %(n)d: enter the due date as YYYY-MM-DD.") % {"n": n})
        currency = spec.currency or ""
        amount_currency = None
        if currency and currency not in Currency.values:
            problems.append(_("Line %(n)d: unknown currency.") % {"n": n})
        if spec.amount_currency is not None:
            try:
                amount_currency = decimal_in(spec.amount_currency, "amount_currency", places=2)
                if abs(amount_currency) > AMOUNT_MAX:
                    raise ValidationFailed("")
            except ValidationFailed:
                problems.append(_("Line %(n)d: the amount in currency is not valid.") % {"n": n})
            if not currency:
                problems.append(_("Line %(n)d: name the currency of the amount in currency.") % {"n": n})
        parsed.append(
            LineSpec(
                account_id=account_id or 0,
                debit=debit,
                credit=credit,
                party_id=party_id,
                description=_text(spec.description, 200, problems, n, "description"),
                due_date=due_date,
                reference=_text(spec.reference, 100, problems, n, "reference"),
                currency=currency,
                amount_currency=amount_currency,
            )
        )
    return parsed, problems


def _lines_check(company: Company, lines: Sequence[LineSpec], *, balanced: bool = True) -> _Checked:
    """Every check of an entry's lines; ValidationFailed with fields={"lines": [...]} listing
    each problem. One query for the accounts, one more when lines name parties."""
    if isinstance(lines, str | bytes | Mapping) or not isinstance(lines, Sequence):
        raise ValidationFailed(_("The entry's lines are not valid."), fields={"lines": [_("Give a list of lines.")]})
    parsed, problems = _lines_parse(lines)
    if len(parsed) < (2 if balanced else 1):
        problems.append(_("An entry needs at least two lines.") if balanced else _("Add at least one line."))
    account_ids = {spec.account_id for spec in parsed if spec.account_id}
    accounts = {
        row["pk"]: row
        for row in Account.objects.filter(company=company, pk__in=account_ids).values("pk", "is_active", "reconcilable")
    }
    for n, spec in enumerate(parsed, start=1):
        account = accounts.get(spec.account_id)
        if spec.account_id and account is None:
            problems.append(_("Line %(n)d: the account is not one of this company's.") % {"n": n})
        elif account is not None and not account["is_active"]:
            problems.append(_("Line %(n)d: the account is inactive.") % {"n": n})
    party_ids = {spec.party_id for spec in parsed if spec.party_id}
    if party_ids:
        party_model = JournalLine._meta.get_field("party").related_model
        known = set(party_model.objects.filter(company=company, pk__in=party_ids).values_list("pk", flat=True))
        for n, spec in enumerate(parsed, start=1):
            if spec.party_id and spec.party_id not in known:
                problems.append(_("Line %(n)d: no such customer or supplier.") % {"n": n})
    checked = _Checked(
        lines=parsed,
        reconcilable={pk for pk, row in accounts.items() if row["reconcilable"]},
        total_debit=sum((s.debit for s in parsed), ZERO),
        total_credit=sum((s.credit for s in parsed), ZERO),
    )
    if problems:
        raise ValidationFailed(_("The entry's lines are not valid."), fields={"lines": problems})
    if balanced and checked.total_debit != checked.total_credit:
        message = _("The entry does not balance: debits %(debit)s, credits %(credit)s (difference %(diff)s).") % {
            "debit": checked.total_debit,
            "credit": checked.total_credit,
            "diff": checked.total_debit - checked.total_credit,
        }
        raise ValidationFailed(message, code="unbalanced", fields={"lines": [message]})
    return checked


def _header(*, date, reference, description, source_type="", source_id="") -> tuple[datetime.date, str, str, str, str]:
    errors: dict[str, list[str]] = {}
    values = {}
    for name, value, max_length in (
        ("reference", reference, 100),
        ("description", description, 200),
        ("source_type", source_type, 40),
        ("source_id", str(source_id if source_id is not None else ""), 64),
    ):
        try:
            values[name] = text_in(value, name, max_length)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    on_date = None
    try:
        on_date = date_in(date, "date")
        if on_date is None:
            errors["date"] = [_("This field is required.")]
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
    return on_date, values["reference"], values["description"], values["source_type"], values["source_id"]


# --- posting ----------------------------------------------------------------------------------


def _line_rows(company_id, entry: JournalEntry, period: _PeriodRef, checked: _Checked, posted: bool):
    return [
        JournalLine(
            company_id=company_id,
            entry=entry,
            position=n,
            account_id=spec.account_id,
            date=entry.date,
            period_id=period.pk,
            posted=posted,
            party_id=spec.party_id,
            description=spec.description,
            debit=spec.debit,
            credit=spec.credit,
            currency=spec.currency,
            amount_currency=spec.amount_currency,
            due_date=spec.due_date,
            reference=spec.reference,
            residual=spec.debit - spec.credit if posted and spec.account_id in checked.reconcilable else ZERO,
        )
        for n, spec in enumerate(checked.lines, start=1)
    ]


def _post(
    *,
    actor: Actor | None,
    company: Company,
    journal: Journal,
    on_date: datetime.date,
    checked: _Checked,
    reference: str,
    description: str,
    source_type: str = "",
    source_id: str = "",
    reversal_of_id: int | None = None,
    draft: JournalEntry | None = None,
    allow_closed: bool = False,
) -> tuple[JournalEntry, list[JournalLine]]:
    """The one code path that posts: number, entry, lines and balances. The caller checked the
    lines (`_lines_check`) and holds the transaction."""
    period = _period_for(company, on_date, allow_closed=allow_closed)
    number = sequence_next(company=company, series=f"ledger.journal.{journal.pk}", year=period.year)
    user, now = _user(actor), timezone.now()
    values = dict(
        company=company,
        journal=journal,
        period_id=period.pk,
        number=f"{journal.code}/{period.year}/{number:06d}",
        date=on_date,
        state=EntryState.POSTED,
        reference=reference,
        description=description,
        source_type=source_type,
        source_id=source_id,
        reversal_of_id=reversal_of_id,
        total=checked.total_debit,
        posted_at=now,
        posted_by=user,
    )
    if draft is None:
        entry = JournalEntry.objects.create(created_by=user, **values)
    else:
        entry = draft
        for name, value in values.items():
            setattr(entry, name, value)
        entry.save(update_fields=list(values))
        JournalLine.objects.filter(entry=entry).delete()
    lines = JournalLine.objects.bulk_create(_line_rows(company.pk, entry, period, checked, posted=True))
    totals: dict[int, tuple[Decimal, Decimal]] = {}
    for spec in checked.lines:
        debit, credit = totals.get(spec.account_id, (ZERO, ZERO))
        totals[spec.account_id] = (debit + spec.debit, credit + spec.credit)
    _balances_add(company.pk, period.pk, totals)
    return entry, lines


def entry_post(
    *,
    actor: Actor | None,
    company: Company,
    journal_kind: str,
    date: datetime.date,
    lines: Sequence[LineSpec],
    reference: str = "",
    description: str = "",
    source_type: str = "",
    source_id="",
) -> JournalEntry:
    """Post a balanced entry in the company's journal of `journal_kind`, numbered gap-free per
    journal and fiscal year ("VEN/2026/000042"); the balances of its accounts change with it.

    ValidationFailed (nothing written) when the lines do not balance exactly or a line is
    wrong; Conflict "period_closed" for a date in a closed period. Opens the date's calendar
    year when it has no fiscal year. A fixed number of queries whatever the number of lines:
    8 once the year and the journal's counter exist (+1 when lines name parties).
    """
    if journal_kind not in JournalKind.values:
        raise ValidationFailed(_("Unknown journal."), fields={"journal_kind": [_("Unknown journal.")]})
    on_date, reference, description, source_type, source_id = _header(
        date=date, reference=reference, description=description, source_type=source_type, source_id=source_id
    )

    def post() -> JournalEntry:
        checked = _lines_check(company, lines)
        journal = journal_for(company.pk, journal_kind)
        entry, _lines = _post(
            actor=actor,
            company=company,
            journal=journal,
            on_date=on_date,
            checked=checked,
            reference=reference,
            description=description,
            source_type=source_type,
            source_id=source_id,
        )
        return entry

    # Inside the caller's transaction (an invoice's posting) no savepoint is taken: every
    # refusal is raised before the first write, so the caller's transaction stays usable, and
    # the hot path saves two round trips.
    if transaction.get_connection().in_atomic_block:
        return post()
    with transaction.atomic():
        return post()


# --- reversal ---------------------------------------------------------------------------------


def _reverse(actor: Actor | None, entry: JournalEntry, on_date, reason: str) -> JournalEntry:
    if entry.state != EntryState.POSTED:
        raise Conflict(_("Only posted entries can be reversed; delete the draft instead."), code="entry_not_posted")
    if entry.reversal_of_id is not None or JournalEntry.objects.filter(reversal_of=entry).exists():
        raise Conflict(
            _("Entry %(number)s is already reversed or is itself a reversal.") % {"number": entry.number},
            code="already_reversed",
        )
    originals = list(JournalLine.objects.filter(entry=entry).order_by("position"))
    line_ids = [line.pk for line in originals]
    if Reconciliation.objects.filter(Q(debit_line_id__in=line_ids) | Q(credit_line_id__in=line_ids)).exists():
        raise Conflict(
            _("Entry %(number)s has matched open items (payments); undo the matching first.")
            % {"number": entry.number},
            code="entry_reconciled",
        )
    reason = text_in(reason, "reason", 150, required=True)
    if on_date is None:
        period = Period.objects.select_related("fiscal_year").get(pk=entry.period_id)
        is_open = period.state == PeriodState.OPEN and period.fiscal_year.state == PeriodState.OPEN
        on_date = entry.date if is_open else timezone.localdate()
    else:
        on_date = date_in(on_date, "date")
    specs = [
        LineSpec(
            account_id=line.account_id,
            debit=line.credit,
            credit=line.debit,
            party_id=line.party_id,
            description=line.description,
            due_date=line.due_date,
            reference=line.reference,
            currency=line.currency,
            amount_currency=-line.amount_currency if line.amount_currency is not None else None,
        )
        for line in originals
    ]
    reconcilable = set(
        Account.objects.filter(pk__in={line.account_id for line in originals}, reconcilable=True).values_list(
            "pk", flat=True
        )
    )
    checked = _Checked(lines=specs, reconcilable=reconcilable, total_debit=entry.total, total_credit=entry.total)
    journal = Journal.objects.get(pk=entry.journal_id)
    try:
        with transaction.atomic():
            reversal, lines = _post(
                actor=actor,
                company=entry.company,
                journal=journal,
                on_date=on_date,
                checked=checked,
                reference=entry.number,
                description=(_("Reversal of %(number)s: %(reason)s") % {"number": entry.number, "reason": reason})[
                    :200
                ],
                source_type=REVERSAL_SOURCE,
                source_id=str(entry.pk),
                reversal_of_id=entry.pk,
            )
    except IntegrityError:  # a concurrent reversal took the one-to-one first
        raise Conflict(_("Entry %(number)s is already reversed.") % {"number": entry.number}, code="already_reversed")
    # The reversal settles the original's open items: match each with its mirror line so
    # neither stays open.
    matches = []
    for original, mirror in zip(originals, lines, strict=True):
        if original.residual > 0:
            matches.append(
                Reconciliation(
                    company_id=entry.company_id,
                    debit_line=original,
                    credit_line=mirror,
                    amount=original.residual,
                    created_by=_user(actor),
                )
            )
        elif original.residual < 0:
            matches.append(
                Reconciliation(
                    company_id=entry.company_id,
                    debit_line=mirror,
                    credit_line=original,
                    amount=-original.residual,
                    created_by=_user(actor),
                )
            )
    if matches:
        settled = [m.debit_line.pk for m in matches] + [m.credit_line.pk for m in matches]
        JournalLine.objects.filter(pk__in=settled).update(residual=0)
        Reconciliation.objects.bulk_create(matches)
    audit_record(
        actor=actor,
        company=entry.company,
        obj=entry,
        action="journalentry.reverse",
        after={"reversal": reversal.number, "date": on_date, "reason": reason},
    )
    return reversal


def _entry_locked(company, entry_id) -> JournalEntry:
    pk = valid_id(entry_id)
    entry = (
        JournalEntry.objects.select_for_update().select_related("company").filter(company=company, pk=pk).first()
        if pk
        else None
    )
    if entry is None:
        raise NotFound(_("No such journal entry."))
    return entry


@transaction.atomic
def entry_reverse(*, actor: Actor, entry_id, date=None, reason: str) -> JournalEntry:
    """Post the mirror of a posted entry (debits and credits swapped) and link it to it.

    Dated `date`, by default the original's date when its period is still open, else today.
    Refused when the entry is already reversed or its open items were matched. Needs
    ledger.post; documents that undo their own posting use entry_reverse_for_source.
    """
    require(actor, "ledger.post")
    return _reverse(actor, _entry_locked(actor.company, entry_id), date, reason)


@transaction.atomic
def entry_reverse_for_source(
    *, actor: Actor | None, company: Company, source_type: str, source_id, date=None, reason: str
) -> JournalEntry:
    """Reverse the entry a document posted (a cancelled invoice, say). Like entry_post it
    checks no permission: the document's own service did."""
    entry = (
        JournalEntry.objects.select_for_update()
        .select_related("company")
        .filter(
            company=company,
            source_type=source_type,
            source_id=str(source_id),
            state=EntryState.POSTED,
            reversal_of__isnull=True,
        )
        .order_by("-pk")
        .first()
    )
    if entry is None:
        raise NotFound(_("No such journal entry."))
    return _reverse(actor, entry, date, reason)


# --- open items -------------------------------------------------------------------------------


def _money_case(amounts: dict[int, Decimal]) -> Case:
    return Case(
        *[When(pk=pk, then=Value(a, output_field=MoneyField())) for pk, a in amounts.items()],
        default=Value(ZERO, output_field=MoneyField()),
        output_field=MoneyField(),
    )


@transaction.atomic
def reconcile(
    *, actor: Actor | None, company: Company, pairs: Sequence[tuple[int, int, Decimal]]
) -> list[Reconciliation]:
    """Match amounts between debit open items and credit open items: each pair is (debit line
    id, credit line id, amount), same account and same party. Guarded updates (`residual >=
    amount`) mean concurrent matches cannot take more than is open: Conflict and nothing
    written otherwise. No permission check: payment and collection services call it."""
    problems: list[str] = []
    wanted: list[tuple[int, int, Decimal]] = []
    for n, pair in enumerate(pairs, start=1):
        try:
            debit_id, credit_id, amount = pair
            amount = decimal_in(amount, "amount", places=2, minimum=ZERO, strict_min=True, maximum=AMOUNT_MAX)
        except (TypeError, ValueError, ValidationFailed):
            problems.append(_("Match %(n)d: give a debit line, a credit line and a positive amount.") % {"n": n})
            continue
        debit_id, credit_id = valid_id(debit_id), valid_id(credit_id)
        if not debit_id or not credit_id or debit_id == credit_id:
            problems.append(_("Match %(n)d: give a debit line, a credit line and a positive amount.") % {"n": n})
            continue
        wanted.append((debit_id, credit_id, amount))
    if not wanted and not problems:
        problems.append(_("Nothing to match."))
    if problems:
        raise ValidationFailed(_("The matches are not valid."), fields={"pairs": problems})
    ids = {i for d, c, _a in wanted for i in (d, c)}
    lines = {
        row["pk"]: row
        for row in JournalLine.objects.filter(company=company, pk__in=ids, posted=True).values(
            "pk", "account_id", "party_id", "residual", "account__reconcilable"
        )
    }
    take_debit: dict[int, Decimal] = {}
    take_credit: dict[int, Decimal] = {}
    for n, (debit_id, credit_id, amount) in enumerate(wanted, start=1):
        debit, credit = lines.get(debit_id), lines.get(credit_id)
        if debit is None or credit is None:
            problems.append(_("Match %(n)d: no such posted line.") % {"n": n})
        elif debit["account_id"] != credit["account_id"] or not debit["account__reconcilable"]:
            problems.append(_("Match %(n)d: both lines must be open items of the same account.") % {"n": n})
        elif debit["party_id"] != credit["party_id"]:
            problems.append(_("Match %(n)d: both lines must be of the same customer or supplier.") % {"n": n})
        elif debit["residual"] <= 0 or credit["residual"] >= 0:
            problems.append(
                _("Match %(n)d: the first line must be an open debit and the second an open credit.") % {"n": n}
            )
        else:
            take_debit[debit_id] = take_debit.get(debit_id, ZERO) + amount
            take_credit[credit_id] = take_credit.get(credit_id, ZERO) + amount
    if problems:
        raise ValidationFailed(_("The matches are not valid."), fields={"pairs": problems})
    over = [pk for pk, a in take_debit.items() if a > lines[pk]["residual"]]
    over += [pk for pk, a in take_credit.items() if a > -lines[pk]["residual"]]
    if over:
        raise _over_matched()
    done = JournalLine.objects.filter(pk__in=take_debit, residual__gte=_money_case(take_debit)).update(
        residual=F("residual") - _money_case(take_debit)
    )
    minus_credit = {pk: -a for pk, a in take_credit.items()}
    done += JournalLine.objects.filter(pk__in=take_credit, residual__lte=_money_case(minus_credit)).update(
        residual=F("residual") + _money_case(take_credit)
    )
    if done != len(take_debit) + len(take_credit):
        # Another match took part of an open amount since we read it; the transaction rolls back.
        raise _over_matched()
    user = _user(actor)
    matches = Reconciliation.objects.bulk_create(
        [
            Reconciliation(company=company, debit_line_id=d, credit_line_id=c, amount=a, created_by=user)
            for d, c, a in wanted
        ]
    )
    audit_record(
        actor=actor,
        company=company,
        object_type="ledger.reconciliation",
        object_id=",".join(str(m.pk) for m in matches),
        action="reconciliation.create",
        after={"pairs": [f"{d}/{c} {a}" for d, c, a in wanted]},
    )
    return matches


def _over_matched() -> Conflict:
    return Conflict(
        _("The amount to match is more than what is still open on a line."),
        code="over_reconciled",
        fields={"pairs": [_("The amount to match is more than what is still open on a line.")]},
    )


@transaction.atomic
def unreconcile(*, actor: Actor, reconciliation_ids) -> None:
    """Undo matches: their amounts are open again on both lines. Scoped to the actor's company."""
    ids = [valid_id(i) for i in reconciliation_ids]
    if not ids or any(i is None for i in ids):
        raise NotFound(_("No such match."))
    company = actor.company
    matches = list(Reconciliation.objects.select_for_update().filter(company=company, pk__in=ids).order_by("pk"))
    if len(matches) != len(set(ids)):
        raise NotFound(_("No such match."))
    give_debit: dict[int, Decimal] = {}
    give_credit: dict[int, Decimal] = {}
    for m in matches:
        give_debit[m.debit_line_id] = give_debit.get(m.debit_line_id, ZERO) + m.amount
        give_credit[m.credit_line_id] = give_credit.get(m.credit_line_id, ZERO) + m.amount
    JournalLine.objects.filter(pk__in=give_debit).update(residual=F("residual") + _money_case(give_debit))
    JournalLine.objects.filter(pk__in=give_credit).update(residual=F("residual") - _money_case(give_credit))
    Reconciliation.objects.filter(pk__in=[m.pk for m in matches]).delete()
    audit_record(
        actor=actor,
        company=company,
        object_type="ledger.reconciliation",
        object_id=",".join(str(m.pk) for m in matches),
        action="reconciliation.delete",
        before={"pairs": [f"{m.debit_line_id}/{m.credit_line_id} {m.amount}" for m in matches]},
    )


# --- periods and year-end ---------------------------------------------------------------------


def _period_locked(actor: Actor, period_id) -> Period:
    pk = valid_id(period_id)
    period = (
        Period.objects.select_for_update(of=("self",))
        .select_related("fiscal_year")
        .filter(company=actor.company, pk=pk)
        .first()
        if pk
        else None
    )
    if period is None:
        raise NotFound(_("No such period."))
    return period


@transaction.atomic
def period_close(*, actor: Actor, period_id) -> Period:
    """Close a period: no entry can be posted on its dates until it is reopened."""
    require(actor, "ledger.close")
    period = _period_locked(actor, period_id)
    if period.state == PeriodState.CLOSED:
        raise Conflict(_("The period %(code)s is already closed.") % {"code": period.code}, code="period_closed")
    period.state, period.closed_at, period.closed_by = PeriodState.CLOSED, timezone.now(), _user(actor)
    period.save(update_fields=["state", "closed_at", "closed_by"])
    audit_record(
        actor=actor,
        company=actor.company,
        obj=period,
        action="period.close",
        before={"state": "open"},
        after={"state": "closed"},
    )
    return period


@transaction.atomic
def period_reopen(*, actor: Actor, period_id) -> Period:
    """Reopen a closed period of an open fiscal year."""
    require(actor, "ledger.close")
    period = _period_locked(actor, period_id)
    if period.fiscal_year.state == PeriodState.CLOSED:
        raise Conflict(
            _("The fiscal year %(year)s is closed: its periods cannot be reopened.")
            % {"year": period.fiscal_year.name},
            code="fiscal_year_closed",
        )
    if period.state == PeriodState.OPEN:
        raise Conflict(_("The period %(code)s is already open.") % {"code": period.code}, code="period_open")
    period.state, period.closed_at, period.closed_by = PeriodState.OPEN, None, None
    period.save(update_fields=["state", "closed_at", "closed_by"])
    audit_record(
        actor=actor,
        company=actor.company,
        obj=period,
        action="period.reopen",
        before={"state": "closed"},
        after={"state": "open"},
    )
    return period


def closing_lines(company_id: int, fiscal_year: FiscalYear, retained_earnings_id: int) -> list[LineSpec]:
    """The lines that bring every income and expense account of the year to zero against
    retained earnings (a profit is credited to it, a loss debited)."""
    sums = (
        AccountBalance.objects.filter(
            company_id=company_id, period__fiscal_year=fiscal_year, account__kind__in=PROFIT_AND_LOSS_KINDS
        )
        .values("account_id", "account__code")
        .annotate(debit=Sum("debit"), credit=Sum("credit"))
        .order_by("account__code")
    )
    lines: list[LineSpec] = []
    for row in sums:
        net = (row["debit"] or ZERO) - (row["credit"] or ZERO)
        if net > 0:
            lines.append(LineSpec(account_id=row["account_id"], credit=net))
        elif net < 0:
            lines.append(LineSpec(account_id=row["account_id"], debit=-net))
    profit = sum((s.debit for s in lines), ZERO) - sum((s.credit for s in lines), ZERO)
    if profit > 0:
        lines.append(LineSpec(account_id=retained_earnings_id, credit=profit))
    elif profit < 0:
        lines.append(LineSpec(account_id=retained_earnings_id, debit=-profit))
    return lines


@transaction.atomic
def fiscal_year_close(*, actor: Actor, fiscal_year_id) -> FiscalYear:
    """Year-end: post the closing entry (dated the year's last day, general journal) that
    zeroes the year's income and expense accounts against retained earnings, close every
    period and the year, and open the next year if it is missing."""
    require(actor, "ledger.close")
    company = actor.company
    pk = valid_id(fiscal_year_id)
    fiscal_year = FiscalYear.objects.select_for_update().filter(company=company, pk=pk).first() if pk else None
    if fiscal_year is None:
        raise NotFound(_("No such fiscal year."))
    if fiscal_year.state == PeriodState.CLOSED:
        raise Conflict(
            _("The fiscal year %(year)s is already closed.") % {"year": fiscal_year.name}, code="fiscal_year_closed"
        )
    if JournalEntry.objects.filter(
        company=company, state=EntryState.DRAFT, date__gte=fiscal_year.start_date, date__lte=fiscal_year.end_date
    ).exists():
        raise Conflict(
            _("The fiscal year has draft entries: post or delete them first."), code="fiscal_year_has_drafts"
        )
    list(Period.objects.select_for_update().filter(fiscal_year=fiscal_year).order_by("pk").values_list("pk"))
    retained = Account.objects.filter(company=company, role=AccountRole.RETAINED_EARNINGS).first()
    if retained is None:
        raise Conflict(_("No account holds the retained earnings role."), code="no_retained_earnings")
    lines = closing_lines(company.pk, fiscal_year, retained.pk)
    closing = None
    if lines:
        # Inactive income or expense accounts must still be zeroed, so the lines skip the
        # active-account check that manual postings get.
        checked = _Checked(
            lines=lines,
            total_debit=sum((s.debit for s in lines), ZERO),
            total_credit=sum((s.credit for s in lines), ZERO),
        )
        closing, _lines = _post(
            actor=actor,
            company=company,
            journal=journal_for(company.pk, JournalKind.GENERAL),
            on_date=fiscal_year.end_date,
            checked=checked,
            reference=fiscal_year.name,
            description=_("Year-end closing %(year)s") % {"year": fiscal_year.name},
            source_type=CLOSING_SOURCE,
            source_id=str(fiscal_year.pk),
            allow_closed=True,
        )
    now, user = timezone.now(), _user(actor)
    Period.objects.filter(fiscal_year=fiscal_year, state=PeriodState.OPEN).update(
        state=PeriodState.CLOSED, closed_at=now, closed_by=user
    )
    fiscal_year.state, fiscal_year.closed_at, fiscal_year.closed_by = PeriodState.CLOSED, now, user
    fiscal_year.save(update_fields=["state", "closed_at", "closed_by"])
    fiscal_year_ensure(company=company, year=fiscal_year.end_date.year + 1)
    audit_record(
        actor=actor,
        company=company,
        obj=fiscal_year,
        action="fiscalyear.close",
        before={"state": "open"},
        after={"state": "closed", "closing_entry": closing.number if closing else ""},
    )
    return fiscal_year


# --- exchange rates ---------------------------------------------------------------------------


@transaction.atomic
def rate_set(*, actor: Actor, company: Company, currency: str, date, rate) -> ExchangeRate:
    """Record how many units of the base currency one unit of `currency` is worth from `date`."""
    require(actor, "ledger.post")
    if company.pk != actor.company.pk:
        raise NotFound(_("No such company."))
    errors: dict[str, list[str]] = {}
    if currency not in Currency.values:
        errors["currency"] = [_("Unknown currency.")]
    elif currency == company.base_currency:
        errors["currency"] = [_("The base currency needs no rate.")]
    on_date = None
    try:
        on_date = date_in(date, "date")
        if on_date is None:
            errors["date"] = [_("This field is required.")]
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        rate = decimal_in(
            rate, "rate", places=RATE_SCALE, minimum=Decimal(0), strict_min=True, maximum=Decimal(1_000_000)
        )
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
    existing = ExchangeRate.objects.select_for_update().filter(company=company, currency=currency, date=on_date).first()
    before = {"rate": existing.rate} if existing else None
    if existing is None:
        row = ExchangeRate.objects.create(company=company, currency=currency, date=on_date, rate=rate)
    else:
        row = existing
        row.rate = rate
        row.save(update_fields=["rate"])
    audit_record(
        actor=actor,
        company=company,
        obj=row,
        action="exchangerate.update" if existing else "exchangerate.create",
        before=before,
        after={"currency": currency, "date": on_date, "rate": rate},
    )
    return row


def rate_for(company_id: int, currency: str, on_date: datetime.date) -> Decimal:
    """The latest rate of `currency` on or before `on_date` (1 for the base currency)."""
    rate = (
        ExchangeRate.objects.filter(company_id=company_id, currency=currency, date__lte=on_date)
        .order_by("-date")
        .values_list("rate", flat=True)
        .first()
    )
    if rate is not None:
        return rate
    if Company.objects.filter(pk=company_id, base_currency=currency).exists():
        return Decimal(1)
    raise NotFound(
        _("No exchange rate of %(currency)s on or before %(date)s: record one first.")
        % {"currency": currency, "date": on_date.isoformat()},
        code="no_exchange_rate",
    )


def exchange_difference(amount_currency: Decimal, rate_booked: Decimal, rate_paid: Decimal) -> Decimal:
    """What a foreign amount gained (+) or lost (−) in base currency between the rate it was
    booked at and the rate it was settled at, rounded half-up to cents. Positive is a gain for a
    receivable (the customer's money is worth more than booked)."""
    return round_money(Decimal(amount_currency) * (Decimal(rate_paid) - Decimal(rate_booked)))


# --- manual entries ---------------------------------------------------------------------------


def _manual_journal(actor: Actor, journal_id) -> Journal:
    pk = valid_id(journal_id)
    journal = Journal.objects.filter(company=actor.company, pk=pk).first() if pk else None
    if journal is None:
        raise ValidationFailed(_("Check the highlighted fields."), fields={"journal": [_("Choose a journal.")]})
    return journal


def _draft_locked(actor: Actor, entry_id) -> JournalEntry:
    entry = _entry_locked(actor.company, entry_id)
    if entry.state != EntryState.DRAFT:
        raise Conflict(
            _("Entry %(number)s is posted: it cannot be changed; reverse it instead.") % {"number": entry.number},
            code="entry_posted",
        )
    return entry


def _draft_snapshot(entry: JournalEntry, checked: _Checked) -> dict:
    return {
        "journal": entry.journal_id,
        "date": entry.date,
        "reference": entry.reference,
        "description": entry.description,
        "lines": [f"{s.account_id} {s.debit} {s.credit}" for s in checked.lines],
    }


@transaction.atomic
def entry_draft_create(
    *,
    actor: Actor,
    company: Company,
    journal_id,
    date,
    reference: str = "",
    description: str = "",
    lines,
    post: bool = False,
) -> JournalEntry:
    """A manual entry kept as a draft: lines are checked one by one but need not balance yet.
    With `post` it is posted at once (entry_draft_post's rules; nothing is kept if refused)."""
    require(actor, "ledger.post")
    if company.pk != actor.company.pk:
        raise NotFound(_("No such company."))
    on_date, reference, description, _st, _si = _header(date=date, reference=reference, description=description)
    journal = _manual_journal(actor, journal_id)
    checked = _lines_check(company, lines, balanced=False)
    period = _period_for(company, on_date)
    entry = JournalEntry.objects.create(
        company=company,
        journal=journal,
        period_id=period.pk,
        date=on_date,
        reference=reference,
        description=description,
        total=checked.total_debit,
        created_by=_user(actor),
    )
    JournalLine.objects.bulk_create(_line_rows(company.pk, entry, period, checked, posted=False))
    audit_record(
        actor=actor, company=company, obj=entry, action="journalentry.create", after=_draft_snapshot(entry, checked)
    )
    if post:
        return _draft_post(actor, entry)
    return entry


@transaction.atomic
def entry_draft_update(
    *, actor: Actor, entry_id, journal_id, date, reference: str = "", description: str = "", lines
) -> JournalEntry:
    """Replace a draft's header and lines."""
    require(actor, "ledger.post")
    entry = _draft_locked(actor, entry_id)
    on_date, reference, description, _st, _si = _header(date=date, reference=reference, description=description)
    journal = _manual_journal(actor, journal_id)
    checked = _lines_check(actor.company, lines, balanced=False)
    period = _period_for(actor.company, on_date)
    before = {
        "journal": entry.journal_id,
        "date": entry.date,
        "reference": entry.reference,
        "description": entry.description,
        "total": entry.total,
    }
    entry.journal, entry.period_id, entry.date = journal, period.pk, on_date
    entry.reference, entry.description, entry.total = reference, description, checked.total_debit
    entry.save(update_fields=["journal", "period", "date", "reference", "description", "total"])
    JournalLine.objects.filter(entry=entry).delete()
    JournalLine.objects.bulk_create(_line_rows(actor.company.pk, entry, period, checked, posted=False))
    audit_record(
        actor=actor,
        company=actor.company,
        obj=entry,
        action="journalentry.update",
        before=before,
        after=_draft_snapshot(entry, checked),
    )
    return entry


@transaction.atomic
def entry_draft_delete(*, actor: Actor, entry_id) -> None:
    """Delete a draft entry; posted entries are never deleted."""
    require(actor, "ledger.post")
    entry = _draft_locked(actor, entry_id)
    audit_record(
        actor=actor,
        company=actor.company,
        obj=entry,
        action="journalentry.delete",
        before={"date": entry.date, "reference": entry.reference, "total": entry.total},
    )
    JournalLine.objects.filter(entry=entry).delete()
    entry.delete()


@transaction.atomic
def entry_draft_post(*, actor: Actor, entry_id) -> JournalEntry:
    """Post a draft through the same path as entry_post: it must balance and its date's
    period must be open."""
    require(actor, "ledger.post")
    return _draft_post(actor, _draft_locked(actor, entry_id))


def _draft_post(actor: Actor, entry: JournalEntry) -> JournalEntry:
    specs = [
        LineSpec(
            account_id=line.account_id,
            debit=line.debit,
            credit=line.credit,
            party_id=line.party_id,
            description=line.description,
            due_date=line.due_date,
            reference=line.reference,
            currency=line.currency,
            amount_currency=line.amount_currency,
        )
        for line in JournalLine.objects.filter(entry=entry).order_by("position")
    ]
    checked = _lines_check(actor.company, specs)
    journal = Journal.objects.get(pk=entry.journal_id)
    entry, _lines = _post(
        actor=actor,
        company=actor.company,
        journal=journal,
        on_date=entry.date,
        checked=checked,
        reference=entry.reference,
        description=entry.description,
        draft=entry,
    )
    audit_record(
        actor=actor,
        company=actor.company,
        obj=entry,
        action="journalentry.post",
        before={"state": "draft"},
        after={"state": "posted", "number": entry.number, "total": entry.total},
    )
    return entry


def line_specs_from(rows: Sequence[Mapping]) -> list[LineSpec]:
    """LineSpecs from dicts of the same keys (the API's and the form's rows)."""
    names = set(LineSpec.__dataclass_fields__)
    return [replace(LineSpec(account_id=None), **{k: v for k, v in row.items() if k in names}) for row in rows]
