"""The dashboard widgets of the foundation areas; imported by WebConfig.ready() to register them.

Registration order is display order. Each widget reads through its area's selectors, which
check the same permission again.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from retaguarda.catalog.selectors import product_count
from retaguarda.core.selectors import audit_recent
from retaguarda.parties.selectors import party_counts

from .dashboard import DashboardWidget, register
from .navigation import url_or_none


def link(url_name: str, query: str = "") -> str | None:
    url = url_or_none(url_name)
    return f"{url}?{query}" if url and query else url


@register
class GettingStartedWidget(DashboardWidget):
    """First steps, limited to what the user's role may do."""

    code = "getting-started"
    title = _("Getting started")
    permission = None
    template_name = "web/widgets/getting_started.html"

    # (permission or None, URL name, label)
    STEPS = (
        (None, "web:profile", _("Choose your language and change your password")),
        ("parties.change", "parties:party_create", _("Add your first customer or supplier")),
        ("parties.view", "parties:customer_list", _("Look up a customer")),
        ("catalog.change", "catalog:product_create", _("Add a product to the catalog")),
        ("catalog.view", "catalog:product_list", _("Browse the product catalog")),
        ("core.users.manage", "web:user_list", _("Invite your colleagues, one role each")),
        ("core.tokens.manage", "web:token_list", _("Create an API token for your shop")),
    )

    def context(self, actor) -> dict:
        steps = []
        for permission, url_name, label in self.STEPS:
            if permission is not None and not actor.can(permission):
                continue
            url = url_or_none(url_name)
            if url is not None:
                steps.append({"label": label, "url": url})
        return {"steps": steps}


@register
class PartiesWidget(DashboardWidget):
    """How many active customers and suppliers the company has."""

    code = "parties"
    title = _("Customers and suppliers")
    permission = "parties.view"
    template_name = "web/widgets/counts.html"

    def context(self, actor) -> dict:
        counts = party_counts(actor)
        return {
            "counts": [
                {
                    "count": counts["customers"],
                    "caption": _("active customers"),
                    "url": link("parties:customer_list"),
                },
                {
                    "count": counts["suppliers"],
                    "caption": _("active suppliers"),
                    "url": link("parties:supplier_list"),
                },
            ]
        }


@register
class ProductsWidget(DashboardWidget):
    """How many active products the catalog holds."""

    code = "products"
    title = _("Catalog")
    permission = "catalog.view"
    template_name = "web/widgets/counts.html"

    def context(self, actor) -> dict:
        return {
            "counts": [
                {
                    "count": product_count(actor=actor, active_only=True),
                    "caption": _("active products"),
                    "url": link("catalog:product_list", "active=1"),
                }
            ]
        }


@register
class RecentActivityWidget(DashboardWidget):
    """The latest changes in the company, from the audit log."""

    code = "recent-activity"
    title = _("Recent activity")
    permission = "core.audit.view"
    template_name = "web/widgets/recent_activity.html"
    wide = True
    limit = 8

    def context(self, actor) -> dict:
        return {"records": audit_recent(company=actor.company, limit=self.limit), "audit_url": link("web:audit_log")}


@register
class DeviationsWidget(DashboardWidget):
    """The open deviations the user's role owns (all of them for administrators and managers),
    counted by severity, and the most pressing few."""

    code = "deviations"
    title = _("My deviations")
    permission = "core.deviations.view"
    template_name = "web/deviations/widget.html"
    limit = 5

    def context(self, actor) -> dict:
        # Imported here so that this widget stays one appended block.
        from django.db.models import Count

        from retaguarda.core.choices import OPEN_DEVIATION_STATUSES, Severity
        from retaguarda.core.deviations import SEVERITY_ORDER, deviation_title, deviations_open_for, deviations_visible

        counts = dict(
            deviations_visible(actor=actor)
            .filter(status__in=OPEN_DEVIATION_STATUSES)
            .order_by()
            .values_list("severity")
            .annotate(n=Count("pk"))
        )
        top = list(deviations_open_for(actor=actor)[: self.limit]) if counts else []
        for deviation in top:
            deviation.title = deviation_title(deviation)
        labels = dict(Severity.choices)
        return {
            "total": sum(counts.values()),
            "counts": [
                {"severity": s, "label": labels[s], "count": counts[s]} for s in SEVERITY_ORDER if counts.get(s)
            ],
            "top": top,
            "list_url": link("web:deviation_list"),
        }
