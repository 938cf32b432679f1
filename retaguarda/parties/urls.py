from django.urls import path
from django.views.generic import RedirectView

from . import views
from .urls_import import urlpatterns as import_urlpatterns

app_name = "parties"

urlpatterns: list = [
    path("", RedirectView.as_view(pattern_name="parties:customer_list"), name="index"),
    path("customers/", views.customer_list, name="customer_list"),
    path("suppliers/", views.supplier_list, name="supplier_list"),
    path("new/", views.party_create, name="party_create"),
    path("<int:pk>/", views.party_detail, name="party_detail"),
    path("<int:pk>/edit/", views.party_edit, name="party_edit"),
    path("<int:pk>/archive/", views.party_archive, name="party_archive"),
    path("<int:pk>/restore/", views.party_restore, name="party_restore"),
    path("<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("<int:pk>/contacts/<int:contact_pk>/edit/", views.contact_edit, name="contact_edit"),
    path("<int:pk>/contacts/<int:contact_pk>/remove/", views.contact_remove, name="contact_remove"),
    path("<int:pk>/addresses/new/", views.address_create, name="address_create"),
    path("<int:pk>/addresses/<int:address_pk>/edit/", views.address_edit, name="address_edit"),
    path("<int:pk>/addresses/<int:address_pk>/remove/", views.address_remove, name="address_remove"),
    path("payment-terms/", views.payment_term_list, name="payment_term_list"),
    path("payment-terms/<int:term_pk>/remove/", views.payment_term_remove, name="payment_term_remove"),
    *import_urlpatterns,
]
