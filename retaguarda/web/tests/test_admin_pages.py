"""The administration pages doing their work: audit log, webhooks, background jobs, API tokens, users."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from retaguarda.core.models import (
    ApiToken,
    AuditLog,
    Membership,
    OutboxEvent,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from retaguarda.core.selectors import actor_for
from retaguarda.core.services import api_token_create, audit_record, webhook_subscription_create
from retaguarda.core.tasks import deliver_webhook
from retaguarda.core.testing import client_for, company_build, user_build
from retaguarda.core.throttle import login_failure_record


@pytest.fixture
def actor(admin_user, company):
    return actor_for(admin_user, company.pk)


def text(response) -> str:
    return response.content.decode()


def rows(response) -> int:
    """Data rows of the page's table (the header row excluded)."""
    body = re.search(r"<tbody>(.*?)</tbody>", text(response), re.S).group(1)
    return body.count("<tr")


# Audit log ----------------------------------------------------------------------------------


@pytest.fixture
def audit_rows(company, actor, role_user):
    clerk = role_user("sales")
    clerk_actor = actor_for(clerk, company.pk)
    for n in range(3):
        audit_record(actor=actor, company=company, object_type="parties.party", object_id=n, action="party.create")
    audit_record(
        actor=clerk_actor, company=company, object_type="catalog.product", object_id="P-7781", action="product.update"
    )
    other = company_build(country="BR")
    audit_record(actor=None, company=other, object_type="parties.party", object_id=99, action="party.secret")
    return clerk


def test_audit_log_shows_the_companys_rows_only(admin_client, audit_rows, company):
    response = admin_client.get(reverse("web:audit_log"))
    assert response.status_code == 200
    page = text(response)
    assert "party.create" in page and "product.update" in page
    assert "party.secret" not in page
    expected = AuditLog.objects.filter(company=company).count()
    assert rows(response) == expected
    assert response.context["page_obj"].paginator.count == expected


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({"action": "party.create"}, 3),
        ({"object_type": "catalog.product"}, 1),
        ({"action": "party.create", "object_type": "catalog.product"}, 0),
        ({"action": "no.such.action"}, None),  # not a known value: ignored
        ({"q": "P-7781"}, 1),
    ],
)
def test_audit_log_filters(admin_client, audit_rows, company, params, count):
    response = admin_client.get(reverse("web:audit_log"), params)
    if count is None:
        count = AuditLog.objects.filter(company=company).count()
    assert response.context["page_obj"].paginator.count == count


def test_audit_log_filter_by_user(admin_client, audit_rows):
    response = admin_client.get(reverse("web:audit_log"), {"user": str(audit_rows.pk)})
    assert [e.action for e in response.context["object_list"]] == ["product.update"]


def test_audit_log_includes_log_in_events_of_members_only(admin_client, company, role_user):
    role_user("sales").username  # noqa: B018 - a member
    member = User.objects.get(memberships__company=company, memberships__role="sales")
    login_failure_record(username=member.username.upper(), ip="203.0.113.9")
    login_failure_record(username="stranger", ip="203.0.113.9")

    response = admin_client.get(reverse("web:audit_log"), {"action": "login.failed"})
    entries = list(response.context["object_list"])
    assert [(e.action, e.object_id) for e in entries] == [("login.failed", member.username.lower())]


def test_audit_log_paginates(admin_client, company, actor):
    for n in range(60):
        audit_record(actor=actor, company=company, object_type="x.y", object_id=n, action="x.touch")
    total = AuditLog.objects.filter(company=company).count()
    first = admin_client.get(reverse("web:audit_log"))
    second = admin_client.get(reverse("web:audit_log"), {"page": 2})
    assert rows(first) == 50
    assert rows(second) == total - 50
    assert "Page 1 of 2" in text(first)


