from django.urls import include, path

from retaguarda.api.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("parties/", include("retaguarda.parties.urls")),
    path("catalog/", include("retaguarda.catalog.urls")),
    path("inventory/", include("retaguarda.inventory.urls")),
    path("sales/", include("retaguarda.sales.urls")),
    path("fulfilment/", include("retaguarda.fulfilment.urls")),
    path("collections/", include("retaguarda.collections.urls")),
    path("billing/", include("retaguarda.billing.urls")),
    path("dunning/", include("retaguarda.dunning.urls")),
    path("einvoicing/", include("retaguarda.einvoicing.urls")),
    path("ledger/reports/", include("retaguarda.ledger.urls_reports")),
    path("ledger/", include("retaguarda.ledger.urls")),
    path("", include("retaguarda.web.urls")),
]

# Error pages in the user's language (retaguarda/web/views.py).
handler400 = "retaguarda.web.views.bad_request"
handler403 = "retaguarda.web.views.permission_denied"
handler404 = "retaguarda.web.views.page_not_found"
handler500 = "retaguarda.web.views.server_error"
