"""Electronic invoicing wired into billing: issuing a Brazilian invoice queues its NF-e when the
company has a certificate (and only then), in the issuing transaction; an NF-e that cannot be
made refuses the issuing with what is missing; the hooks, links and PDF blocks are registered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django_tasks_db.models import DBTaskResult
from lxml import etree

from retaguarda.billing.choices import InvoiceStatus
from retaguarda.billing.documents import PDF_EXTRAS, invoice_html
from retaguarda.billing.models import Invoice, InvoiceLine
from retaguarda.billing.services import INVOICE_POSTED_HOOKS, credit_note_create, invoice_post
from retaguarda.billing.testing import invoice_build
from retaguarda.billing.views import DOCUMENT_DOWNLOADS
from retaguarda.common.errors import Conflict
from retaguarda.core.permissions import system_actor
from retaguarda.einvoicing import nfe
from retaguarda.einvoicing.models import CompanyCertificate, NFeSubmission, SubmissionStatus
from retaguarda.einvoicing.register import register_invoice, register_qr_html
from retaguarda.einvoicing.services import nfe_queue_on_post
from retaguarda.einvoicing.signing import nfe_signature_verify
from retaguarda.einvoicing.views import invoice_downloads, nfe_pdf_html

from .conftest import BUYER_ADDRESS, D, br_invoice, certificate_store

pytestmark = pytest.mark.django_db
NFE = "{http://www.portalfiscal.inf.br/nfe}"


def test_the_hooks_links_and_pdf_blocks_are_registered():
    assert INVOICE_POSTED_HOOKS.count(register_invoice) == 1
    assert INVOICE_POSTED_HOOKS.count(nfe_queue_on_post) == 1
    assert DOCUMENT_DOWNLOADS.count(invoice_downloads) == 1
    assert PDF_EXTRAS.count(register_qr_html) == 1
    assert PDF_EXTRAS.count(nfe_pdf_html) == 1


def test_issuing_with_a_certificate_queues_the_signed_nfe_and_its_send(br, pfx, django_capture_on_commit_callbacks):
    certificate_store(br, pfx)

    with django_capture_on_commit_callbacks(execute=True):
        invoice = br_invoice(br)

    submission = NFeSubmission.objects.get(invoice=invoice)
    assert (submission.status, submission.series, submission.number, submission.uf_code, submission.environment) == (
        SubmissionStatus.QUEUED,
        1,
        invoice.sequence_number,
        "35",
        "2",
    )
    xml = submission.xml.encode()
    assert nfe.nfe_access_key_of(xml) == submission.access_key
    assert submission.access_key[:2] == "35" and submission.access_key[6:20] == br.tax_id
    assert nfe_signature_verify(xml)
    total = etree.fromstring(xml).find(f".//{NFE}ICMSTot/{NFE}vNF").text
    assert total == "100.00"
    assert DBTaskResult.objects.filter(task_path="retaguarda.einvoicing.tasks.nfe_send_queue").count() == 1


def test_issuing_without_a_certificate_queues_nothing(br):
    invoice = br_invoice(br)

    assert invoice.status == InvoiceStatus.POSTED
    assert not NFeSubmission.objects.exists()
    assert invoice_downloads(invoice)[0] == ("NF-e not issued: no certificate", "/einvoicing/nfe/certificate/")


def test_an_expired_certificate_queues_nothing(br, pfx):
    certificate_store(br, pfx)
    CompanyCertificate.objects.filter(company=br).update(not_after=datetime.now(UTC) - timedelta(minutes=1))

    invoice = br_invoice(br)

    assert invoice.status == InvoiceStatus.POSTED
    assert not NFeSubmission.objects.exists()
    assert invoice_downloads(invoice)[0] == ("NF-e not issued: the certificate expired", "/einvoicing/nfe/certificate/")


def test_an_nfe_that_cannot_be_made_refuses_the_issuing_and_writes_nothing(br, pfx):
    certificate_store(br, pfx)
    draft = invoice_build(br, lines=((D("1"), D("10.00"), "standard"),), post=False)
    draft.party_snapshot = {**draft.party_snapshot, **BUYER_ADDRESS, "city_code": ""}
    draft.save(update_fields=["party_snapshot"])

    with pytest.raises(Conflict) as refused:
        invoice_post(actor=system_actor(br), invoice_id=draft.pk)

    assert refused.value.code == "nfe_incomplete"
    assert refused.value.message == (
        "The NF-e cannot be made: The customer's municipality code (IBGE) is not on the invoice. "
        "Lines without an NCM code (8 digits): 1."
    )
    assert set(refused.value.fields) == {"buyer_city_code", "lines"}
    draft.refresh_from_db()
    assert (draft.status, draft.number, draft.sequence_number) == (InvoiceStatus.DRAFT, "", None)
    assert not NFeSubmission.objects.exists()


def test_spanish_and_supplier_documents_queue_no_nfe(es, br, pfx):
    certificate_store(br, pfx)
    invoice_build(es)
    invoice_build(br, kind="supplier_bill")
    assert not NFeSubmission.objects.exists()


def test_a_credit_note_of_an_authorized_nfe_references_it(br, pfx):
    certificate_store(br, pfx)
    invoice = br_invoice(br)
    original = NFeSubmission.objects.get(invoice=invoice)
    NFeSubmission.objects.filter(pk=original.pk).update(status=SubmissionStatus.AUTHORIZED, protocol="135260000000001")
    actor = system_actor(br)
    note = credit_note_create(actor=actor, invoice_id=invoice.pk, lines=None, reason="Devolvido pelo cliente")
    InvoiceLine.objects.filter(invoice=note).update(ncm="69120000")

    note = invoice_post(actor=actor, invoice_id=note.pk)

    returned = NFeSubmission.objects.get(invoice=note)
    root = etree.fromstring(returned.xml.encode())
    assert root.find(f".//{NFE}NFref/{NFE}refNFe").text == original.access_key
    assert (root.find(f".//{NFE}ide/{NFE}finNFe").text, root.find(f".//{NFE}ide/{NFE}tpNF").text) == ("4", "0")
    assert root.find(f".//{NFE}ide/{NFE}natOp").text == "Devolucao de venda"


def test_a_credit_note_of_an_invoice_without_nfe_queues_nothing(br, pfx):
    invoice = br_invoice(br)
    certificate_store(br, pfx)
    actor = system_actor(br)
    note = credit_note_create(actor=actor, invoice_id=invoice.pk, lines=None, reason="Devolvido pelo cliente")

    note = invoice_post(actor=actor, invoice_id=note.pk)

    assert note.status == InvoiceStatus.POSTED
    assert not NFeSubmission.objects.exists()


def test_the_printed_invoice_carries_the_authorized_key_and_protocol(br, pfx):
    certificate_store(br, pfx)
    invoice = br_invoice(br)
    assert nfe_pdf_html(invoice) == ""
    submission = NFeSubmission.objects.get(invoice=invoice)
    NFeSubmission.objects.filter(pk=submission.pk).update(
        status=SubmissionStatus.AUTHORIZED,
        protocol="135260000000077",
        authorized_at=datetime(2026, 3, 10, 13, 0, tzinfo=UTC),
    )
    invoice = Invoice.objects.get(pk=invoice.pk)

    block = nfe_pdf_html(invoice)

    key = submission.access_key
    grouped = " ".join(key[i : i + 4] for i in range(0, 44, 4))
    assert f'<span class="nfe-key">{grouped}</span>' in block
    assert "135260000000077" in block
    assert grouped in invoice_html(invoice)


def test_the_printed_spanish_invoice_carries_the_register_qr(es):
    invoice = invoice_build(es)
    assert '<div class="verifactu"><svg' in invoice_html(invoice)
