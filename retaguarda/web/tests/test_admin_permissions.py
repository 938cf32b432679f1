"""Every administration page and action over anonymous, wrong-role and right-role users.

A refused request answers 403 (anonymous users are sent to the log-in page) and changes
nothing: no row, no field, no audit record, no queued job.
"""

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from retaguarda.core.models import (
    ApiToken,
    AuditLog,
    Membership,
    OutboxEvent,
    User,
    WebhookDelivery,
    WebhookSubscription,
)
from retaguarda.core.selectors import actor_for
from retaguarda.core.services import api_token_create
from retaguarda.core.testing import client_for, user_build

# permission -> (roles that have it, a role that does not)
PAGES = {
    "web:audit_log": ("core.audit.view", ["administrator", "manager"], ["sales", "finance", "partner"]),
    "web:webhook_list": ("core.webhooks.manage", ["administrator"], ["manager", "sales", "partner"]),
    "web:webhook_create": ("core.webhooks.manage", ["administrator"], ["manager"]),
    "web:webhook_detail": ("core.webhooks.manage", ["administrator"], ["manager"]),
    "web:webhook_edit": ("core.webhooks.manage", ["administrator"], ["manager"]),
    "web:job_list": ("core.jobs.view", ["administrator"], ["manager", "support", "partner"]),
    "web:job_detail": ("core.jobs.view", ["administrator"], ["manager"]),
    "web:user_list": ("core.users.manage", ["administrator"], ["manager", "hr", "partner"]),
    "web:user_create": ("core.users.manage", ["administrator"], ["manager"]),
    "web:token_list": ("core.tokens.manage", ["administrator", "sales", "warehouse", "partner"], ["no company"]),
}


@pytest.fixture
def world(company, admin_user):
    """A subscription with a failed delivery, a queued job, and a sales user with a token."""
    subscription = WebhookSubscription.objects.create(
        company=company, name="shop", url="https://shop.example/hooks", secret="whsec_x", events=["*"]
    )
    event = OutboxEvent.objects.create(company=company, name="order.confirmed")
    delivery = WebhookDelivery.objects.create(subscription=subscription, event=event, status="failed", attempts=8)
    from retaguarda.core.tasks import deliver_webhook

    job = deliver_webhook.enqueue(delivery.pk, company_id=company.pk)
    clerk = user_build(company, "sales", username="clerk")
    token, _raw = api_token_create(actor=actor_for(clerk, company.pk), name="clerk's")
    return {"subscription": subscription, "delivery": delivery, "job_id": job.id, "clerk": clerk, "token": token}


def url_for(name, world):
    args = {
        "web:webhook_detail": [world["subscription"].pk],
        "web:webhook_edit": [world["subscription"].pk],
        "web:job_detail": [world["job_id"]],
    }.get(name, [])
    return reverse(name, args=args)


def client_as(company, role):
    if role == "anonymous":
        return client_for(None)
    if role == "no company":
        user = user_build(company, "sales")
        Membership.objects.filter(user=user).update(is_active=False)
        return client_for(user)
    areas = ["accounting", "warehouse"] if role == "partner" else ()
    return client_for(user_build(company, role, areas=areas))


def page_cases():
    for name, (_perm, allowed, denied) in PAGES.items():
        yield name, "anonymous", 302
        for role in denied:
            yield name, role, 403
        for role in allowed:
            yield name, role, 200


@pytest.mark.parametrize(("name", "role", "status"), list(page_cases()))
def test_page_access(company, world, name, role, status):
    url = url_for(name, world)
    response = client_as(company, role).get(url)
    assert response.status_code == status
    if status == 302:
        assert response.url == f"{reverse('web:login')}?next={url}"


def state(world) -> dict:
    """Everything an administration action could change."""
    subscription = WebhookSubscription.objects.get(pk=world["subscription"].pk)
    delivery = WebhookDelivery.objects.get(pk=world["delivery"].pk)
    return {
        "subscriptions": list(WebhookSubscription.objects.values_list("name", "url", "events", "is_active")),
        "subscription": (subscription.name, subscription.is_active),
        "delivery": (delivery.status, delivery.attempts, delivery.next_attempt_at),
        "tokens": list(ApiToken.objects.order_by("id").values_list("name", "revoked_at")),
        "users": list(User.objects.order_by("id").values_list("username", flat=True)),
        "memberships": list(Membership.objects.order_by("id").values_list("user_id", "role", "is_active")),
        "audit": AuditLog.objects.count(),
        "jobs": DBTaskResult.objects.count(),
    }


