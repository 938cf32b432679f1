"""The financial reports: trial balance, profit and loss, balance sheet, general ledger, journal,
and the open balances of customers and suppliers.

Pure selectors: they take a company and period codes ("2026-03"), check no permission (the
views and the API require `ledger.view`) and return dataclasses of exact Decimals. The trial
balance, profit and loss and balance sheet read the balances kept per account and period
(AccountBalance), never the journal lines, so their cost and query count do not grow with the
ledger; the general ledger and the journal read lines a page at a time through keyset cursors.

Signs: balances are debit-positive (debit minus credit) in the trial balance and the general
ledger. Statements show each section in its natural sign: assets and expenses debit-positive,
liabilities, equity and income credit-positive.

Opening balances (the rule every report here follows):
- balance-sheet accounts (assets, liabilities, equity) open with everything posted before the
  range, since the books began;
- income and expense accounts open with what was posted since the start of the fiscal year of
  the range's first period. The year-end closing moves their balances into equity, so after a
  closing the two rules agree; a year not yet closed still carries its result in its income and
  expense accounts, and the reports show that result of previous years on its own line
  ("result of previous years not closed") instead of in the accounts, so that every report
  still balances.

The year-end closing entry itself counts in the trial balance (it is a posting like any other)
but not in profit and loss, whose figures would otherwise be zero for any range that includes
the closing.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core import signing
from django.db.models import BigIntegerField, Count, ExpressionWrapper, F, Max, Min, Q, Subquery, Sum
from django.db.models.functions import Abs
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retaguarda.common.errors import NotFound, ValidationFailed

from .choices import DEBIT_NATURED, PROFIT_AND_LOSS_KINDS, AccountKind, EntryState
from .models import Account, AccountBalance, Journal, JournalEntry, JournalLine, Period
from .services import CLOSING_SOURCE  # the source of year-end closing entries

ZERO = Decimal("0.00")
GENERAL_LEDGER_PAGE = 100
JOURNAL_PAGE = 50
EXPORT_CHUNK = 2000

PREVIOUS_RESULT_LABEL = gettext_lazy("Result of previous years not closed")
CURRENT_RESULT_LABEL = gettext_lazy("Result of the year")


# --- periods ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodRange:
    """Consecutive periods [first, last] of a company, and the start of the first one's fiscal year."""

    periods: tuple[Period, ...]
    year_start: dt.date

    @property
    def first(self) -> Period:
        return self.periods[0]

    @property
    def last(self) -> Period:
        return self.periods[-1]

    @property
    def start_date(self) -> dt.date:
        return self.first.start_date

    @property
    def end_date(self) -> dt.date:
        return self.last.end_date

    @property
    def period_ids(self) -> list[int]:
        return [p.pk for p in self.periods]

    @property
    def label(self) -> str:
        if len(self.periods) == 1:
            return self.first.code
        return f"{self.first.code} – {self.last.code}"

    @property
    def from_code(self) -> str:
        return self.first.code

    @property
    def to_code(self) -> str:
        return self.last.code


def company_periods(company) -> list[Period]:
    """Every period of the company in date order, with its fiscal year (one query)."""
    return list(Period.objects.filter(company=company).select_related("fiscal_year").order_by("start_date"))


def _index_of(periods: Sequence[Period], code, field_name: str) -> int:
    code = str(code or "").strip()
    for index, period in enumerate(periods):
        if period.code == code:
            return index
    raise ValidationFailed(
        _("Choose a period of the company's fiscal years."),
        fields={field_name: [_("No period %(code)s.") % {"code": code[:20] or "—"}]},
    )


def _range(periods: Sequence[Period], start: int, stop: int) -> PeriodRange:
    chosen = tuple(periods[start : stop + 1])
    return PeriodRange(periods=chosen, year_start=chosen[0].fiscal_year.start_date)


def period_range(periods: Sequence[Period], period_from, period_to) -> PeriodRange:
    """The range between two period codes (inclusive); ValidationFailed on an unknown code or
    a range that ends before it starts."""
    start = _index_of(periods, period_from, "from")
    stop = _index_of(periods, period_to, "to")
    if stop < start:
        raise ValidationFailed(
            _("The range ends before it starts."), fields={"to": [_("Choose a period after the first one.")]}
        )
    return _range(periods, start, stop)


def previous_range(periods: Sequence[Period], current: PeriodRange) -> PeriodRange | None:
    """The range of the same number of periods just before `current`; shorter when the books
    begin earlier than that, None when `current` starts with the first period."""
    start = next(i for i, p in enumerate(periods) if p.pk == current.first.pk)
    if start == 0:
        return None
    return _range(periods, max(0, start - len(current.periods)), start - 1)


