"""The navigation by area: each entry shows only to roles with its permission."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str
    area: str


NAVIGATION: list[NavItem] = [
    NavItem(_("Customers"), "parties:customer_list", "parties.view", _("Customers and suppliers")),
    NavItem(_("Suppliers"), "parties:supplier_list", "parties.view", _("Customers and suppliers")),
    NavItem(_("Products"), "catalog:product_list", "catalog.view", _("Catalog")),
    NavItem(_("Price lists"), "catalog:pricelist_list", "catalog.view", _("Catalog")),
    NavItem(_("Audit log"), "web:audit_log", "core.audit.view", _("Administration")),
    NavItem(_("Webhooks"), "web:webhook_list", "core.webhooks.manage", _("Administration")),
    NavItem(_("Background jobs"), "web:job_list", "core.jobs.view", _("Administration")),
]


def navigation_for(actor) -> list[tuple[str, list[tuple[str, str]]]]:
    """The menu grouped by area as (area, [(label, url)]), keeping only what the actor may use."""
    groups: dict[str, list[tuple[str, str]]] = {}
    if actor is None:
        return []
    for item in NAVIGATION:
        if not actor.can(item.permission):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:  # an area whose app is not installed in this deployment
            continue
        groups.setdefault(str(item.area), []).append((str(item.label), url))
    return list(groups.items())
