"""Charts of accounts: every role held once per template, the right template per country, and
what a new company gets (accounts with parents, journals, the current fiscal year, balance rows)."""

import datetime
from collections import Counter

import pytest

from retaguarda.core.testing import company_build
from retaguarda.ledger.charts import BRAZIL_SIMPLIFIED, GENERIC, SPAIN_PGC, TEMPLATES, ledger_ensure, template_for
from retaguarda.ledger.choices import AccountKind, AccountRole, JournalKind
from retaguarda.ledger.models import Account, AccountBalance, FiscalYear, Journal, Period
from retaguarda.ledger.testing import accounts, company_with_chart

YEAR = datetime.date.today().year


@pytest.mark.parametrize("template", TEMPLATES.values(), ids=TEMPLATES)
def test_every_role_is_held_by_exactly_one_account(template):
    held = Counter(row.role for row in template.accounts if row.role)
    assert set(held) == set(AccountRole.values)
    assert set(held.values()) == {1}


@pytest.mark.parametrize("template", TEMPLATES.values(), ids=TEMPLATES)
def test_codes_are_unique_and_every_parent_exists(template):
    codes = [row.code for row in template.accounts]
    assert len(codes) == len(set(codes))
    for code in codes:
        parent = template.parent_code(code)
        assert parent is None or parent in codes, code
    assert set(template.journals) == set(JournalKind.values)


@pytest.mark.parametrize("template", TEMPLATES.values(), ids=TEMPLATES)
def test_open_item_accounts_are_receivables_payables_and_advances(template):
    by_role = {row.role: row for row in template.accounts if row.role}
    for role in (AccountRole.RECEIVABLE, AccountRole.PAYABLE, AccountRole.CUSTOMER_ADVANCES):
        assert by_role[role].reconcilable
    assert not by_role[AccountRole.BANK].reconcilable
    assert by_role[AccountRole.RECEIVABLE].kind == AccountKind.ASSET
    assert by_role[AccountRole.PAYABLE].kind == AccountKind.LIABILITY
    assert by_role[AccountRole.RETAINED_EARNINGS].kind == AccountKind.EQUITY
    assert by_role[AccountRole.REVENUE].kind == AccountKind.INCOME
    assert by_role[AccountRole.COST_OF_GOODS].kind == AccountKind.EXPENSE


def test_spanish_chart_uses_pgc_codes():
    codes = {row.role: (row.code, row.name) for row in SPAIN_PGC.accounts if row.role}
    assert codes[AccountRole.RECEIVABLE] == ("430", "Clientes")
    assert codes[AccountRole.PAYABLE] == ("400", "Proveedores")
    assert codes[AccountRole.REVENUE] == ("700", "Ventas de mercaderías")
    assert codes[AccountRole.SERVICE_REVENUE] == ("705", "Prestaciones de servicios")
    assert codes[AccountRole.TAX_PAYABLE] == ("477", "Hacienda Pública, IVA repercutido")
    assert codes[AccountRole.TAX_RECEIVABLE] == ("472", "Hacienda Pública, IVA soportado")
    assert codes[AccountRole.BANK][0] == "572"
    assert codes[AccountRole.CASH][0] == "570"
    assert codes[AccountRole.RETAINED_EARNINGS] == ("129", "Resultado del ejercicio")
    assert codes[AccountRole.EXCHANGE_LOSS][0] == "668"
    assert codes[AccountRole.EXCHANGE_GAIN][0] == "768"
    assert codes[AccountRole.BAD_DEBT][0] == "650"
    assert codes[AccountRole.CUSTOMER_ADVANCES][0] == "438"


def test_brazilian_chart_uses_portuguese_names_and_dotted_codes():
    codes = {row.role: (row.code, row.name) for row in BRAZIL_SIMPLIFIED.accounts if row.role}
    assert codes[AccountRole.RECEIVABLE] == ("1.1.2.01", "Clientes")
    assert codes[AccountRole.INVENTORY] == ("1.1.4.01", "Estoque de mercadorias")
    assert codes[AccountRole.PAYABLE] == ("2.1.1.01", "Fornecedores")
    assert codes[AccountRole.TAX_PAYABLE] == ("2.1.3.01", "ICMS a recolher")
    assert codes[AccountRole.CASH] == ("1.1.1.01", "Caixa")
    assert codes[AccountRole.EQUITY] == ("2.4.1.01", "Capital social")
    assert codes[AccountRole.RETAINED_EARNINGS] == ("2.4.3.01", "Lucros acumulados")
    assert BRAZIL_SIMPLIFIED.parent_code("1.1.2.01") == "1.1.2"
    assert BRAZIL_SIMPLIFIED.parent_code("1") is None


@pytest.mark.parametrize("country, template", [("ES", SPAIN_PGC), ("BR", BRAZIL_SIMPLIFIED), ("PT", GENERIC)])
def test_template_per_country(country, template):
    assert template_for(country) is template


@pytest.mark.parametrize(
    "country, journals, receivable",
    [
        ("ES", {"VEN", "COM", "BAN", "CAJ", "ALM", "GEN"}, "430"),
        ("BR", {"VEN", "COM", "BAN", "CX", "EST", "GER"}, "1.1.2.01"),
        ("US", {"SAL", "PUR", "BNK", "CSH", "STK", "GEN"}, "1100"),
    ],
)
def test_a_new_company_gets_its_chart_journals_and_year(db, country, journals, receivable):
    company = company_build(country=country)
    template = template_for(country)
    rows = {a.code: a for a in Account.objects.filter(company=company).select_related("parent")}
    assert set(rows) == {row.code for row in template.accounts}
    assert accounts(company)[AccountRole.RECEIVABLE].code == receivable
    for code, account in rows.items():
        parent = template.parent_code(code)
        assert (account.parent.code if account.parent else None) == parent
    assert set(Journal.objects.filter(company=company).values_list("code", flat=True)) == journals
    assert {j.kind for j in Journal.objects.filter(company=company)} == set(JournalKind.values)
    year = FiscalYear.objects.get(company=company)
    assert (year.start_date, year.end_date, year.name) == (
        datetime.date(YEAR, 1, 1),
        datetime.date(YEAR, 12, 31),
        str(YEAR),
    )
    assert Period.objects.filter(fiscal_year=year).count() == 12
    # No balance rows yet: each account gets one in a period when it is first posted to.
    assert not AccountBalance.objects.filter(company=company).exists()


def test_ledger_ensure_installs_only_when_missing(db, monkeypatch):
    from retaguarda.core import services as core_services

    # A company created before the ledger existed: no hook ran.
    monkeypatch.setattr(core_services, "COMPANY_CREATED_HOOKS", [])
    company = company_build(country="ES")
    monkeypatch.undo()
    assert not Account.objects.filter(company=company).exists()
    assert ledger_ensure(company) is True
    installed = Account.objects.filter(company=company).count()
    assert installed == len(SPAIN_PGC.accounts)
    assert Journal.objects.filter(company=company).count() == 6
    assert ledger_ensure(company) is False
    assert Account.objects.filter(company=company).count() == installed
    assert company_with_chart("BR").country == "BR"


def test_chart_install_query_count_is_small(db, django_assert_max_num_queries):
    # A handful of bulk inserts whatever the size of the chart: levels, journals, year, periods,
    # balance rows (SQLite splits the ~1,100 balance rows into batches).
    with django_assert_max_num_queries(30):
        company_build(country="BR")