def default_range(periods: Sequence[Period], today: dt.date) -> tuple[str, str]:
    """(from, to) codes the report pages open with: the current fiscal year up to today's period."""
    if not periods:
        return "", ""
    current = next((p for p in periods if p.start_date <= today <= p.end_date), None)
    if current is None:
        current = next((p for p in reversed(periods) if p.start_date <= today), periods[0])
    first = next(p for p in periods if p.fiscal_year_id == current.fiscal_year_id)
    return first.code, current.code


def _ranges(company, period_from, period_to, compare: bool, periods) -> tuple[PeriodRange, PeriodRange | None]:
    periods = company_periods(company) if periods is None else periods
    current = period_range(periods, period_from, period_to)
    return current, previous_range(periods, current) if compare else None


# --- balances read from AccountBalance -------------------------------------------------------------


def _accounts(company) -> dict[int, Account]:
    return {a.pk: a for a in Account.objects.filter(company=company).order_by("code")}


def _bucket_sums(queryset, buckets: dict[str, list[int]]) -> dict[int, dict[str, tuple[Decimal, Decimal]]]:
    """{account_id: {bucket: (debit, credit)}} of `queryset`'s rows summed over each bucket's
    periods, in one query; no query when no bucket has a period. The sums are read as the
    stored integers (cents) and made Decimals once, here."""
    wanted = sorted({pk for ids in buckets.values() for pk in ids})
    if not wanted:
        return {}
    annotations = {}
    for name, ids in buckets.items():
        condition = Q(period_id__in=ids) if ids else Q(pk__in=[])
        annotations[f"{name}__d"] = Sum("debit", filter=condition, output_field=BigIntegerField())
        annotations[f"{name}__c"] = Sum("credit", filter=condition, output_field=BigIntegerField())
    rows = queryset.filter(period_id__in=wanted).values_list("account_id").annotate(**annotations).order_by()
    names = list(buckets)
    result = {}
    for account_id, *values in rows:
        result[account_id] = {name: (_cents(values[2 * i]), _cents(values[2 * i + 1])) for i, name in enumerate(names)}
    return result


def _cents(value) -> Decimal:
    """A sum of a money column as stored (an integer count of cents, None for no rows)."""
    return Decimal(int(value or 0)).scaleb(-2)


def _sums(company, buckets: dict[str, list[int]]) -> dict[int, dict[str, tuple[Decimal, Decimal]]]:
    return _bucket_sums(AccountBalance.objects.filter(company=company), buckets)


def _sums_of(company, buckets: dict[str, list[int]], account_ids) -> dict[int, dict[str, tuple[Decimal, Decimal]]]:
    return _bucket_sums(AccountBalance.objects.filter(company=company, account_id__in=account_ids), buckets)


def _money(value) -> Decimal:
    """A sum as read back: the field's converter gives Decimals, a bare 0 default gives int."""
    return value.quantize(ZERO) if isinstance(value, Decimal) else Decimal(value or 0).quantize(ZERO)


def _net(pair: tuple[Decimal, Decimal]) -> Decimal:
    return pair[0] - pair[1]


def _before(periods: Sequence[Period], rng: PeriodRange) -> tuple[list[int], list[int]]:
    """Period ids before the range: all of them, and those of the range's fiscal year."""
    earlier = [p for p in periods if p.start_date < rng.start_date]
    return [p.pk for p in earlier], [p.pk for p in earlier if p.start_date >= rng.year_start]


def _closing_entry_ids(company, periods: Sequence[Period]) -> list[int]:
    """The posted year-end closing entries of the fiscal years of `periods`, found by their
    source (the fiscal year) on the entries' source index: one small query."""
    years = sorted({str(p.fiscal_year_id) for p in periods})
    return list(
        JournalEntry.objects.filter(
            company=company, source_type=CLOSING_SOURCE, source_id__in=years, state=EntryState.POSTED
        ).values_list("pk", flat=True)
    )


def _closing_sums(company, period_ids: dict[str, list[int]], periods) -> dict[int, dict[str, tuple[Decimal, Decimal]]]:
    """The year-end closing entries' postings per account and bucket: one query for the
    entries, and one for their lines only when there are any."""
    chosen = {pk for ids in period_ids.values() for pk in ids}
    entries = _closing_entry_ids(company, [p for p in periods if p.pk in chosen])
    if not entries:
        return {}
    return _bucket_sums(JournalLine.objects.filter(entry_id__in=entries), period_ids)


# --- trial balance --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrialFigures:
    opening: Decimal = ZERO
    debit: Decimal = ZERO
    credit: Decimal = ZERO

    @property
    def closing(self) -> Decimal:
        return self.opening + self.debit - self.credit

    @property
    def is_zero(self) -> bool:
        return not (self.opening or self.debit or self.credit)

    def __add__(self, other: TrialFigures) -> TrialFigures:
        return TrialFigures(self.opening + other.opening, self.debit + other.debit, self.credit + other.credit)


