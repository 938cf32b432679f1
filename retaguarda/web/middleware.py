"""Per-request language (the user's own choice first) and active company."""

from __future__ import annotations

from django.utils import translation

from retaguarda.core.selectors import actor_for

SESSION_COMPANY_KEY = "retaguarda_company_id"
SESSION_LANGUAGE_KEY = "retaguarda_language"


class UserLanguageMiddleware:
    """Activate the user's stored language, else the browser's (Django's LocaleMiddleware rules)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        language = user.language if user.is_authenticated else ""
        if not language:
            language = request.session.get(SESSION_LANGUAGE_KEY, "")
        if not language:
            language = translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


class ActiveCompanyMiddleware:
    """Sets `request.actor` (user, company, role) for logged-in users; None when no company is granted."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.actor = None
        if request.user.is_authenticated:
            request.actor = actor_for(request.user, request.session.get(SESSION_COMPANY_KEY))
        return self.get_response(request)


class DomainErrorMiddleware:
    """A service's PermissionDenied or NotFound raised in a page view becomes a 403 or 404 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from retaguarda.common.errors import NotFound, PermissionDenied

        from .views import error_page

        if request.path.startswith("/api/"):
            return None
        if isinstance(exception, PermissionDenied):
            return error_page(request, 403, exception.message)
        if isinstance(exception, NotFound):
            return error_page(request, 404, exception.message)
        return None
