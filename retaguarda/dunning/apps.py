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