@dataclass(frozen=True)
class TrialBalanceRow:
    """One account (or, with no account, the result of previous years not closed)."""

    account_id: int | None
    code: str
    name: str
    kind: str
    current: TrialFigures
    previous: TrialFigures | None = None


@dataclass(frozen=True)
class TrialBalance:
    range: PeriodRange
    previous_range: PeriodRange | None
    rows: list[TrialBalanceRow]
    total: TrialFigures
    previous_total: TrialFigures | None

    @property
    def balanced(self) -> bool:
        totals = [self.total] + ([self.previous_total] if self.previous_total else [])
        return all(t.opening == 0 and t.debit == t.credit for t in totals)


def _trial_buckets(periods, rng: PeriodRange, prefix: str) -> dict[str, list[int]]:
    before_all, before_year = _before(periods, rng)
    return {f"{prefix}all": before_all, f"{prefix}year": before_year, f"{prefix}in": rng.period_ids}


def _trial_figures(sums: dict, kind: str, prefix: str) -> tuple[TrialFigures, Decimal]:
    """The account's figures, and what its opening leaves out (previous years' unclosed result)."""
    if not sums:
        return TrialFigures(), ZERO
    all_before, year_before = _net(sums[f"{prefix}all"]), _net(sums[f"{prefix}year"])
    debit, credit = sums[f"{prefix}in"]
    if kind in PROFIT_AND_LOSS_KINDS:
        return TrialFigures(year_before, debit, credit), all_before - year_before
    return TrialFigures(all_before, debit, credit), ZERO


def trial_balance(
    *, company, period_from, period_to, compare: bool = False, periods: Sequence[Period] | None = None
) -> TrialBalance:
    """Per account: opening balance, debits, credits and closing balance of the range (and of
    the previous range of the same length with `compare`). Accounts with nothing are left out.

    Three queries (periods, accounts, balances) whatever the size of the ledger; two when the
    caller passes the company's `periods` (company_periods()).
    """
    periods = company_periods(company) if periods is None else periods
    current, previous = _ranges(company, period_from, period_to, compare, periods)
    buckets = _trial_buckets(periods, current, "c_")
    if previous is not None:
        buckets.update(_trial_buckets(periods, previous, "p_"))
    accounts = _accounts(company)
    sums = _sums(company, buckets)
    rows: list[TrialBalanceRow] = []
    unclosed, unclosed_previous = ZERO, ZERO
    for account in accounts.values():
        account_sums = sums.get(account.pk, {})
        figures, left_out = _trial_figures(account_sums, account.kind, "c_")
        unclosed += left_out
        before = None
        if previous is not None:
            before, left_out = _trial_figures(account_sums, account.kind, "p_")
            unclosed_previous += left_out
        if figures.is_zero and (before is None or before.is_zero):
            continue
        rows.append(TrialBalanceRow(account.pk, account.code, account.name, account.kind, figures, before))
    if unclosed or unclosed_previous:
        rows.append(
            TrialBalanceRow(
                None,
                "",
                str(PREVIOUS_RESULT_LABEL),
                AccountKind.EQUITY,
                TrialFigures(opening=unclosed),
                TrialFigures(opening=unclosed_previous) if previous is not None else None,
            )
        )
    total = sum((r.current for r in rows), TrialFigures())
    previous_total = sum((r.previous for r in rows), TrialFigures()) if previous is not None else None
    return TrialBalance(current, previous, rows, total, previous_total)


# --- statements: profit and loss, balance sheet ------------------------------------------------------


@dataclass(frozen=True)
class StatementRow:
    """A line of a statement: an account, a group account subtotalling the rows under it (by
    the chart's parents), or a computed line with no account (the year's result)."""

    account_id: int | None
    code: str
    name: str
    depth: int
    amount: Decimal
    previous: Decimal | None
    is_group: bool = False


@dataclass(frozen=True)
class StatementSection:
    key: str  # the accounts' kind
    label: str
    rows: list[StatementRow]
    total: Decimal
    previous_total: Decimal | None


def _tree_rows(
    accounts: dict[int, Account], amounts: dict[int, Decimal], previous: dict[int, Decimal] | None
) -> list[StatementRow]:
    """Rows for the accounts with an amount, under their parent accounts (each parent's amount
    the sum of the rows under it), depth-first in code order."""
    totals: dict[int, Decimal] = {}
    totals_before: dict[int, Decimal] = {}
    children: dict[int | None, set[int]] = {}
    used = [pk for pk in accounts if amounts.get(pk) or (previous and previous.get(pk))]
    for pk in used:
        node = pk
        while node is not None:
            totals[node] = totals.get(node, ZERO) + amounts.get(pk, ZERO)
            if previous is not None:
                totals_before[node] = totals_before.get(node, ZERO) + previous.get(pk, ZERO)
            # A parent outside this section (another kind) is left out: the row hangs higher.
            parent = accounts[node].parent_id
            if parent not in accounts:
                parent = None
            children.setdefault(parent, set()).add(node)
            node = parent
    rows: list[StatementRow] = []

    def walk(parent: int | None, depth: int) -> None:
        for pk in sorted(children.get(parent, ()), key=lambda k: accounts[k].code):
            account = accounts[pk]
            rows.append(
                StatementRow(
                    pk,
                    account.code,
                    account.name,
                    depth,
                    totals[pk],
                    totals_before.get(pk, ZERO) if previous is not None else None,
                    is_group=pk in children,
                )
            )
            walk(pk, depth + 1)

    walk(None, 0)
    return rows


