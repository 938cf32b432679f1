"""The parties pages: lists, customer page, forms and POST actions, by role and by company."""

import pytest
from django.urls import reverse
from django.utils import translation

from retaguarda.core.models import AuditLog, OutboxEvent
from retaguarda.core.selectors import actor_for
from retaguarda.core.testing import client_for, company_build, user_build
from retaguarda.parties import sections
from retaguarda.parties.models import Address, Contact, Party, PaymentTerm
from retaguarda.parties.services import party_address_add, party_archive, party_contact_add
from retaguarda.parties.testing import party_build, payment_term_build

CAN_VIEW = {"administrator", "manager", "sales", "finance", "legal", "support"}
CAN_CHANGE = {"administrator", "manager", "sales", "finance"}
ROLES = ["administrator", "manager", "sales", "warehouse", "finance", "hr", "support", "legal"]


def state():
    """Everything a refused request must leave untouched."""
    return (
        list(Party.objects.order_by("pk").values_list("pk", "legal_name", "is_active", "tax_id")),
        Contact.objects.count(),
        Address.objects.count(),
        AuditLog.objects.filter(action__startswith="party").count(),
        OutboxEvent.objects.count(),
    )


@pytest.fixture
def party(company):
    return party_build(company, legal_name="Distribuciones Norte SL", tax_id="B58378431", email="hola@norte.example")


def client_of(company, role, areas=()):
    if role == "anonymous":
        return client_for(None)
    return client_for(user_build(company, role, areas=areas))


# Permissions


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
@pytest.mark.parametrize("url_name", ["parties:customer_list", "parties:supplier_list"])
def test_list_pages_by_role(company, party, role, url_name):
    response = client_of(company, role).get(reverse(url_name))
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("web:login"))
    elif role in CAN_VIEW:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("areas, status", [(["accounting"], 200), (["warehouse"], 403)])
def test_partner_sees_parties_only_with_an_area_that_grants_it(company, party, areas, status):
    client = client_of(company, "partner", areas=areas)
    assert client.get(reverse("parties:party_detail", args=[party.pk])).status_code == status
    response = client.post(reverse("parties:party_archive", args=[party.pk]))
    assert response.status_code == 403
    party.refresh_from_db()
    assert party.is_active is True


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_create_by_role(company, role):
    before = state()
    response = client_of(company, role).post(
        reverse("parties:party_create"),
        {
            "legal_name": "Nueva SL",
            "kind": "company",
            "is_customer": "on",
            "tax_country": "ES",
            "tax_id": "A28015865",
            "language": "es",
            "credit_limit": "100",
        },
    )
    if role in CAN_CHANGE:
        party = Party.objects.get(legal_name="Nueva SL")
        assert response.status_code == 302
        assert response["Location"] == reverse("parties:party_detail", args=[party.pk])
        assert party.company == company
        assert AuditLog.objects.filter(action="party.create", object_id=str(party.pk)).count() == 1
    else:
        assert response.status_code == (302 if role == "anonymous" else 403)
        assert state() == before


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_archive_by_role(company, party, role):
    before = state()
    response = client_of(company, role).post(reverse("parties:party_archive", args=[party.pk]))
    party.refresh_from_db()
    if role in CAN_CHANGE:
        assert response.status_code == 302
        assert party.is_active is False
        assert AuditLog.objects.filter(action="party.archive", object_id=str(party.pk)).count() == 1
    else:
        assert response.status_code == (302 if role == "anonymous" else 403)
        assert party.is_active is True
        assert state() == before


@pytest.mark.parametrize("role", ["anonymous", "legal", "warehouse", "sales"])
def test_edit_by_role(company, party, role):
    before = state()
    url = reverse("parties:party_edit", args=[party.pk])
    client = client_of(company, role)
    response = client.post(
        url,
        {
            "legal_name": "Distribuciones Sur SL",
            "kind": "company",
            "is_customer": "on",
            "tax_country": "ES",
            "tax_id": "B58378431",
            "language": "es",
            "credit_limit": "0",
        },
    )
    party.refresh_from_db()
    if role == "sales":
        assert response.status_code == 302
        assert party.legal_name == "Distribuciones Sur SL"
    else:
        assert response.status_code == (302 if role == "anonymous" else 403)
        assert party.legal_name == "Distribuciones Norte SL"
        assert state() == before


