"""Idempotency-Key on API POSTs: a retry gets the first response and writes nothing again.

Exercised on POST /api/v1/core/webhooks, which creates a subscription (and an audit row) on
every call without a key.
"""

import json
import threading

import pytest
from django.db import connection, connections
from django.test import Client

from retaguarda.core.models import AuditLog, IdempotencyRecord, WebhookSubscription
from retaguarda.core.testing import api_client_for, company_build, user_build

URL = "/api/v1/core/webhooks"
BODY = {"name": "Shop", "url": "https://shop.example/hooks", "events": ["order.*"]}


def post(client, body=BODY, key=None, url=URL):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(url, data=json.dumps(body), content_type="application/json", **extra)


def test_without_a_key_every_post_writes(admin_api):
    assert post(admin_api).status_code == 201
    assert post(admin_api).status_code == 201
    assert WebhookSubscription.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 0


def test_retry_with_the_same_key_replays_the_first_response_and_writes_once(admin_api, company):
    first = post(admin_api, key="order-7-webhook")
    second = post(admin_api, key="order-7-webhook")

    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Content-Type"] == "application/json"
    assert second.json() == first.json()
    created = first.json()
    assert (created["name"], created["events"], created["secret"].startswith("whsec_")) == ("Shop", ["order.*"], True)
    assert WebhookSubscription.objects.filter(company=company).count() == 1
    assert AuditLog.objects.filter(action="webhook.create").count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.company_id, record.key, record.method, record.path, record.status_code) == (
        company.pk,
        "order-7-webhook",
        "POST",
        URL,
        201,
    )
    assert json.loads(record.response_body) == created


def test_same_key_with_a_different_body_is_refused(admin_api):
    assert post(admin_api, key="k1").status_code == 201
    response = post(admin_api, body={**BODY, "name": "Other"}, key="k1")

    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "idempotency_key_reused",
            "message": "This Idempotency-Key was already used with a different request.",
            "fields": {},
        }
    }
    assert list(WebhookSubscription.objects.values_list("name", flat=True)) == ["Shop"]
    assert AuditLog.objects.filter(action="webhook.create").count() == 1


def test_same_key_on_another_endpoint_is_refused(admin_api, admin_user, company):
    from retaguarda.core.models import ApiToken

    assert post(admin_api, key="k1").status_code == 201
    token = ApiToken.objects.filter(user=admin_user).get()
    response = admin_api.post(f"/api/v1/core/tokens/{token.pk}/revoke", HTTP_IDEMPOTENCY_KEY="k1")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    token.refresh_from_db()
    assert token.revoked_at is None


def test_keys_are_per_company(admin_api, company):
    other = company_build(country="BR")
    other_api = api_client_for(user_build(other, "administrator"), other)

    mine = post(admin_api, key="shared-key")
    theirs = post(other_api, key="shared-key")

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    assert WebhookSubscription.objects.filter(company=company).count() == 1
    assert WebhookSubscription.objects.filter(company=other).count() == 1
    assert IdempotencyRecord.objects.count() == 2


def test_a_rejected_request_is_not_stored_and_the_key_can_be_used_again(admin_api):
    refused = post(admin_api, body={**BODY, "url": "ftp://nowhere"}, key="k1")
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"] == {
        "url": ["Enter an http:// or https:// address of at most 500 characters."]
    }
    assert IdempotencyRecord.objects.count() == 0
    assert WebhookSubscription.objects.count() == 0

    accepted = post(admin_api, key="k1")
    assert accepted.status_code == 201
    assert "Idempotent-Replayed" not in accepted.headers
    assert WebhookSubscription.objects.count() == 1


def test_a_forbidden_request_is_not_stored(company, admin_api, role_user):
    sales_api = api_client_for(role_user("sales"), company)
    forbidden = post(sales_api, key="k1")
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "permission_denied"
    assert IdempotencyRecord.objects.count() == 0
    assert WebhookSubscription.objects.count() == 0

    assert post(admin_api, key="k1").status_code == 201
    assert WebhookSubscription.objects.count() == 1


@pytest.mark.parametrize("key", ["", "   ", "k" * 201])
def test_a_malformed_key_is_refused(admin_api, key):
    response = post(admin_api, key=key)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert WebhookSubscription.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0


def test_without_a_valid_token_the_key_is_ignored_and_the_api_answers_401(db):
    response = post(Client(HTTP_AUTHORIZATION="Bearer rtg_forged"), key="k1")
    assert response.status_code == 401
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_write_once():
    """Separate connections racing with one key: one wins, the other answers the winner's response."""
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections: PostgreSQL run only")
    company = company_build()
    admin = user_build(company, "administrator")
    clients = [api_client_for(admin, company) for _ in range(4)]
    start = threading.Barrier(len(clients))
    responses = []

    def send(client):
        try:
            start.wait()
            responses.append(post(client, key="race"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert [r.status_code for r in responses] == [201] * 4
    assert len({r.content for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 3
    assert WebhookSubscription.objects.count() == 1
    assert AuditLog.objects.filter(action="webhook.create").count() == 1


def test_an_idempotent_post_looks_its_token_up_once(admin_api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert post(admin_api, key="once").status_code == 201
    token_lookups = [q["sql"] for q in queries if 'FROM "core_apitoken"' in q["sql"]]
    assert len(token_lookups) == 1