def _section(key, label, accounts, amounts, previous, extra: Sequence[StatementRow] = ()) -> StatementSection:
    rows = _tree_rows(accounts, amounts, previous) + list(extra)
    top = [r for r in rows if r.depth == 0]
    total = sum((r.amount for r in top), ZERO)
    previous_total = sum((r.previous or ZERO for r in top), ZERO) if previous is not None else None
    return StatementSection(key, label, rows, total, previous_total)


@dataclass(frozen=True)
class ProfitAndLoss:
    range: PeriodRange
    previous_range: PeriodRange | None
    income: StatementSection  # credit-positive
    expenses: StatementSection  # debit-positive
    net_result: Decimal  # income - expenses: a profit is positive
    previous_net_result: Decimal | None


def _negated(amount: Decimal) -> Decimal:
    """-amount, but never "-0.00" (Decimal keeps the sign of a negated zero)."""
    return ZERO - amount


def _in_statement_sign(kind: str, net: Decimal) -> Decimal:
    """A debit-positive balance in its section's natural sign: credit-natured kinds negated."""
    return net if kind in DEBIT_NATURED else _negated(net)


def profit_and_loss(
    *, company, period_from, period_to, compare: bool = False, periods: Sequence[Period] | None = None
) -> ProfitAndLoss:
    """Income and expenses of the range by account, under their parent accounts, and the net
    result; the year-end closing entries are left out. Four queries (three with `periods`),
    one more when the range or the previous one holds a year-end closing."""
    periods = company_periods(company) if periods is None else periods
    current, previous = _ranges(company, period_from, period_to, compare, periods)
    buckets = {"c": current.period_ids}
    if previous is not None:
        buckets["p"] = previous.period_ids
    accounts = _accounts(company)
    sums = _sums(company, buckets)
    closing = _closing_sums(company, buckets, periods)
    amounts: dict[str, dict[int, Decimal]] = {"c": {}, "p": {}}
    for pk, account in accounts.items():
        if account.kind not in PROFIT_AND_LOSS_KINDS or pk not in sums:
            continue
        for name in buckets:
            net = _net(sums[pk][name]) - (_net(closing[pk][name]) if pk in closing else ZERO)
            amounts[name][pk] = _in_statement_sign(account.kind, net)
    by_kind = {
        kind: {pk: a for pk, a in accounts.items() if a.kind == kind}
        for kind in (AccountKind.INCOME, AccountKind.EXPENSE)
    }
    before = amounts["p"] if previous is not None else None
    income = _section(AccountKind.INCOME, _("Income"), by_kind[AccountKind.INCOME], amounts["c"], before)
    expenses = _section(AccountKind.EXPENSE, _("Expenses"), by_kind[AccountKind.EXPENSE], amounts["c"], before)
    previous_net = None
    if previous is not None:
        previous_net = (income.previous_total or ZERO) - (expenses.previous_total or ZERO)
    return ProfitAndLoss(current, previous, income, expenses, income.total - expenses.total, previous_net)


@dataclass(frozen=True)
class BalanceSheet:
    at: Period
    compare_at: Period | None
    assets: StatementSection  # debit-positive
    liabilities: StatementSection  # credit-positive
    equity: StatementSection  # credit-positive, with the unclosed results as their own lines

    @property
    def liabilities_and_equity(self) -> Decimal:
        return self.liabilities.total + self.equity.total

    @property
    def previous_liabilities_and_equity(self) -> Decimal | None:
        if self.compare_at is None:
            return None
        return (self.liabilities.previous_total or ZERO) + (self.equity.previous_total or ZERO)

    @property
    def balanced(self) -> bool:
        ok = self.assets.total == self.liabilities_and_equity
        if self.compare_at is not None:
            ok = ok and self.assets.previous_total == self.previous_liabilities_and_equity
        return ok


def _position_buckets(periods, at: Period, prefix: str) -> dict[str, list[int]]:
    year_start = at.fiscal_year.start_date
    upto = [p for p in periods if p.start_date <= at.start_date]
    return {
        f"{prefix}all": [p.pk for p in upto],
        f"{prefix}year": [p.pk for p in upto if p.start_date >= year_start],
    }


