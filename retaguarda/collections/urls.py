"""The collections pages under /collections/: payments, bank accounts and statements, the
reconciliation screen and the aging."""

from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "collections"

urlpatterns: list = [
    path("", RedirectView.as_view(pattern_name="collections:payment_list"), name="index"),
    path("payments/", views.payment_list, name="payment_list"),
    path("payments/new/", views.payment_create, name="payment_create"),
    path("payments/<int:pk>/", views.payment_detail, name="payment_detail"),
    path("payments/<int:pk>/cancel/", views.payment_cancel, name="payment_cancel"),
    path("bank-accounts/", views.bank_account_list, name="bank_account_list"),
    path("bank-accounts/<int:pk>/upload/", views.statement_upload, name="statement_upload"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("statements/<int:pk>/", views.statement_detail, name="statement_detail"),
    path("statements/<int:pk>/proposals/", views.statement_refresh, name="statement_refresh"),
    path("statement-lines/<int:pk>/", views.line_edit, name="line_edit"),
    path("statement-lines/<int:pk>/confirm/", views.line_confirm, name="line_confirm"),
    path("statement-lines/<int:pk>/ignore/", views.line_ignore, name="line_ignore"),
    path("statement-lines/<int:pk>/reopen/", views.line_reopen, name="line_reopen"),
    path("aging/", views.aging_page, name="aging"),
]
