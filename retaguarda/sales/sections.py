"""The customer page's "Orders" section: the customer's latest orders, a link to take a new
one, and (for who may change customers) the block on new orders. Registered by SalesConfig."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from retaguarda.core.permissions import Actor
from retaguarda.parties.models import Party
from retaguarda.parties.sections import Section, register

from .forms import BlockForm
from .selectors import order_search

LATEST_ORDERS = 10


def party_orders_context(actor: Actor, party: Party) -> dict:
    """The customer's latest orders (one query) and what the reader may do about them."""
    orders = list(order_search(actor, {"customer": str(party.pk)})[: LATEST_ORDERS + 1])
    can_block = actor.can("parties.change")
    return {
        "orders": orders[:LATEST_ORDERS],
        "has_more": len(orders) > LATEST_ORDERS,
        "can_order": actor.can("sales.change") and party.is_active,
        "can_block": can_block,
        "block_form": BlockForm(initial={"reason": party.blocked_reason}) if can_block else None,
    }


ORDERS_SECTION = Section(
    code="orders",
    title=_("Orders"),
    template="sales/sections/party_orders.html",
    permission="sales.view",
    order=40,
    context=party_orders_context,
    applies=lambda party: party.is_customer,
)


def sections_register() -> None:
    register(ORDERS_SECTION)
