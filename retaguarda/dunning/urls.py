"""Dunning pages under /dunning/."""

from django.urls import path

from . import views

app_name = "dunning"

urlpatterns: list = [
    path("", views.home_view, name="home"),
    path("runs/", views.run_create_view, name="run_create"),
    path("runs/<int:run_id>/", views.run_detail_view, name="run_detail"),
    path("runs/<int:run_id>/send/", views.run_send_view, name="run_send"),
    path("letters/<int:letter_id>/", views.letter_detail_view, name="letter_detail"),
    path("letters/<int:letter_id>/letter.pdf", views.letter_pdf_view, name="letter_pdf"),
    path("procedure/", views.procedure_view, name="procedure"),
    path("procedure/levels/", views.level_create_view, name="level_create"),
    path("procedure/levels/<int:level_id>/", views.level_edit_view, name="level_edit"),
    path("procedure/levels/<int:level_id>/delete/", views.level_delete_view, name="level_delete"),
    path("procedure/settings/", views.settings_update_view, name="settings_update"),
    path("promises/", views.promise_list_view, name="promise_list"),
    path("promises/new/", views.promise_create_view, name="promise_create"),
    path("promises/<int:promise_id>/cancel/", views.promise_cancel_view, name="promise_cancel"),
    path("write-off/", views.write_off_view, name="write_off"),
]