def test_audit_log_htmx_request_gets_the_table_only(admin_client, audit_rows):
    response = admin_client.get(reverse("web:audit_log"), {"action": "party.create"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "<html" not in text(response)
    assert rows(response) == 3


def test_audit_log_query_count_does_not_grow_with_rows(admin_client, company, actor, django_assert_num_queries):
    for n in range(5):
        audit_record(actor=actor, company=company, object_type="x.y", object_id=n, action="x.touch")
    with django_assert_num_queries(9):
        admin_client.get(reverse("web:audit_log"))
    for n in range(40):
        audit_record(actor=actor, company=company, object_type=f"x.y{n}", object_id=n, action=f"x.touch{n}")
    with django_assert_num_queries(9):
        admin_client.get(reverse("web:audit_log"))


# Webhooks -----------------------------------------------------------------------------------


def test_webhook_create_generates_and_shows_the_secret(admin_client, company):
    response = admin_client.post(
        reverse("web:webhook_create"),
        {"name": "Shop", "url": "https://shop.example/hooks", "events": "order.* invoice.posted"},
    )
    subscription = WebhookSubscription.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("web:webhook_detail", args=[subscription.pk])
    assert (subscription.company_id, subscription.name, subscription.events) == (
        company.pk,
        "Shop",
        ["order.*", "invoice.posted"],
    )
    assert subscription.secret.startswith("whsec_")
    detail = admin_client.get(response.url)
    assert subscription.secret in text(detail)
    assert "Webhook created." in text(detail)
    assert AuditLog.objects.filter(action="webhook.create", object_id=str(subscription.pk)).count() == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "url": "https://a.example/", "events": "*"}, "name", "This field is required."),
        ({"name": "A", "url": "not a url", "events": "*"}, "url", "Enter a valid URL."),
        (
            {"name": "A", "url": "https://a.example/", "events": "Order Confirmed!"},
            "events",
            "Event names look like order.confirmed; use * for all events.",
        ),
    ],
)
def test_webhook_create_with_bad_input_shows_the_error_and_writes_nothing(admin_client, data, field, message):
    response = admin_client.post(reverse("web:webhook_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert WebhookSubscription.objects.count() == 0
    assert not AuditLog.objects.filter(action__startswith="webhook.").exists()


def test_webhook_edit_and_deactivate(admin_client, actor):
    subscription = webhook_subscription_create(actor=actor, name="Shop", url="https://a.example/", events="*")
    form = admin_client.get(reverse("web:webhook_edit", args=[subscription.pk]))
    assert form.context["form"].initial == {
        "name": "Shop",
        "url": "https://a.example/",
        "events": "*",
        "is_active": True,
    }
    response = admin_client.post(
        reverse("web:webhook_edit", args=[subscription.pk]),
        {"name": "Shop 2", "url": "https://b.example/", "events": "order.confirmed", "is_active": "on"},
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.name, subscription.url, subscription.events, subscription.is_active) == (
        "Shop 2",
        "https://b.example/",
        ["order.confirmed"],
        True,
    )

    response = admin_client.post(reverse("web:webhook_deactivate", args=[subscription.pk]))
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.is_active is False
    assert list(
        AuditLog.objects.filter(object_type="core.webhooksubscription").order_by("id").values_list("action", flat=True)
    ) == ["webhook.create", "webhook.update", "webhook.deactivate"]


def test_another_companys_webhook_is_not_found(admin_client):
    other = company_build(country="BR")
    theirs = webhook_subscription_create(
        actor=actor_for(user_build(other), other.pk), name="Theirs", url="https://a.example/", events="*"
    )
    assert admin_client.get(reverse("web:webhook_detail", args=[theirs.pk])).status_code == 404
    assert admin_client.post(reverse("web:webhook_deactivate", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active is True


@pytest.fixture
def deliveries(actor, company):
    subscription = webhook_subscription_create(actor=actor, name="Shop", url="https://a.example/", events="*")
    made = []
    for n in range(3):
        event = OutboxEvent.objects.create(company=company, name=f"order.n{n}")
        delivery = WebhookDelivery.objects.create(
            subscription=subscription, event=event, status="failed", attempts=2, next_attempt_at=None
        )
        WebhookAttempt.objects.create(delivery=delivery, number=1, status_code=500, error="HTTP 500", duration_ms=12)
        WebhookAttempt.objects.create(delivery=delivery, number=2, status_code=None, error="timed out")
        made.append(delivery)
    return subscription, made


def test_webhook_detail_shows_the_delivery_log(admin_client, deliveries):
    subscription, made = deliveries
    response = admin_client.get(reverse("web:webhook_detail", args=[subscription.pk]))
    page = text(response)
    assert rows(response) == 3
    for delivery in made:
        assert f'id="delivery-{delivery.pk}"' in page
        assert reverse("web:webhook_delivery_replay", args=[delivery.pk]) in page
    assert page.count("HTTP 500") == 3
    assert page.count("timed out") == 3


def test_webhook_detail_query_count_does_not_grow_with_deliveries(
    admin_client, deliveries, company, django_assert_num_queries
):
    subscription, made = deliveries
    url = reverse("web:webhook_detail", args=[subscription.pk])
    with django_assert_num_queries(8):
        admin_client.get(url)
    for _ in range(5):
        event = OutboxEvent.objects.create(company=company, name="order.more")
        delivery = WebhookDelivery.objects.create(subscription=subscription, event=event)
        WebhookAttempt.objects.create(delivery=delivery, number=1, status_code=200)
    with django_assert_num_queries(8):
        admin_client.get(url)


def test_replay_button_queues_the_delivery_again(admin_client, deliveries, django_capture_on_commit_callbacks):
    subscription, made = deliveries
    delivery = made[0]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("web:webhook_delivery_replay", args=[delivery.pk]))

    assert response.status_code == 302
    assert response.url == reverse("web:webhook_detail", args=[subscription.pk])
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    job = DBTaskResult.objects.get()
    assert (job.task_path, job.args_kwargs["args"], job.args_kwargs["kwargs"]["company_id"]) == (
        "retaguarda.core.tasks.deliver_webhook",
        [delivery.pk],
        subscription.company_id,
    )
    assert AuditLog.objects.filter(action="webhook.replay", object_id=str(delivery.pk)).count() == 1
    assert "Delivery queued to be sent again." in text(admin_client.get(response.url))


def test_webhook_list(admin_client, actor, django_assert_num_queries):
    for n in range(3):
        webhook_subscription_create(actor=actor, name=f"Hook {n}", url=f"https://{n}.example/", events="*")
    with django_assert_num_queries(5):
        response = admin_client.get(reverse("web:webhook_list"))
    assert rows(response) == 3
    assert "Hook 2" in text(response)


# Background jobs ----------------------------------------------------------------------------


@pytest.fixture
def jobs(company):
    mine = deliver_webhook.enqueue(1, company_id=company.pk)
    failed = deliver_webhook.enqueue(2, company_id=company.pk)
    DBTaskResult.objects.filter(pk=failed.id).update(
        status="FAILED",
        started_at=timezone.now(),
        finished_at=timezone.now(),
        exception_class_path="retaguarda.core.models.WebhookDelivery.DoesNotExist",
        traceback="Traceback (most recent call last):\n  ...\nDoesNotExist: no delivery 2",
    )
    system = deliver_webhook.enqueue(3)  # names no company: instance-wide
    other = company_build(country="BR")
    theirs = deliver_webhook.enqueue(4, company_id=other.pk)
    return {"mine": mine.id, "failed": failed.id, "system": system.id, "theirs": theirs.id}


def test_job_list_shows_the_companys_and_instance_jobs(admin_client, jobs, django_assert_num_queries):
    with django_assert_num_queries(6):
        response = admin_client.get(reverse("web:job_list"))
    listed = {str(job.pk) for job in response.context["object_list"]}
    assert listed == {jobs["mine"], jobs["failed"], jobs["system"]}
    assert "retaguarda.core.tasks.deliver_webhook" in text(response)
    assert "retaguarda.core.models.WebhookDelivery.DoesNotExist" in text(response)


def test_job_list_filters_by_status(admin_client, jobs):
    response = admin_client.get(reverse("web:job_list"), {"status": "FAILED"})
    assert [str(job.pk) for job in response.context["object_list"]] == [jobs["failed"]]
    ready = admin_client.get(reverse("web:job_list"), {"status": "READY"}, HTTP_HX_REQUEST="true")
    assert "<html" not in text(ready)
    assert {str(job.pk) for job in ready.context["object_list"]} == {jobs["mine"], jobs["system"]}


def test_job_detail_shows_the_traceback(admin_client, jobs):
    response = admin_client.get(reverse("web:job_detail", args=[jobs["failed"]]))
    assert response.status_code == 200
    assert "DoesNotExist: no delivery 2" in text(response)
    assert admin_client.get(reverse("web:job_detail", args=[jobs["theirs"]])).status_code == 404


# API tokens ---------------------------------------------------------------------------------


def test_token_created_in_the_ui_is_shown_once_and_works(company, role_user):
    clerk = role_user("sales")
    client = client_for(clerk)
    response = client.post(reverse("web:token_create"), {"name": "Storefront"})

    assert response.status_code == 201
    secret = re.search(r'<code id="token-secret">(rtg_[^<]+)</code>', text(response)).group(1)
    token = ApiToken.objects.get()
    assert (token.user_id, token.company_id, token.name, token.prefix) == (
        clerk.pk,
        company.pk,
        "Storefront",
        secret[:12],
    )
    assert secret not in token.token_hash
    me = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/core/me")
    assert (me.status_code, me.json()["username"]) == (200, clerk.username)

    listing = client.get(reverse("web:token_list"))
    assert secret not in text(listing)
    assert "Storefront" in text(listing)
    assert AuditLog.objects.filter(action="token.create", actor=clerk).count() == 1


def test_token_with_no_name_is_refused(admin_client):
    response = admin_client.post(reverse("web:token_create"), {"name": "  "})
    assert response.status_code == 422
    assert response.context["form"].errors["name"] == ["This field is required."]
    assert ApiToken.objects.count() == 0


def test_token_list_shows_only_the_users_own_tokens(company, role_user, django_assert_num_queries):
    clerk, other = role_user("sales"), role_user("sales")
    for name in ("one", "two"):
        api_token_create(actor=actor_for(clerk, company.pk), name=name)
    api_token_create(actor=actor_for(other, company.pk), name="not yours")
    client = client_for(clerk)
    with django_assert_num_queries(6):
        response = client.get(reverse("web:token_list"))
    assert [t.name for t in response.context["object_list"]] == ["two", "one"]


def test_token_revoke(company, role_user):
    clerk = role_user("sales")
    token, raw = api_token_create(actor=actor_for(clerk, company.pk), name="Storefront")
    response = client_for(clerk).post(reverse("web:token_revoke", args=[token.pk]))

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/core/me").status_code == 401
    assert AuditLog.objects.filter(action="token.revoke", object_id=str(token.pk)).count() == 1


# Users --------------------------------------------------------------------------------------

NEW_USER = {
    "username": "marta",
    "first_name": "Marta",
    "last_name": "Ruiz",
    "email": "marta@example.com",
    "language": "es",
    "role": "finance",
    "password1": "a-long-enough-passphrase",
    "password2": "a-long-enough-passphrase",
}


def test_user_create(admin_client, admin_user, company):
    response = admin_client.post(reverse("web:user_create"), NEW_USER)

    assert response.status_code == 302
    assert response.url == reverse("web:user_list")
    marta = User.objects.get(username="marta")
    assert (marta.first_name, marta.email, marta.language) == ("Marta", "marta@example.com", "es")
    assert marta.check_password("a-long-enough-passphrase")
    membership = Membership.objects.get(user=marta)
    assert (membership.company_id, membership.role, membership.areas, membership.is_active) == (
        company.pk,
        "finance",
        [],
        True,
    )
    audit = AuditLog.objects.get(action="user.grant", object_id=str(marta.pk))
    assert (audit.actor_id, audit.company_id, audit.after) == (
        admin_user.pk,
        company.pk,
        {"username": "marta", "role": "finance", "areas": [], "is_active": True},
    )
    assert Client().login(username="marta", password="a-long-enough-passphrase")


def test_user_create_partner_with_areas(admin_client):
    data = {**NEW_USER, "role": "partner", "areas": ["accounting", "warehouse"]}
    assert admin_client.post(reverse("web:user_create"), data).status_code == 302
    assert Membership.objects.get(user__username="marta").areas == ["accounting", "warehouse"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"role": "partner"}, "areas", "Choose at least one area for a partner."),
        ({"areas": ["accounting"]}, "areas", "Areas apply to partners only."),
        ({"password2": "something-else-entirely"}, "password2", "The two passwords differ."),
        (
            {"password1": "short", "password2": "short"},
            "password1",
            "This password is too short. It must contain at least 10 characters.",
        ),
        ({"username": "bad name!"}, "username", None),
        ({"role": "emperor"}, "role", None),
    ],
)
def test_user_create_refusals_show_the_error_and_write_nothing(admin_client, changes, field, message):
    users, audit = User.objects.count(), AuditLog.objects.count()
    response = admin_client.post(reverse("web:user_create"), {**NEW_USER, **changes})
    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    if message:
        assert message in errors
    assert (User.objects.count(), AuditLog.objects.count()) == (users, audit)


