"""The customer page's "Dunning" section: the customer's overdue invoices and their level,
open promises to pay (and a form to record one), the latest letters and dunning's block.
Registered by DunningConfig."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from retaguarda.core.permissions import Actor
from retaguarda.parties.models import Party
from retaguarda.parties.sections import Section, register

from .forms import PromiseForm
from .selectors import party_dunning


def party_dunning_context(actor: Actor, party: Party) -> dict:
    context = party_dunning(actor, party)
    can_run = actor.can("dunning.run")
    context["can_run"] = can_run
    context["promise_form"] = PromiseForm(initial={"party": party.pk}) if can_run else None
    return context


DUNNING_SECTION = Section(
    code="dunning",
    title=_("Dunning"),
    template="dunning/sections/party_dunning.html",
    permission="dunning.view",
    order=50,
    context=party_dunning_context,
    applies=lambda party: party.is_customer,
)


def sections_register() -> None:
    register(DUNNING_SECTION)
