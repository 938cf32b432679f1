"""Spain's invoice register as billing issues invoices: one chained record per issued invoice or
credit note, the verification of the whole chain, and the first broken link reported."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from retaguarda.billing.models import VerifactuRecord
from retaguarda.billing.services import credit_note_create, invoice_post
from retaguarda.billing.testing import invoice_build
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import company_build
from retaguarda.einvoicing.register import register_qr_html, register_verify
from retaguarda.einvoicing.verifactu import fingerprint_text, record_fingerprint

pytestmark = pytest.mark.django_db
D = Decimal


def test_each_issued_invoice_gets_a_record_chained_to_the_one_before():
    company = company_build(country="ES")
    first = invoice_build(company, lines=((D("2"), D("50.00"), "standard"),))
    second = invoice_build(company, lines=((D("1"), D("10.00"), "reduced"),))
    note = credit_note_create(actor=system_actor(company), invoice_id=first.pk, reason="Returned")
    note = invoice_post(actor=system_actor(company), invoice_id=note.pk)

    rows = list(VerifactuRecord.objects.filter(company=company).order_by("position"))

    assert [(r.position, r.number, r.invoice_type, r.tax_total, r.total) for r in rows] == [
        (1, first.number, "F1", D("21.00"), D("121.00")),
        (2, second.number, "F1", D("1.00"), D("11.00")),
        (3, note.number, "R1", D("-21.00"), D("-121.00")),
    ]
    assert rows[0].previous_hash == ""
    assert rows[1].previous_hash == rows[0].hash
    assert rows[2].previous_hash == rows[1].hash
    assert fingerprint_text(register_record(rows[1])).startswith(
        f"IDEmisorFactura={company.tax_id}&NumSerieFactura={second.number}&"
    )
    assert all(record_fingerprint(register_record(r)) == r.hash for r in rows)
    assert register_verify(company.pk).ok


def register_record(row):
    from retaguarda.einvoicing.register import _as_record

    return _as_record(row)


def test_a_changed_amount_is_reported_as_the_first_broken_link():
    company = company_build(country="ES")
    invoices = [invoice_build(company) for _ in range(3)]
    VerifactuRecord.objects.filter(company=company, position=2).update(total=D("999.00"))

    check = register_verify(company.pk)

    assert (check.ok, check.broken_index, check.broken_number, check.reason) == (
        False,
        1,
        invoices[1].number,
        "hash_mismatch",
    )
    with pytest.raises(CommandError):
        call_command("verifactu_verify", company=company.pk)


def test_the_command_says_an_intact_chain_is_intact(capsys):
    company = company_build(country="ES")
    invoice_build(company)
    invoice_build(company)
    call_command("verifactu_verify", company=company.pk)
    assert "2" in capsys.readouterr().out


def test_brazilian_and_supplier_documents_are_not_registered():
    br = company_build(country="BR")
    invoice_build(br)
    es = company_build(country="ES")
    invoice_build(es, kind="supplier_bill")
    assert not VerifactuRecord.objects.exists()


def test_the_invoice_pdf_carries_the_verification_qr():
    company = company_build(country="ES")
    invoice = invoice_build(company)
    html = register_qr_html(invoice)
    assert html.startswith('<div class="verifactu"><svg') and "VERI*FACTU" in html
    assert register_qr_html(invoice_build(company, post=False)) == ""
