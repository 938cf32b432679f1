from django.urls import include, path

from retaguarda.api.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("parties/", include("retaguarda.parties.urls")),
    path("catalog/", include("retaguarda.catalog.urls")),
    path("", include("retaguarda.web.urls")),
]
