"""The electronic invoicing pages: the invoice page's links and the files behind them, the A1
certificate upload (refusals store nothing), the NF-e page with "send now" against the fake
SEFAZ, cancelling, issuing an NF-e afterwards, Spain's register with its verification; who may
do what (403 and nothing changed); pinned query counts of the list pages."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from retaguarda.billing.models import VerifactuRecord
from retaguarda.billing.testing import invoice_build
from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog
from retaguarda.core.testing import client_for, user_build
from retaguarda.einvoicing.models import CompanyCertificate, NFeEvent, NFeSubmission, SubmissionStatus
from retaguarda.einvoicing.testing import TEST_PASSWORD, certificate_pfx_build
from retaguarda.einvoicing.ubl import ubl_validate
from retaguarda.parties.models import Party
from retaguarda.parties.testing import party_build

from .conftest import D, br_invoice, certificate_store

pytestmark = pytest.mark.django_db
REASON = "Pedido cancelado pelo cliente antes do envio"


def client(company, role=Role.FINANCE):
    return client_for(user_build(company, role))


def texts(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def nfe_rows(company) -> list[tuple]:
    return list(
        NFeSubmission.objects.filter(company=company)
        .order_by("pk")
        .values_list("status", "attempts", "next_attempt_at", "cancelled_at")
    )


# --- the invoice page and its files -------------------------------------------------------------


def test_a_spanish_invoice_page_links_its_valid_ubl_file(es):
    invoice = invoice_build(es, lines=((D("2"), D("50.00"), "standard"),))
    browser = client(es, Role.SALES)
    url = f"/einvoicing/invoices/{invoice.pk}/ubl/"

    page = browser.get(reverse("billing:invoice_detail", args=[invoice.pk]))
    assert f'<a class="button secondary" href="{url}">UBL XML</a>' in page.content.decode()

    response = browser.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response["Content-Disposition"] == f'attachment; filename="invoice-{invoice.number}-ubl.xml"'
    assert ubl_validate(response.content) == []


def test_a_document_ubl_cannot_express_gets_a_409_page(es):
    shopkeeper = party_build(es)
    Party.objects.filter(pk=shopkeeper.pk).update(fiscal_position="recargo_equivalencia")
    invoice = invoice_build(es, party=Party.objects.get(pk=shopkeeper.pk))

    response = client(es).get(f"/einvoicing/invoices/{invoice.pk}/ubl/")

    assert response.status_code == 409
    assert response.context["message"] == (
        "This document cannot be written as an EN 16931 (UBL) invoice: line 1 carries RE 5.2 %, a tax that is "
        "neither VAT nor withheld (such as the equivalence surcharge), which EN 16931 has no place for."
    )
    assert f'href="/billing/invoices/{invoice.pk}/"' in response.content.decode()


def test_a_brazilian_invoice_without_certificate_says_so_and_previews_its_nfe(br):
    invoice = br_invoice(br)
    browser = client(br)

    page = browser.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()

    assert '<a class="button secondary" href="/einvoicing/nfe/certificate/">NF-e not issued: no certificate</a>' in page
    assert f'<a class="button secondary" href="/einvoicing/invoices/{invoice.pk}/nfe/">NF-e XML (preview)</a>' in page
    preview = browser.get(f"/einvoicing/invoices/{invoice.pk}/nfe/")
    assert preview.status_code == 200
    assert preview["Content-Disposition"] == f'attachment; filename="invoice-{invoice.number}-NFe-preview.xml"'


def test_the_files_need_billing_view(es):
    invoice = invoice_build(es)
    assert client(es, Role.WAREHOUSE).get(f"/einvoicing/invoices/{invoice.pk}/ubl/").status_code == 403


# --- the certificate ----------------------------------------------------------------------------


def upload(browser, content: bytes, password: str = TEST_PASSWORD):
    file = SimpleUploadedFile("empresa.pfx", content, content_type="application/x-pkcs12")
    return browser.post("/einvoicing/nfe/certificate/", {"file": file, "password": password})


def test_uploading_the_certificate(br, pfx):
    response = upload(client(br), pfx)

    assert response.status_code == 302
    row = CompanyCertificate.objects.get(company=br, is_active=True)
    assert row.cnpj == br.tax_id
    page = client(br, Role.SALES).get("/einvoicing/nfe/certificate/").content.decode()
    assert row.subject in page and "<dd>12.345.678/0001-95</dd>" in page
    assert 'id="certificate-form"' not in page


def test_a_refused_certificate_is_shown_on_the_form_and_nothing_is_stored(br, pfx):
    browser = client(br)

    wrong = upload(browser, pfx, password="not-the-password")
    other = upload(browser, certificate_pfx_build(common_name="OUTRA EMPRESA LTDA:11222333000181"))

    assert wrong.status_code == 422
    assert wrong.context["form"].errors == {
        "__all__": ["The certificate's password is wrong, or the file is not a PKCS#12 (.pfx) certificate."],
        "password": ["Check the password."],
    }
    assert other.status_code == 422
    assert other.context["form"].errors["file"] == ["Another company's certificate."]
    assert not CompanyCertificate.objects.exists()
    assert not AuditLog.objects.filter(action="einvoicing.certificate_uploaded").exists()


def test_sales_cannot_upload_a_certificate(br, pfx):
    assert upload(client(br, Role.SALES), pfx).status_code == 403
    assert not CompanyCertificate.objects.exists()


# --- the NF-e page ------------------------------------------------------------------------------


def test_send_now_from_the_page_authorizes_through_the_fake_sefaz(br, pfx, sefaz):
    certificate_store(br, pfx)
    invoice = br_invoice(br)
    browser = client(br)

    response = browser.post("/einvoicing/nfe/send/", follow=True)

    assert texts(response) == ["Sent: 1 authorized, 0 rejected, 0 denied, 0 to retry, 0 waiting."]
    submission = NFeSubmission.objects.get(invoice=invoice)
    assert (submission.status, submission.protocol, submission.attempts) == (
        SubmissionStatus.AUTHORIZED,
        "135260000000001",
        1,
    )
    assert f'id="nfe-{submission.pk}"' in response.content.decode()
    page = browser.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    assert "NF-e XML (authorized)" in page


def test_send_now_without_configured_authorities_says_so_and_changes_nothing(br, pfx):
    certificate_store(br, pfx)
    br_invoice(br)
    before = nfe_rows(br)

    response = client(br).post("/einvoicing/nfe/send/")

    assert response.status_code == 409
    assert response.context["error"] == (
        "Sending NF-e is not configured on this instance (the RETAGUARDA_NFE_AUTHORITIES setting): "
        "the NF-e stay queued."
    )
    assert nfe_rows(br) == before


def test_sales_cannot_send(br, pfx, sefaz):
    certificate_store(br, pfx)
    br_invoice(br)
    before = nfe_rows(br)

    assert client(br, Role.SALES).post("/einvoicing/nfe/send/").status_code == 403
    assert nfe_rows(br) == before
    assert sefaz.requests == []


def test_cancelling_from_the_page(br, pfx, sefaz):
    certificate_store(br, pfx)
    invoice = br_invoice(br)
    browser = client(br)
    browser.post("/einvoicing/nfe/send/")
    submission = NFeSubmission.objects.get(invoice=invoice)
    url = f"/einvoicing/nfe/{submission.pk}/cancel/"
    sales = client(br, Role.SALES)

    assert sales.post(url, {"reason": REASON}).status_code == 403
    short = browser.post(url, {"reason": "Engano"})
    assert short.status_code == 422
    assert short.context["form"].errors == {"reason": ["Ensure this value has at least 15 characters (it has 6)."]}
    assert nfe_rows(br)[0][3] is None and not NFeEvent.objects.exists()

    done = browser.post(url, {"reason": REASON}, follow=True)

    assert texts(done) == [f"NF-e {submission.access_key} cancelled."]
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.CANCELLED
    assert NFeEvent.objects.get(submission=submission).protocol == "135260000000002"


def test_an_invoice_issued_before_the_certificate_gets_its_nfe_from_the_page(br, pfx):
    invoice = br_invoice(br)
    browser = client(br)
    page = browser.get("/einvoicing/nfe/").content.decode()
    assert f'action="/einvoicing/invoices/{invoice.pk}/nfe/queue/"' in page

    refused = browser.post(f"/einvoicing/invoices/{invoice.pk}/nfe/queue/")
    assert (refused.status_code, refused.context["error"]) == (409, "Upload the company's valid A1 certificate first.")
    assert not NFeSubmission.objects.exists()

    certificate_store(br, pfx)
    done = browser.post(f"/einvoicing/invoices/{invoice.pk}/nfe/queue/", follow=True)

    submission = NFeSubmission.objects.get(invoice=invoice)
    assert texts(done) == [f"NF-e {submission.access_key} queued."]
    assert f'action="/einvoicing/invoices/{invoice.pk}/nfe/queue/"' not in done.content.decode()


def test_the_nfe_page_reads_a_fixed_number_of_rows(br, pfx, django_assert_num_queries):
    certificate_store(br, pfx)
    br_invoice(br)
    browser = client(br)
    browser.get("/einvoicing/nfe/")
    with django_assert_num_queries(9) as one:
        browser.get("/einvoicing/nfe/")
    for _ in range(4):
        br_invoice(br)
    with django_assert_num_queries(len(one)):
        response = browser.get("/einvoicing/nfe/")
    assert len(re.findall(r'<tr id="nfe-[0-9]+">', response.content.decode())) == 5


# --- Spain's register ---------------------------------------------------------------------------


def test_the_register_page_and_its_verification(es):
    first = invoice_build(es)
    second = invoice_build(es)
    browser = client(es, Role.SALES)
    rows = {r.position: r for r in VerifactuRecord.objects.filter(company=es)}

    page = browser.get("/einvoicing/register/").content.decode()

    assert page.index(f">{second.number}<") < page.index(f">{first.number}<")
    assert f"<code>{rows[2].hash[:12]}…</code>" in page
    assert f"<code>{rows[1].hash[:12]}…</code>" in page
    intact = browser.post("/einvoicing/register/verify/", follow=True)
    assert texts(intact) == ["The register chain of 2 records is intact."]

    VerifactuRecord.objects.filter(company=es, position=1).update(total=D("1.00"))
    broken = browser.post("/einvoicing/register/verify/", follow=True)
    assert texts(broken) == [f"Record 0 (invoice {first.number}) was changed after its fingerprint was computed."]


def test_the_register_page_reads_a_fixed_number_of_rows(es, django_assert_num_queries):
    invoice_build(es)
    browser = client(es)
    browser.get("/einvoicing/register/")
    with django_assert_num_queries(6) as one:
        browser.get("/einvoicing/register/")
    for _ in range(4):
        invoice_build(es)
    with django_assert_num_queries(len(one)):
        response = browser.get("/einvoicing/register/")
    assert response.content.decode().count('id="record-') == 5


def test_the_home_page_goes_to_the_company_s_system(es, br):
    assert client(es).get("/einvoicing/")["Location"] == "/einvoicing/register/"
    assert client(br).get("/einvoicing/")["Location"] == "/einvoicing/nfe/"
    assert client(es, Role.WAREHOUSE).get("/einvoicing/").status_code == 403
