"""The parties API: CRUD, errors in one shape, permissions, company isolation, pinned queries."""

import json

import pytest

from retaguarda.core.models import AuditLog, OutboxEvent
from retaguarda.core.selectors import actor_for
from retaguarda.core.testing import api_client_for, company_build, user_build
from retaguarda.parties.models import Address, Contact, Party, PaymentTerm
from retaguarda.parties.services import party_address_add, party_contact_add
from retaguarda.parties.testing import party_build, payment_term_build

BASE = "/api/v1/parties"
CAN_VIEW = {"administrator", "manager", "sales", "finance", "legal", "support"}
CAN_CHANGE = {"administrator", "manager", "sales", "finance"}
ROLES = ["administrator", "manager", "sales", "warehouse", "finance", "hr", "support", "legal"]


def state():
    return (
        list(Party.objects.order_by("pk").values_list("pk", "legal_name", "is_active", "tax_id", "credit_limit")),
        list(Contact.objects.order_by("pk").values_list("pk", "name")),
        list(Address.objects.order_by("pk").values_list("pk", "street", "is_default")),
        AuditLog.objects.filter(action__startswith="party").count(),
        OutboxEvent.objects.count(),
    )


def post(client, url, data, **extra):
    return client.post(url, json.dumps(data), content_type="application/json", **extra)


def patch(client, url, data):
    return client.patch(url, json.dumps(data), content_type="application/json")


def api_of(company, role):
    if role == "anonymous":
        from django.test import Client

        return Client()
    return api_client_for(user_build(company, role), company)


@pytest.fixture
def party(company):
    return party_build(company, legal_name="Distribuciones Norte SL", tax_id="B58378431", credit_limit="500")


VALID = {
    "legal_name": "Ferretería Luna SL",
    "trade_name": "Luna",
    "kind": "company",
    "tax_country": "ES",
    "tax_id": "a-28015865",
    "email": "hola@luna.example",
    "phone": "+34 600 000 000",
    "credit_limit": "1500.5",
    "contacts": [{"name": "Marta", "role": "Compras", "email": "marta@luna.example"}],
    "addresses": [
        {
            "kind": "billing",
            "street": "Calle Mayor",
            "number": "1",
            "city": "Madrid",
            "postal_code": "28013",
            "country": "ES",
        }
    ],
}


# CRUD


def test_create_returns_201_with_the_party(company, admin_api):
    term = payment_term_build(company, name="30 días", days=30)
    response = post(admin_api, f"{BASE}/parties", {**VALID, "payment_term_id": term.pk})
    assert response.status_code == 201, response.content
    body = response.json()
    party = Party.objects.get()
    contact = party.contacts.get()
    address = party.addresses.get()
    assert body == {
        "id": party.pk,
        "legal_name": "Ferretería Luna SL",
        "trade_name": "Luna",
        "kind": "company",
        "is_customer": True,
        "is_supplier": False,
        "tax_country": "ES",
        "tax_id": "A28015865",
        "tax_id_display": "A28015865",
        "email": "hola@luna.example",
        "phone": "+34 600 000 000",
        "language": "es",
        "payment_term_id": term.pk,
        "credit_limit": "1500.50",
        "currency": "EUR",
        "notes": "",
        "is_active": True,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "contacts": [
            {"id": contact.pk, "name": "Marta", "role": "Compras", "email": "marta@luna.example", "phone": ""}
        ],
        "addresses": [
            {
                "id": address.pk,
                "kind": "billing",
                "street": "Calle Mayor",
                "number": "1",
                "complement": "",
                "district": "",
                "city": "Madrid",
                "state": "",
                "postal_code": "28013",
                "country": "ES",
                "is_default": True,
            }
        ],
    }
    assert AuditLog.objects.filter(action="party.create", object_id=str(party.pk)).count() == 1
    assert OutboxEvent.objects.filter(name="party.created", object_id=str(party.pk)).count() == 1


