"""The company: its tax id validated by country, its fiscal settings, updates audited, the command."""

import io

import pytest
from django.core.management import CommandError, call_command
from stdnum.br import cnpj
from stdnum.es import cif

from retaguarda.common.errors import Conflict, PermissionDenied, ValidationFailed
from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog, Company, OutboxEvent
from retaguarda.core.services import company_create, company_update
from retaguarda.core.testing import actor_build, company_build


def create(country="BR", tax_id="11.222.333/0001-81", **extra):
    defaults = {"BR": ("BRL", "pt-br"), "ES": ("EUR", "es")}.get(country, ("EUR", "en"))
    return company_create(
        legal_name="Loja Nova Ltda",
        tax_id=tax_id,
        country=country,
        base_currency=defaults[0],
        default_language=defaults[1],
        **extra,
    )


def rows() -> tuple:
    return (
        list(Company.objects.order_by("pk").values_list("country", "tax_id", "legal_name", "fiscal_settings")),
        AuditLog.objects.count(),
        OutboxEvent.objects.count(),
    )


# create -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "typed", "stored"),
    [
        ("BR", "11.222.333/0001-81", "11222333000181"),
        ("BR", "12.ABC.345/01DE-35", "12ABC34501DE35"),  # the alphanumeric CNPJ
        ("ES", "b-58378431", "B58378431"),
        ("ES", "ES B58378431", "B58378431"),
        ("ES", "12345678-z", "12345678Z"),  # an autónomo trades under their own NIF
        ("ES", "X1234567L", "X1234567L"),
        ("FR", "FR 40 303 265 045", "FR40303265045"),
        ("FR", "40303265045", "FR40303265045"),
        ("PT", "501 964 843", "PT501964843"),
        ("US", "12-3456789", "123456789"),
    ],
)
def test_create_stores_the_tax_id_compact(db, country, typed, stored):
    company = create(country=country, tax_id=typed)
    company.refresh_from_db()
    assert company.tax_id == stored
    audit = AuditLog.objects.get(object_id=str(company.pk))
    assert (audit.action, audit.after) == (
        "company.create",
        {"legal_name": "Loja Nova Ltda", "tax_id": stored, "country": country},
    )


@pytest.mark.parametrize(
    ("country", "tax_id", "message"),
    [
        ("BR", "11.222.333/0001-82", "The check digits do not match: this is not a valid CNPJ."),
        ("BR", "529.982.247-25", "This is a CPF, the number of a person: a company's tax id in Brazil is the CNPJ."),
        ("BR", "00.000.000/0000-00", "A number with every digit the same is not a valid tax id."),
        ("BR", "1122233300018", "A CNPJ has 14 characters."),
        ("BR", "", "Enter the tax id."),
        ("ES", "B58378432", "The check character does not match: this is not a valid CIF."),
        ("ES", "12345678A", "The check letter does not match: this is not a valid DNI."),
        ("ES", "B5837843", "A company's NIF in Spain is a CIF: a letter, 7 digits and a check character."),
        ("FR", "FR40303265046", "This is not a valid VAT number of FR."),
        ("FR", "PT501964843", "This VAT number belongs to another country (PT): choose that tax country."),
        ("US", "12#34", "Use only letters and digits, at most 32."),
    ],
)
def test_create_refuses_an_invalid_tax_id_and_writes_nothing(db, country, tax_id, message):
    before = rows()
    with pytest.raises(ValidationFailed) as exc:
        create(country=country, tax_id=tax_id)
    assert exc.value.message == "The company could not be created."
    assert exc.value.fields == {"tax_id": [message]}
    assert rows() == before == ([], 0, 0)


def test_create_lists_every_wrong_field(db):
    with pytest.raises(ValidationFailed) as exc:
        company_create(legal_name=" ", tax_id="B58378432", country="ES", base_currency="XXX", default_language="fr")
    assert exc.value.fields == {
        "legal_name": ["Enter a legal name of 1 to 200 characters."],
        "tax_id": ["The check character does not match: this is not a valid CIF."],
        "base_currency": ["Unknown currency."],
        "default_language": ["Unknown language."],
    }
    assert rows() == ([], 0, 0)


def test_create_refuses_a_duplicate_tax_id_of_the_same_country(db):
    first = create(country="BR", tax_id="11222333000181")
    before = rows()
    with pytest.raises(Conflict) as exc:
        create(country="BR", tax_id="11.222.333/0001-81")
    assert exc.value.message == "A company with this tax id already exists."
    assert exc.value.fields == {"tax_id": ["Another company of this country already has this tax id."]}
    assert rows() == before
    assert list(Company.objects.values_list("pk", flat=True)) == [first.pk]