USER_FORM = {
    "username": "newbie",
    "language": "en",
    "role": "sales",
    "password1": "a-long-enough-passphrase",
    "password2": "a-long-enough-passphrase",
}
WEBHOOK_FORM = {"name": "erp", "url": "https://erp.example/in", "events": "*"}

# action -> (url builder, form data, roles allowed, roles denied, expected success status)
ACTIONS = {
    "webhook_create": (
        lambda w: reverse("web:webhook_create"),
        WEBHOOK_FORM,
        ["administrator"],
        ["manager", "sales", "partner"],
        302,
    ),
    "webhook_edit": (
        lambda w: reverse("web:webhook_edit", args=[w["subscription"].pk]),
        {**WEBHOOK_FORM, "is_active": "on"},
        ["administrator"],
        ["manager", "finance"],
        302,
    ),
    "webhook_deactivate": (
        lambda w: reverse("web:webhook_deactivate", args=[w["subscription"].pk]),
        {},
        ["administrator"],
        ["manager", "support"],
        302,
    ),
    "webhook_delivery_replay": (
        lambda w: reverse("web:webhook_delivery_replay", args=[w["delivery"].pk]),
        {},
        ["administrator"],
        ["manager", "sales"],
        302,
    ),
    "user_create": (
        lambda w: reverse("web:user_create"),
        USER_FORM,
        ["administrator"],
        ["manager", "hr", "partner"],
        302,
    ),
    "user_deactivate": (
        lambda w: reverse("web:user_deactivate", args=[w["clerk"].pk]),
        {},
        ["administrator"],
        ["manager", "hr"],
        302,
    ),
    "token_create": (
        lambda w: reverse("web:token_create"),
        {"name": "mine"},
        ["administrator", "sales", "partner"],
        ["no company"],
        201,
    ),
    "token_revoke_other_users": (
        lambda w: reverse("web:token_revoke", args=[w["token"].pk]),
        {},
        ["administrator"],  # users.manage may revoke anyone's token in the company
        ["manager", "sales", "no company"],
        302,
    ),
}


def action_cases():
    for name, (_url, _data, allowed, denied, ok) in ACTIONS.items():
        yield name, "anonymous", 302, False
        for role in denied:
            # Someone else's token is "not found" for those who may manage only their own.
            hidden = name == "token_revoke_other_users" and role != "no company"
            yield name, role, 404 if hidden else 403, False
        for role in allowed:
            yield name, role, ok, True


@pytest.mark.parametrize(("name", "role", "status", "allowed"), list(action_cases()))
def test_action_access(company, world, name, role, status, allowed, django_capture_on_commit_callbacks):
    url_builder, data, *_ = ACTIONS[name]
    url = url_builder(world)
    client = client_as(company, role)
    before = state(world)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)

    assert response.status_code == status
    after = state(world)
    if role == "anonymous":
        assert response.url == f"{reverse('web:login')}?next={url}"
    if allowed:
        assert after != before
        assert after["audit"] == before["audit"] + 1
    else:
        assert after == before


@pytest.mark.parametrize(
    "name",
    [
        "web:webhook_deactivate",
        "web:webhook_delivery_replay",
        "web:token_create",
        "web:token_revoke",
        "web:user_deactivate",
        "web:user_activate",
    ],
)
def test_actions_are_post_only(admin_client, world, name):
    args = {
        "web:webhook_deactivate": [world["subscription"].pk],
        "web:webhook_delivery_replay": [world["delivery"].pk],
        "web:token_revoke": [world["token"].pk],
        "web:user_deactivate": [world["clerk"].pk],
        "web:user_activate": [world["clerk"].pk],
    }.get(name, [])
    before = state(world)
    assert admin_client.get(reverse(name, args=args)).status_code == 405
    assert state(world) == before


def test_actions_need_the_csrf_token(company, admin_user, world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    before = state(world)
    response = client.post(reverse("web:webhook_deactivate", args=[world["subscription"].pk]))
    assert response.status_code == 403
    assert state(world) == before
