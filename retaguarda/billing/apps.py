from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "retaguarda.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self):
        from retaguarda.core.services import COMPANY_CREATED_HOOKS

        from .services import taxes_install

        # After the ledger's chart (its app comes first in INSTALLED_APPS): taxes post to it.
        if taxes_install not in COMPANY_CREATED_HOOKS:
            COMPANY_CREATED_HOOKS.append(taxes_install)

        from django.db.models.signals import post_migrate

        # Companies created before the books existed get their chart and taxes on upgrade.
        post_migrate.connect(_books_ensure, sender=self, dispatch_uid="billing.books_ensure")

        # The customer page shows the party's invoices; the order page its invoices and the
        # "Invoice" button (both loaded with htmx from billing's own views).
        from retaguarda.sales.views import ORDER_PANELS

        from .sections import sections_register
        from .views import order_panel

        sections_register()
        if order_panel not in ORDER_PANELS:
            ORDER_PANELS.append(order_panel)


def _books_ensure(sender, **kwargs):
    from .services import books_ensure

    books_ensure()
