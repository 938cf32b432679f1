"""Electronic invoicing pages under /einvoicing/: an invoice's UBL and NF-e files, Brazil's NF-e
and A1 certificate, Spain's invoice register."""

from django.urls import path

from . import views

app_name = "einvoicing"

urlpatterns: list = [
    path("", views.home, name="home"),
    path("invoices/<int:pk>/ubl/", views.invoice_ubl_view, name="invoice_ubl"),
    path("invoices/<int:pk>/nfe/", views.invoice_nfe_view, name="invoice_nfe"),
    path("invoices/<int:invoice_pk>/nfe/queue/", views.nfe_queue_view, name="nfe_queue"),
    path("nfe/", views.nfe_list, name="nfe_list"),
    path("nfe/send/", views.nfe_send_view, name="nfe_send"),
    path("nfe/<int:pk>/cancel/", views.nfe_cancel_view, name="nfe_cancel"),
    path("nfe/certificate/", views.certificate_view, name="certificate"),
    path("register/", views.register_view, name="register"),
    path("register/verify/", views.register_verify_view, name="register_verify"),
]
