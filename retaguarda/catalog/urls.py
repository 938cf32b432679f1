from .urls_import import urlpatterns as import_urlpatterns

app_name = "catalog"

urlpatterns: list = [
    *import_urlpatterns,
]
