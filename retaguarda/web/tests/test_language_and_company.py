"""Language switch (stored per user, in the session for visitors) and company switch (granted only)."""

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog, Membership, User
from retaguarda.core.testing import client_for, company_build, user_build
from retaguarda.web.middleware import SESSION_COMPANY_KEY, SESSION_LANGUAGE_KEY

# Language


@pytest.mark.parametrize("language", ["en", "pt-br", "es"])
def test_visitor_language_is_kept_in_the_session(db, language):
    client = Client()
    response = client.post("/language/", {"language": language, "next": "/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.session[SESSION_LANGUAGE_KEY] == language
    page = client.get("/login/")
    assert page["Content-Language"] == language
    assert f'<html lang="{language}">'.encode() in page.content
    with translation.override(language):
        assert gettext("Log in").encode() in page.content


def test_user_language_is_stored_on_the_user_and_audited(company, admin_user):
    client = client_for(admin_user)
    response = client.post("/language/", {"language": "pt-br", "next": "/profile/"})
    assert response["Location"] == "/profile/"
    assert User.objects.get(pk=admin_user.pk).language == "pt-br"
    assert client.session[SESSION_LANGUAGE_KEY] == "pt-br"
    record = AuditLog.objects.get(action="user.language")
    assert (record.company_id, record.actor_id) == (company.pk, admin_user.pk)
    assert (record.before, record.after) == ({"language": "en"}, {"language": "pt-br"})
    assert client.get("/profile/")["Content-Language"] == "pt-br"


def test_stored_language_follows_the_user_to_a_new_session(company):
    user = user_build(company, Role.SALES, language="es")
    # A fresh browser asking for Portuguese still gets the user's Spanish.
    client = client_for(user)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9")
    assert response["Content-Language"] == "es"


def test_visitor_without_a_choice_gets_the_browser_language(db):
    response = Client().get("/login/", HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9")
    assert response["Content-Language"] == "es"


def test_choosing_the_same_language_writes_no_audit_row(admin_user):
    client_for(admin_user).post("/language/", {"language": "en", "next": "/"})
    assert not AuditLog.objects.filter(action="user.language").exists()


def test_unknown_language_changes_nothing(admin_user):
    client = client_for(admin_user)
    response = client.post("/language/", {"language": "xx", "next": "/profile/"})
    assert response.status_code == 302
    assert response["Location"] == "/profile/"
    assert User.objects.get(pk=admin_user.pk).language == "en"
    assert SESSION_LANGUAGE_KEY not in client.session
    assert not AuditLog.objects.filter(action="user.language").exists()


def test_language_switch_never_redirects_off_site(db):
    response = Client().post("/language/", {"language": "es", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_language_switch_is_post_only(admin_user):
    client = client_for(admin_user)
    assert client.get("/language/?language=es").status_code == 405
    assert User.objects.get(pk=admin_user.pk).language == "en"


# Company switch


@pytest.fixture
def two_company_user(company):
    second = company_build(country="BR", legal_name="Segunda Loja Ltda")
    user = user_build(company, Role.MANAGER, username="two-hats")
    user_build(second, Role.SALES, username="two-hats")
    return user, company, second


def test_the_switcher_lists_only_granted_companies(two_company_user):
    user, first, second = two_company_user
    other = company_build(country="ES", legal_name="Not Yours SL")
    response = client_for(user).get("/")
    # Ordered by legal name: "Segunda Loja Ltda" before "Tienda Ejemplo … SL".
    assert [c.pk for c in response.context["available_companies"]] == [second.pk, first.pk]
    assert other.legal_name.encode() not in response.content
    assert b'action="/company/"' in response.content


def test_single_company_users_get_no_switcher(admin_client):
    response = admin_client.get("/")
    assert b'action="/company/"' not in response.content


def test_switching_to_a_granted_company_changes_company_and_role(two_company_user):
    user, first, second = two_company_user
    client = client_for(user)
    assert client.get("/").context["actor"].company == first
    response = client.post("/company/", {"company": second.pk})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session[SESSION_COMPANY_KEY] == second.pk
    actor = client.get("/").context["actor"]
    assert (actor.company, actor.role) == (second, Role.SALES)


@pytest.mark.parametrize("target", ["other", "inactive", "missing", "garbage"])
def test_switching_to_a_company_not_granted_is_refused_and_nothing_changes(two_company_user, target):
    user, first, second = two_company_user
    client = client_for(user)
    client.post("/company/", {"company": first.pk})
    other = company_build(country="ES", legal_name="Not Yours SL")
    user_build(other, Role.ADMINISTRATOR)  # the company has users, just not this one
    if target == "inactive":
        Membership.objects.filter(user=user, company=second).update(is_active=False)
    company_value = {"other": other.pk, "inactive": second.pk, "missing": 999999, "garbage": "x"}[target]
    response = client.post("/company/", {"company": company_value})
    assert response.status_code == 403
    assert response.context["message"] == "You have no access to that company."
    assert client.session[SESSION_COMPANY_KEY] == first.pk
    assert client.get("/").context["actor"].company == first


def test_company_switch_needs_login(company):
    response = Client().post("/company/", {"company": company.pk})
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_revoked_company_in_the_session_falls_back_to_a_granted_one(two_company_user):
    user, first, second = two_company_user
    client = client_for(user)
    client.post("/company/", {"company": second.pk})
    Membership.objects.filter(user=user, company=second).update(is_active=False)
    actor = client.get("/").context["actor"]
    assert (actor.company, actor.role) == (first, Role.MANAGER)
