import pytest

from retaguarda.core.models import ApiToken, AuditLog
from retaguarda.core.selectors import actor_for
from retaguarda.core.services import api_token_create
from retaguarda.core.testing import user_build


def test_me_without_token_is_401_with_error_shape(client, db):
    response = client.get("/api/v1/core/me")
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "unauthenticated", "message": "A valid bearer token is required.", "fields": {}}
    }


def test_token_authenticates_and_only_its_hash_is_stored(company, admin_user):
    token, raw = api_token_create(actor=actor_for(admin_user, company.pk), name="shop")
    assert raw.startswith("rtg_") and raw not in token.token_hash
    assert ApiToken.objects.filter(token_hash=token.token_hash).count() == 1
    response = (
        __import__("django.test", fromlist=["Client"]).Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/core/me")
    )
    assert response.status_code == 200
    assert response.json() == {
        "username": admin_user.username,
        "company_id": company.pk,
        "company": str(company),
        "role": "administrator",
        "areas": [],
    }
    assert AuditLog.objects.filter(action="token.create", object_id=str(token.pk)).count() == 1


def test_revoked_token_is_refused(company, admin_user, client):
    actor = actor_for(admin_user, company.pk)
    token, raw = api_token_create(actor=actor, name="shop")
    response = client.post(f"/api/v1/core/tokens/{token.pk}/revoke", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    assert client.get("/api/v1/core/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_token_of_user_removed_from_company_is_refused(company, client):
    user = user_build(company, "sales")
    _token, raw = api_token_create(actor=actor_for(user, company.pk), name="shop")
    user.memberships.update(is_active=False)
    assert client.get("/api/v1/core/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer rtg_forged", "Token abc", ""])
def test_bad_tokens_are_401(client, db, header):
    response = client.get("/api/v1/core/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
