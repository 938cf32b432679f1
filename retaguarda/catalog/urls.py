from django.urls import path

from . import views
from .urls_import import urlpatterns as import_urlpatterns

app_name = "catalog"

urlpatterns: list = [
    path("products/", views.product_list_view, name="product_list"),
    path("products/new/", views.product_create_view, name="product_create"),
    path("products/<int:product_id>/", views.product_detail_view, name="product_detail"),
    path("products/<int:product_id>/edit/", views.product_edit_view, name="product_edit"),
    path("products/<int:product_id>/archive/", views.product_archive_view, name="product_archive"),
    path("price-lists/", views.price_list_list_view, name="pricelist_list"),
    path("price-lists/new/", views.price_list_create_view, name="pricelist_create"),
    path("price-lists/<int:price_list_id>/", views.price_list_detail_view, name="pricelist_detail"),
    path("price-lists/<int:price_list_id>/edit/", views.price_list_edit_view, name="pricelist_edit"),
    path("price-lists/<int:price_list_id>/prices/", views.price_list_item_set_view, name="pricelist_item_set"),
    path(
        "price-lists/<int:price_list_id>/prices/<int:item_id>/remove/",
        views.price_list_item_remove_view,
        name="pricelist_item_remove",
    ),
    path("units/", views.uom_list_view, name="uom_list"),
    *import_urlpatterns,
]