def test_user_create_refuses_a_taken_user_name_even_from_another_company(admin_client, company):
    other = company_build(country="BR")
    outsider = user_build(other, "sales", username="marta")
    response = admin_client.post(reverse("web:user_create"), NEW_USER)
    assert response.status_code == 200
    assert response.context["form"].errors["username"] == ["This user name is taken; choose another."]
    assert not Membership.objects.filter(user=outsider, company=company).exists()


def test_user_list_filters_and_query_count(admin_client, company, role_user, django_assert_num_queries):
    for role in ("sales", "sales", "warehouse"):
        role_user(role)
    Membership.objects.filter(company=company, role="warehouse").update(is_active=False)
    with django_assert_num_queries(6):
        response = admin_client.get(reverse("web:user_list"))
    assert rows(response) == 4
    sales = admin_client.get(reverse("web:user_list"), {"role": "sales"})
    assert [m.role for m in sales.context["object_list"]] == ["sales", "sales"]
    inactive = admin_client.get(reverse("web:user_list"), {"active": "0"}, HTTP_HX_REQUEST="true")
    assert [m.role for m in inactive.context["object_list"]] == ["warehouse"]
    assert "<html" not in text(inactive)


def test_user_deactivate_and_activate(admin_client, company, role_user):
    clerk = role_user("sales")
    response = admin_client.post(reverse("web:user_deactivate", args=[clerk.pk]))
    assert response.status_code == 302
    membership = Membership.objects.get(user=clerk, company=company)
    assert membership.is_active is False
    # Access is gone at once, in the web application and the API.
    assert client_for(clerk).get(reverse("web:token_list")).status_code == 403

    admin_client.post(reverse("web:user_activate", args=[clerk.pk]))
    membership.refresh_from_db()
    assert membership.is_active is True
    assert list(
        AuditLog.objects.filter(object_id=str(clerk.pk), action__in=["user.deactivate", "user.activate"])
        .order_by("id")
        .values_list("action", "before", "after")
    ) == [
        ("user.deactivate", {"is_active": True}, {"is_active": False}),
        ("user.activate", {"is_active": False}, {"is_active": True}),
    ]


def test_an_administrator_cannot_deactivate_themself(admin_client, admin_user, company):
    audit = AuditLog.objects.count()
    response = admin_client.post(reverse("web:user_deactivate", args=[admin_user.pk]), follow=True)
    assert "You cannot change your own access." in text(response)
    assert Membership.objects.get(user=admin_user, company=company).is_active is True
    assert AuditLog.objects.count() == audit


def test_users_of_another_company_are_not_found(admin_client):
    other = company_build(country="BR")
    outsider = user_build(other, "sales")
    assert admin_client.post(reverse("web:user_deactivate", args=[outsider.pk])).status_code == 404
    assert Membership.objects.get(user=outsider).is_active is True
