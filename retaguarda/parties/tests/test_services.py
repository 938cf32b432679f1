"""Services of parties: what they write (rows, audit, events) and what they refuse (nothing written)."""

from decimal import Decimal

import pytest
from django.db import transaction

from retaguarda.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from retaguarda.core.models import AuditLog, OutboxEvent
from retaguarda.core.testing import actor_build, company_build
from retaguarda.parties.models import Address, Contact, Party, PaymentTerm
from retaguarda.parties.selectors import party_counts
from retaguarda.parties.services import (
    party_address_add,
    party_address_remove,
    party_address_update,
    party_archive,
    party_contact_add,
    party_contact_remove,
    party_contact_update,
    party_create,
    party_restore,
    party_update,
    payment_term_create,
    payment_term_remove,
    payment_term_update,
    payment_terms_ensure_defaults,
)
from retaguarda.parties.testing import party_build, payment_term_build


@pytest.fixture
def br(db):
    return company_build(country="BR")


@pytest.fixture
def br_actor(br):
    return actor_build(br, "sales")


def counts():
    return (
        Party.objects.count(),
        Contact.objects.count(),
        Address.objects.count(),
        AuditLog.objects.filter(action__startswith="party").count(),
        OutboxEvent.objects.count(),
    )


def test_create_writes_party_audit_and_event(br, br_actor):
    term = payment_term_build(br, name="30 dias", days=30)
    party = party_create(
        actor=br_actor,
        legal_name="  Mercado Azul Ltda ",
        trade_name="Mercado Azul",
        kind="company",
        tax_country="BR",
        tax_id="11.222.333/0001-81",
        email="compras@mercadoazul.com.br",
        phone="+55 11 3333-4444",
        payment_term_id=term.pk,
        credit_limit="15000.50",
        is_supplier=True,
    )
    party.refresh_from_db()
    assert party.company == br
    assert party.legal_name == "Mercado Azul Ltda"
    assert party.tax_id == "11222333000181"
    assert party.tax_id_display == "11.222.333/0001-81"
    assert party.credit_limit == Decimal("15000.50")
    assert party.language == "pt-br"  # the company's language by default
    assert (party.is_customer, party.is_supplier, party.is_active) == (True, True, True)
    assert party.payment_term == term

    audit = AuditLog.objects.get(action="party.create")
    assert audit.object_type == "parties.party"
    assert audit.object_id == str(party.pk)
    assert audit.actor == br_actor.user
    assert audit.before is None
    assert audit.after["tax_id"] == "11222333000181"
    assert audit.after["credit_limit"] == "15000.50"
    assert audit.after["payment_term_id"] == term.pk

    event = OutboxEvent.objects.get()
    assert (event.company, event.name, event.object_type, event.object_id) == (
        br,
        "party.created",
        "parties.party",
        str(party.pk),
    )
    assert event.payload == {
        "id": party.pk,
        "legal_name": "Mercado Azul Ltda",
        "trade_name": "Mercado Azul",
        "kind": "company",
        "is_customer": True,
        "is_supplier": True,
        "tax_country": "BR",
        "tax_id": "11222333000181",
        "email": "compras@mercadoazul.com.br",
        "is_active": True,
    }


def test_create_with_contacts_and_addresses(br, br_actor):
    party = party_create(
        actor=br_actor,
        legal_name="Ana Souza",
        kind="person",
        tax_country="BR",
        tax_id="390.533.447-05",
        contacts=[{"name": "Ana Souza", "role": "Owner", "email": "ana@example.com", "phone": "11 99999-0000"}],
        addresses=[
            {
                "kind": "billing",
                "street": "Av. Paulista",
                "number": "1000",
                "city": "São Paulo",
                "state": "sp",
                "postal_code": "01310100",
                "country": "BR",
            },
            {
                "kind": "shipping",
                "street": "Rua Augusta",
                "number": "5",
                "city": "São Paulo",
                "state": "SP",
                "postal_code": "01305-000",
                "country": "BR",
            },
            {
                "kind": "shipping",
                "street": "Rua Oscar Freire",
                "number": "9",
                "city": "São Paulo",
                "state": "SP",
                "postal_code": "01426-001",
                "country": "BR",
                "is_default": True,
            },
        ],
    )
    assert list(party.contacts.values_list("name", "role", "email")) == [("Ana Souza", "Owner", "ana@example.com")]
    rows = list(party.addresses.order_by("pk").values_list("kind", "street", "state", "postal_code", "is_default"))
    assert rows == [
        ("billing", "Av. Paulista", "SP", "01310-100", True),
        ("shipping", "Rua Augusta", "SP", "01305-000", False),
        ("shipping", "Rua Oscar Freire", "SP", "01426-001", True),
    ]
    actions = list(AuditLog.objects.order_by("id").values_list("action", flat=True))
    assert actions[-5:] == [
        "party.create",
        "party.contact.add",
        "party.address.add",
        "party.address.add",
        "party.address.add",
    ]
    assert OutboxEvent.objects.filter(name="party.created").count() == 1


