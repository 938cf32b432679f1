"""Log-in, throttling, log-out and password change through the web pages."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog, LoginFailure, Membership, User
from retaguarda.core.testing import PASSWORD, client_for, user_build

LOGIN = "/login/"
WRONG = "not-the-password"


@pytest.fixture
def throttle(settings):
    settings.LOGIN_THROTTLE_FREE_FAILURES = 3
    settings.LOGIN_THROTTLE_LOCK_FAILURES = 5
    settings.LOGIN_THROTTLE_WINDOW_SECONDS = 15 * 60
    settings.LOGIN_THROTTLE_LOCK_SECONDS = 15 * 60
    return settings


def post_login(client, username, password, next_url=None):
    url = LOGIN + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"username": username, "password": password})


def logged_in_user_id(client):
    return client.session.get("_auth_user_id")


def age_failures(username, seconds):
    LoginFailure.objects.filter(username=username).update(at=timezone.now() - timedelta(seconds=seconds))


def test_login_page_renders_for_anonymous(db):
    response = Client().get(LOGIN)
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'autocomplete="current-password"' in response.content


def test_login_success_redirects_home_and_is_audited(admin_user):
    client = Client()
    response = post_login(client, admin_user.username, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert logged_in_user_id(client) == str(admin_user.pk)
    record = AuditLog.objects.get(action="login.succeeded")
    assert record.object_id == str(admin_user.pk)
    assert record.after == {"ip": "127.0.0.1", "username": admin_user.username}


def test_login_follows_a_local_next_url_only(admin_user):
    response = post_login(Client(), admin_user.username, PASSWORD, next_url="/profile/")
    assert response["Location"] == "/profile/"
    response = post_login(Client(), admin_user.username, PASSWORD, next_url="https://evil.example/steal")
    assert response["Location"] == "/"


def test_logged_in_user_visiting_login_goes_home(admin_client):
    response = admin_client.get(LOGIN)
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_wrong_password_is_refused_and_recorded(admin_user, throttle):
    client = Client()
    response = post_login(client, admin_user.username, WRONG)
    assert response.status_code == 200
    assert response.context["error"] == "Wrong user name or password."
    assert logged_in_user_id(client) is None
    assert LoginFailure.objects.filter(username=admin_user.username).count() == 1
    record = AuditLog.objects.get(action="login.failed")
    assert record.object_id == admin_user.username
    assert record.after == {"ip": "127.0.0.1", "failures": 1}


def test_inactive_user_cannot_log_in(admin_user):
    User.objects.filter(pk=admin_user.pk).update(is_active=False)
    client = Client()
    response = post_login(client, admin_user.username, PASSWORD)
    assert response.context["error"] == "Wrong user name or password."
    assert logged_in_user_id(client) is None


def test_user_without_any_company_is_refused(admin_user):
    Membership.objects.filter(user=admin_user).update(is_active=False)
    client = Client()
    response = post_login(client, admin_user.username, PASSWORD)
    assert response.status_code == 403
    assert response.context["error"] == "Your account has no access to any company. Ask an administrator."
    assert logged_in_user_id(client) is None
    assert not AuditLog.objects.filter(action="login.succeeded").exists()


def test_throttled_login_refuses_even_the_right_password(admin_user, throttle):
    client = Client()
    for _ in range(3):
        assert post_login(client, admin_user.username, WRONG).status_code == 200
    # The 4th try comes too soon: refused without checking the password, and not counted.
    response = post_login(client, admin_user.username, PASSWORD)
    assert response.status_code == 429
    assert response.context["error"] == "Too many failed attempts. Try again in 2 seconds."
    assert logged_in_user_id(client) is None
    assert LoginFailure.objects.filter(username=admin_user.username).count() == 3
    assert AuditLog.objects.filter(action="login.failed").count() == 3
    assert not AuditLog.objects.filter(action="login.succeeded").exists()


def test_after_the_wait_the_right_password_logs_in_and_clears_failures(admin_user, throttle):
    client = Client()
    for _ in range(3):
        post_login(client, admin_user.username, WRONG)
    age_failures(admin_user.username, 5)
    response = post_login(client, admin_user.username, PASSWORD)
    assert response.status_code == 302
    assert logged_in_user_id(client) == str(admin_user.pk)
    assert LoginFailure.objects.filter(username=admin_user.username).count() == 0


def test_the_wait_doubles_with_each_failure(admin_user, throttle):
    client = Client()
    for _ in range(3):
        post_login(client, admin_user.username, WRONG)
    age_failures(admin_user.username, 5)
    post_login(client, admin_user.username, WRONG)  # 4th failure: next wait is 4 seconds
    response = post_login(client, admin_user.username, WRONG)
    assert response.status_code == 429
    assert response.context["error"] == "Too many failed attempts. Try again in 4 seconds."


def test_lock_after_too_many_failures(admin_user, throttle):
    client = Client()
    for _ in range(4):
        post_login(client, admin_user.username, WRONG)
        age_failures(admin_user.username, 60)
    response = post_login(client, admin_user.username, WRONG)  # the 5th failure locks
    assert response.status_code == 429
    assert response.context["error"] == "Too many failed attempts. The account is locked for 15 minutes."
    assert AuditLog.objects.filter(action="login.locked", object_id=admin_user.username).count() == 1
    response = post_login(client, admin_user.username, PASSWORD)
    assert response.status_code == 429
    assert response.context["error"] == "Too many failed attempts. Try again in 15 minutes."
    assert logged_in_user_id(client) is None


def test_throttle_message_is_in_the_visitors_language(admin_user, throttle):
    client = Client()
    client.post("/language/", {"language": "es", "next": LOGIN})
    for _ in range(3):
        post_login(client, admin_user.username, WRONG)
    response = post_login(client, admin_user.username, WRONG)
    with translation.override("es"):
        expected = translation.ngettext(
            "Too many failed attempts. Try again in %(count)d second.",
            "Too many failed attempts. Try again in %(count)d seconds.",
            2,
        ) % {"count": 2}
    assert response.context["error"] == expected
    assert response["Content-Language"] == "es"


def test_logout_needs_post_and_keeps_the_language(admin_user):
    client = client_for(admin_user)
    client.post("/language/", {"language": "pt-br", "next": "/"})
    assert client.get("/logout/").status_code == 405
    assert logged_in_user_id(client) == str(admin_user.pk)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:login")
    assert logged_in_user_id(client) is None
    page = client.get(LOGIN)
    assert page["Content-Language"] == "pt-br"
    assert b'<html lang="pt-br">' in page.content


def test_anonymous_is_sent_to_login(db):
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


# Password change


def test_profile_shows_the_user_and_role(company, role_user):
    user = role_user(Role.WAREHOUSE)
    response = client_for(user).get("/profile/")
    assert response.status_code == 200
    assert response.context["actor_role_label"] == "Warehouse"
    assert response.context["language_form"].initial == {"language": "en"}
    assert user.username.encode() in response.content
    html = response.content.decode()
    # The language form stores the choice on the user and comes back to the profile.
    assert '<form method="post" action="/language/" class="stacked" id="profile-language">' in html
    assert '<input type="hidden" name="next" value="/profile/">' in html
    assert response.context["tokens_url"] == "/admin/tokens/"


def test_password_change_needs_login(db):
    response = Client().get("/profile/password/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/profile/password/"


def test_password_change_with_the_wrong_old_password_changes_nothing(admin_user):
    client = client_for(admin_user)
    before = User.objects.get(pk=admin_user.pk).password
    response = client.post(
        "/profile/password/",
        {"old_password": WRONG, "new_password1": "a-brand-new-secret-42", "new_password2": "a-brand-new-secret-42"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["old_password"] == [
        "Your old password was entered incorrectly. Please enter it again."
    ]
    assert User.objects.get(pk=admin_user.pk).password == before
    assert not AuditLog.objects.filter(action="user.password_change").exists()


def test_password_change_rejects_a_weak_password(admin_user):
    client = client_for(admin_user)
    before = User.objects.get(pk=admin_user.pk).password
    response = client.post(
        "/profile/password/", {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"}
    )
    assert response.status_code == 200
    assert "new_password2" in response.context["form"].errors
    assert User.objects.get(pk=admin_user.pk).password == before
    assert not AuditLog.objects.filter(action="user.password_change").exists()


def test_password_change_errors_are_in_the_users_language(company):
    user = user_build(company, Role.SALES, language="es")
    response = client_for(user).post(
        "/profile/password/",
        {"old_password": WRONG, "new_password1": "a-brand-new-secret-42", "new_password2": "a-brand-new-secret-42"},
    )
    with translation.override("es"):
        expected = gettext("Your old password was entered incorrectly. Please enter it again.")
    assert expected != "Your old password was entered incorrectly. Please enter it again."  # Django ships es
    assert response.context["form"].errors["old_password"] == [expected]


def test_password_change_succeeds_keeps_the_session_and_is_audited(admin_user, company):
    client = client_for(admin_user)
    response = client.post(
        "/profile/password/",
        {"old_password": PASSWORD, "new_password1": "a-brand-new-secret-42", "new_password2": "a-brand-new-secret-42"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/profile/"
    user = User.objects.get(pk=admin_user.pk)
    assert user.check_password("a-brand-new-secret-42")
    assert not user.check_password(PASSWORD)
    assert client.get("/").status_code == 200  # still logged in
    record = AuditLog.objects.get(action="user.password_change")
    assert (record.company_id, record.actor_id, record.object_id) == (company.pk, admin_user.pk, str(admin_user.pk))
    assert record.before is None and record.after is None  # no secret in the log
