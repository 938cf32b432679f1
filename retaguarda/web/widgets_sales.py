"""The dashboard widgets of sales; imported by WebConfig.ready() to register them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from retaguarda.sales.selectors import order_counts

from .dashboard import DashboardWidget, register
from .widgets import link


@register
class SalesOrdersWidget(DashboardWidget):
    """Open orders by what they wait for: confirmation, shipment, stock."""

    code = "sales-orders"
    title = _("Sales orders")
    permission = "sales.view"
    template_name = "web/widgets/counts.html"

    def context(self, actor) -> dict:
        counts = order_counts(actor)
        return {
            "counts": [
                {
                    "count": counts["draft"],
                    "caption": _("orders to confirm"),
                    "url": link("sales:order_list", "status=draft"),
                },
                {
                    "count": counts["to_ship"],
                    "caption": _("orders to ship"),
                    "url": link("sales:order_list", "status=confirmed&sort=promised"),
                },
                {
                    "count": counts["backordered"],
                    "caption": _("orders waiting for stock"),
                    "url": link("sales:order_list", "status=confirmed&backordered=yes&sort=promised"),
                },
            ]
        }
