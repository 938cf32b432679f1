"""The dashboard widgets of fulfilment; imported by WebConfig.ready() to register them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from retaguarda.fulfilment.selectors import fulfilment_counts

from .dashboard import DashboardWidget, register
from .widgets import link


@register
class FulfilmentWidget(DashboardWidget):
    """To pick and to ship: orders waiting for a pick list, lines left on open pick lists, and
    shipments not yet gone."""

    code = "fulfilment"
    title = _("To pick / to ship")
    permission = "fulfilment.view"
    template_name = "web/widgets/counts.html"

    def context(self, actor) -> dict:
        counts = fulfilment_counts(actor)
        return {
            "counts": [
                {
                    "count": counts["ready_orders"],
                    "caption": _("orders ready for a pick list"),
                    "url": link("fulfilment:picklist_create"),
                },
                {
                    "count": counts["lines_to_pick"],
                    "caption": _("lines to pick"),
                    "url": link("fulfilment:picklist_list", "status=open"),
                },
                {
                    "count": counts["to_ship"],
                    "caption": _("shipments to pack or ship"),
                    "url": link("fulfilment:shipment_list"),
                },
            ]
        }
