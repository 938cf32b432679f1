"""Who may do what: one table of permissions by role, checked in services.

The web and API layers both call services, so a rule written here holds in both. A partner
(an outsourced accountant or logistics provider) gets a permission only when the permission's
area is among the areas named on the partner's membership.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from retaguarda.common.errors import PermissionDenied

from .choices import Area, Role

R = Role
ALL_STAFF = frozenset({R.ADMINISTRATOR, R.MANAGER, R.SALES, R.WAREHOUSE, R.FINANCE, R.HR, R.SUPPORT, R.LEGAL})

# permission -> (area, roles). Partners are checked against the area.
PERMISSIONS: dict[str, tuple[str, frozenset[str]]] = {
    "parties.view": (Area.PARTIES, frozenset({R.ADMINISTRATOR, R.MANAGER, R.SALES, R.FINANCE, R.LEGAL, R.SUPPORT})),
    "parties.change": (Area.PARTIES, frozenset({R.ADMINISTRATOR, R.MANAGER, R.SALES, R.FINANCE})),
    "parties.import": (Area.PARTIES, frozenset({R.ADMINISTRATOR, R.MANAGER})),
    "catalog.view": (Area.CATALOG, ALL_STAFF - {R.HR}),
    "catalog.change": (Area.CATALOG, frozenset({R.ADMINISTRATOR, R.MANAGER, R.SALES})),
    "catalog.import": (Area.CATALOG, frozenset({R.ADMINISTRATOR, R.MANAGER})),
    "inventory.view": (
        Area.WAREHOUSE,
        frozenset({R.ADMINISTRATOR, R.MANAGER, R.WAREHOUSE, R.SALES, R.FINANCE, R.SUPPORT}),
    ),
    "inventory.change": (Area.WAREHOUSE, frozenset({R.ADMINISTRATOR, R.MANAGER, R.WAREHOUSE})),
    # Reserving stock for a document: the sales order's confirmation does it for the sales team.
    "inventory.allocate": (Area.WAREHOUSE, frozenset({R.ADMINISTRATOR, R.MANAGER, R.WAREHOUSE, R.SALES})),
    "sales.view": (
        Area.SALES,
        frozenset({R.ADMINISTRATOR, R.MANAGER, R.SALES, R.WAREHOUSE, R.FINANCE, R.SUPPORT}),
    ),
    "sales.change": (Area.SALES, frozenset({R.ADMINISTRATOR, R.MANAGER, R.SALES})),
    "fulfilment.view": (Area.WAREHOUSE, frozenset({R.ADMINISTRATOR, R.MANAGER, R.WAREHOUSE, R.SALES, R.SUPPORT})),
    "fulfilment.change": (Area.WAREHOUSE, frozenset({R.ADMINISTRATOR, R.MANAGER, R.WAREHOUSE})),
    "billing.view": (Area.ACCOUNTING, frozenset({R.ADMINISTRATOR, R.MANAGER, R.FINANCE, R.SALES})),
    # Drafting invoices and credit notes, and issuing them (numbers, postings, fiscal records).
    "billing.change": (Area.ACCOUNTING, frozenset({R.ADMINISTRATOR, R.FINANCE})),
    # Payments, bank statements and their matching, aging.
    "collections.view": (Area.ACCOUNTING, frozenset({R.ADMINISTRATOR, R.MANAGER, R.FINANCE})),
    "collections.change": (Area.ACCOUNTING, frozenset({R.ADMINISTRATOR, R.FINANCE})),
    # Dunning: legal sees the letters of the customers handed over to it.
    "dunning.view": (Area.ACCOUNTING, frozenset({R.ADMINISTRATOR, R.MANAGER, R.FINANCE, R.LEGAL})),
    # Running dunning (letters, fees, blocks), promises to pay, write-offs, the procedure.
    "dunning.run": (Area.ACCOUNTING, frozenset({R.ADMINISTRATOR, R.FINANCE})),
    # The books: reading them, posting manual entries and rates, closing periods and years.
    "ledger.view": (Area.ACCOUNTING, frozenset({R.ADMINISTRATOR, R.MANAGER, R.FINANCE})),
    "ledger.post": (Area.ACCOUNTING, frozenset({R.ADMINISTRATOR, R.FINANCE})),
    "ledger.close": (Area.ACCOUNTING, frozenset({R.ADMINISTRATOR, R.FINANCE})),
    # Every member of staff sees the deviations of the areas their role works in.
    "core.deviations.view": (Area.ADMINISTRATION, ALL_STAFF),
    "core.audit.view": (Area.ADMINISTRATION, frozenset({R.ADMINISTRATOR, R.MANAGER})),
    "core.users.manage": (Area.ADMINISTRATION, frozenset({R.ADMINISTRATOR})),
    "core.company.change": (Area.ADMINISTRATION, frozenset({R.ADMINISTRATOR})),
    "core.webhooks.manage": (Area.ADMINISTRATION, frozenset({R.ADMINISTRATOR})),
    "core.jobs.view": (Area.ADMINISTRATION, frozenset({R.ADMINISTRATOR})),
    "core.tokens.manage": (Area.ADMINISTRATION, ALL_STAFF | {R.PARTNER}),
}

# Which areas a partner's areas unlock: an accountant partner ("accounting") sees customers
# and suppliers; a logistics partner ("warehouse") sees the catalog and the stock.
PARTNER_AREA_GRANTS: dict[str, frozenset[str]] = {
    Area.ACCOUNTING: frozenset({"parties.view", "billing.view", "collections.view", "ledger.view", "ledger.post"}),
    Area.WAREHOUSE: frozenset(
        {"catalog.view", "inventory.view", "inventory.change", "fulfilment.view", "fulfilment.change"}
    ),
    Area.SALES: frozenset({"catalog.view", "sales.view"}),
    Area.PARTIES: frozenset({"parties.view"}),
    Area.CATALOG: frozenset({"catalog.view"}),
}


@dataclass(frozen=True)
class Actor:
    """Who is acting, in which company and with which role; every service takes one."""

    user: object | None
    company: object
    role: str
    areas: tuple[str, ...] = field(default_factory=tuple)

    @property
    def user_id(self):
        return getattr(self.user, "pk", None)

    @property
    def label(self) -> str:
        return getattr(self.user, "username", "") or "system"

    def can(self, permission: str) -> bool:
        return has_permission(self.role, self.areas, permission)


def has_permission(role: str, areas, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    _area, roles = PERMISSIONS[permission]
    if role == Role.PARTNER:
        if permission == "core.tokens.manage":
            return True
        return any(permission in PARTNER_AREA_GRANTS.get(area, ()) for area in areas or ())
    return role in roles


def require(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise PermissionDenied(_("You do not have permission to do this."))


def system_actor(company) -> Actor:
    """The actor for work the system does by itself (worker jobs, demo loading)."""
    return Actor(user=None, company=company, role=Role.ADMINISTRATOR)
