from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfilmentConfig(AppConfig):
    name = "retaguarda.fulfilment"
    label = "fulfilment"
    verbose_name = _("Fulfilment")

    def ready(self):
        # Registers the deviation kinds, so the inbox can title them in any process.
        from . import deviations  # noqa: F401
