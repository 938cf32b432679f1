"""The deviations electronic invoicing raises: the company's A1 certificate is about to expire
(or has), so NF-e will soon stop being signed."""

from django.utils.translation import gettext_lazy as _

from retaguarda.core.choices import Area, Role, Severity
from retaguarda.core.deviations import DeviationKind, register

DEVIATION_CERTIFICATE_EXPIRING = "einvoicing.certificate_expiring"

register(
    DeviationKind(
        code=DEVIATION_CERTIFICATE_EXPIRING,
        title=_("The A1 certificate %(subject)s expires on %(date)s: upload its renewal"),
        area=Area.ACCOUNTING,
        severity=Severity.HIGH,
        owner_role=Role.FINANCE,
    )
)