def balance_sheet(
    *, company, at, compare_at=None, compare: bool = False, periods: Sequence[Period] | None = None
) -> BalanceSheet:
    """Assets, liabilities and equity at the end of period `at`, compared (with `compare`) with
    the end of `compare_at`, by default the period before `at`. The income and expense accounts'
    balances not yet closed into equity show as equity lines: the year's result, and the result
    of previous years not closed. Three queries (two with `periods`); assets always equal
    liabilities plus equity."""
    periods = company_periods(company) if periods is None else periods
    index = _index_of(periods, at, "at")
    at_period = periods[index]
    compare_period = None
    if compare_at:
        compare_period = periods[_index_of(periods, compare_at, "compare_at")]
    elif compare and index > 0:
        compare_period = periods[index - 1]
    buckets = _position_buckets(periods, at_period, "c_")
    if compare_period is not None:
        buckets.update(_position_buckets(periods, compare_period, "p_"))
    accounts = _accounts(company)
    sums = _sums(company, buckets)
    amounts: dict[str, dict[int, Decimal]] = {"c_": {}, "p_": {}}
    results = {"c_": [ZERO, ZERO], "p_": [ZERO, ZERO]}  # [this year, previous years], debit-positive
    prefixes = ["c_"] + (["p_"] if compare_period is not None else [])
    for pk, account in accounts.items():
        if pk not in sums:
            continue
        for prefix in prefixes:
            all_net, year_net = _net(sums[pk][f"{prefix}all"]), _net(sums[pk][f"{prefix}year"])
            if account.kind in PROFIT_AND_LOSS_KINDS:
                results[prefix][0] += year_net
                results[prefix][1] += all_net - year_net
            else:
                amounts[prefix][pk] = _in_statement_sign(account.kind, all_net)
    before = amounts["p_"] if compare_period is not None else None

    def kind_accounts(kind):
        return {pk: a for pk, a in accounts.items() if a.kind == kind}

    # Results are credit-positive in equity: a profit (credit balance of P&L accounts) adds to it.
    extra = []
    for position, label in ((1, PREVIOUS_RESULT_LABEL), (0, CURRENT_RESULT_LABEL)):
        now = _negated(results["c_"][position])
        then = _negated(results["p_"][position]) if compare_period is not None else None
        if now or then or position == 0:
            extra.append(StatementRow(None, "", str(label), 0, now, then))
    return BalanceSheet(
        at=at_period,
        compare_at=compare_period,
        assets=_section(AccountKind.ASSET, _("Assets"), kind_accounts(AccountKind.ASSET), amounts["c_"], before),
        liabilities=_section(
            AccountKind.LIABILITY, _("Liabilities"), kind_accounts(AccountKind.LIABILITY), amounts["c_"], before
        ),
        equity=_section(
            AccountKind.EQUITY, _("Equity"), kind_accounts(AccountKind.EQUITY), amounts["c_"], before, extra
        ),
    )


# --- monthly figures for the charts ----------------------------------------------------------------------


@dataclass(frozen=True)
class MonthFigures:
    period: Period
    income: Decimal  # credit-positive
    expenses: Decimal  # debit-positive

    @property
    def result(self) -> Decimal:
        return self.income - self.expenses


def monthly_result(*, company, period_from, period_to, periods: Sequence[Period] | None = None) -> list[MonthFigures]:
    """Income and expenses of each period of the range, closing entries left out (two queries
    with `periods`, one more when the range holds a year-end closing)."""
    periods = company_periods(company) if periods is None else periods
    current = period_range(periods, period_from, period_to)
    kinds = list(PROFIT_AND_LOSS_KINDS)
    base = (
        AccountBalance.objects.filter(company=company, period_id__in=current.period_ids, account__kind__in=kinds)
        .values("period_id", "account__kind")
        .annotate(d=Sum("debit", default=0), c=Sum("credit", default=0))
        .order_by()
    )
    closing_entries = _closing_entry_ids(company, current.periods)
    closing = (
        JournalLine.objects.filter(entry_id__in=closing_entries, account__kind__in=kinds)
        .values("period_id", "account__kind")
        .annotate(d=Sum("debit", default=0), c=Sum("credit", default=0))
        .order_by()
        if closing_entries
        else []
    )
    net: dict[tuple[int, str], Decimal] = {}
    for rows, sign in ((base, 1), (closing, -1)):
        for row in rows:
            key = (row["period_id"], row["account__kind"])
            net[key] = net.get(key, ZERO) + sign * (_money(row["d"]) - _money(row["c"]))
    return [
        MonthFigures(p, _negated(net.get((p.pk, AccountKind.INCOME), ZERO)), net.get((p.pk, AccountKind.EXPENSE), ZERO))
        for p in current.periods
    ]


# --- general ledger ------------------------------------------------------------------------------------


