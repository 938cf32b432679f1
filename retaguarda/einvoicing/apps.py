from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EinvoicingConfig(AppConfig):
    name = "retaguarda.einvoicing"
    label = "einvoicing"
    verbose_name = _("Electronic invoicing")
