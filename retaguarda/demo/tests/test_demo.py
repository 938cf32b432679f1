import io
import random
import re
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from stdnum import ean
from stdnum.br import cnpj, cpf
from stdnum.es import cif, dni, nie

from retaguarda.catalog.models import PriceList, PriceListItem, Product, ProductTranslation, TaxCategory
from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog, Company, Membership, OutboxEvent, User
from retaguarda.demo.data import DEMO_PASSWORD
from retaguarda.demo.services import demo_plan
from retaguarda.parties.models import Address, Contact, Party, PaymentTerm
from retaguarda.parties.postal import BR_STATES

BR_USERNAMES = {
    "admin": Role.ADMINISTRATOR,
    "manager": Role.MANAGER,
    "sales": Role.SALES,
    "warehouse": Role.WAREHOUSE,
    "finance": Role.FINANCE,
    "hr": Role.HR,
    "support": Role.SUPPORT,
    "legal": Role.LEGAL,
    "partner": Role.PARTNER,
}
ES_USERNAMES = {f"{name}.es": role for name, role in BR_USERNAMES.items()}


def run_demo(country: str) -> str:
    out = io.StringIO()
    call_command("demo", country=country, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Company,
            User,
            Membership,
            Product,
            ProductTranslation,
            TaxCategory,
            PriceList,
            PriceListItem,
            Party,
            Address,
            Contact,
            PaymentTerm,
            AuditLog,
            OutboxEvent,
        )
    }


def assert_load_follows_plan(company):
    """What was written is what the seeded plan says: so the data is the same on every machine."""
    plan = demo_plan(company.country)
    assert company.tax_id == plan.company_tax_id
    products = {
        sku: values
        for sku, *values in Product.objects.filter(company=company).values_list(
            "sku", "barcode", "name", "list_price", "standard_cost", "weight", "ncm"
        )
    }
    assert products == {
        p["sku"]: [p["barcode"], p["name"], p["list_price"], p["standard_cost"], p["weight"], p["ncm"]]
        for p in plan.products
    }
    parties = set(Party.objects.filter(company=company).values_list("legal_name", "tax_id", "email"))
    planned = {
        (p["legal_name"], "".join(c for c in p["tax_id"] if c.isalnum()), p["email"])
        for p in [*plan.suppliers, *plan.customers]
    }
    assert parties == planned


def assert_catalog_is_valid(company, *, ncm_required: bool):
    products = list(Product.objects.filter(company=company).select_related("uom", "tax_category"))
    assert len(products) == 200
    assert len({p.sku for p in products}) == 200
    goods = [p for p in products if p.kind == "goods"]
    services = [p for p in products if p.kind == "service"]
    assert len(services) == 3
    assert all(p.barcode == "" and p.weight is None for p in services)
    barcodes = [p.barcode for p in goods]
    assert all(len(b) == 13 and ean.is_valid(b) for b in barcodes)
    assert len(set(barcodes)) == len(goods)
    assert all(p.list_price > p.standard_cost > 0 for p in products)
    assert all(p.weight > 0 for p in goods)
    if ncm_required:
        assert all(re.fullmatch(r"[0-9]{8}", p.ncm) for p in goods)
    else:
        assert all(p.ncm == "" for p in products)
    assert {p.uom.code for p in products} == {"un", "box6", "kg", "m", "h"}
    # Names in the company's language, translations in the two others.
    other = sorted({"en", "es", "pt-br"} - {company.default_language})
    translations = ProductTranslation.objects.filter(product__company=company)
    assert translations.count() == 400
    assert sorted(translations.values_list("language", flat=True).distinct()) == other
    # Written through the catalog's import: one audit row and one event for the whole file.
    imported = AuditLog.objects.get(company=company, action="products.import")
    assert (imported.after["rows"], imported.after["created"]) == (200, 200)
    assert OutboxEvent.objects.filter(company=company, name="products.imported").count() == 1
    price_list = PriceList.objects.get(company=company)
    assert price_list.currency == company.base_currency
    items = PriceListItem.objects.filter(price_list=price_list).select_related("product")
    assert items.count() == 132
    assert all(item.unit_price < item.product.list_price for item in items)


