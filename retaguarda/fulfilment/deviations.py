"""The deviations fulfilment raises: a bin held less than the pick list said."""

from django.utils.translation import gettext_lazy as _

from retaguarda.core.choices import Area, Role, Severity
from retaguarda.core.deviations import DeviationKind, register

DEVIATION_SHORT_PICK = "fulfilment.short_pick"

register(
    DeviationKind(
        code=DEVIATION_SHORT_PICK,
        title=_("Short pick of %(sku)s at %(location)s: %(missing)s missing (%(pick_list)s)"),
        area=Area.WAREHOUSE,
        severity=Severity.MEDIUM,
        owner_role=Role.WAREHOUSE,
    )
)
