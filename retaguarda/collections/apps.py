from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionsConfig(AppConfig):
    name = "retaguarda.collections"
    label = "collections"
    verbose_name = _("Payments and collections")

    def ready(self):
        from .sections import sections_register

        # The customer page shows the customer's balance, invoices and payments.
        sections_register()
