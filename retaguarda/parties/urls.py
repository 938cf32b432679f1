from .urls_import import urlpatterns as import_urlpatterns

app_name = "parties"

urlpatterns: list = [
    *import_urlpatterns,
]
