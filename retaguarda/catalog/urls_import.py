"""Import and export pages of catalog (CSV and XLSX)."""

from django.urls import path

from . import views_import

urlpatterns: list = [
    path("products/import/", views_import.product_import_view, name="product_import"),
    path("products/export/", views_import.product_export_view, name="product_export"),
]
