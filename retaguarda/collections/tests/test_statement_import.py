"""Bank statements: CAMT.053, OFX and CSV files imported with match proposals, lines confirmed
as payments (as proposed or edited), ignored and reopened; the same statement twice refused,
overlapping lines skipped, unreadable files refused whole."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from retaguarda.billing.choices import InvoiceKind, PaymentStatus
from retaguarda.billing.models import Invoice
from retaguarda.collections.choices import StatementLineStatus
from retaguarda.collections.models import BankStatement, BankStatementLine, Payment
from retaguarda.collections.services import (
    payment_cancel,
    statement_import,
    statement_line_confirm,
    statement_line_ignore,
    statement_line_reopen,
)
from retaguarda.collections.testing import (
    CUSTOMER_IBANS,
    Movement,
    bank_account_build,
    camt053_file,
    csv_file,
    invoice_of,
    ledger_balance,
    ofx_file,
)
from retaguarda.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from retaguarda.core.choices import Role
from retaguarda.core.testing import actor_build, company_build
from retaguarda.ledger.choices import AccountRole as R

from .helpers import state

D = Decimal
DAY = datetime.date(2026, 3, 2)
SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture
def bank(company):
    return bank_account_build(company)


@pytest.fixture
def invoices(company, customer, other_customer, supplier):
    bill = invoice_of(company, supplier, "250.50", kind=InvoiceKind.SUPPLIER_BILL, issue_date=DAY)
    # The supplier's own number, as its bill says and the bank transfer repeats.
    Invoice.objects.filter(pk=bill.pk).update(supplier_reference="FAC-2026-0457")
    bill.refresh_from_db()
    return {
        "garcia": invoice_of(company, customer, "1210.00", issue_date=DAY - datetime.timedelta(days=20)),
        "brisa": invoice_of(company, other_customer, "500.00", issue_date=DAY - datetime.timedelta(days=10)),
        "lopez": bill,
    }


def movements(invoices):
    return [
        Movement(
            DAY,
            D("1210.00"),
            "DISTRIBUCIONES GARCIA SL",
            CUSTOMER_IBANS[0],
            f"PAGO FRA {invoices['garcia'].number}",
            "BK-0001",
        ),
        Movement(DAY, D("500.00"), "HOSTAL BRISA", "", "Transferencia", "BK-0002"),
        Movement(
            DAY + datetime.timedelta(days=1),
            D("-250.50"),
            "SUMINISTROS LOPEZ SA",
            "",
            f"Factura {invoices['lopez'].supplier_reference}",
            "BK-0003",
        ),
        Movement(DAY + datetime.timedelta(days=1), D("-12.00"), "", "", "COMISION MANTENIMIENTO", "BK-0004"),
    ]


def proposals(statement) -> list[dict]:
    return [line.proposal for line in statement.lines.order_by("position")]


def expected_proposals(invoices, customer, other_customer, supplier):
    return [
        {
            "party_id": customer.pk,
            "party_name": str(customer),
            "score": 90,
            "reasons": ["reference", "amount", "party_name"],
            "allocations": [
                {"invoice_id": invoices["garcia"].pk, "number": invoices["garcia"].number, "amount": "1210.00"}
            ],
        },
        {
            "party_id": other_customer.pk,
            "party_name": str(other_customer),
            "score": 40,
            "reasons": ["amount", "party_name"],
            "allocations": [
                {"invoice_id": invoices["brisa"].pk, "number": invoices["brisa"].number, "amount": "500.00"}
            ],
        },
        {
            "party_id": supplier.pk,
            "party_name": str(supplier),
            "score": 90,
            "reasons": ["reference", "amount", "party_name"],
            "allocations": [
                {"invoice_id": invoices["lopez"].pk, "number": invoices["lopez"].number, "amount": "250.50"}
            ],
        },
        {},
    ]


def test_camt053_import_keeps_the_lines_with_their_proposals(
    company, admin_actor, bank, invoices, customer, other_customer, supplier
):
    statement = statement_import(
        actor=admin_actor,
        bank_account_id=bank.pk,
        data=camt053_file(movements(invoices), statement_id="STM-2026-03-02"),
        filename="extracto.xml",
    )
    assert (statement.format, statement.statement_id, statement.currency, statement.filename) == (
        "camt.053",
        "STM-2026-03-02",
        "EUR",
        "extracto.xml",
    )
    assert (statement.start_date, statement.end_date, statement.opening_balance, statement.closing_balance) == (
        DAY,
        DAY + datetime.timedelta(days=1),
        D("1000.00"),
        None,
    )
    assert (statement.line_count, statement.skipped_count) == (4, 0)
    lines = list(statement.lines.order_by("position"))
    assert [
        (line.booking_date, line.amount, line.counterparty_name, line.counterparty_account, line.bank_reference)
        for line in lines
    ] == [
        (DAY, D("1210.00"), "DISTRIBUCIONES GARCIA SL", CUSTOMER_IBANS[0], "BK-0001"),
        (DAY, D("500.00"), "HOSTAL BRISA", "", "BK-0002"),
        (DAY + datetime.timedelta(days=1), D("-250.50"), "SUMINISTROS LOPEZ SA", "", "BK-0003"),
        (DAY + datetime.timedelta(days=1), D("-12.00"), "", "", "BK-0004"),
    ]
    assert {line.status for line in lines} == {StatementLineStatus.UNMATCHED}
    assert proposals(statement) == expected_proposals(invoices, customer, other_customer, supplier)


def test_confirming_a_proposal_registers_the_payment_from_the_line(company, admin_actor, bank, invoices, customer):
    statement = statement_import(
        actor=admin_actor, bank_account_id=bank.pk, data=camt053_file(movements(invoices)), filename="s.xml"
    )
    line = statement.lines.get(position=1)

    payment = statement_line_confirm(actor=admin_actor, line_id=line.pk)

    line.refresh_from_db()
    invoices["garcia"].refresh_from_db()
    assert (line.status, line.payment_id) == (StatementLineStatus.MATCHED, payment.pk)
    assert (payment.party_id, payment.amount, payment.date, payment.bank_account_id, payment.statement_line_id) == (
        customer.pk,
        D("1210.00"),
        DAY,
        bank.pk,
        line.pk,
    )
    assert (payment.direction, payment.method, payment.unapplied) == ("in", "transfer", D("0.00"))
    assert payment.reference == f"PAGO FRA {invoices['garcia'].number}"
    assert (invoices["garcia"].residual, invoices["garcia"].payment_status) == (D("0.00"), PaymentStatus.PAID)
    assert ledger_balance(company, R.BANK) == D("1210.00")
    assert ledger_balance(company, R.RECEIVABLE, party=customer) == D("0.00")

    before = state()
    with pytest.raises(Conflict) as again:
        statement_line_confirm(actor=admin_actor, line_id=line.pk)
    assert again.value.code == "statement_line_not_open"
    assert state() == before


def test_money_out_pays_the_supplier_bill(company, admin_actor, bank, invoices, supplier):
    statement = statement_import(actor=admin_actor, bank_account_id=bank.pk, data=camt053_file(movements(invoices)))
    payment = statement_line_confirm(actor=admin_actor, line_id=statement.lines.get(position=3).pk)
    invoices["lopez"].refresh_from_db()
    assert (payment.direction, payment.party_id, payment.amount) == ("out", supplier.pk, D("250.50"))
    assert invoices["lopez"].residual == D("0.00")
    assert ledger_balance(company, R.BANK) == D("-250.50")
    assert ledger_balance(company, R.PAYABLE, party=supplier) == D("0.00")


def test_the_same_statement_twice_is_refused_and_overlapping_lines_are_skipped(company, admin_actor, bank, invoices):
    moves = movements(invoices)
    data = camt053_file(moves, statement_id="STM-A")
    statement_import(actor=admin_actor, bank_account_id=bank.pk, data=data, filename="a.xml")
    before = state()
    with pytest.raises(Conflict) as refused:
        statement_import(actor=admin_actor, bank_account_id=bank.pk, data=data, filename="a-again.xml")
    assert refused.value.code == "statement_already_imported"
    assert refused.value.fields == {"file": ["Statement STM-A of this account is already imported."]}
    assert state() == before

    fresh = Movement(DAY + datetime.timedelta(days=2), D("77.00"), "NEW", "", "Nuevo", "BK-0005")
    overlapping = statement_import(
        actor=admin_actor, bank_account_id=bank.pk, data=camt053_file([*moves[2:], fresh], statement_id="STM-B")
    )
    assert (overlapping.line_count, overlapping.skipped_count) == (1, 2)
    assert list(overlapping.lines.values_list("bank_reference", "amount")) == [("BK-0005", D("77.00"))]
    assert BankStatementLine.objects.count() == 5


def test_ofx_import_and_confirmation_with_edited_allocations(
    company, admin_actor, bank, invoices, customer, other_customer, supplier
):
    extra = invoice_of(company, customer, "90.00", issue_date=DAY)
    statement = statement_import(
        actor=admin_actor, bank_account_id=bank.pk, data=ofx_file(movements(invoices)), filename="extracto.ofx"
    )
    assert (statement.format, statement.line_count) == ("ofx", 4)
    assert proposals(statement)[:3] == expected_proposals(invoices, customer, other_customer, supplier)[:3]
    line = statement.lines.get(position=1)

    payment = statement_line_confirm(
        actor=admin_actor, line_id=line.pk, allocations=[(extra.pk, D("90.00")), (invoices["garcia"].pk, "1000.00")]
    )

    extra.refresh_from_db()
    invoices["garcia"].refresh_from_db()
    assert (extra.residual, invoices["garcia"].residual, payment.unapplied) == (D("0.00"), D("210.00"), D("120.00"))
    assert ledger_balance(company, R.RECEIVABLE, party=customer) == D("210.00") - D("120.00")


def test_csv_import_and_confirmation_for_another_party(
    company, admin_actor, bank, invoices, customer, other_customer, supplier
):
    statement = statement_import(
        actor=admin_actor, bank_account_id=bank.pk, data=csv_file(movements(invoices)), filename="extracto.csv"
    )
    assert (statement.format, statement.line_count, statement.currency) == ("csv", 4, "EUR")
    assert proposals(statement)[:3] == expected_proposals(invoices, customer, other_customer, supplier)[:3]
    line = statement.lines.get(position=2)

    # The reader knows better: the 500.00 was a payment on account of García, not Brisa's invoice.
    payment = statement_line_confirm(actor=admin_actor, line_id=line.pk, party_id=customer.pk, allocations=[])

    invoices["brisa"].refresh_from_db()
    assert (payment.party_id, payment.unapplied, invoices["brisa"].residual) == (customer.pk, D("500.00"), D("500.00"))


def test_a_known_iban_points_at_the_party_next_time(company, admin_actor, bank, invoices, customer):
    statement = statement_import(actor=admin_actor, bank_account_id=bank.pk, data=camt053_file(movements(invoices)))
    statement_line_confirm(actor=admin_actor, line_id=statement.lines.get(position=1).pk)
    later = invoice_of(company, customer, "64.00", issue_date=DAY)
    anonymous = Movement(DAY + datetime.timedelta(days=3), D("64.00"), "", CUSTOMER_IBANS[0], "", "BK-0100")
    second = statement_import(
        actor=admin_actor, bank_account_id=bank.pk, data=camt053_file([anonymous], statement_id="STM-2")
    )
    proposal = second.lines.get().proposal
    assert (proposal["party_id"], proposal["reasons"], proposal["allocations"]) == (
        customer.pk,
        ["amount", "iban"],
        [{"invoice_id": later.pk, "number": later.number, "amount": "64.00"}],
    )


def test_ignored_lines_leave_the_unmatched_list_and_can_come_back(company, admin_actor, bank, invoices):
    statement = statement_import(actor=admin_actor, bank_account_id=bank.pk, data=camt053_file(movements(invoices)))
    fee = statement.lines.get(position=4)
    statement_line_ignore(actor=admin_actor, line_id=fee.pk)
    fee.refresh_from_db()
    assert fee.status == StatementLineStatus.IGNORED
    before = state()
    with pytest.raises(Conflict):
        statement_line_confirm(actor=admin_actor, line_id=fee.pk, party_id=invoices["garcia"].party_id)
    with pytest.raises(Conflict):
        statement_line_ignore(actor=admin_actor, line_id=fee.pk)
    assert state() == before
    statement_line_reopen(actor=admin_actor, line_id=fee.pk)
    fee.refresh_from_db()
    assert fee.status == StatementLineStatus.UNMATCHED


def test_a_line_without_a_proposal_needs_a_party(company, admin_actor, bank, invoices):
    statement = statement_import(actor=admin_actor, bank_account_id=bank.pk, data=camt053_file(movements(invoices)))
    before = state()
    with pytest.raises(ValidationFailed) as refused:
        statement_line_confirm(actor=admin_actor, line_id=statement.lines.get(position=4).pk)
    assert refused.value.fields == {"party_id": ["Choose who paid or was paid."]}
    assert state() == before


def test_cancelling_the_payment_unmatches_its_line(company, admin_actor, bank, invoices):
    statement = statement_import(actor=admin_actor, bank_account_id=bank.pk, data=camt053_file(movements(invoices)))
    line = statement.lines.get(position=1)
    payment = statement_line_confirm(actor=admin_actor, line_id=line.pk)
    payment_cancel(actor=admin_actor, payment_id=payment.pk, reason="Wrong match")
    line.refresh_from_db()
    assert (line.status, line.payment_id) == (StatementLineStatus.UNMATCHED, None)
    again = statement_line_confirm(actor=admin_actor, line_id=line.pk)
    assert Payment.objects.filter(statement_line=line).count() == 2
    assert again.status == "posted"


@pytest.mark.parametrize(
    "sample, message",
    [
        ("camt053_truncated.xml", "The XML file is not well-formed near line"),
        ("camt053_doctype.xml", "XML files with a document type declaration (DOCTYPE) are refused."),
        ("csv_bad_amount.csv", "Line"),
        ("ofx_bad_amount.ofx", ""),
    ],
)
def test_unreadable_files_are_refused_whole(company, admin_actor, bank, sample, message):
    before = state()
    with pytest.raises(ValidationFailed) as refused:
        statement_import(
            actor=admin_actor, bank_account_id=bank.pk, data=(SAMPLES / sample).read_bytes(), filename=sample
        )
    assert list(refused.value.fields) == ["file"]
    assert refused.value.fields["file"][0].startswith(message)
    assert state() == before


def test_absurd_amounts_are_refused(company, admin_actor, bank):
    huge = Movement(DAY, D("100000000000000000"), "X", "", "Y", "H-1")
    before = state()
    with pytest.raises(ValidationFailed) as refused:
        statement_import(actor=admin_actor, bank_account_id=bank.pk, data=camt053_file([huge]))
    assert refused.value.fields == {"file": ["The statement holds amounts too large to be real."]}
    assert state() == before


def test_a_statement_of_another_account_or_currency_is_refused(company, admin_actor, bank, invoices):
    other_iban = "ES7620770024003102575766"
    before = state()
    with pytest.raises(ValidationFailed) as wrong_account:
        statement_import(actor=admin_actor, bank_account_id=bank.pk, data=camt053_file([], iban=other_iban))
    assert wrong_account.value.fields == {
        "file": [f"This statement is of the account {other_iban}, not of {bank.name}."]
    }
    with pytest.raises(ValidationFailed) as wrong_currency:
        statement_import(actor=admin_actor, bank_account_id=bank.pk, data=camt053_file([], currency="USD"))
    assert wrong_currency.value.fields == {"file": ["This statement is in USD; the account is in EUR."]}
    assert state() == before


def test_other_companies_and_roles_without_the_permission_are_refused(company, bank, invoices):
    data = camt053_file(movements(invoices))
    other = company_build(country="ES")
    foreign_bank = bank_account_build(other)
    admin, stranger = actor_build(company), actor_build(other)
    refused = [actor_build(company, role) for role in (Role.MANAGER, Role.SALES, Role.WAREHOUSE)]
    before = state()
    with pytest.raises(NotFound):
        statement_import(actor=admin, bank_account_id=foreign_bank.pk, data=data)
    for actor in refused:
        with pytest.raises(PermissionDenied):
            statement_import(actor=actor, bank_account_id=bank.pk, data=data)
    assert state() == before
    statement = statement_import(actor=admin, bank_account_id=bank.pk, data=data)
    line = statement.lines.get(position=1)
    before = state()
    for actor in refused:
        for attempt in (statement_line_confirm, statement_line_ignore, statement_line_reopen):
            with pytest.raises(PermissionDenied):
                attempt(actor=actor, line_id=line.pk)
    for attempt in (statement_line_confirm, statement_line_ignore):
        with pytest.raises(NotFound):
            attempt(actor=stranger, line_id=line.pk)
    assert state() == before
    assert BankStatement.objects.filter(bank_account=bank).count() == 1