def test_the_same_number_may_serve_companies_of_two_countries(db):
    create(country="US", tax_id="123456789")
    create(country="IE", tax_id="IE6388047V")
    create(country="AT", tax_id="ATU13585627")
    other = create(country="BE", tax_id="BE0403170701")
    assert other.tax_id == "BE0403170701"
    assert Company.objects.count() == 4


def test_company_build_makes_valid_distinct_tax_ids(db):
    brazilian = [company_build(country="BR").tax_id for _ in range(15)]
    spanish = [company_build(country="ES").tax_id for _ in range(15)]
    assert all(cnpj.is_valid(number) and len(number) == 14 for number in brazilian)
    assert all(cif.is_valid(number) and number[0] == "B" for number in spanish)
    assert len(set(brazilian)) == len(set(spanish)) == 15


# update -------------------------------------------------------------------------------------

FISCAL_ES = {"regime": "recargo_equivalencia", "province": "Valencia", "rounding": "document"}


def update(actor, **changes):
    arguments = {
        "legal_name": actor.company.legal_name,
        "trade_name": actor.company.trade_name,
        "tax_id": actor.company.tax_id,
        "default_language": actor.company.default_language,
        "fiscal_settings": dict(FISCAL_ES),
    }
    arguments.update(changes)
    return company_update(actor=actor, **arguments)


def test_update_is_audited_with_before_and_after_and_emits_an_event(company):
    actor = actor_build(company, Role.ADMINISTRATOR)
    old_name, old_tax_id = company.legal_name, company.tax_id
    audits = AuditLog.objects.count()

    updated = update(actor, legal_name="Tienda Nueva SL", tax_id="b-58378431")

    company.refresh_from_db()
    assert (company.legal_name, company.tax_id) == ("Tienda Nueva SL", "B58378431")
    assert company.fiscal_settings == {"regime": "recargo_equivalencia", "province": "Valencia", "rounding": "document"}
    assert updated.pk == company.pk
    assert AuditLog.objects.count() == audits + 1
    audit = AuditLog.objects.get(action="company.update")
    assert (audit.object_type, audit.object_id, audit.actor_id) == ("core.company", str(company.pk), actor.user.pk)
    assert audit.before == {"legal_name": old_name, "tax_id": old_tax_id, "fiscal_settings": {}}
    assert audit.after == {
        "legal_name": "Tienda Nueva SL",
        "tax_id": "B58378431",
        "fiscal_settings": {"regime": "recargo_equivalencia", "province": "Valencia", "rounding": "document"},
    }
    event = OutboxEvent.objects.get(name="company.updated")
    assert (event.company_id, event.object_type, event.object_id) == (company.pk, "core.company", str(company.pk))
    assert event.payload == audit.after


def test_update_without_changes_writes_nothing(company):
    actor = actor_build(company, Role.ADMINISTRATOR)
    update(actor)
    before = rows()
    update(actor)
    assert rows() == before
    assert AuditLog.objects.filter(action="company.update").count() == 1


def test_update_of_a_brazilian_company_needs_its_state_and_keeps_other_fiscal_keys(company_br):
    Company.objects.filter(pk=company_br.pk).update(fiscal_settings={"municipality_code": "3550308"})
    company_br.refresh_from_db()
    actor = actor_build(company_br, Role.ADMINISTRATOR)
    update(actor, fiscal_settings={"regime": "simples_nacional", "state": "sp"})
    company_br.refresh_from_db()
    assert company_br.fiscal_settings == {
        "municipality_code": "3550308",
        "regime": "simples_nacional",
        "state": "SP",
        "rounding": "line",
    }


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"tax_id": "B58378432"}, {"tax_id": ["The check character does not match: this is not a valid CIF."]}),
        ({"legal_name": ""}, {"legal_name": ["Enter a legal name of 1 to 200 characters."]}),
        ({"default_language": "fr"}, {"default_language": ["Unknown language."]}),
        (
            {"fiscal_settings": {"regime": "simples_nacional", "rounding": "cents"}},
            {
                "regime": ["Choose a tax regime from the list."],
                "rounding": ["Choose whether tax is rounded per line or per document."],
            },
        ),
        (
            {"fiscal_settings": {"regime": "general", "province": "x" * 101}},
            {"province": ["Use at most 100 printable characters."]},
        ),
        ({"fiscal_settings": "general"}, {"fiscal_settings": ["Not valid."]}),
    ],
)
def test_update_refuses_invalid_fields_and_changes_nothing(company, changes, fields):
    actor = actor_build(company, Role.ADMINISTRATOR)
    before = rows()
    with pytest.raises(ValidationFailed) as exc:
        update(actor, **changes)
    assert exc.value.message == "The company could not be saved."
    assert exc.value.fields == fields
    assert rows() == before


