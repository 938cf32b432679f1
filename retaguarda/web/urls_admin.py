"""Administration pages: company settings, audit log, webhooks and deliveries, background jobs, API tokens, users."""

from django.urls import path

from . import views_admin as views

urlpatterns: list = [
    path("company/", views.company_settings_view, name="company_settings"),
    path("audit/", views.audit_log_view, name="audit_log"),
    path("webhooks/", views.webhook_list_view, name="webhook_list"),
    path("webhooks/new/", views.webhook_create_view, name="webhook_create"),
    path("webhooks/<int:subscription_id>/", views.webhook_detail_view, name="webhook_detail"),
    path("webhooks/<int:subscription_id>/edit/", views.webhook_edit_view, name="webhook_edit"),
    path("webhooks/<int:subscription_id>/deactivate/", views.webhook_deactivate_view, name="webhook_deactivate"),
    path(
        "webhooks/deliveries/<int:delivery_id>/replay/",
        views.webhook_delivery_replay_view,
        name="webhook_delivery_replay",
    ),
    path("jobs/", views.job_list_view, name="job_list"),
    path("jobs/<uuid:job_id>/", views.job_detail_view, name="job_detail"),
    path("tokens/", views.token_list_view, name="token_list"),
    path("tokens/new/", views.token_create_view, name="token_create"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke_view, name="token_revoke"),
    path("users/", views.user_list_view, name="user_list"),
    path("users/new/", views.user_create_view, name="user_create"),
    path("users/<int:user_id>/deactivate/", views.user_deactivate_view, name="user_deactivate"),
    path("users/<int:user_id>/activate/", views.user_activate_view, name="user_activate"),
]
