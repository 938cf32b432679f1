"""Supplier bills: drafted with deductible tax, posted to the payable, the expense or stock
account and input tax; refused input writes nothing."""

import datetime
from decimal import Decimal

import pytest

from retaguarda.billing.models import Invoice
from retaguarda.billing.services import invoice_post, supplier_bill_create
from retaguarda.common.errors import Conflict, ValidationFailed
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import company_build
from retaguarda.ledger.choices import AccountRole
from retaguarda.ledger.models import AccountBalance
from retaguarda.ledger.services import accounts_by_role
from retaguarda.parties.testing import party_build

pytestmark = pytest.mark.django_db
D = Decimal


def balance(company, role):
    rows = AccountBalance.objects.filter(account=accounts_by_role(company.pk)[role])
    return sum((r.debit - r.credit for r in rows), D(0))


def test_a_supplier_bill_posts_payable_stock_expense_and_input_tax():
    company = company_build(country="ES")
    supplier = party_build(company, is_customer=False, is_supplier=True, tax_country="ES")
    actor = system_actor(company)
    bill = supplier_bill_create(
        actor=actor,
        supplier_id=supplier.pk,
        supplier_reference="A-2026/118",
        issue_date="2026-03-02",
        due_date="2026-04-01",
        lines=[
            {"description": "Lamps", "quantity": "10", "unit_price": "12.50", "account_role": "inventory"},
            {"description": "Packing tape", "quantity": "3", "unit_price": "2.35", "tax_category": "standard"},
        ],
    )
    # 125.00 + 7.05 = 132.05; IVA 21 %: 26.25 + 1.48 = 27.73; total 159.78
    assert (bill.net_total, bill.tax_total, bill.payable) == (D("132.05"), D("27.73"), D("159.78"))
    assert bill.due_date == datetime.date(2026, 4, 1)

    bill = invoice_post(actor=actor, invoice_id=bill.pk)

    assert bill.number == "BILL2026-000001"
    assert balance(company, AccountRole.PAYABLE) == D("-159.78")
    assert balance(company, AccountRole.INVENTORY) == D("125.00")
    assert balance(company, AccountRole.PURCHASES) == D("7.05")
    assert balance(company, AccountRole.TAX_RECEIVABLE) == D("27.73")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"supplier_reference": ""}, "supplier_reference"),
        ({"issue_date": ""}, "issue_date"),
        ({"issue_date": "9999-01-01"}, "issue_date"),
        ({"due_date": "2026-01-01"}, "due_date"),
        ({"lines": [{"description": "", "quantity": "1", "unit_price": "1"}]}, "lines"),
        ({"lines": ["not a line"]}, "lines"),
        ({"lines": [{"description": "X", "quantity": "-1", "unit_price": "1"}]}, "lines"),
        ({"lines": []}, "lines"),
    ],
)
def test_bad_bills_are_refused_and_nothing_is_written(change, field):
    company = company_build(country="ES")
    supplier = party_build(company, is_customer=False, is_supplier=True, tax_country="ES")
    fields = {
        "supplier_id": supplier.pk,
        "supplier_reference": "A-1",
        "issue_date": "2026-03-02",
        "lines": [{"description": "Lamps", "quantity": "1", "unit_price": "1"}],
        **change,
    }
    with pytest.raises(ValidationFailed) as refused:
        supplier_bill_create(actor=system_actor(company), **fields)
    assert field in refused.value.fields
    assert not Invoice.objects.filter(company=company).exists()


def test_the_same_supplier_number_twice_is_refused():
    company = company_build(country="ES")
    supplier = party_build(company, is_customer=False, is_supplier=True, tax_country="ES")
    line = [{"description": "Lamps", "quantity": "1", "unit_price": "1"}]
    actor = system_actor(company)
    supplier_bill_create(
        actor=actor, supplier_id=supplier.pk, supplier_reference="A-1", issue_date="2026-03-02", lines=line
    )
    with pytest.raises(Conflict) as refused:
        supplier_bill_create(
            actor=actor, supplier_id=supplier.pk, supplier_reference="A-1", issue_date="2026-03-05", lines=line
        )
    assert refused.value.code == "duplicate_supplier_reference"
    assert Invoice.objects.filter(company=company).count() == 1


def test_a_company_from_before_the_books_gets_its_chart_and_taxes_on_upgrade():
    from retaguarda.billing.models import Tax, TaxRule
    from retaguarda.billing.services import books_ensure
    from retaguarda.ledger.models import Account, FiscalYear, Journal

    company = company_build(country="ES")
    TaxRule.objects.filter(company=company).delete()
    Tax.objects.filter(company=company).delete()
    Account.objects.filter(company=company).update(parent=None)
    Account.objects.filter(company=company).delete()
    Journal.objects.filter(company=company).delete()
    FiscalYear.objects.filter(company=company).delete()

    assert books_ensure() == 1

    assert accounts_by_role(company.pk)[AccountRole.RECEIVABLE].code.startswith("430")
    assert Tax.objects.filter(company=company, code="IVA21").exists()
    assert books_ensure() == 0
