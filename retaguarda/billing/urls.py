"""Billing pages under /billing/, and the fragments the order and customer pages load."""

from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "billing"

urlpatterns: list = [
    path("", RedirectView.as_view(pattern_name="billing:invoice_list"), name="index"),
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/post/", views.invoice_post_view, name="invoice_post"),
    path("invoices/<int:pk>/delete/", views.invoice_delete_view, name="invoice_delete"),
    path("invoices/<int:pk>/credit-note/", views.credit_note_create_view, name="credit_note_create"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf_view, name="invoice_pdf"),
    path("supplier-bills/new/", views.supplier_bill_create_view, name="supplier_bill_create"),
    path("taxes/", views.tax_list, name="tax_list"),
    path("tax-rules/", views.tax_rule_list, name="tax_rule_list"),
    path("orders/<int:order_pk>/invoices/", views.order_invoices_view, name="order_invoices"),
    path("orders/<int:order_pk>/invoice/", views.order_invoice_view, name="order_invoice"),
    path("parties/<int:party_pk>/invoices/", views.party_invoices_view, name="party_invoices"),
]
