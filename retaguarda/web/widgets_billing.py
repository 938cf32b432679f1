"""The dashboard widget of billing; imported by WebConfig.ready() to register it (billing sits
below web, so it cannot register into web's registry itself)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from retaguarda.billing.selectors import billing_counts

from .dashboard import DashboardWidget, register
from .widgets import link


@register
class BillingWidget(DashboardWidget):
    """Orders whose shipped goods wait for their invoice, and what customers owe."""

    code = "billing"
    title = _("Billing")
    permission = "billing.view"
    template_name = "billing/widgets/dashboard.html"

    def context(self, actor) -> dict:
        counts = billing_counts(actor)
        return {
            "shipped_not_invoiced": counts["shipped_not_invoiced"],
            "receivable": counts["receivable"],
            "currency": counts["currency"],
            "open_url": link("billing:invoice_list", "kind=customer_invoice&status=posted&sort=due"),
        }
