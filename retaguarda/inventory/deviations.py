"""The deviations inventory raises: a product out of stock, below its reorder point or above
its maximum."""

from django.utils.translation import gettext_lazy as _

from retaguarda.core.choices import Area, Role, Severity
from retaguarda.core.deviations import DeviationKind, register

DEVIATION_STOCK_OUT = "inventory.stock_out"
DEVIATION_STOCK_LOW = "inventory.stock_low"
DEVIATION_OVERSTOCK = "inventory.overstock"

register(
    DeviationKind(
        code=DEVIATION_STOCK_OUT,
        title=_("%(sku)s is out of stock in %(warehouse)s"),
        area=Area.WAREHOUSE,
        severity=Severity.HIGH,
        owner_role=Role.WAREHOUSE,
    )
)
register(
    DeviationKind(
        code=DEVIATION_STOCK_LOW,
        title=_("%(sku)s is at or below its reorder point in %(warehouse)s (%(available)s available)"),
        area=Area.WAREHOUSE,
        severity=Severity.MEDIUM,
        owner_role=Role.WAREHOUSE,
    )
)
register(
    DeviationKind(
        code=DEVIATION_OVERSTOCK,
        title=_("%(sku)s is above its maximum in %(warehouse)s (%(on_hand)s on hand, maximum %(maximum)s)"),
        area=Area.WAREHOUSE,
        severity=Severity.LOW,
        owner_role=Role.WAREHOUSE,
    )
)
