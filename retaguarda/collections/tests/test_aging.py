"""Aging of receivables and payables from the ledger's open items, as they stood on a date, and a
customer's balance, overdue amount and credit."""

import datetime
from decimal import Decimal

import pytest

from retaguarda.billing.choices import InvoiceKind
from retaguarda.collections.selectors import aging, customer_balance, customer_history
from retaguarda.collections.services import payment_register
from retaguarda.collections.testing import invoice_of
from retaguarda.common.errors import NotFound, PermissionDenied
from retaguarda.core.choices import Role
from retaguarda.core.testing import actor_build, company_build
from retaguarda.parties.testing import party_build

D = Decimal
ZERO = D("0.00")
AS_OF = datetime.date(2026, 4, 30)
LATER = datetime.date(2026, 5, 31)


def day(month, number, year=2026):
    return datetime.date(year, month, number)


@pytest.fixture
def ledger(company, admin_actor, customer, other_customer, supplier):
    """Invoices, bills and payments around the end of April 2026."""
    a1 = invoice_of(company, customer, "100.00", issue_date=day(1, 1), due_days=30)  # due 31 Jan
    a2 = invoice_of(company, customer, "200.00", issue_date=day(3, 1), due_days=30)  # due 31 Mar
    invoice_of(company, customer, "40.00", issue_date=day(12, 1, 2025), due_days=30)  # due 31 Dec 2025
    invoice_of(company, other_customer, "70.00", issue_date=day(2, 1), due_days=45)  # due 18 Mar
    invoice_of(company, other_customer, "30.00", issue_date=day(4, 20), due_days=30)  # due 20 May
    invoice_of(company, other_customer, "999.00", issue_date=day(5, 5), due_days=30)  # after 30 April
    payment_register(
        actor=admin_actor, party_id=customer.pk, amount="50.00", date=day(4, 15), allocations=[(a2.pk, "50")]
    )
    payment_register(
        actor=admin_actor, party_id=customer.pk, amount="100.00", date=day(5, 10), allocations=[(a1.pk, "100")]
    )
    payment_register(actor=admin_actor, party_id=other_customer.pk, amount="25.00", date=day(4, 25), allocations=[])
    bill = invoice_of(company, supplier, "300.00", kind=InvoiceKind.SUPPLIER_BILL, issue_date=day(3, 1), due_days=30)
    payment_register(
        actor=admin_actor,
        party_id=supplier.pk,
        amount="100.00",
        direction="out",
        date=day(4, 10),
        allocations=[(bill.pk, "100")],
    )


def buckets(current="0", d30="0", d60="0", d90="0", over="0"):
    return {
        "current": D(current).quantize(D("0.01")),
        "1_30": D(d30).quantize(D("0.01")),
        "31_60": D(d60).quantize(D("0.01")),
        "61_90": D(d90).quantize(D("0.01")),
        "over_90": D(over).quantize(D("0.01")),
    }


def rows(report):
    return [(row.party_id, row.buckets, row.total) for row in report.rows]


def test_receivables_by_customer_and_bucket_as_of_a_past_date(
    company, admin_actor, customer, other_customer, ledger, django_assert_num_queries
):
    # The open lines, the later matches of either side, and the parties' names.
    with django_assert_num_queries(4):
        report = aging(admin_actor, as_of=AS_OF)
    assert (report.as_of, report.side, report.currency) == (AS_OF, "receivable", "EUR")
    # García owes 40.00 from December, 100.00 due in January (paid only in May), 150.00 left
    # of March's 200.00. Brisa owes 70.00 due in March and 30.00 not yet due, less 25.00 credit.
    assert rows(report) == [
        (customer.pk, buckets(d30="150", d90="100", over="40"), D("290.00")),
        (other_customer.pk, buckets(current="5", d60="70"), D("75.00")),
    ]
    assert (report.totals, report.total) == (buckets("5", "150", "70", "100", "40"), D("365.00"))


def test_later_payments_and_invoices_count_from_their_dates(company, admin_actor, customer, other_customer, ledger):
    report = aging(admin_actor, as_of=LATER)
    assert rows(report) == [
        (customer.pk, buckets(d90="150", over="40"), D("190.00")),
        (other_customer.pk, buckets(current="974", d30="30", d90="70"), D("1074.00")),
    ]
    assert report.total == D("1264.00")


def test_payables_show_what_the_company_owes(company, admin_actor, supplier, ledger):
    report = aging(admin_actor, as_of=AS_OF, side="payable")
    assert rows(report) == [(supplier.pk, buckets(d30="200"), D("200.00"))]
    assert report.total == D("200.00")


def test_foreign_invoices_age_in_the_companys_currency(company, admin_actor, customer):
    invoice_of(company, customer, "100.00", issue_date=day(4, 1), due_days=10, currency="USD", rate="0.90")
    report = aging(admin_actor, as_of=AS_OF)
    assert rows(report) == [(customer.pk, buckets(d30="90"), D("90.00"))]


def test_a_customers_balance_overdue_and_credit(company, admin_actor, customer, other_customer, ledger):
    garcia = customer_balance(admin_actor, customer.pk, as_of=AS_OF)
    assert (garcia.balance, garcia.overdue, garcia.credit, garcia.currency) == (
        D("290.00"),
        D("290.00"),
        ZERO,
        "EUR",
    )
    brisa = customer_balance(admin_actor, other_customer.pk, as_of=AS_OF)
    assert (brisa.balance, brisa.overdue, brisa.credit) == (D("75.00"), D("70.00"), D("25.00"))
    assert brisa.buckets == buckets(current="5", d60="70")


def test_the_customer_history_lists_documents_and_payments(company, admin_actor, customer, ledger):
    history = customer_history(admin_actor, customer)
    assert [doc.payable for doc in history["documents"]] == [D("200.00"), D("100.00"), D("40.00")]
    assert [(p.amount, p.date) for p in history["payments"]] == [(D("100.00"), day(5, 10)), (D("50.00"), day(4, 15))]
    assert history["balance"].balance == D("190.00")


def test_aging_is_scoped_to_the_company_and_the_permission(company, customer, ledger):
    other = company_build(country="ES")
    invoice_of(other, party_build(other), "5000.00", issue_date=day(4, 1))
    assert aging(actor_build(company, Role.MANAGER), as_of=AS_OF).total == D("365.00")
    assert aging(actor_build(company, Role.PARTNER, areas=("accounting",)), as_of=AS_OF).total == D("365.00")
    for role in (Role.SALES, Role.WAREHOUSE, Role.HR):
        with pytest.raises(PermissionDenied):
            aging(actor_build(company, role), as_of=AS_OF)
    with pytest.raises(NotFound):
        customer_balance(actor_build(other), customer.pk)