def test_create_with_a_bad_address_writes_nothing(br, br_actor):
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        party_create(
            actor=br_actor,
            legal_name="Loja",
            tax_country="BR",
            tax_id="11.222.333/0001-81",
            contacts=[{"name": ""}],
            addresses=[
                {
                    "kind": "billing",
                    "street": "Rua X",
                    "city": "Rio",
                    "state": "XX",
                    "postal_code": "123",
                    "country": "BR",
                }
            ],
        )
    assert exc.value.fields == {
        "contacts.0.name": ["Enter the contact's name."],
        "addresses.0.postal_code": ["Enter a valid postal code, like 01310-100."],
        "addresses.0.state": ["Enter the state's two-letter code, like SP or RJ."],
    }
    assert counts() == before


@pytest.mark.parametrize(
    "fields, errors",
    [
        (
            {"tax_id": "111.111.111-11", "kind": "person"},
            {"tax_id": ["A number with every digit the same is not a valid tax id."]},
        ),
        ({"tax_id": "11.222.333/0001-82"}, {"tax_id": ["The check digits do not match: this is not a valid CNPJ."]}),
        ({"legal_name": "   "}, {"legal_name": ["Enter the legal name."]}),
        ({"legal_name": "x" * 201}, {"legal_name": ["Ensure this value has at most 200 characters (it has 201)."]}),
        ({"legal_name": "A\x00B"}, {"legal_name": ["Remove the control characters from this text."]}),
        ({"notes": "lone \ud800 surrogate"}, {"notes": ["Remove the control characters from this text."]}),
        ({"is_customer": False}, {"is_customer": ["A party is a customer, a supplier or both."]}),
        ({"credit_limit": "-1"}, {"credit_limit": ["The credit limit cannot be negative."]}),
        ({"credit_limit": "1.005"}, {"credit_limit": ["Use at most 2 decimal places."]}),
        ({"credit_limit": "1e30"}, {"credit_limit": ["The credit limit is too large."]}),
        ({"credit_limit": "abc"}, {"credit_limit": ["Enter a number."]}),
        ({"credit_limit": "NaN"}, {"credit_limit": ["Enter a number."]}),
        ({"email": "not-an-email"}, {"email": ["Enter a valid email address."]}),
        ({"phone": "call me"}, {"phone": ["Enter a phone number: digits, spaces and + ( ) - . / only."]}),
        ({"kind": "robot"}, {"kind": ["Choose person or company."]}),
        ({"tax_country": "XX"}, {"tax_country": ["Choose a country."]}),
        ({"language": "fr"}, {"language": ["Choose English, Português (Brasil) or Español."]}),
        ({"payment_term_id": 10**30}, {"payment_term_id": ["Choose one of this company's payment terms."]}),
    ],
)
def test_invalid_create_is_refused_with_field_errors(br, br_actor, fields, errors):
    data = {"legal_name": "Loja", "tax_country": "BR", "tax_id": "11.222.333/0001-81", **fields}
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        party_create(actor=br_actor, **data)
    assert exc.value.fields == errors
    assert exc.value.status == 422
    assert counts() == before


def test_payment_term_of_another_company_is_refused(br, br_actor):
    other_term = payment_term_build(company_build(country="ES"), days=0)
    with pytest.raises(ValidationFailed) as exc:
        party_create(actor=br_actor, legal_name="Loja", tax_country="BR", payment_term_id=other_term.pk)
    assert exc.value.fields == {"payment_term_id": ["Choose one of this company's payment terms."]}
    assert Party.objects.count() == 0


def test_duplicate_tax_id_is_refused_with_the_other_partys_name(br, br_actor):
    party_build(br, legal_name="Primeira Ltda", tax_id="11222333000181")
    before = counts()
    with pytest.raises(Conflict) as exc:
        party_create(actor=br_actor, legal_name="Segunda", tax_country="BR", tax_id="11.222.333/0001-81")
    assert exc.value.code == "duplicate_tax_id"
    assert exc.value.fields == {"tax_id": ["Primeira Ltda already has this tax id."]}
    assert counts() == before