def test_get_patch_delete(company, admin_api, party):
    response = admin_api.get(f"{BASE}/parties/{party.pk}")
    assert response.status_code == 200
    assert response.json()["credit_limit"] == "500.00"

    response = patch(admin_api, f"{BASE}/parties/{party.pk}", {"credit_limit": "750.25", "is_supplier": True})
    assert response.status_code == 200
    assert (response.json()["credit_limit"], response.json()["is_supplier"]) == ("750.25", True)
    audit = AuditLog.objects.get(action="party.update", object_id=str(party.pk))
    assert (audit.before, audit.after) == (
        {"is_supplier": False, "credit_limit": "500.00"},
        {"is_supplier": True, "credit_limit": "750.25"},
    )

    response = admin_api.delete(f"{BASE}/parties/{party.pk}")
    assert response.status_code == 204
    assert response.content == b""
    party.refresh_from_db()
    assert party.is_active is False
    # Archived parties are still readable, and PATCH is_active restores them.
    assert admin_api.get(f"{BASE}/parties/{party.pk}").json()["is_active"] is False
    assert patch(admin_api, f"{BASE}/parties/{party.pk}", {"is_active": True}).json()["is_active"] is True


def test_patch_null_clears_the_payment_term_but_not_required_fields(company, admin_api):
    term = payment_term_build(company, days=0)
    party = party_build(company, payment_term_id=term.pk)
    response = patch(admin_api, f"{BASE}/parties/{party.pk}", {"payment_term_id": None})
    assert response.status_code == 200
    assert response.json()["payment_term_id"] is None
    before = state()
    response = patch(admin_api, f"{BASE}/parties/{party.pk}", {"legal_name": None})
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["legal_name"]
    assert state() == before


def test_contacts_and_addresses_endpoints(admin_api, party):
    response = post(admin_api, f"{BASE}/parties/{party.pk}/contacts", {"name": "Eva", "email": "eva@x.es"})
    assert response.status_code == 201
    contact_id = response.json()["id"]
    response = patch(admin_api, f"{BASE}/parties/{party.pk}/contacts/{contact_id}", {"role": "Compras"})
    assert response.json() == {"id": contact_id, "name": "Eva", "role": "Compras", "email": "eva@x.es", "phone": ""}
    response = post(
        admin_api,
        f"{BASE}/parties/{party.pk}/addresses",
        {"kind": "shipping", "street": "Mayor", "city": "Madrid", "country": "ES", "postal_code": "28013"},
    )
    assert response.status_code == 201
    address_id = response.json()["id"]
    assert response.json()["is_default"] is True
    response = patch(admin_api, f"{BASE}/parties/{party.pk}/addresses/{address_id}", {"postal_code": "123"})
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"postal_code": ["Enter a valid postal code, like 28013."]}
    assert admin_api.delete(f"{BASE}/parties/{party.pk}/addresses/{address_id}").status_code == 204
    assert admin_api.delete(f"{BASE}/parties/{party.pk}/contacts/{contact_id}").status_code == 204
    assert (party.contacts.count(), party.addresses.count()) == (0, 0)


def test_payment_terms_list(company, admin_api):
    payment_term_build(company, name="30 días", days=30)
    payment_term_build(company, name="Contado", days=0)
    payment_term_build(company_build(country="BR"), name="Alheio", days=10)
    response = admin_api.get(f"{BASE}/payment-terms")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [(t["name"], t["days"]) for t in body["items"]] == [("Contado", 0), ("30 días", 30)]


# Errors


def test_invalid_tax_id_is_422_on_tax_id(admin_api):
    before = state()
    response = post(admin_api, f"{BASE}/parties", {**VALID, "tax_id": "A28015866"})
    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "Some fields are not valid.",
            "fields": {"tax_id": ["The check character does not match: this is not a valid CIF."]},
        }
    }
    assert state() == before


def test_repeated_digit_cpf_is_422(db):
    br = company_build(country="BR")
    client = api_client_for(user_build(br, "sales"), br)
    response = post(
        client,
        f"{BASE}/parties",
        {"legal_name": "Ana", "kind": "person", "tax_country": "BR", "tax_id": "111.111.111-11"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        "tax_id": ["A number with every digit the same is not a valid tax id."]
    }
    assert Party.objects.count() == 0


def test_duplicate_tax_id_is_409(admin_api, party):
    before = state()
    response = post(admin_api, f"{BASE}/parties", {**VALID, "tax_id": "B58378431", "contacts": [], "addresses": []})
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "duplicate_tax_id",
            "message": "Distribuciones Norte SL already has this tax id.",
            "fields": {"tax_id": ["Distribuciones Norte SL already has this tax id."]},
        }
    }
    assert state() == before