@dataclass(slots=True)  # not frozen: built by the hundred thousand in exports, where that costs
class LedgerLine:
    line_id: int
    entry_id: int
    entry_number: str
    date: dt.date
    account_id: int
    account_code: str
    account_name: str
    description: str
    reference: str
    party: str
    debit: Decimal
    credit: Decimal
    balance: Decimal  # the account's running balance after this line, debit-positive
    opens_account: bool = False  # the first line of its account in the range


@dataclass(frozen=True)
class LedgerPage:
    range: PeriodRange
    account: Account | None  # None: all accounts
    # The balance before the first line of the page, of the first line's account (or of the
    # account asked for): the opening balance on the first page.
    opening: Decimal
    lines: list[LedgerLine]
    next_cursor: str | None
    openings: dict[int, Decimal] = field(default_factory=dict)  # of the accounts opened on this page


_CURSOR_SALT = "retaguarda.ledger.general_ledger"


def _cursor_dump(data: dict) -> str:
    return signing.dumps(data, salt=_CURSOR_SALT, compress=True)


def _cursor_load(raw: str, *, account_id: int | None, rng: PeriodRange) -> dict:
    """A cursor given back by an earlier page of the same account and range, or ValidationFailed."""
    try:
        data = signing.loads(raw, salt=_CURSOR_SALT)
        ok = data["r"] == [rng.first.pk, rng.last.pk] and data["x"] == account_id
        data["date"] = dt.date.fromisoformat(data["d"])
        data["balance"] = Decimal(data["b"])
    except (signing.BadSignature, KeyError, TypeError, ValueError, ArithmeticError):
        ok = False
    if not ok:
        raise ValidationFailed(_("This page link is no longer valid."), fields={"cursor": [_("Invalid cursor.")]})
    return data


def _openings(company, accounts: dict[int, Account], periods, rng: PeriodRange, account_ids) -> dict[int, Decimal]:
    """Balances of `account_ids` before the range, by the module's opening rule (one query)."""
    account_ids = sorted(set(account_ids))
    if not account_ids:
        return {}
    before_all, before_year = _before(periods, rng)
    sums = _sums_of(company, {"all": before_all, "year": before_year}, account_ids)
    result = dict.fromkeys(account_ids, ZERO)
    for pk, pair in sums.items():
        result[pk] = _net(pair["year"] if accounts[pk].kind in PROFIT_AND_LOSS_KINDS else pair["all"])
    return result


# Amounts are read as the stored cents: the running balance adds integers, and each line
# becomes Decimals once (an export reads hundreds of thousands of lines this way).
_LINE_FIELDS = (
    "id",
    "entry_id",
    "entry__number",
    "date",
    "account_id",
    "description",
    "reference",
    "party__legal_name",
    ExpressionWrapper(F("debit"), output_field=BigIntegerField()),
    ExpressionWrapper(F("credit"), output_field=BigIntegerField()),
)
ID, ENTRY, NUMBER, DATE, ACCOUNT, DESCRIPTION, REFERENCE, PARTY, DEBIT, CREDIT = range(10)


def _lines_after(company, account_id: int, rng: PeriodRange, after: tuple | None, limit: int) -> list[tuple]:
    """Posted lines of one account in the range, in (date, entry, line) order after `after`,
    walking the (account, date, entry) index."""
    lines = JournalLine.objects.filter(
        account_id=account_id, posted=True, date__gte=rng.start_date, date__lte=rng.end_date
    )
    if after is not None:
        date, entry_id, line_id = after
        lines = lines.filter(date__gte=date).filter(
            Q(date__gt=date) | Q(date=date, entry_id__gt=entry_id) | Q(date=date, entry_id=entry_id, id__gt=line_id)
        )
    return list(lines.order_by("date", "entry_id", "id").values_list(*_LINE_FIELDS)[:limit])


def _lines_of_accounts_after(company, account_id: int, rng: PeriodRange, limit: int) -> list[tuple]:
    """Posted lines of the company's accounts after `account_id`, in index order."""
    lines = JournalLine.objects.filter(
        company=company, account_id__gt=account_id, posted=True, date__gte=rng.start_date, date__lte=rng.end_date
    )
    return list(lines.order_by("account_id", "date", "entry_id", "id").values_list(*_LINE_FIELDS)[:limit])


