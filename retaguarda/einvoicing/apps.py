from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EinvoicingConfig(AppConfig):
    name = "retaguarda.einvoicing"
    label = "einvoicing"
    verbose_name = _("Electronic invoicing")

    def ready(self):
        from retaguarda.billing.services import INVOICE_POSTED_HOOKS

        from .register import register_invoice

        # Spain's register is written in the transaction that issues each invoice.
        if register_invoice not in INVOICE_POSTED_HOOKS:
            INVOICE_POSTED_HOOKS.append(register_invoice)
