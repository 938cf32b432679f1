"""The ledger's pages under /ledger/ (the reports' pages are mounted by their own module)."""

from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "ledger"

urlpatterns: list = [
    path("", RedirectView.as_view(pattern_name="ledger:entry_list"), name="index"),
    path("accounts/", views.account_list, name="account_list"),
    path("entries/", views.entry_list, name="entry_list"),
    path("entries/new/", views.entry_create, name="entry_create"),
    path("entries/<int:pk>/", views.entry_detail, name="entry_detail"),
    path("entries/<int:pk>/edit/", views.entry_edit, name="entry_edit"),
    path("entries/<int:pk>/post/", views.entry_post, name="entry_post"),
    path("entries/<int:pk>/delete/", views.entry_delete, name="entry_delete"),
    path("entries/<int:pk>/reverse/", views.entry_reverse, name="entry_reverse"),
    path("periods/", views.period_list, name="period_list"),
    path("periods/<int:pk>/close/", views.period_close, name="period_close"),
    path("periods/<int:pk>/reopen/", views.period_reopen, name="period_reopen"),
    path("fiscal-years/open/", views.fiscal_year_open, name="fiscal_year_open"),
    path("fiscal-years/<int:pk>/close/", views.fiscal_year_close, name="fiscal_year_close"),
    path("rates/", views.rate_list, name="rate_list"),
]
