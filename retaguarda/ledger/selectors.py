"""Reads of the books with business meaning: the chart of accounts, fiscal years and their
periods, journal entries (the searchable list and one entry with its lines), exchange rates."""

from __future__ import annotations

import datetime

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retaguarda.common.errors import NotFound
from retaguarda.common.inputs import valid_id
from retaguarda.core.permissions import Actor, require
from retaguarda.core.ui.listing import Filter, Listing

from .choices import EntryState
from .models import Account, ExchangeRate, FiscalYear, Journal, JournalEntry, JournalLine, Period


def _date(raw) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(raw).strip())
    except ValueError:
        return None


def _journal(raw) -> str | None:
    return str(raw).strip()[:10] or None


# One definition behind the entry list page and GET /ledger/entries. The journal is given by
# its code; the account filter is applied by entry_search (a line condition, not a field).
ENTRY_LISTING = Listing(
    search_fields=("number", "reference", "description"),
    sorts={"date": "date", "number": "number", "total": "total"},
    default_sort="-date",
    filters=(
        Filter("journal", "journal__code", gettext_lazy("Journal"), parse=_journal),
        Filter("state", "state", gettext_lazy("State"), choices=tuple(EntryState.choices)),
        Filter("date_from", "date__gte", gettext_lazy("From"), parse=_date),
        Filter("date_to", "date__lte", gettext_lazy("To"), parse=_date),
    ),
    per_page=25,
)


def accounts_list(actor: Actor) -> list[Account]:
    """The chart of accounts in code order, each with `depth` (0 for top-level groups)."""
    require(actor, "ledger.view")
    accounts = list(Account.objects.filter(company=actor.company).order_by("code"))
    parents = {a.pk: a.parent_id for a in accounts}
    for account in accounts:
        depth, parent = 0, account.parent_id
        while parent is not None and depth < 10:
            depth, parent = depth + 1, parents.get(parent)
        account.depth = depth
    return accounts


def journals_list(actor: Actor) -> list[Journal]:
    require(actor, "ledger.view")
    return list(Journal.objects.filter(company=actor.company).order_by("code"))


def fiscal_years_list(actor: Actor) -> list[FiscalYear]:
    """Fiscal years, newest first, with their periods in date order (`period_list`)."""
    require(actor, "ledger.view")
    years = list(
        FiscalYear.objects.filter(company=actor.company)
        .order_by("-start_date")
        .prefetch_related(Prefetch("periods", queryset=Period.objects.order_by("start_date"), to_attr="period_list"))
    )
    return years


def periods_list(actor: Actor) -> QuerySet[Period]:
    require(actor, "ledger.view")
    return Period.objects.filter(company=actor.company).select_related("fiscal_year").order_by("start_date")


def entry_search(actor: Actor, params) -> QuerySet[JournalEntry]:
    """The list page's and the API's search: ENTRY_LISTING's filters and sort, plus `account`
    (entries with a line on that account, by id)."""
    require(actor, "ledger.view")
    queryset = JournalEntry.objects.filter(company=actor.company).select_related("journal")
    queryset = ENTRY_LISTING.filter(queryset, params)
    account_id = valid_id(params.get("account"))
    if account_id is not None:
        queryset = queryset.filter(Exists(JournalLine.objects.filter(entry_id=OuterRef("pk"), account_id=account_id)))
    queryset, _sort = ENTRY_LISTING.sort(queryset, params.get("sort"))
    return queryset


def entry_get(actor: Actor, entry_id) -> JournalEntry:
    """One entry of the actor's company with its lines (`line_list`, with account and party),
    what it reverses and what reversed it; NotFound otherwise."""
    require(actor, "ledger.view")
    pk = valid_id(entry_id)
    entry = (
        JournalEntry.objects.filter(company=actor.company, pk=pk or 0)
        .select_related("journal", "period", "reversal_of", "posted_by", "created_by")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=JournalLine.objects.select_related("account", "party").order_by("position"),
                to_attr="line_list",
            )
        )
        .first()
    )
    if entry is None:
        raise NotFound(_("No such journal entry."))
    entry.reversed_by_entry = JournalEntry.objects.filter(reversal_of=entry).only("pk", "number").first()
    return entry


def rates_list(actor: Actor, *, currency: str = "") -> QuerySet[ExchangeRate]:
    require(actor, "ledger.view")
    rates = ExchangeRate.objects.filter(company=actor.company)
    if currency:
        rates = rates.filter(currency=currency)
    return rates.order_by("currency", "-date", "-pk")
