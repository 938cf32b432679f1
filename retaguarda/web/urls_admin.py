"""Administration pages: audit log, webhooks and their deliveries, background jobs, API tokens."""

urlpatterns: list = []
