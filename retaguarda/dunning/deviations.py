"""The deviations dunning raises: a customer's unpaid invoices handed over to legal."""

from django.utils.translation import gettext_lazy as _

from retaguarda.core.choices import Area, Role, Severity
from retaguarda.core.deviations import DeviationKind, register

DEVIATION_LEGAL_HANDOVER = "dunning.legal_handover"

register(
    DeviationKind(
        code=DEVIATION_LEGAL_HANDOVER,
        title=_("Unpaid invoices of %(customer)s handed over to legal: %(amount)s overdue"),
        area=Area.LEGAL,
        severity=Severity.HIGH,
        owner_role=Role.LEGAL,
    )
)