@pytest.mark.parametrize("role, shown", [("manager", True), ("sales", False)])
def test_import_link_only_for_roles_that_may_import(company, role, shown):
    body = client_of(company, role).get(reverse("parties:customer_list")).content.decode()
    assert (reverse("parties:party_import") in body) is shown
    assert reverse("parties:party_export") in body


def test_archive_is_post_only(admin_client, party):
    response = admin_client.get(reverse("parties:party_archive", args=[party.pk]))
    assert response.status_code == 405
    party.refresh_from_db()
    assert party.is_active is True


@pytest.mark.parametrize(
    "action, url_args",
    [
        ("parties:contact_create", "party"),
        ("parties:address_create", "party"),
        ("parties:contact_remove", "contact"),
        ("parties:address_remove", "address"),
    ],
)
@pytest.mark.parametrize("role", ["anonymous", "support", "warehouse"])
def test_contact_and_address_actions_refused(company, party, action, url_args, role):
    actor = actor_for(user_build(company, "sales"), company.pk)
    contact = party_contact_add(actor=actor, party_id=party.pk, name="Eva")
    address = party_address_add(
        actor=actor, party_id=party.pk, kind="billing", street="Mayor", city="Madrid", country="ES"
    )
    args = {"party": [party.pk], "contact": [party.pk, contact.pk], "address": [party.pk, address.pk]}[url_args]
    before = state()
    response = client_of(company, role).post(
        reverse(action, args=args), {"name": "X", "kind": "billing", "street": "S", "city": "C", "country": "ES"}
    )
    assert response.status_code == (302 if role == "anonymous" else 403)
    if role == "anonymous":
        assert response["Location"].startswith(reverse("web:login"))
    assert state() == before


# Multi-company isolation


def test_another_companys_party_is_404_everywhere(company, admin_client):
    foreign = party_build(company_build(country="BR"), legal_name="Estrangeira Ltda")
    party_build(company, legal_name="Propia SL")
    before = state()
    for name in ("parties:party_detail", "parties:party_edit", "parties:contact_create", "parties:address_create"):
        assert admin_client.get(reverse(name, args=[foreign.pk])).status_code == 404
    for name in ("parties:party_archive", "parties:party_restore", "parties:party_edit"):
        assert admin_client.post(reverse(name, args=[foreign.pk]), {"legal_name": "Mine"}).status_code == 404
    listing = admin_client.get(reverse("parties:customer_list"), {"q": "Ltda"})
    assert "Estrangeira" not in listing.content.decode()
    assert state() == before


def test_contact_of_another_party_is_404(company, admin_client, party):
    other = party_build(company)
    actor = actor_for(user_build(company, "sales"), company.pk)
    contact = party_contact_add(actor=actor, party_id=other.pk, name="Eva")
    response = admin_client.post(reverse("parties:contact_remove", args=[party.pk, contact.pk]))
    assert response.status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists()


# Lists


def names(response):
    return [p.legal_name for p in response.context["object_list"]]


def test_list_search_filters_and_sort(company, admin_client):
    actor = actor_for(user_build(company, "sales"), company.pk)
    a = party_build(company, legal_name="Alfa SL", tax_id="B58378431", email="compras@alfa.example")
    b = party_build(company, legal_name="Beta", kind="person", tax_id="12345678Z")
    c = party_build(company, legal_name="Gamma SA", tax_country="PT", tax_id="PT501964843", is_supplier=True)
    d = party_build(company, legal_name="Delta SL")
    party_build(company, legal_name="Only Supplier", is_customer=False, is_supplier=True)
    party_address_add(actor=actor, party_id=b.pk, kind="shipping", street="Rúa Nova", city="Vigo", country="ES")
    party_address_add(actor=actor, party_id=b.pk, kind="billing", street="Rúa Vella", city="Vigo", country="ES")
    party_archive(actor=actor, party_id=d.pk)
    url = reverse("parties:customer_list")
    assert names(admin_client.get(url)) == ["Alfa SL", "Beta", "Gamma SA"]
    assert names(admin_client.get(url, {"active": "no"})) == ["Delta SL"]
    assert names(admin_client.get(url, {"active": "all"})) == ["Alfa SL", "Beta", "Delta SL", "Gamma SA"]
    assert names(admin_client.get(url, {"q": "B-58378431"})) == ["Alfa SL"]
    assert names(admin_client.get(url, {"q": "alfa.example"})) == ["Alfa SL"]
    # Two addresses in Vigo: the party is listed once.
    assert names(admin_client.get(url, {"q": "vigo"})) == ["Beta"]
    assert names(admin_client.get(url, {"kind": "person"})) == ["Beta"]
    assert names(admin_client.get(url, {"country": "PT"})) == ["Gamma SA"]
    assert names(admin_client.get(url, {"country": "ZZ", "kind": "robot"})) == ["Alfa SL", "Beta", "Gamma SA"]
    assert names(admin_client.get(url, {"sort": "-name"})) == ["Gamma SA", "Beta", "Alfa SL"]
    assert names(admin_client.get(reverse("parties:supplier_list"))) == ["Gamma SA", "Only Supplier"]
    page = admin_client.get(url, {"q": "vigo"}).content.decode()
    assert "12345678Z" in page and "Vigo" in page
    assert c.pk and a.pk


