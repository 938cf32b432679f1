from django.conf import settings

from retaguarda.core.selectors import companies_for

from .navigation import navigation_for


def navigation(request):
    actor = getattr(request, "actor", None)
    user = getattr(request, "user", None)
    return {
        "actor": actor,
        "navigation": navigation_for(actor, request.path),
        "available_companies": companies_for(user) if actor is not None else [],
        "LANGUAGES": settings.LANGUAGES,
    }
