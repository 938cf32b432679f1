"""Reads of dunning with business meaning: runs with their letters, one letter, the procedure
and its levels, promises to pay, and where one customer stands."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from retaguarda.billing.choices import InvoiceKind
from retaguarda.billing.models import Invoice
from retaguarda.common.errors import NotFound
from retaguarda.common.inputs import valid_id
from retaguarda.core.permissions import Actor, require
from retaguarda.parties.models import Party

from .choices import PromiseStatus
from .models import (
    DunningLetter,
    DunningLevel,
    DunningProcedure,
    DunningRun,
    DunningState,
    LateChargeSettings,
    PaymentPromise,
)

LATEST = 10


def run_list(actor: Actor) -> QuerySet[DunningRun]:
    """The company's runs, newest first."""
    require(actor, "dunning.view")
    return DunningRun.objects.filter(company=actor.company).select_related("created_by", "sent_by")


def run_get(actor: Actor, run_id) -> DunningRun:
    """One run with its letters (`prefetched_letters`, by customer); NotFound otherwise."""
    require(actor, "dunning.view")
    pk = valid_id(run_id)
    run = (
        DunningRun.objects.filter(company=actor.company, pk=pk)
        .select_related("created_by", "sent_by")
        .prefetch_related(
            Prefetch(
                "letters",
                queryset=DunningLetter.objects.select_related("party", "entry").order_by("party__legal_name", "pk"),
                to_attr="prefetched_letters",
            )
        )
        .first()
        if pk
        else None
    )
    if run is None:
        raise NotFound(_("No such dunning run."))
    return run


def letter_get(actor: Actor, letter_id) -> DunningLetter:
    require(actor, "dunning.view")
    pk = valid_id(letter_id)
    letter = (
        DunningLetter.objects.filter(company=actor.company, pk=pk)
        .select_related("run", "party", "company", "entry")
        .first()
        if pk
        else None
    )
    if letter is None:
        raise NotFound(_("No such dunning letter."))
    return letter


def procedures_list(actor: Actor) -> list[DunningProcedure]:
    """The company's procedures, each with `prefetched_levels` in order of days overdue."""
    require(actor, "dunning.view")
    return list(
        DunningProcedure.objects.filter(company=actor.company)
        .prefetch_related(
            Prefetch("levels", queryset=DunningLevel.objects.order_by("days_overdue"), to_attr="prefetched_levels")
        )
        .order_by("-is_default", "name")
    )


def level_get(actor: Actor, level_id) -> DunningLevel:
    require(actor, "dunning.view")
    pk = valid_id(level_id)
    rows = DunningLevel.objects.filter(company=actor.company, procedure__is_default=True)
    level = rows.filter(pk=pk).first() if pk else None
    if level is None:
        raise NotFound(_("No such dunning level."))
    return level


def settings_get(actor: Actor) -> LateChargeSettings | None:
    require(actor, "dunning.view")
    return LateChargeSettings.objects.filter(company=actor.company).first()


def promise_list(actor: Actor, *, party_id=None, status: str | None = None) -> QuerySet[PaymentPromise]:
    require(actor, "dunning.view")
    rows = PaymentPromise.objects.filter(company=actor.company).select_related("party", "invoice", "created_by")
    if party_id is not None:
        rows = rows.filter(party_id=valid_id(party_id) or 0)
    if status:
        rows = rows.filter(status=status)
    return rows


def party_dunning(actor: Actor, party: Party) -> dict:
    """Where a customer stands in dunning, for their page: the invoices dunning follows that are
    still open, their promises and their latest letters (three queries; the block on new orders
    shows in the orders section)."""
    require(actor, "dunning.view")
    states = list(
        DunningState.objects.filter(company=actor.company, party=party, invoice__residual__gt=0)
        .select_related("invoice")
        .order_by("invoice__due_date", "pk")[:LATEST]
    )
    promises = list(
        promise_list(actor, party_id=party.pk).filter(status=PromiseStatus.OPEN).order_by("promised_date", "pk")
    )
    letters = list(
        DunningLetter.objects.filter(company=actor.company, party=party).select_related("run").order_by("-pk")[:LATEST]
    )
    return {"states": states, "promises": promises, "letters": letters}


def invoice_by_number(actor: Actor, number: str):
    """The company's customer invoice numbered `number` (as printed), or None."""
    require(actor, "dunning.view")
    number = (number or "").strip()
    if not number:
        return None
    return Invoice.objects.filter(
        company=actor.company, kind=InvoiceKind.CUSTOMER_INVOICE, number__iexact=number[:32]
    ).first()
