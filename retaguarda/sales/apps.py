from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "retaguarda.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self):
        # Back-ordered lines wait for stock: every arrival serves them first, in promise order.
        from retaguarda.inventory.services import arrival_consumer_register

        from .sections import sections_register
        from .services import backorders_allocate

        arrival_consumer_register(backorders_allocate)
        # The customer page shows the customer's orders.
        sections_register()
