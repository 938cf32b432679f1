"""The navigation by area: each entry shows only to roles with its permission."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str
    area: str


class NavLink(NamedTuple):
    label: str
    url: str
    current: bool


NAVIGATION: list[NavItem] = [
    NavItem(_("Deviations"), "web:deviation_list", "core.deviations.view", _("Operations")),
    NavItem(_("Orders"), "sales:order_list", "sales.view", _("Sales")),
    NavItem(_("Pick lists"), "fulfilment:picklist_list", "fulfilment.view", _("Warehouse and logistics")),
    NavItem(_("Shipments"), "fulfilment:shipment_list", "fulfilment.view", _("Warehouse and logistics")),
    NavItem(_("Returns"), "fulfilment:return_list", "fulfilment.view", _("Warehouse and logistics")),
    NavItem(_("Stock"), "inventory:stock_list", "inventory.view", _("Warehouse and logistics")),
    NavItem(_("Stock moves"), "inventory:move_list", "inventory.view", _("Warehouse and logistics")),
    NavItem(_("Replenishment"), "inventory:alert_list", "inventory.view", _("Warehouse and logistics")),
    NavItem(_("Cycle counts"), "inventory:count_list", "inventory.view", _("Warehouse and logistics")),
    NavItem(_("Warehouses"), "inventory:warehouse_list", "inventory.view", _("Warehouse and logistics")),
    NavItem(_("Invoices"), "billing:invoice_list", "billing.view", _("Billing")),
    NavItem(_("Taxes"), "billing:tax_list", "billing.view", _("Billing")),
    NavItem(_("Electronic invoicing"), "einvoicing:home", "billing.view", _("Billing")),
    NavItem(_("Reports"), "ledger_reports:trial_balance", "ledger.view", _("Accounting")),
    NavItem(_("Journal entries"), "ledger:entry_list", "ledger.view", _("Accounting")),
    NavItem(_("Chart of accounts"), "ledger:account_list", "ledger.view", _("Accounting")),
    NavItem(_("Periods"), "ledger:period_list", "ledger.view", _("Accounting")),
    NavItem(_("Exchange rates"), "ledger:rate_list", "ledger.view", _("Accounting")),
    NavItem(_("Payments"), "collections:payment_list", "collections.view", _("Payments and collections")),
    NavItem(_("Bank reconciliation"), "collections:reconciliation", "collections.view", _("Payments and collections")),
    NavItem(_("Bank accounts"), "collections:bank_account_list", "collections.view", _("Payments and collections")),
    NavItem(_("Aging"), "collections:aging", "collections.view", _("Payments and collections")),
    NavItem(_("Dunning"), "dunning:home", "dunning.view", _("Payments and collections")),
    NavItem(_("Customers"), "parties:customer_list", "parties.view", _("Customers and suppliers")),
    NavItem(_("Suppliers"), "parties:supplier_list", "parties.view", _("Customers and suppliers")),
    NavItem(_("Products"), "catalog:product_list", "catalog.view", _("Catalog")),
    NavItem(_("Price lists"), "catalog:pricelist_list", "catalog.view", _("Catalog")),
    NavItem(_("Company"), "web:company_settings", "core.company.change", _("Administration")),
    NavItem(_("Users"), "web:user_list", "core.users.manage", _("Administration")),
    NavItem(_("Audit log"), "web:audit_log", "core.audit.view", _("Administration")),
    NavItem(_("Webhooks"), "web:webhook_list", "core.webhooks.manage", _("Administration")),
    NavItem(_("Background jobs"), "web:job_list", "core.jobs.view", _("Administration")),
    NavItem(_("API tokens"), "web:token_list", "core.tokens.manage", _("Administration")),
]


def url_or_none(url_name: str, *args) -> str | None:
    """The URL of a page, or None when the area providing it is not installed."""
    try:
        return reverse(url_name, args=args)
    except NoReverseMatch:
        return None


def navigation_for(actor, path: str = "") -> list[tuple[str, list[NavLink]]]:
    """The menu grouped by area as (area, [NavLink]), keeping only what the actor may use.

    The link whose URL is the longest prefix of `path` is the current one, so a product's
    detail page marks "Products".
    """
    if actor is None:
        return []
    allowed: list[tuple[str, str, str]] = []
    for item in NAVIGATION:
        if not actor.can(item.permission):
            continue
        url = url_or_none(item.url_name)
        if url is None:  # an area whose app is not installed in this deployment
            continue
        allowed.append((str(item.area), str(item.label), url))
    matching = [url for _area, _label, url in allowed if path.startswith(url)]
    current = max(matching, key=len) if matching else None
    groups: dict[str, list[NavLink]] = {}
    for area, label, url in allowed:
        groups.setdefault(area, []).append(NavLink(label, url, url == current))
    return list(groups.items())