def assert_staff(company, usernames: dict[str, str]):
    memberships = Membership.objects.filter(company=company, user__username__in=usernames).select_related("user")
    assert {m.user.username: m.role for m in memberships} == usernames
    partner = next(m for m in memberships if m.role == Role.PARTNER)
    assert partner.areas == ["accounting"]
    users = [m.user for m in memberships]
    assert all(u.language == company.default_language and u.is_active for u in users)
    # One hash of the shared demo password for every demo login.
    assert len({u.password for u in users}) == 1
    assert users[0].check_password(DEMO_PASSWORD)


def check_br_demo(company, output: str):
    assert company.legal_name == "Casa Aurora Comércio Eletrônico Ltda"
    assert (company.country, company.base_currency, company.default_language) == ("BR", "BRL", "pt-br")
    assert cnpj.is_valid(company.tax_id) and len(company.tax_id) == 14
    assert company.fiscal_settings["regime"] == "simples_nacional"
    assert company.fiscal_settings["state"] == "SP"
    assert_staff(company, BR_USERNAMES)
    assert_catalog_is_valid(company, ncm_required=True)
    assert_load_follows_plan(company)
    assert set(TaxCategory.objects.filter(company=company).values_list("code", flat=True)) == {
        "standard",
        "icms-st",
        "exempt",
        "service",
    }

    customers = Party.objects.filter(company=company, is_customer=True, is_supplier=False)
    suppliers = Party.objects.filter(company=company, is_supplier=True)
    assert customers.count() == 500
    assert suppliers.count() == 40
    assert suppliers.filter(is_customer=True).count() == 4
    parties = list(Party.objects.filter(company=company))
    assert len({p.tax_id for p in parties} | {company.tax_id}) == len(parties) + 1
    for party in parties:
        if party.kind == "person":
            assert cpf.is_valid(party.tax_id), party.tax_id
            assert len(set(party.tax_id[:9])) > 1
        else:
            assert cnpj.is_valid(party.tax_id), party.tax_id
            assert len(set(party.tax_id[:12])) > 1
    assert customers.filter(kind="person").count() == 429
    assert customers.filter(kind="company").count() == 71
    addresses = Address.objects.filter(company=company)
    assert set(addresses.values_list("country", flat=True)) == {"BR"}
    assert set(addresses.values_list("state", flat=True)) <= BR_STATES
    assert all(re.fullmatch(r"\d{5}-\d{3}", code) for code in addresses.values_list("postal_code", flat=True))
    assert addresses.filter(kind="billing", is_default=True).count() == 540
    imported = AuditLog.objects.get(company=company, action="parties.import")
    assert (imported.after["rows"], imported.after["created"]) == (540, 540)
    # Contacts of the companies, through the parties' service (one audit row each).
    contacts = Contact.objects.filter(company=company)
    assert contacts.count() == AuditLog.objects.filter(company=company, action="party.contact.add").count()
    assert set(contacts.values_list("party__kind", flat=True)) == {"company"}
    assert not Party.objects.filter(company=company, kind="company").exclude(contacts__isnull=False).exists()

    for username, role in BR_USERNAMES.items():
        assert re.search(rf"^\s+{re.escape(username)}\s+{role.label}", output, re.M), username
    assert DEMO_PASSWORD in output
    assert "200 products, 500 customers, 40 suppliers" in output


