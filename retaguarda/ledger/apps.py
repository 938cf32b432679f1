from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "retaguarda.ledger"
    label = "ledger"
    verbose_name = _("Accounting")

    def ready(self):
        from retaguarda.core.services import COMPANY_CREATED_HOOKS

        from .charts import chart_install

        # Every company gets its chart, journals and current fiscal year as it is created.
        if chart_install not in COMPANY_CREATED_HOOKS:
            COMPANY_CREATED_HOOKS.append(chart_install)
