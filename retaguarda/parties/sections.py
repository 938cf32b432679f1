"""The sections of the customer page: a registry that later areas extend.

The customer (or supplier) page gathers everything known about a party. Parties registers its
own sections (contacts, addresses, notes, history); an area that knows more about a party adds
a section from its AppConfig.ready(), for example:

    from retaguarda.parties.sections import Section, register

    register(Section(
        code="orders", title=_("Orders"), template="sales/partials/party_orders.html",
        permission="sales.view", order=40, context=party_orders_context,
        applies=lambda party: party.is_customer,
    ))

`context(actor, party)` returns the template's variables; it runs only for users with the
section's permission, so it may call selectors that check that permission. Each section
should read a small, fixed number of rows (the latest orders, not all of them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from retaguarda.core.permissions import Actor
from retaguarda.core.selectors import timeline_for

from .models import Party


def _always(party: Party) -> bool:
    return True


def _no_context(actor: Actor, party: Party) -> dict:
    return {}


@dataclass(frozen=True)
class Section:
    code: str
    title: object
    template: str
    permission: str
    order: int = 100
    context: Callable[[Actor, Party], dict] = field(default=_no_context)
    applies: Callable[[Party], bool] = field(default=_always)


@dataclass(frozen=True)
class RenderedSection:
    code: str
    title: str
    html: str


SECTIONS: dict[str, Section] = {}


def register(section: Section) -> Section:
    """Add a section, or replace the one with the same code (so re-registering is harmless)."""
    SECTIONS[section.code] = section
    return section


def unregister(code: str) -> None:
    SECTIONS.pop(code, None)


def sections_for(actor: Actor, party: Party) -> list[Section]:
    """The sections this actor may see on this party's page, in page order."""
    return [
        s
        for s in sorted(SECTIONS.values(), key=lambda s: (s.order, s.code))
        if actor.can(s.permission) and s.applies(party)
    ]


def sections_render(request, party: Party) -> list[RenderedSection]:
    actor = request.actor
    rendered = []
    for section in sections_for(actor, party):
        context = {"party": party, "section": section, **section.context(actor, party)}
        html = render_to_string(section.template, context, request=request)
        rendered.append(RenderedSection(section.code, str(section.title), html))
    return rendered


# Built-in sections


def _contacts_context(actor: Actor, party: Party) -> dict:
    return {"contacts": list(party.contacts.all()), "can_change": actor.can("parties.change")}


def _addresses_context(actor: Actor, party: Party) -> dict:
    return {"addresses": list(party.addresses.all()), "can_change": actor.can("parties.change")}


def _history_context(actor: Actor, party: Party) -> dict:
    return {"timeline": list(timeline_for(company=actor.company, obj=party)[:50])}


register(
    Section(
        code="contacts",
        title=_("Contacts"),
        template="parties/sections/contacts.html",
        permission="parties.view",
        order=10,
        context=_contacts_context,
    )
)
register(
    Section(
        code="addresses",
        title=_("Addresses"),
        template="parties/sections/addresses.html",
        permission="parties.view",
        order=20,
        context=_addresses_context,
    )
)
register(
    Section(
        code="notes",
        title=_("Notes"),
        template="parties/sections/notes.html",
        permission="parties.view",
        order=30,
        applies=lambda party: bool(party.notes),
    )
)
register(
    Section(
        code="history",
        title=_("History"),
        template="parties/sections/history.html",
        permission="parties.view",
        order=1000,
        context=_history_context,
    )
)