def check_es_demo(company, output: str):
    assert company.legal_name == "Tienda Brisa SL"
    assert (company.base_currency, company.default_language) == ("EUR", "es")
    assert cif.is_valid(company.tax_id) and company.tax_id.startswith("B46")
    assert company.fiscal_settings["regime"] == "general"
    assert_staff(company, ES_USERNAMES)
    assert_catalog_is_valid(company, ncm_required=False)
    assert_load_follows_plan(company)
    assert Product.objects.get(company=company, sku="COF500-CER").tax_category.code == "reduced"
    assert Product.objects.get(company=company, sku="BOOK-SRD").tax_category.code == "super-reduced"
    assert Product.objects.get(company=company, sku="MUG350-WHT").list_price == Decimal("8.95")

    parties = list(Party.objects.filter(company=company))
    assert Party.objects.filter(company=company, is_customer=True, is_supplier=False).count() == 500
    assert Party.objects.filter(company=company, is_supplier=True).count() == 40
    assert len({p.tax_id for p in parties}) == len(parties)
    legal_form = re.compile(r" (SA|SL|SLU)$")
    for party in parties:
        if party.kind == "person":
            module = nie if party.tax_id[0] in "XYZ" else dni
            assert module.is_valid(party.tax_id), party.tax_id
            assert len(set(party.tax_id[1:8])) > 1
        else:
            assert cif.is_valid(party.tax_id), party.tax_id
            form = legal_form.search(party.legal_name).group(1)
            assert party.tax_id[0] == ("A" if form == "SA" else "B"), (party.legal_name, party.tax_id)
    assert any(p.tax_id[0] in "XYZ" for p in parties)
    postal_codes = Address.objects.filter(company=company).values_list("postal_code", flat=True)
    assert all(re.fullmatch(r"(0[1-9]|[1-4]\d|5[0-2])\d{3}", code) for code in postal_codes)
    for username, role in ES_USERNAMES.items():
        assert re.search(rf"^\s+{re.escape(username)}\s+{role.label}", output, re.M), username
    assert "admin          Administrator (of every demo company)" in output


# One test loads both countries: each load goes through the services and takes seconds.
@pytest.mark.django_db
def test_br_and_es_demos_are_valid_stores_side_by_side_loaded_only_once():
    br_output = run_demo("BR")
    br = Company.objects.get()
    check_br_demo(br, br_output)
    es_output = run_demo("ES")
    check_es_demo(Company.objects.get(country="ES"), es_output)
    # The BR store is untouched by the ES load.
    assert Product.objects.filter(company=br).count() == 200
    assert Product.objects.get(company=br, sku="MUG350-WHT").list_price == Decimal("39.90")

    # The shared administrator sees both stores (and kept the password it had); the rest only their own.
    assert set(Membership.objects.filter(user__username="admin").values_list("company__country", "role")) == {
        ("BR", "administrator"),
        ("ES", "administrator"),
    }
    assert User.objects.get(username="admin").check_password(DEMO_PASSWORD)
    for username in ["admin.es", "partner.es"]:
        assert list(Membership.objects.filter(user__username=username).values_list("company__country", flat=True)) == [
            "ES"
        ]
    assert list(Membership.objects.filter(user__username="sales").values_list("company__country", flat=True)) == ["BR"]

    before = row_counts()
    again = run_demo("br")
    assert "already loaded" in again and "Nothing to do" in again
    assert "already loaded" in run_demo("ES")
    assert row_counts() == before


@pytest.mark.parametrize("country", ["BR", "ES"])
def test_demo_plan_is_the_same_every_time(country):
    first = demo_plan(country)
    random.seed(12345)  # the plan uses its own seeded generators, not the global one
    random.random()
    second = demo_plan(country)
    assert second == first
    assert len(first.products) == 200
    assert len(first.suppliers) == 40
    assert len(first.customers) == 500


@pytest.mark.django_db
def test_unknown_country_is_refused_without_writing():
    with pytest.raises(CommandError, match="no demo for country 'FR'"):
        run_demo("FR")
    assert not Company.objects.exists()


@pytest.mark.django_db
def test_refused_demo_data_leaves_nothing_behind(monkeypatch):
    from retaguarda.demo import services

    real_plan = services.demo_plan

    def plan_with_a_bad_barcode(country):
        plan = real_plan(country)
        plan.products[0]["barcode"] = "7898357000010"  # wrong check digit
        return plan

    monkeypatch.setattr(services, "demo_plan", plan_with_a_bad_barcode)
    with pytest.raises(CommandError, match="refused .*barcode"):
        run_demo("BR")
    assert row_counts() == dict.fromkeys(row_counts(), 0)