def test_same_tax_id_is_allowed_in_another_company_and_after_archiving(br, br_actor):
    first = party_build(br, tax_id="11222333000181")
    party_build(company_build(country="BR"), tax_id="11222333000181")
    party_archive(actor=br_actor, party_id=first.pk)
    second = party_create(actor=br_actor, legal_name="Nova", tax_country="BR", tax_id="11222333000181")
    assert second.tax_id == "11222333000181"
    # Restoring the archived one would now duplicate the active one.
    with pytest.raises(Conflict):
        party_restore(actor=br_actor, party_id=first.pk)
    first.refresh_from_db()
    assert first.is_active is False


def test_database_constraint_backs_the_duplicate_check(br):
    party_build(br, tax_id="11222333000181")
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        Party.objects.create(company=br, legal_name="x", tax_country="BR", tax_id="11222333000181", language="en")


def test_parties_without_tax_id_do_not_collide(br, br_actor):
    party_build(br, tax_id="")
    party_build(br, tax_id="")
    assert Party.objects.filter(company=br, tax_id="").count() == 2


def test_update_writes_only_changes(br, br_actor):
    party = party_build(br, legal_name="Velho", email="a@example.com")
    AuditLog.objects.all().delete()
    OutboxEvent.objects.all().delete()
    party_update(actor=br_actor, party_id=party.pk, legal_name="Novo", email="a@example.com", credit_limit="10")
    audit = AuditLog.objects.get()
    assert audit.action == "party.update"
    assert audit.before == {"legal_name": "Velho", "credit_limit": "0.00"}
    assert audit.after == {"legal_name": "Novo", "credit_limit": "10.00"}
    event = OutboxEvent.objects.get()
    assert event.name == "party.updated"
    assert event.payload["changed"] == ["credit_limit", "legal_name"]
    # The same values again: no audit, no event.
    party_update(actor=br_actor, party_id=party.pk, legal_name="Novo")
    assert AuditLog.objects.count() == 1
    assert OutboxEvent.objects.count() == 1


def test_update_revalidates_tax_id_against_the_new_kind(br, br_actor):
    party = party_build(br, kind="company", tax_id="11222333000181")
    with pytest.raises(ValidationFailed) as exc:
        party_update(actor=br_actor, party_id=party.pk, kind="person")
    assert exc.value.fields == {
        "tax_id": ["This is a CNPJ, the number of a company: a person's tax id in Brazil is the CPF."]
    }
    party.refresh_from_db()
    assert party.kind == "company"


def test_update_refuses_unknown_fields(br, br_actor):
    party = party_build(br)
    with pytest.raises(ValidationFailed) as exc:
        party_update(actor=br_actor, party_id=party.pk, company_id=99)
    assert exc.value.fields == {"company_id": ["This field cannot be changed."]}


def test_archive_and_restore_are_audited(br, br_actor):
    party = party_build(br)
    party_archive(actor=br_actor, party_id=party.pk)
    party.refresh_from_db()
    assert party.is_active is False
    party_restore(actor=br_actor, party_id=party.pk)
    actions = list(
        AuditLog.objects.filter(object_type="parties.party", object_id=str(party.pk))
        .order_by("id")
        .values_list("action", "after")
    )
    assert actions == [
        ("party.create", actions[0][1]),
        ("party.archive", {"is_active": False}),
        ("party.restore", {"is_active": True}),
    ]
    assert list(OutboxEvent.objects.order_by("id").values_list("name", flat=True)) == [
        "party.created",
        "party.updated",
        "party.updated",
    ]


