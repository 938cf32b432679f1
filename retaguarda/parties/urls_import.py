"""Import and export pages of parties (CSV and XLSX)."""

from django.urls import path

from . import views_import

urlpatterns: list = [
    path("import/", views_import.party_import_view, name="party_import"),
    path("export/", views_import.party_export_view, name="party_export"),
]
