"""The order pages under /sales/, and the htmx look-ups of the order form."""

from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "sales"

urlpatterns: list = [
    path("", RedirectView.as_view(pattern_name="sales:order_list"), name="index"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/new/", views.order_create, name="order_create"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/edit/", views.order_edit, name="order_edit"),
    path("orders/<int:pk>/confirm/", views.order_confirm, name="order_confirm"),
    path("orders/<int:pk>/cancel/", views.order_cancel, name="order_cancel"),
    path("orders/<int:pk>/close/", views.order_close, name="order_close"),
    path("lookup/customers/", views.customer_lookup, name="customer_lookup"),
    path("lookup/customer/", views.customer_pick, name="customer_pick"),
    path("lookup/product/", views.product_lookup, name="product_lookup"),
    path("customers/<int:party_pk>/block/", views.customer_block, name="customer_block"),
]
