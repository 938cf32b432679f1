"""The electronic invoicing API: the UBL file validated before it is served (409 when EN 16931
cannot express the document), the NF-e file by its state (preview, signed, authorized), the
NF-e submissions with sending and cancelling, Spain's register and its verification; who may
do what (403 and nothing changed); pinned query counts of the lists."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from retaguarda.billing.models import VerifactuRecord
from retaguarda.billing.testing import invoice_build
from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog
from retaguarda.core.testing import api_client_for, user_build
from retaguarda.einvoicing import nfe
from retaguarda.einvoicing.models import NFeEvent, NFeSubmission, SubmissionStatus
from retaguarda.einvoicing.signing import nfe_signature_verify
from retaguarda.einvoicing.ubl import ubl_validate
from retaguarda.parties.models import Party
from retaguarda.parties.testing import party_build

from .conftest import D, br_company, br_invoice, certificate_store

pytestmark = pytest.mark.django_db
UBL = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}
NFE = "{http://www.portalfiscal.inf.br/nfe}"
REASON = "Pedido cancelado pelo cliente antes do envio"


def api(company, role=Role.FINANCE):
    return api_client_for(user_build(company, role), company)


def post(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def error(response) -> tuple:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


# --- UBL ----------------------------------------------------------------------------------------


def test_the_ubl_of_a_spanish_invoice_is_valid_and_served_as_an_xml_attachment(es):
    invoice = invoice_build(es, lines=((D("2"), D("50.00"), "standard"),))

    response = api(es, Role.SALES).get(f"/api/v1/einvoicing/invoices/{invoice.pk}/ubl")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response["Content-Disposition"] == f'attachment; filename="invoice-{invoice.number}-ubl.xml"'
    assert ubl_validate(response.content) == []
    root = etree.fromstring(response.content)
    assert root.findtext("cbc:ID", namespaces=UBL) == invoice.number
    assert root.findtext("cac:TaxTotal/cbc:TaxAmount", namespaces=UBL) == "21.00"
    assert root.findtext("cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount", namespaces=UBL) == "100.00"
    assert root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=UBL) == "121.00"


def test_a_document_with_the_equivalence_surcharge_answers_409_not_500(es):
    shopkeeper = party_build(es)
    Party.objects.filter(pk=shopkeeper.pk).update(fiscal_position="recargo_equivalencia")
    invoice = invoice_build(es, party=Party.objects.get(pk=shopkeeper.pk))

    response = api(es).get(f"/api/v1/einvoicing/invoices/{invoice.pk}/ubl")

    assert error(response) == (
        409,
        "ubl_not_expressible",
        "This document cannot be written as an EN 16931 (UBL) invoice: line 1 carries RE 5.2 %, a tax that is "
        "neither VAT nor withheld (such as the equivalence surcharge), which EN 16931 has no place for.",
    )


def test_ubl_is_refused_for_drafts_brazil_and_other_companies_invoices(es, br):
    client = api(es)
    draft = invoice_build(es, post=False)
    assert error(client.get(f"/api/v1/einvoicing/invoices/{draft.pk}/ubl"))[:2] == (409, "not_issued")
    brazilian = invoice_build(br)
    assert api(br).get(f"/api/v1/einvoicing/invoices/{brazilian.pk}/ubl").json()["error"]["code"] == (
        "ubl_not_applicable"
    )
    assert error(client.get(f"/api/v1/einvoicing/invoices/{brazilian.pk}/ubl"))[:2] == (404, "not_found")


def test_files_need_billing_view(es):
    invoice = invoice_build(es)
    response = api(es, Role.WAREHOUSE).get(f"/api/v1/einvoicing/invoices/{invoice.pk}/ubl")
    assert response.status_code == 403


# --- NF-e files ---------------------------------------------------------------------------------


def test_the_nfe_preview_of_an_invoice_without_submission(br):
    invoice = br_invoice(br)

    response = api(br).get(f"/api/v1/einvoicing/invoices/{invoice.pk}/nfe")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response["Content-Disposition"] == f'attachment; filename="invoice-{invoice.number}-NFe-preview.xml"'
    assert nfe.nfe_validate(response.content) == []
    root = etree.fromstring(response.content)
    assert root.find(".//{http://www.w3.org/2000/09/xmldsig#}Signature") is None
    assert root.findtext(f".//{NFE}emit/{NFE}CNPJ") == br.tax_id
    assert root.findtext(f".//{NFE}emit/{NFE}enderEmit/{NFE}cMun") == "3550308"
    assert root.findtext(f".//{NFE}dest/{NFE}enderDest/{NFE}cMun") == "3509502"
    assert root.findtext(f".//{NFE}ide/{NFE}nNF") == str(invoice.sequence_number)
    assert root.findtext(f".//{NFE}ICMSTot/{NFE}vNF") == "100.00"
    assert not NFeSubmission.objects.exists()


def test_the_nfe_preview_names_the_missing_fiscal_settings(db):
    company = br_company(city_code="", state="SP")
    invoice = br_invoice(company)

    response = api(company).get(f"/api/v1/einvoicing/invoices/{invoice.pk}/nfe")

    assert error(response) == (
        409,
        "nfe_incomplete",
        "The NF-e cannot be made: The company's municipality code (IBGE, 7 digits) is not set in its fiscal "
        'settings ("city_code").',
    )
    assert response.json()["error"]["fields"] == {
        "city_code": [
            'The company\'s municipality code (IBGE, 7 digits) is not set in its fiscal settings ("city_code").'
        ]
    }


def test_the_signed_then_the_authorized_nfe(br, pfx):
    certificate_store(br, pfx)
    invoice = br_invoice(br)
    submission = NFeSubmission.objects.get(invoice=invoice)
    client = api(br)

    signed = client.get(f"/api/v1/einvoicing/invoices/{invoice.pk}/nfe")

    assert signed["Content-Disposition"] == f'attachment; filename="{submission.access_key}-NFe.xml"'
    assert nfe_signature_verify(signed.content.split(b"\n", 1)[1])

    protocol = (
        f'<protNFe xmlns="http://www.portalfiscal.inf.br/nfe" versao="4.00"><infProt><tpAmb>2</tpAmb>'
        f"<verAplic>FAKE</verAplic><chNFe>{submission.access_key}</chNFe>"
        f"<dhRecbto>2026-03-10T10:00:00-03:00</dhRecbto><nProt>135260000000001</nProt>"
        f"<digVal>AAAAAAAAAAAAAAAAAAAAAAAAAAA=</digVal><cStat>100</cStat>"
        f"<xMotivo>Autorizado o uso da NF-e</xMotivo></infProt></protNFe>"
    )
    NFeSubmission.objects.filter(pk=submission.pk).update(
        status=SubmissionStatus.AUTHORIZED, protocol="135260000000001", protocol_xml=protocol
    )

    authorized = client.get(f"/api/v1/einvoicing/invoices/{invoice.pk}/nfe")

    assert authorized["Content-Disposition"] == f'attachment; filename="{submission.access_key}-procNFe.xml"'
    assert nfe.nfe_proc_validate(authorized.content) == []
    assert etree.fromstring(authorized.content).findtext(f".//{NFE}protNFe/{NFE}infProt/{NFE}nProt") == (
        "135260000000001"
    )


# --- NF-e submissions ---------------------------------------------------------------------------


def test_the_submissions_list_and_its_pinned_query_count(br, pfx, django_assert_num_queries):
    certificate_store(br, pfx)
    first = br_invoice(br)
    client = api(br, Role.SALES)

    response = client.get("/api/v1/einvoicing/nfe/submissions")

    assert response.status_code == 200
    data = response.json()
    row = NFeSubmission.objects.get(invoice=first)
    assert data["count"] == 1
    assert {k: data["items"][0][k] for k in ("id", "invoice_id", "invoice_number", "status", "attempts")} == {
        "id": row.pk,
        "invoice_id": first.pk,
        "invoice_number": first.number,
        "status": "queued",
        "attempts": 0,
    }
    for _ in range(3):
        br_invoice(br)
    # The token and its membership, then the count and the page (whatever the page's length).
    with django_assert_num_queries(4):
        response = client.get("/api/v1/einvoicing/nfe/submissions?status=queued")
    assert response.json()["count"] == 4


def test_send_now_without_configured_authorities_changes_nothing(br, pfx):
    certificate_store(br, pfx)
    br_invoice(br)
    before = list(NFeSubmission.objects.values_list("status", "attempts", "next_attempt_at"))

    response = post(api(br), "/api/v1/einvoicing/nfe/send")

    assert error(response)[:2] == (409, "nfe_not_configured")
    assert list(NFeSubmission.objects.values_list("status", "attempts", "next_attempt_at")) == before


def test_send_now_is_for_brazil(es):
    assert error(post(api(es), "/api/v1/einvoicing/nfe/send")) == (
        409,
        "nfe_not_applicable",
        "NF-e are issued by companies in Brazil.",
    )


def test_send_now_then_cancel_through_the_fake_sefaz(br, pfx, sefaz):
    certificate_store(br, pfx)
    invoice = br_invoice(br)
    client = api(br)

    sent = post(client, "/api/v1/einvoicing/nfe/send")

    assert sent.status_code == 200, sent.content
    assert sent.json() == {"authorized": 1, "rejected": 0, "denied": 0, "failed": 0, "waiting": 0, "contingency": 0}
    submission = NFeSubmission.objects.get(invoice=invoice)
    assert (submission.status, submission.protocol) == (SubmissionStatus.AUTHORIZED, "135260000000001")

    cancelled = post(client, f"/api/v1/einvoicing/nfe/submissions/{submission.pk}/cancel", {"reason": REASON})

    assert cancelled.status_code == 200, cancelled.content
    data = cancelled.json()
    assert (data["submission"]["status"], data["event_protocol"]) == ("cancelled", "135260000000002")
    assert NFeEvent.objects.get(submission=submission).reason == REASON


def test_cancelling_is_refused_to_sales_and_for_a_short_reason(br, pfx, sefaz):
    certificate_store(br, pfx)
    invoice = br_invoice(br)
    post(api(br), "/api/v1/einvoicing/nfe/send")
    submission = NFeSubmission.objects.get(invoice=invoice)
    url = f"/api/v1/einvoicing/nfe/submissions/{submission.pk}/cancel"
    sales, finance = api(br, Role.SALES), api(br)
    audits = AuditLog.objects.count()

    assert post(sales, url, {"reason": REASON}).status_code == 403
    short = post(finance, url, {"reason": "Engano"})
    assert (short.status_code, list(short.json()["error"]["fields"])) == (422, ["reason"])

    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.AUTHORIZED
    assert not NFeEvent.objects.exists()
    assert AuditLog.objects.count() == audits
    assert [name for name, _payload in sefaz.requests] == ["NFeAutorizacao4"]


def test_the_authority_state(br):
    assert api(br, Role.SALES).get("/api/v1/einvoicing/nfe/state").json() == {
        "mode": "normal",
        "consecutive_failures": 0,
        "contingency_since": None,
        "contingency_reason": "",
    }


# --- Spain's register ---------------------------------------------------------------------------


def test_the_register_and_its_verification(es, django_assert_num_queries):
    first = invoice_build(es, lines=((D("2"), D("50.00"), "standard"),))
    second = invoice_build(es, lines=((D("1"), D("10.00"), "reduced"),))
    client = api(es, Role.SALES)

    response = client.get("/api/v1/einvoicing/register")

    rows = {r.position: r for r in VerifactuRecord.objects.filter(company=es)}
    assert response.status_code == 200
    assert [
        (r["position"], r["number"], r["invoice_type"], r["tax_total"], r["total"], r["previous_hash"])
        for r in response.json()["items"]
    ] == [
        (2, second.number, "F1", "1.00", "11.00", rows[1].hash),
        (1, first.number, "F1", "21.00", "121.00", ""),
    ]
    for _ in range(3):
        invoice_build(es)
    with django_assert_num_queries(4):
        assert client.get("/api/v1/einvoicing/register").json()["count"] == 5

    intact = post(client, "/api/v1/einvoicing/register/verify")
    assert intact.json() == {
        "ok": True,
        "count": 5,
        "broken_index": None,
        "broken_number": "",
        "reason": "",
        "message": "The register chain of 5 records is intact.",
    }
    VerifactuRecord.objects.filter(company=es, position=2).update(total=D("999.00"))
    broken = post(client, "/api/v1/einvoicing/register/verify").json()
    assert (broken["ok"], broken["broken_index"], broken["broken_number"], broken["reason"]) == (
        False,
        1,
        second.number,
        "hash_mismatch",
    )
    assert broken["message"] == f"Record 1 (invoice {second.number}) was changed after its fingerprint was computed."


def test_the_register_needs_billing_view(es):
    invoice_build(es)
    assert api(es, Role.WAREHOUSE).get("/api/v1/einvoicing/register").status_code == 403
    assert post(api(es, Role.WAREHOUSE), "/api/v1/einvoicing/register/verify").status_code == 403


def test_an_unknown_invoice_is_404(es):
    assert error(api(es).get("/api/v1/einvoicing/invoices/999999/nfe"))[:2] == (404, "not_found")
    assert error(api(es).get("/api/v1/einvoicing/invoices/999999/ubl"))[:2] == (404, "not_found")
