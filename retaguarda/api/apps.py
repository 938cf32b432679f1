from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "retaguarda.api"
    label = "api"
    verbose_name = "API"