@pytest.mark.parametrize("role", ["warehouse", "hr", "support", "legal"])
def test_roles_without_change_permission_write_nothing(br, role):
    party = party_build(br, legal_name="Intacta")
    actor = actor_build(br, role)
    before = counts()
    calls = [
        lambda: party_create(actor=actor, legal_name="X", tax_country="BR"),
        lambda: party_update(actor=actor, party_id=party.pk, legal_name="Y"),
        lambda: party_archive(actor=actor, party_id=party.pk),
        lambda: party_contact_add(actor=actor, party_id=party.pk, name="Z"),
        lambda: party_address_add(actor=actor, party_id=party.pk, kind="billing", street="R", city="C", country="BR"),
        lambda: payment_term_create(actor=actor, name="7 dias", days=7),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert counts() == before
    party.refresh_from_db()
    assert (party.legal_name, party.is_active) == ("Intacta", True)


def test_another_companys_party_is_not_found(br, br_actor):
    foreign = party_build(company_build(country="ES"), legal_name="Ajena SL")
    for call in (
        lambda: party_update(actor=br_actor, party_id=foreign.pk, legal_name="Minha"),
        lambda: party_archive(actor=br_actor, party_id=foreign.pk),
        lambda: party_contact_add(actor=br_actor, party_id=foreign.pk, name="Z"),
    ):
        with pytest.raises(NotFound):
            call()
    foreign.refresh_from_db()
    assert (foreign.legal_name, foreign.is_active) == ("Ajena SL", True)
    assert foreign.contacts.count() == 0


# Contacts


def test_contacts_add_update_remove_audited_on_the_party(br, br_actor):
    party = party_build(br)
    contact = party_contact_add(actor=br_actor, party_id=party.pk, name="João", role="Compras", email="j@x.com")
    party_contact_update(actor=br_actor, party_id=party.pk, contact_id=contact.pk, role="Financeiro")
    contact.refresh_from_db()
    assert (contact.name, contact.role, contact.email, contact.company) == ("João", "Financeiro", "j@x.com", br)
    party_contact_remove(actor=br_actor, party_id=party.pk, contact_id=contact.pk)
    assert Contact.objects.count() == 0
    rows = list(
        AuditLog.objects.filter(object_type="parties.party", object_id=str(party.pk), action__contains="contact")
        .order_by("id")
        .values_list("action", "before", "after")
    )
    assert rows == [
        (
            "party.contact.add",
            None,
            {"contact_id": contact.pk, "name": "João", "role": "Compras", "email": "j@x.com", "phone": ""},
        ),
        ("party.contact.update", {"contact_id": contact.pk, "role": "Compras"}, {"role": "Financeiro"}),
        (
            "party.contact.remove",
            {"contact_id": contact.pk, "name": "João", "role": "Financeiro", "email": "j@x.com", "phone": ""},
            None,
        ),
    ]
    assert OutboxEvent.objects.filter(name="party.updated").count() == 3


def test_contact_of_another_party_is_not_found(br, br_actor):
    one, other = party_build(br), party_build(br)
    contact = party_contact_add(actor=br_actor, party_id=one.pk, name="Ana")
    with pytest.raises(NotFound):
        party_contact_update(actor=br_actor, party_id=other.pk, contact_id=contact.pk, name="Bia")
    with pytest.raises(NotFound):
        party_contact_remove(actor=br_actor, party_id=other.pk, contact_id=contact.pk)
    contact.refresh_from_db()
    assert contact.name == "Ana"


def test_invalid_contact_is_refused(br, br_actor):
    party = party_build(br)
    with pytest.raises(ValidationFailed) as exc:
        party_contact_add(actor=br_actor, party_id=party.pk, name="", email="nope")
    assert exc.value.fields == {"name": ["Enter the contact's name."], "email": ["Enter a valid email address."]}
    assert Contact.objects.count() == 0


# Addresses: one default per kind


def add(actor, party, kind="shipping", street="Calle Mayor", **extra):
    return party_address_add(
        actor=actor, party_id=party.pk, kind=kind, street=street, city="Madrid", country="ES", **extra
    )


def defaults(party):
    return list(party.addresses.order_by("pk").values_list("street", "kind", "is_default"))


def test_first_address_of_a_kind_is_the_default(db):
    es = company_build(country="ES")
    actor = actor_build(es, "manager")
    party = party_build(es)
    add(actor, party, street="A", postal_code="28013")
    add(actor, party, street="B")
    add(actor, party, kind="billing", street="C")
    assert defaults(party) == [("A", "shipping", True), ("B", "shipping", False), ("C", "billing", True)]
    assert party.addresses.get(street="A").postal_code == "28013"


def test_new_default_replaces_the_old_one(db):
    es = company_build(country="ES")
    actor = actor_build(es, "manager")
    party = party_build(es)
    a = add(actor, party, street="A")
    b = add(actor, party, street="B", is_default=True)
    assert defaults(party) == [("A", "shipping", False), ("B", "shipping", True)]
    party_address_update(actor=actor, party_id=party.pk, address_id=a.pk, is_default=True)
    assert defaults(party) == [("A", "shipping", True), ("B", "shipping", False)]
    # Un-marking the default promotes the other one.
    party_address_update(actor=actor, party_id=party.pk, address_id=a.pk, is_default=False)
    assert defaults(party) == [("A", "shipping", False), ("B", "shipping", True)]
    # Removing the default promotes the oldest remaining one.
    c = add(actor, party, street="C")
    party_address_remove(actor=actor, party_id=party.pk, address_id=b.pk)
    assert defaults(party) == [("A", "shipping", True), ("C", "shipping", False)]
    # Moving the default to another kind promotes in the old kind; it becomes default in the new one.
    party_address_update(actor=actor, party_id=party.pk, address_id=a.pk, kind="billing")
    assert defaults(party) == [("A", "billing", True), ("C", "shipping", True)]
    assert c.pk


def test_lone_address_stays_default(db):
    es = company_build(country="ES")
    actor = actor_build(es, "manager")
    party = party_build(es)
    a = add(actor, party, street="A")
    party_address_update(actor=actor, party_id=party.pk, address_id=a.pk, is_default=False)
    assert defaults(party) == [("A", "shipping", True)]


def test_address_changes_are_audited(db):
    es = company_build(country="ES")
    actor = actor_build(es, "manager")
    party = party_build(es)
    a = add(actor, party, street="A", postal_code="28013")
    party_address_update(actor=actor, party_id=party.pk, address_id=a.pk, street="B", postal_code="08001")
    rows = list(AuditLog.objects.filter(action="party.address.update").values_list("object_id", "before", "after"))
    assert rows == [
        (
            str(party.pk),
            {"address_id": a.pk, "street": "A", "postal_code": "28013"},
            {"street": "B", "postal_code": "08001"},
        ),
    ]


@pytest.mark.parametrize(
    "extra, errors",
    [
        ({"postal_code": "99999"}, {"postal_code": ["Enter a valid postal code, like 28013."]}),
        ({"kind": "home"}, {"kind": ["Choose billing or shipping."]}),
        ({"street": ""}, {"street": ["Enter the street."]}),
        ({"is_default": "yes"}, {"is_default": ["Choose yes or no."]}),
    ],
)
def test_invalid_address_is_refused(db, extra, errors):
    es = company_build(country="ES")
    actor = actor_build(es, "manager")
    party = party_build(es)
    with pytest.raises(ValidationFailed) as exc:
        add(actor, party, **extra)
    assert exc.value.fields == errors
    assert Address.objects.count() == 0


# Payment terms


def test_payment_terms_defaults_in_the_company_language(br, br_actor):
    from django.utils import translation

    terms = payment_terms_ensure_defaults(actor=br_actor)
    with translation.override("pt-br"):
        expected = [
            (translation.gettext("Immediate"), 0),
            (translation.gettext("30 days"), 30),
            (translation.gettext("60 days"), 60),
        ]
    assert [(t.name, t.days) for t in terms] == expected
    assert PaymentTerm.objects.filter(company=br).count() == 3
    # A second call creates nothing.
    payment_terms_ensure_defaults(actor=br_actor)
    assert PaymentTerm.objects.filter(company=br).count() == 3


def test_payment_term_rules(br, br_actor):
    term = payment_term_create(actor=br_actor, name="À vista", days=0)
    with pytest.raises(ValidationFailed) as exc:
        payment_term_create(actor=br_actor, name="à vista", days=0)
    assert exc.value.fields == {"name": ["A payment term with this name already exists."]}
    with pytest.raises(ValidationFailed) as exc:
        payment_term_create(actor=br_actor, name="Longo", days=-1)
    assert exc.value.fields == {"days": ["Enter between 0 and 3650 days."]}
    payment_term_update(actor=br_actor, payment_term_id=term.pk, name="À vista", days=1)
    term.refresh_from_db()
    assert term.days == 1
    party = party_build(br, payment_term_id=term.pk)
    with pytest.raises(Conflict):
        payment_term_remove(actor=br_actor, payment_term_id=term.pk)
    party_update(actor=br_actor, party_id=party.pk, payment_term_id=None)
    payment_term_remove(actor=br_actor, payment_term_id=term.pk)
    assert PaymentTerm.objects.count() == 0
    assert list(
        AuditLog.objects.filter(object_type="parties.paymentterm").order_by("id").values_list("action", flat=True)
    ) == ["payment_term.create", "payment_term.update", "payment_term.remove"]


def test_counts_for_the_dashboard(br, br_actor):
    party_build(br, is_customer=True)
    party_build(br, is_customer=True, is_supplier=True)
    party_build(br, is_customer=False, is_supplier=True)
    archived = party_build(br)
    party_archive(actor=br_actor, party_id=archived.pk)
    party_build(company_build(country="BR"))
    assert party_counts(br_actor) == {"customers": 2, "suppliers": 2}
