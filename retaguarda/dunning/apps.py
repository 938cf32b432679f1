from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DunningConfig(AppConfig):
    name = "retaguarda.dunning"
    label = "dunning"
    verbose_name = _("Dunning")

    def ready(self):
        # Registers the deviation kinds, so the inbox can title them in any process.
        from . import deviations  # noqa: F401
        from .sections import sections_register

        # The customer page shows the customer's dunning state and promises to pay.
        sections_register()

        from retaguarda.billing.services import INVOICE_PAID_HOOKS

        from .services import block_review_on_payment

        # A paid invoice may be the last overdue one of a customer dunning blocked.
        if block_review_on_payment not in INVOICE_PAID_HOOKS:
            INVOICE_PAID_HOOKS.append(block_review_on_payment)
