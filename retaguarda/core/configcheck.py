"""Configuration sanity: what `retaguarda check`, `serve` and the WSGI entry point refuse."""

from __future__ import annotations

import sys

from django.conf import settings


def production_problems() -> list[str]:
    """Reasons why this configuration must not serve real traffic (none in development mode)."""
    if settings.MODE == "development":
        return []
    problems = []
    if settings.MODE != "production":
        problems.append(f"RETAGUARDA_MODE is {settings.MODE!r}; use 'production' or 'development'.")
    if settings.DEBUG:
        problems.append("Debug is on (RETAGUARDA_DEBUG); it shows internals to visitors. Turn it off.")
    if settings.SECRET_KEY == settings.INSECURE_DEFAULT_SECRET_KEY or not settings.SECRET_KEY:
        problems.append("RETAGUARDA_SECRET_KEY is missing or is the development default; set a long random value.")
    elif len(settings.SECRET_KEY) < 32:
        problems.append("RETAGUARDA_SECRET_KEY is shorter than 32 characters; set a long random value.")
    if not settings.SESSION_COOKIE_SECURE or not settings.CSRF_COOKIE_SECURE:
        problems.append(
            "Cookies are not marked secure (RETAGUARDA_SECURE_COOKIES=0); serve over HTTPS with secure cookies."
        )
    if not settings.SESSION_COOKIE_HTTPONLY:
        problems.append("The session cookie is readable by scripts (SESSION_COOKIE_HTTPONLY off).")
    if "*" in settings.ALLOWED_HOSTS:
        problems.append("RETAGUARDA_ALLOWED_HOSTS is '*'; list the host names this server answers to.")
    return problems


def refuse_unsafe_production() -> None:
    problems = production_problems()
    if problems:
        sys.stderr.write("retaguarda refuses to start in production mode:\n")
        for problem in problems:
            sys.stderr.write(f"  - {problem}\n")
        sys.stderr.write("For local development only, set RETAGUARDA_MODE=development.\n")
        raise SystemExit(3)