def test_nested_errors_name_their_row(admin_api):
    before = state()
    response = post(
        admin_api,
        f"{BASE}/parties",
        {**VALID, "addresses": [VALID["addresses"][0], {**VALID["addresses"][0], "postal_code": "99999"}]},
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"addresses.1.postal_code": ["Enter a valid postal code, like 28013."]}
    assert state() == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"legal_name": ""},
        {**VALID, "credit_limit": "-1"},
        {**VALID, "credit_limit": "1e40"},
        {**VALID, "credit_limit": "NaN"},
        {**VALID, "credit_limit": 1.005},
        {**VALID, "kind": "robot"},
        {**VALID, "tax_country": "XX"},
        {**VALID, "language": "fr"},
        {**VALID, "legal_name": "A\u0000B"},
        {**VALID, "legal_name": "x" * 201},
        {**VALID, "notes": "\ud800"},
        {**VALID, "payment_term_id": 2**70},
        {**VALID, "payment_term_id": -1},
        {**VALID, "is_customer": False, "is_supplier": False},
        {**VALID, "email": "nope"},
        {**VALID, "contacts": [{"name": "A", "email": "nope"}]},
        {**VALID, "contacts": "nope"},
        {**VALID, "addresses": [{"kind": "billing"}]},
        [1, 2, 3],
        "just a string",
    ],
)
def test_invalid_input_is_4xx_never_500(admin_api, body):
    before = state()
    response = post(admin_api, f"{BASE}/parties", body)
    assert response.status_code == 422, response.content
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert state() == before


def test_malformed_json_is_4xx(admin_api):
    response = admin_api.post(f"{BASE}/parties", "{not json", content_type="application/json")
    assert 400 <= response.status_code < 500
    assert Party.objects.count() == 0


@pytest.mark.parametrize("party_id", ["0", "-1", str(2**63), str(10**30)])
def test_out_of_range_ids_are_404(admin_api, party_id):
    assert admin_api.get(f"{BASE}/parties/{party_id}").status_code == 404
    assert admin_api.delete(f"{BASE}/parties/{party_id}").status_code == 404
    assert patch(admin_api, f"{BASE}/parties/{party_id}", {"legal_name": "X"}).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "q=%00",
        "q=" + "x" * 300,
        "limit=0",
        "limit=100000",
        "offset=-5",
        "offset=" + "9" * 30,
        "limit=" + "9" * 30,
        "active=maybe",
        "kind=robot",
        "country=ZZ",
        "sort=password",
        "is_customer=perhaps",
    ],
)
def test_odd_list_queries_are_never_500(admin_api, party, query):
    response = admin_api.get(f"{BASE}/parties?{query}")
    assert response.status_code in (200, 422), response.content


# Permissions


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_read_by_role(company, party, role):
    client = api_of(company, role)
    for url in (f"{BASE}/parties", f"{BASE}/parties/{party.pk}", f"{BASE}/payment-terms"):
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "unauthenticated"
        elif role in CAN_VIEW:
            assert response.status_code == 200
        else:
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_writes_by_role(company, party, role):
    client = api_of(company, role)
    before = state()
    responses = [
        post(client, f"{BASE}/parties", {**VALID, "contacts": [], "addresses": []}),
        patch(client, f"{BASE}/parties/{party.pk}", {"legal_name": "Cambiada SL"}),
        post(client, f"{BASE}/parties/{party.pk}/contacts", {"name": "Eva"}),
        client.delete(f"{BASE}/parties/{party.pk}"),
    ]
    codes = [r.status_code for r in responses]
    if role in CAN_CHANGE:
        assert codes == [201, 200, 201, 204]
    else:
        expected = 401 if role == "anonymous" else 403
        assert codes == [expected] * 4
        assert state() == before


@pytest.mark.parametrize("areas, status", [(["accounting"], 200), (["catalog"], 403)])
def test_partner_reads_only_with_a_granting_area(company, party, areas, status):
    client = api_client_for(user_build(company, "partner", areas=areas), company)
    assert client.get(f"{BASE}/parties").status_code == status
    before = state()
    assert client.delete(f"{BASE}/parties/{party.pk}").status_code == 403
    assert state() == before


# Company isolation


