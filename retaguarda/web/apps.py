from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "retaguarda.web"
    label = "web"
    verbose_name = _("Web application")

    def ready(self):
        # Registers the dashboard widgets.
        from . import widgets, widgets_billing, widgets_fulfilment, widgets_sales  # noqa: F401
