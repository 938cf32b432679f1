"""The report pages, mounted under /ledger/reports/ (namespace "ledger_reports")."""

from django.urls import path

from . import views_reports as views

app_name = "ledger_reports"

urlpatterns: list = [
    path("", views.index, name="index"),
    path("trial-balance/", views.trial_balance, name="trial_balance"),
    path("profit-and-loss/", views.profit_and_loss, name="profit_and_loss"),
    path("balance-sheet/", views.balance_sheet, name="balance_sheet"),
    path("general-ledger/", views.general_ledger, name="general_ledger"),
    path("journal/", views.journal, name="journal"),
]