def test_another_companys_parties_are_invisible(company, admin_api, party):
    br = company_build(country="BR")
    foreign = party_build(br, legal_name="Estrangeira Ltda")
    contact = party_contact_add(actor=actor_for(user_build(br, "sales"), br.pk), party_id=foreign.pk, name="Zé")
    before = state()
    assert admin_api.get(f"{BASE}/parties/{foreign.pk}").status_code == 404
    assert patch(admin_api, f"{BASE}/parties/{foreign.pk}", {"legal_name": "Minha"}).status_code == 404
    assert admin_api.delete(f"{BASE}/parties/{foreign.pk}").status_code == 404
    assert post(admin_api, f"{BASE}/parties/{foreign.pk}/contacts", {"name": "X"}).status_code == 404
    assert admin_api.delete(f"{BASE}/parties/{foreign.pk}/contacts/{contact.pk}").status_code == 404
    assert admin_api.delete(f"{BASE}/parties/{party.pk}/contacts/{contact.pk}").status_code == 404
    listing = admin_api.get(f"{BASE}/parties", {"active": "all"}).json()
    assert [p["legal_name"] for p in listing["items"]] == ["Distribuciones Norte SL"]
    assert state() == before


# Listing


def test_list_uses_the_same_filters_as_the_pages(company, admin_api):
    actor = actor_for(user_build(company, "sales"), company.pk)
    a = party_build(company, legal_name="Alfa SL", tax_id="B58378431")
    party_build(company, legal_name="Beta", kind="person", tax_id="12345678Z", is_supplier=True)
    party_build(
        company, legal_name="Gamma", is_customer=False, is_supplier=True, tax_country="PT", tax_id="PT501964843"
    )
    party_address_add(actor=actor, party_id=a.pk, kind="billing", street="Mayor", city="Sevilla", country="ES")

    def names(**params):
        response = admin_api.get(f"{BASE}/parties", params)
        assert response.status_code == 200
        return [p["legal_name"] for p in response.json()["items"]]

    assert names() == ["Alfa SL", "Beta", "Gamma"]
    assert names(is_customer="true") == ["Alfa SL", "Beta"]
    assert names(is_supplier="true", is_customer="true") == ["Beta"]
    assert names(q="sevilla") == ["Alfa SL"]
    assert names(q="B-58378431") == ["Alfa SL"]
    assert names(kind="person") == ["Beta"]
    assert names(country="PT") == ["Gamma"]
    assert names(sort="-name") == ["Gamma", "Beta", "Alfa SL"]
    body = admin_api.get(f"{BASE}/parties", {"limit": 1, "offset": 1}).json()
    assert (body["count"], [p["legal_name"] for p in body["items"]]) == (3, ["Beta"])


# bearer token, membership, count, one page of parties (city and terms joined), contacts, addresses
API_LIST_QUERIES = 6


def test_list_query_count_is_pinned(company, admin_api, django_assert_num_queries):
    actor = actor_for(user_build(company, "sales"), company.pk)
    term = payment_term_build(company, days=30)

    def grow(n):
        for i in range(n):
            p = party_build(company, payment_term_id=term.pk)
            party_contact_add(actor=actor, party_id=p.pk, name=f"C{i}")
            party_address_add(actor=actor, party_id=p.pk, kind="billing", street="S", city="Madrid", country="ES")

    grow(2)
    admin_api.get(f"{BASE}/parties")  # the token's first use stamps last_used_at
    with django_assert_num_queries(API_LIST_QUERIES):
        assert admin_api.get(f"{BASE}/parties").json()["count"] == 2
    grow(20)
    with django_assert_num_queries(API_LIST_QUERIES):
        body = admin_api.get(f"{BASE}/parties").json()
    assert body["count"] == 22
    assert all(len(p["contacts"]) == 1 and len(p["addresses"]) == 1 for p in body["items"])


def test_openapi_documents_every_error(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    operations = [
        (path, method, op)
        for path, methods in schema["paths"].items()
        if path.startswith("/api/v1/parties/")
        for method, op in methods.items()
    ]
    assert len(operations) == 12
    for path, method, op in operations:
        assert {"401", "403", "404", "409", "422"} <= set(op["responses"]), (path, method)
    party_out = schema["components"]["schemas"]["PartyOut"]["properties"]
    assert party_out["credit_limit"]["type"] == "string"
    assert PaymentTerm.objects.count() == 0