def general_ledger(
    *,
    company,
    period_from,
    period_to,
    account_id=None,
    cursor: str | None = None,
    page_size: int = GENERAL_LEDGER_PAGE,
    periods: Sequence[Period] | None = None,
    accounts: dict[int, Account] | None = None,
) -> LedgerPage:
    """One page of the posted lines of an account (or of all accounts, by account in the order
    they were created) in the range, with the running balance, in (date, entry) order. Pass the
    page's `next_cursor` back for the next page; lines are never skipped or repeated, and the
    running balance carries over. A handful of queries whatever the size of the ledger (one
    less with `periods` from company_periods(), one less again with `accounts` by id)."""
    periods = company_periods(company) if periods is None else periods
    rng = period_range(periods, period_from, period_to)
    accounts = _accounts(company) if accounts is None else accounts
    account = None
    if account_id not in (None, ""):
        account = _account_of(accounts, account_id)
    data = _cursor_load(cursor, account_id=account and account.pk, rng=rng) if cursor else None

    lines: list[tuple] = []
    if account is not None:
        after = (data["date"], data["e"], data["i"]) if data else None
        lines = _lines_after(company, account.pk, rng, after, page_size + 1)
    elif data is not None:
        lines = _lines_after(company, data["a"], rng, (data["date"], data["e"], data["i"]), page_size + 1)
        if len(lines) <= page_size:
            lines += _lines_of_accounts_after(company, data["a"], rng, page_size + 1 - len(lines))
    else:
        lines = _lines_of_accounts_after(company, 0, rng, page_size + 1)
    has_more = len(lines) > page_size
    lines = lines[:page_size]

    # The running balance starts from the cursor's, or from the opening balance of each account
    # that starts on this page.
    carried_account = (account.pk if account else data["a"]) if data else None
    to_open = {row[ACCOUNT] for row in lines if row[ACCOUNT] != carried_account}
    if account is not None and data is None:
        to_open.add(account.pk)
    openings = _openings(company, accounts, periods, rng, to_open)
    balance = int(data["balance"].scaleb(2)) if data else 0
    current_account = carried_account
    result: list[LedgerLine] = []
    for row in lines:
        opens = row[ACCOUNT] != current_account
        if opens:
            current_account = row[ACCOUNT]
            balance = int(openings[current_account].scaleb(2))
        balance += row[DEBIT] - row[CREDIT]
        acc = accounts[row[ACCOUNT]]
        result.append(
            LedgerLine(
                line_id=row[ID],
                entry_id=row[ENTRY],
                entry_number=row[NUMBER],
                date=row[DATE],
                account_id=row[ACCOUNT],
                account_code=acc.code,
                account_name=acc.name,
                description=row[DESCRIPTION],
                reference=row[REFERENCE],
                party=row[PARTY] or "",
                debit=Decimal(row[DEBIT]).scaleb(-2),
                credit=Decimal(row[CREDIT]).scaleb(-2),
                balance=Decimal(balance).scaleb(-2),
                opens_account=opens,
            )
        )
    if account is not None:
        opening = data["balance"] if data else openings[account.pk]
    elif result:
        first = result[0]
        opening = first.balance - first.debit + first.credit
    else:
        opening = ZERO
    next_cursor = None
    if has_more and result:
        last = result[-1]
        next_cursor = _cursor_dump(
            {
                "r": [rng.first.pk, rng.last.pk],
                "x": account and account.pk,
                "a": last.account_id,
                "d": last.date.isoformat(),
                "e": last.entry_id,
                "i": last.line_id,
                "b": str(last.balance),
            }
        )
    return LedgerPage(rng, account, opening, result, next_cursor, openings)


def _account_of(accounts: dict[int, Account], account_id) -> Account:
    try:
        pk = int(account_id)
    except (TypeError, ValueError):
        pk = 0
    account = accounts.get(pk)
    if account is None:
        # An account may also be named by its code.
        account = next((a for a in accounts.values() if a.code == str(account_id).strip()), None)
    if account is None:
        raise NotFound(_("No such account."))
    return account


def general_ledger_lines(
    *, company, period_from, period_to, account_id=None, chunk: int = EXPORT_CHUNK
) -> Iterator[LedgerLine]:
    """Every line general_ledger() would page through, read a chunk at a time (each chunk one
    keyset query on the index), for exports that keep memory flat however long the ledger."""
    periods, accounts = company_periods(company), _accounts(company)
    cursor = None
    while True:
        page = general_ledger(
            company=company,
            period_from=period_from,
            period_to=period_to,
            account_id=account_id,
            cursor=cursor,
            page_size=chunk,
            periods=periods,
            accounts=accounts,
        )
        yield from page.lines
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


# --- journal ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JournalEntryLine:
    position: int
    account_code: str
    account_name: str
    party: str
    description: str
    debit: Decimal
    credit: Decimal


@dataclass(frozen=True)
class JournalReportEntry:
    entry_id: int
    journal_code: str
    number: str
    date: dt.date
    reference: str
    description: str
    total: Decimal
    lines: list[JournalEntryLine]


@dataclass(frozen=True)
class JournalPage:
    range: PeriodRange
    journal: Journal | None
    entries: list[JournalReportEntry]
    next_cursor: str | None