def test_update_refuses_a_brazilian_state_that_does_not_exist(company_br):
    actor = actor_build(company_br, Role.ADMINISTRATOR)
    before = rows()
    with pytest.raises(ValidationFailed) as exc:
        update(actor, fiscal_settings={"regime": "regime_normal", "state": "XX"})
    assert exc.value.fields == {"state": ["Choose the state (UF) from the list."]}
    assert rows() == before


def test_update_refuses_the_tax_id_of_another_company(company):
    other = company_build(country="ES")
    actor = actor_build(company, Role.ADMINISTRATOR)
    before = rows()
    with pytest.raises(Conflict) as exc:
        update(actor, tax_id=other.tax_id)
    assert exc.value.fields == {"tax_id": ["Another company of this country already has this tax id."]}
    assert rows() == before


@pytest.mark.parametrize("role", [Role.MANAGER, Role.FINANCE, Role.PARTNER])
def test_only_administrators_update_the_company(company, role):
    actor = actor_build(company, role, areas=["accounting"] if role == Role.PARTNER else ())
    before = rows()
    with pytest.raises(PermissionDenied):
        update(actor, legal_name="Hijacked SL")
    assert rows() == before


# the command --------------------------------------------------------------------------------


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_company_command_stores_the_tax_id_compact(db):
    output = run("company", "create", "--legal-name", "Tienda SL", "--tax-id", "B-58378431", "--country", "ES")
    company = Company.objects.get()
    assert output == f"company {company.pk} created: Tienda SL\n"
    assert company.tax_id == "B58378431"


def test_company_command_reports_each_invalid_option(db):
    with pytest.raises(CommandError) as exc:
        run("company", "create", "--legal-name", " ", "--tax-id", "11.222.333/0001-82", "--country", "BR")
    assert str(exc.value) == (
        "The company could not be created.\n"
        "  --legal-name: Enter a legal name of 1 to 200 characters.\n"
        "  --tax-id: The check digits do not match: this is not a valid CNPJ."
    )
    assert rows() == ([], 0, 0)


def test_company_command_reports_a_duplicate(db):
    run("company", "create", "--legal-name", "Loja Ltda", "--tax-id", "11222333000181", "--country", "BR")
    before = rows()
    with pytest.raises(CommandError) as exc:
        run("company", "create", "--legal-name", "Outra Ltda", "--tax-id", "11.222.333/0001-81", "--country", "BR")
    assert str(exc.value) == (
        "A company with this tax id already exists.\n"
        "  --tax-id: Another company of this country already has this tax id."
    )
    assert rows() == before


def test_fiscal_settings_given_at_creation_are_checked_and_nothing_is_written(db):
    from retaguarda.common.errors import ValidationFailed
    from retaguarda.core.models import AuditLog, Company
    from retaguarda.core.services import company_create

    companies, audits = Company.objects.count(), AuditLog.objects.count()
    with pytest.raises(ValidationFailed) as info:
        company_create(
            legal_name="Loja Teste Ltda",
            tax_id="11.222.333/0001-81",
            country="BR",
            base_currency="BRL",
            default_language="pt-br",
            fiscal_settings={"regime": "iva_general", "state": "XX", "rounding": "line"},
        )
    assert set(info.value.fields) == {"regime", "state"}
    assert (Company.objects.count(), AuditLog.objects.count()) == (companies, audits)


def test_fiscal_settings_given_at_creation_keep_their_extra_keys(db):
    from retaguarda.core.services import company_create

    company = company_create(
        legal_name="Loja Teste Ltda",
        tax_id="11.222.333/0001-81",
        country="BR",
        base_currency="BRL",
        default_language="pt-br",
        fiscal_settings={"regime": "simples_nacional", "state": "sp", "municipality_code": "3550308"},
    )
    assert company.fiscal_settings == {
        "regime": "simples_nacional",
        "state": "SP",
        "rounding": "line",
        "municipality_code": "3550308",
    }