def test_brazilian_tax_ids_are_shown_formatted_and_found_formatted(db):
    br = company_build(country="BR")
    party_build(br, legal_name="Mercado Azul", tax_id="11222333000181")
    client = client_for(user_build(br, "sales"))
    response = client.get(reverse("parties:customer_list"), {"q": "11.222.333/0001-81"})
    assert names(response) == ["Mercado Azul"]
    assert "11.222.333/0001-81" in response.content.decode()


def test_htmx_gets_only_the_table(admin_client, party):
    response = admin_client.get(reverse("parties:customer_list"), {"q": "norte"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith("<table")
    assert "Distribuciones Norte SL" in body


def test_list_shows_money_in_the_company_currency_for_the_users_language(company):
    party_build(company, legal_name="Caro SL", credit_limit="1234.5")
    user = user_build(company, "sales", language="es")
    body = client_for(user).get(reverse("parties:customer_list")).content.decode()
    assert "1234,50\xa0€" in body or "1.234,50\xa0€" in body


def test_phone_layout_labels_every_cell(admin_client, party):
    body = admin_client.get(reverse("parties:customer_list")).content.decode()
    assert 'class="responsive"' in body
    for label in ("Name", "Tax id", "E-mail", "City", "Payment terms", "Credit limit", "Status"):
        assert f'data-label="{label}"' in body


def _list_queries(client, django_assert_num_queries, count):
    with django_assert_num_queries(count):
        response = client.get(reverse("parties:customer_list"))
    assert response.status_code == 200
    return response


# session, user, membership, company list (menu), count, one page of parties with city and terms
LIST_QUERIES = 6


def test_list_page_query_count_is_pinned(company, admin_client, django_assert_num_queries):
    term = payment_term_build(company, days=30)
    actor = actor_for(user_build(company, "sales"), company.pk)
    for n in range(3):
        p = party_build(company, payment_term_id=term.pk)
        party_address_add(actor=actor, party_id=p.pk, kind="billing", street="Mayor", city=f"C{n}", country="ES")
    _list_queries(admin_client, django_assert_num_queries, LIST_QUERIES)
    for n in range(30):
        p = party_build(company, payment_term_id=term.pk)
        party_contact_add(actor=actor, party_id=p.pk, name=f"Contact {n}")
    response = _list_queries(admin_client, django_assert_num_queries, LIST_QUERIES)
    assert len(response.context["object_list"]) == 25


# Customer page


def test_detail_gathers_contacts_addresses_notes_and_history(company, party):
    user = user_build(company, "sales")
    actor = actor_for(user, company.pk)
    party_contact_add(actor=actor, party_id=party.pk, name="Eva Ruiz", role="Compras", email="eva@norte.example")
    party_address_add(
        actor=actor,
        party_id=party.pk,
        kind="shipping",
        street="Calle Mayor",
        number="5",
        city="Madrid",
        postal_code="28013",
        country="ES",
    )
    from retaguarda.parties.services import party_update

    party_update(actor=actor, party_id=party.pk, notes="Entregar por la mañana.")
    body = client_for(user).get(reverse("parties:party_detail", args=[party.pk])).content.decode()
    for expected in (
        "Distribuciones Norte SL",
        "CIF B58378431",
        "Eva Ruiz",
        "Compras",
        "Calle Mayor 5",
        "28013 Madrid",
        "Entregar por la mañana.",
        "party.contact.add",
        "party.address.add",
        "party.create",
        reverse("parties:party_archive", args=[party.pk]),
    ):
        assert expected in body, expected


def test_detail_hides_change_actions_from_viewers(company, party):
    body = client_of(company, "legal").get(reverse("parties:party_detail", args=[party.pk])).content.decode()
    assert reverse("parties:party_archive", args=[party.pk]) not in body
    assert reverse("parties:party_edit", args=[party.pk]) not in body


def test_sections_registered_by_other_areas_show_for_permitted_users(company, party):
    seen = []

    def context(actor, p):
        seen.append(p.pk)
        return {"extra": "Three open orders"}

    sections.register(
        sections.Section(
            code="test-orders",
            title="Orders",
            template="parties/sections/notes.html",
            permission="parties.change",
            order=40,
            context=context,
            applies=lambda p: p.is_customer,
        )
    )
    try:
        codes = [s.code for s in sections.sections_for(actor_for(user_build(company, "sales"), company.pk), party)]
        assert codes == ["contacts", "addresses", "orders", "test-orders", "invoices", "history"]
        viewer = [s.code for s in sections.sections_for(actor_for(user_build(company, "legal"), company.pk), party)]
        assert viewer == ["contacts", "addresses", "dunning", "history"]
        body = client_of(company, "sales").get(reverse("parties:party_detail", args=[party.pk])).content.decode()
        assert 'id="section-notes"' in body  # the test section reuses the notes template
        assert seen == [party.pk]
    finally:
        sections.unregister("test-orders")
    assert "test-orders" not in sections.SECTIONS


# Forms


def test_invalid_tax_id_shows_the_error_and_writes_nothing(admin_client, company):
    before = state()
    response = admin_client.post(
        reverse("parties:party_create"),
        {
            "legal_name": "Mala SL",
            "kind": "company",
            "is_customer": "on",
            "tax_country": "ES",
            "tax_id": "B58378432",
            "language": "es",
            "credit_limit": "0",
        },
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {
        "tax_id": ["The check character does not match: this is not a valid CIF."]
    }
    assert "The check character does not match: this is not a valid CIF." in response.content.decode()
    assert state() == before


def test_duplicate_tax_id_shows_who_has_it(admin_client, party):
    before = state()
    response = admin_client.post(
        reverse("parties:party_create"),
        {
            "legal_name": "Copia SL",
            "kind": "company",
            "is_customer": "on",
            "tax_country": "ES",
            "tax_id": "b-58378431",
            "language": "es",
            "credit_limit": "0",
        },
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {"tax_id": ["Distribuciones Norte SL already has this tax id."]}
    assert state() == before


def test_service_errors_land_on_their_fields(admin_client, company):
    response = admin_client.post(
        reverse("parties:party_create"),
        {
            "legal_name": "Tel SL",
            "kind": "company",
            "is_customer": "on",
            "tax_country": "ES",
            "phone": "call me",
            "language": "es",
            "credit_limit": "0",
        },
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {"phone": ["Enter a phone number: digits, spaces and + ( ) - . / only."]}


def test_form_errors_in_the_users_language(company):
    before = state()
    user = user_build(company, "sales", language="es")
    response = client_for(user).post(
        reverse("parties:party_create"),
        {
            "legal_name": "",
            "kind": "person",
            "is_customer": "on",
            "tax_country": "BR",
            "tax_id": "390.533.447",
            "language": "es",
            "credit_limit": "0",
        },
    )
    assert response.status_code == 422
    with translation.override("es"):
        expected = {
            "legal_name": [translation.gettext("This field is required.")],
            "tax_id": [translation.gettext("A CPF has 11 digits.")],
        }
    assert expected["legal_name"] == ["Este campo es obligatorio."]
    assert response.context["form"].errors == expected
    assert state() == before


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"legal_name": "x" * 500, "kind": "company", "tax_country": "ES", "language": "es", "credit_limit": "1e99"},
        {
            "legal_name": "A\x00B",
            "kind": "company",
            "is_customer": "on",
            "tax_country": "ES",
            "language": "es",
            "credit_limit": "0",
        },
        {
            "legal_name": "Z",
            "kind": "alien",
            "tax_country": "XX",
            "language": "tlh",
            "credit_limit": "NaN",
            "payment_term": "99999999999999999999",
        },
        {
            "legal_name": "Z",
            "kind": "company",
            "is_customer": "on",
            "tax_country": "ES",
            "language": "es",
            "credit_limit": "-5",
            "tax_id": "\ufffd\u202e",
            "email": "@@",
        },
    ],
)
def test_invalid_input_is_never_a_500(admin_client, company, data):
    before = state()
    response = admin_client.post(reverse("parties:party_create"), data)
    assert response.status_code == 422
    assert state() == before


def test_huge_ids_in_urls_are_404(admin_client, company):
    assert admin_client.get(f"/parties/{10**30}/").status_code == 404
    assert admin_client.post(f"/parties/{10**30}/archive/").status_code == 404


def test_edit_form_shows_the_formatted_tax_id_and_saves(db):
    br = company_build(country="BR")
    party = party_build(br, legal_name="Mercado Azul", tax_id="11222333000181")
    client = client_for(user_build(br, "manager"))
    url = reverse("parties:party_edit", args=[party.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "legal_name": "Mercado Azul",
            "trade_name": "Azul",
            "kind": "company",
            "is_customer": "on",
            "is_supplier": "on",
            "tax_country": "BR",
            "tax_id": "11.222.333/0001-81",
            "language": "pt-br",
            "credit_limit": "2500.00",
        },
    )
    assert response.status_code == 302
    party.refresh_from_db()
    assert (party.trade_name, party.is_supplier, str(party.credit_limit), party.tax_id) == (
        "Azul",
        True,
        "2500.00",
        "11222333000181",
    )
    audit = AuditLog.objects.filter(action="party.update", object_id=str(party.pk)).get()
    assert audit.after == {"trade_name": "Azul", "is_supplier": True, "credit_limit": "2500.00"}


def test_restore_refused_when_tax_id_was_taken(admin_client, company, party):
    actor = actor_for(user_build(company, "sales"), company.pk)
    party_archive(actor=actor, party_id=party.pk)
    party_build(company, tax_id="B58378431", legal_name="Sucesora SL")
    response = admin_client.post(reverse("parties:party_restore", args=[party.pk]), follow=True)
    assert response.status_code == 200
    assert "Sucesora SL already has this tax id." in response.content.decode()
    party.refresh_from_db()
    assert party.is_active is False


def test_contact_and_address_forms(admin_client, party):
    response = admin_client.post(
        reverse("parties:contact_create", args=[party.pk]), {"name": "Eva", "role": "Compras", "email": "eva@x.es"}
    )
    assert response.status_code == 302
    contact = party.contacts.get()
    response = admin_client.post(
        reverse("parties:contact_edit", args=[party.pk, contact.pk]), {"name": "Eva María", "email": "no"}
    )
    assert response.status_code == 422
    response = admin_client.post(
        reverse("parties:address_create", args=[party.pk]),
        {"kind": "billing", "street": "Mayor", "city": "Madrid", "postal_code": "99999", "country": "ES"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {"postal_code": ["Enter a valid postal code, like 28013."]}
    response = admin_client.post(
        reverse("parties:address_create", args=[party.pk]),
        {"kind": "billing", "street": "Mayor", "city": "Madrid", "postal_code": "28013", "country": "ES"},
    )
    assert response.status_code == 302
    address = party.addresses.get()
    assert address.is_default is True
    assert admin_client.post(reverse("parties:address_remove", args=[party.pk, address.pk])).status_code == 302
    assert admin_client.post(reverse("parties:contact_remove", args=[party.pk, contact.pk])).status_code == 302
    assert (party.contacts.count(), party.addresses.count()) == (0, 0)


def test_payment_terms_page(company, admin_client):
    response = admin_client.post(reverse("parties:payment_term_list"), {"name": "Contado", "days": "0"})
    assert response.status_code == 302
    term = PaymentTerm.objects.get(company=company)
    assert (term.name, term.days) == ("Contado", 0)
    response = admin_client.post(reverse("parties:payment_term_list"), {"name": "contado", "days": "0"})
    assert response.status_code == 422
    assert response.context["form"].errors == {"name": ["A payment term with this name already exists."]}
    viewer = client_of(company, "legal")
    assert viewer.get(reverse("parties:payment_term_list")).status_code == 200
    assert viewer.post(reverse("parties:payment_term_list"), {"name": "X", "days": "1"}).status_code == 403
    assert viewer.post(reverse("parties:payment_term_remove", args=[term.pk])).status_code == 403
    assert PaymentTerm.objects.filter(company=company).count() == 1
    assert admin_client.post(reverse("parties:payment_term_remove", args=[term.pk])).status_code == 302
    assert PaymentTerm.objects.filter(company=company).count() == 0
