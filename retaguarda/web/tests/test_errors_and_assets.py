"""Error pages in the user's language, and assets served from installed packages (no CDN)."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

import retaguarda
from retaguarda.core.choices import Role
from retaguarda.core.testing import client_for, user_build

ERROR_URLS = "retaguarda.web.tests.urls_errors"


def in_language(language, message):
    with translation.override(language):
        return gettext(message)


@pytest.mark.parametrize("language", ["en", "pt-br", "es"])
def test_404_page_is_in_the_users_language(company, language):
    user = user_build(company, Role.SALES, language=language)
    response = client_for(user).get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Language"] == language
    assert f'<html lang="{language}">'.encode() in response.content
    assert in_language(language, "Page not found").encode() in response.content
    assert response.context["actor"].company == company  # rendered inside the normal frame


def test_404_for_a_visitor_uses_the_session_language(db):
    client = Client()
    client.post("/language/", {"language": "es", "next": "/login/"})
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Language"] == "es"
    assert b"/language/" in response.content
    assert b'action="/company/"' not in response.content


@pytest.mark.urls(ERROR_URLS)
@pytest.mark.parametrize("language", ["en", "es"])
def test_500_page_is_in_the_users_language(company, language):
    user = user_build(company, Role.SALES, language=language)
    client = client_for(user)
    client.raise_request_exception = False
    response = client.get("/test/boom/")
    assert response.status_code == 500
    assert f'<html lang="{language}">'.encode() in response.content
    assert in_language(language, "Server error").encode() in response.content
    assert b"boom" not in response.content  # no internals leak


def test_500_handler_works_without_the_database(rf):
    # No db fixture: pytest-django makes any query raise here, as a broken database would.
    from retaguarda.web.views import server_error

    request = rf.get("/anything/")
    with translation.override("es"):
        response = server_error(request)
    assert response.status_code == 500
    assert b'<html lang="es">' in response.content


@pytest.mark.urls(ERROR_URLS)
def test_a_services_permission_denied_becomes_a_403_page(admin_client):
    response = admin_client.get("/test/domain-denied/")
    assert response.status_code == 403
    assert response.context["message"] == "Only the finance team may see this."


@pytest.mark.urls(ERROR_URLS)
def test_a_services_not_found_becomes_a_404_page(admin_client):
    response = admin_client.get("/test/domain-missing/")
    assert response.status_code == 404
    assert response.context["message"] == "No such invoice."


@pytest.mark.urls(ERROR_URLS)
def test_djangos_permission_denied_uses_the_403_page(company):
    user = user_build(company, Role.HR, language="pt-br")
    response = client_for(user).get("/test/django-denied/")
    assert response.status_code == 403
    assert in_language("pt-br", "Not allowed").encode() in response.content
    assert response["Content-Language"] == "pt-br"


def test_error_handlers_are_wired():
    from retaguarda import urls

    assert urls.handler404 == "retaguarda.web.views.page_not_found"
    assert urls.handler500 == "retaguarda.web.views.server_error"
    assert urls.handler403 == "retaguarda.web.views.permission_denied"
    assert urls.handler400 == "retaguarda.web.views.bad_request"


# Assets: htmx and Alpine come from the installed wheels, through WhiteNoise.


@pytest.mark.parametrize(
    "path, marker",
    [
        ("/static/django_htmx/htmx-2.min.js", b"htmx"),
        ("/static/js_lib_alpinejs/alpine.min.js", b"Alpine"),
        ("/static/web/app.css", b".topbar"),
    ],
)
def test_assets_are_served_from_installed_packages(db, path, marker):
    response = Client().get(path)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert marker in body
    expected_type = "text/css" if path.endswith(".css") else "javascript"
    assert expected_type in response["Content-Type"]


@pytest.mark.parametrize(
    "static_path, package",
    [("django_htmx/htmx-2.min.js", "django_htmx"), ("js_lib_alpinejs/alpine.min.js", "js_lib_alpinejs")],
)
def test_scripts_come_from_the_installed_wheels_not_from_the_repository(db, static_path, package):
    import importlib

    from django.contrib.staticfiles import finders

    found = Path(finders.find(static_path)).resolve()
    package_dir = Path(importlib.import_module(package).__file__).resolve().parent
    assert found.is_relative_to(package_dir)
    assert not found.is_relative_to(PACKAGE_DIR)
    served = b"".join(Client().get(f"/static/{static_path}").streaming_content)
    assert served == found.read_bytes()


def test_pages_load_the_packaged_scripts(admin_client):
    body = admin_client.get("/").content
    assert b'<script src="/static/django_htmx/htmx-2.min.js" defer></script>' in body
    assert b'<script src="/static/js_lib_alpinejs/alpine.min.js" defer></script>' in body


PACKAGE_DIR = Path(retaguarda.__file__).resolve().parent
# A script or stylesheet fetched from another origin: http://, https:// or protocol-relative //.
REMOTE_ASSET = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", re.IGNORECASE
)
REMOTE_CSS_IMPORT = re.compile(r"(?:@import|url\()\s*[\"']?\s*(?:https?:)?//", re.IGNORECASE)


def test_no_template_or_stylesheet_loads_anything_from_another_origin():
    templates = sorted(PACKAGE_DIR.glob("*/templates/**/*.html"))
    stylesheets = sorted(PACKAGE_DIR.glob("*/static/**/*.css"))
    assert any(p.name == "base.html" for p in templates)  # the scan really looks at the templates
    offenders = [
        str(p.relative_to(PACKAGE_DIR)) for p in templates if REMOTE_ASSET.search(p.read_text(encoding="utf-8"))
    ] + [str(p.relative_to(PACKAGE_DIR)) for p in stylesheets if REMOTE_CSS_IMPORT.search(p.read_text("utf-8"))]
    assert offenders == []


@pytest.mark.parametrize(
    "html",
    [
        '<script src="https://unpkg.com/htmx.org"></script>',
        "<script defer src='//cdn.jsdelivr.net/npm/alpinejs'></script>",
        '<link rel="stylesheet" href="http://fonts.googleapis.com/css">',
    ],
)
def test_the_cdn_check_catches_remote_assets(html):
    assert REMOTE_ASSET.search(html)


def test_the_cdn_check_allows_local_assets():
    assert not REMOTE_ASSET.search('<script src="/static/django_htmx/htmx-2.min.js" defer></script>')
    assert not REMOTE_ASSET.search('<a href="https://example.com/docs">docs</a>')
