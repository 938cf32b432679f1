"""The project's URLs plus views that fail on purpose, for the error page tests."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.urls import path

from retaguarda.common.errors import NotFound, PermissionDenied
from retaguarda.urls import handler400, handler403, handler404, handler500
from retaguarda.urls import urlpatterns as project_urlpatterns


def boom(request):
    raise RuntimeError("boom")


def domain_denied(request):
    raise PermissionDenied("Only the finance team may see this.")


def domain_missing(request):
    raise NotFound("No such invoice.")


def django_denied(request):
    raise DjangoPermissionDenied


urlpatterns = [
    path("test/boom/", boom),
    path("test/domain-denied/", domain_denied),
    path("test/domain-missing/", domain_missing),
    path("test/django-denied/", django_denied),
    *project_urlpatterns,
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