def _journal_cursor(raw: str) -> tuple[int, str, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode() + b"=" * (-len(raw) % 4)))
        journal_id, number, entry_id = int(data[0]), str(data[1]), int(data[2])
    except (ValueError, TypeError, IndexError, KeyError, UnicodeDecodeError):
        raise ValidationFailed(_("This page link is no longer valid."), fields={"cursor": [_("Invalid cursor.")]})
    return journal_id, number, entry_id


def journal(
    *,
    company,
    period_from,
    period_to,
    journal_code: str | None = None,
    cursor: str | None = None,
    page_size: int = JOURNAL_PAGE,
    periods: Sequence[Period] | None = None,
) -> JournalPage:
    """Posted entries of the range with their lines, by journal and in number order, a page at
    a time (pass `next_cursor` back). Four queries per page (three with `periods`)."""
    periods = company_periods(company) if periods is None else periods
    rng = period_range(periods, period_from, period_to)
    chosen = None
    # Posted entries always have a number; saying so lets the database walk the unique
    # (company, journal, number) index in the report's order.
    entries = JournalEntry.objects.filter(
        company=company, state=EntryState.POSTED, date__gte=rng.start_date, date__lte=rng.end_date
    ).exclude(number="")
    if journal_code:
        code = str(journal_code).strip()[:10]
        # PostgreSQL refuses NUL characters in text: such a code names no journal.
        chosen = None if "\x00" in code else Journal.objects.filter(company=company, code=code).first()
        if chosen is None:
            raise NotFound(_("No such journal."))
        entries = entries.filter(journal=chosen)
    if cursor:
        journal_id, number, entry_id = _journal_cursor(cursor)
        entries = entries.filter(
            Q(journal_id__gt=journal_id)
            | Q(journal_id=journal_id, number__gt=number)
            | Q(journal_id=journal_id, number=number, pk__gt=entry_id)
        )
    page = list(entries.select_related("journal").order_by("journal_id", "number", "pk")[: page_size + 1])
    has_more = len(page) > page_size
    page = page[:page_size]
    lines_by_entry: dict[int, list[JournalEntryLine]] = {}
    for line in (
        JournalLine.objects.filter(entry_id__in=[e.pk for e in page])
        .order_by("entry_id", "position")
        .values(
            "entry_id",
            "position",
            "account__code",
            "account__name",
            "party__legal_name",
            "description",
            "debit",
            "credit",
        )
    ):
        lines_by_entry.setdefault(line["entry_id"], []).append(
            JournalEntryLine(
                line["position"],
                line["account__code"],
                line["account__name"],
                line["party__legal_name"] or "",
                line["description"],
                line["debit"],
                line["credit"],
            )
        )
    result = [
        JournalReportEntry(
            e.pk, e.journal.code, e.number, e.date, e.reference, e.description, e.total, lines_by_entry.get(e.pk, [])
        )
        for e in page
    ]
    next_cursor = None
    if has_more and page:
        last = page[-1]
        raw = json.dumps([last.journal_id, last.number, last.pk]).encode()
        next_cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return JournalPage(rng, chosen, result, next_cursor)


# --- open items by party ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartyBalance:
    party_id: int | None
    party_name: str
    balance: Decimal  # open amount, debit-positive: what a customer owes is positive
    open_items: int
    oldest_due: dt.date | None
    latest_due: dt.date | None


def party_balances(company, account_role: str, *, party_ids=None, limit: int | None = None) -> list[PartyBalance]:
    """What each party still has open on the account holding `account_role` (receivable,
    payable, customer advances), summed from the open items' residuals, largest first (by
    amount, then name). `party_ids` narrows it to some parties (a customer's page); `limit`
    keeps the largest, ordered and cut in the database. One query through the open-items
    index; an empty list when the company has no such account."""
    # The account as a subquery, so the lines are read through the open-items index on
    # (company, account, party) rather than joined to every account of the role.
    account = Account.objects.filter(company=company, role=account_role).values("pk")[:1]
    open_items = JournalLine.objects.filter(company=company, account_id=Subquery(account), posted=True).filter(
        ~Q(residual=0)
    )
    if party_ids is not None:
        open_items = open_items.filter(party_id__in=list(party_ids))
    rows = (
        open_items.values("party_id", "party__legal_name")
        .annotate(
            balance=Sum("residual"),
            items=Count("id"),
            oldest=Min("due_date"),
            latest=Max("due_date"),
        )
        .order_by()
    )
    if limit is not None:
        rows = rows.annotate(size=Abs("balance")).order_by("-size", "party__legal_name", "party_id")[: max(0, limit)]
    result = [
        PartyBalance(
            row["party_id"],
            row["party__legal_name"] or "",
            _money(row["balance"]),
            row["items"],
            row["oldest"],
            row["latest"],
        )
        for row in rows
    ]
    result.sort(key=lambda b: (-abs(b.balance), b.party_name, b.party_id or 0))
    return result
