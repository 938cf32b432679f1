"""The A1 certificate and the XML signature SEFAZ requires (enveloped, RSA-SHA1, C14N 1.0)."""

from __future__ import annotations

import base64
import copy
import hashlib
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from retaguarda.common.errors import ValidationFailed
from retaguarda.einvoicing import nfe
from retaguarda.einvoicing.signing import C14N, DS_NS, certificate_load, nfe_sign, nfe_signature_verify
from retaguarda.einvoicing.testing import TEST_CNPJ, TEST_PASSWORD, certificate_pfx_build, simples_document

DS = {"ds": DS_NS}


@pytest.fixture(scope="module")
def pfx():
    return certificate_pfx_build()


@pytest.fixture(scope="module")
def cert(pfx):
    return certificate_load(pfx, TEST_PASSWORD)


@pytest.fixture(scope="module")
def unsigned():
    return nfe.nfe_build(simples_document(), uf_code="35", city_code="3550308", numeric_code="12345678")


@pytest.fixture(scope="module")
def signed(unsigned, cert):
    return nfe_sign(unsigned, cert)


def test_certificate_loads_with_its_cnpj_and_dates(cert):
    assert cert.subject_name == f"EMPRESA TESTE:{TEST_CNPJ}"
    assert cert.cnpj == TEST_CNPJ
    assert cert.not_before < datetime.now(UTC) < cert.not_after


def test_wrong_password_is_a_clear_error(pfx):
    with pytest.raises(ValidationFailed) as refused:
        certificate_load(pfx, "not-the-password")
    assert refused.value.code == "certificate_unreadable"
    assert "password is wrong" in refused.value.message
    assert "password" in refused.value.fields


def test_not_a_certificate_is_the_same_clear_error():
    with pytest.raises(ValidationFailed) as refused:
        certificate_load(b"not a pfx", TEST_PASSWORD)
    assert refused.value.code == "certificate_unreadable"


def test_expired_certificate_is_refused_with_its_date():
    now = datetime.now(UTC)
    expired = certificate_pfx_build(not_before=now - timedelta(days=400), not_after=now - timedelta(days=35))
    with pytest.raises(ValidationFailed) as refused:
        certificate_load(expired, TEST_PASSWORD)
    assert refused.value.code == "certificate_expired"
    assert (now - timedelta(days=35)).date().isoformat() in refused.value.message


def test_certificate_not_yet_valid_is_refused():
    now = datetime.now(UTC)
    future = certificate_pfx_build(not_before=now + timedelta(days=2), not_after=now + timedelta(days=400))
    with pytest.raises(ValidationFailed) as refused:
        certificate_load(future, TEST_PASSWORD)
    assert refused.value.code == "certificate_not_yet_valid"


def test_signed_nfe_passes_the_schema_with_its_signature(signed):
    assert nfe.nfe_validate(signed, require_signature=True) == []


def test_signature_has_exactly_the_sefaz_shape(signed):
    root = etree.fromstring(signed)
    signature = root[-1]
    assert signature.tag == f"{{{DS_NS}}}Signature"
    # Default namespace, no prefix (SEFAZ rejection 404 otherwise).
    assert signature.prefix is None and b"ds:" not in signed
    info = signature.find("ds:SignedInfo", DS)
    assert info.find("ds:CanonicalizationMethod", DS).get("Algorithm") == C14N
    assert info.find("ds:SignatureMethod", DS).get("Algorithm") == f"{DS_NS}rsa-sha1"
    reference = info.find("ds:Reference", DS)
    assert reference.get("URI") == "#NFe35260312345678000195550010000001231123456782"
    assert [t.get("Algorithm") for t in reference.iterfind("ds:Transforms/ds:Transform", DS)] == [
        f"{DS_NS}enveloped-signature",
        C14N,
    ]
    assert reference.find("ds:DigestMethod", DS).get("Algorithm") == f"{DS_NS}sha1"
    assert [child.tag.split("}")[1] for child in signature] == ["SignedInfo", "SignatureValue", "KeyInfo"]


@pytest.fixture(autouse=True)
def plain_namespace_map(monkeypatch):
    """The standard library's C14N, our independent check, reads ElementTree's global prefix
    map; weasyprint (the PDFs) registers an empty namespace there when imported first."""
    monkeypatch.setattr(ElementTree, "_namespace_map", {u: p for u, p in ElementTree._namespace_map.items() if u})


def test_digest_matches_an_independent_canonicalization(signed):
    # Python's own C14N (ElementTree) agrees with ours on the infNFe: the digest does not depend
    # on libxml2's handling of subtrees.
    root = etree.fromstring(signed)
    inf = root.find(f"{{{nfe.NFE_NS}}}infNFe")
    standalone = etree.tostring(copy.deepcopy(inf))
    canonical = ElementTree.canonicalize(standalone.decode()).encode()
    digest = base64.b64encode(hashlib.sha1(canonical).digest()).decode()
    assert root.findtext("ds:Signature/ds:SignedInfo/ds:Reference/ds:DigestValue", namespaces=DS) == digest


def test_signed_info_canonical_form_has_no_stray_namespace_undeclarations(signed):
    # libxml2 2.14 canonicalizing SignedInfo in place writes xmlns="" on Transforms, which SEFAZ
    # (a correct C14N) would not: the signature would not verify there.
    from retaguarda.einvoicing.signing import _c14n

    info = etree.fromstring(signed).find("ds:Signature/ds:SignedInfo", DS)
    canonical = _c14n(info)
    assert canonical.startswith(b'<SignedInfo xmlns="http://www.w3.org/2000/09/xmldsig#">')
    assert b'xmlns=""' not in canonical
    assert canonical == ElementTree.canonicalize(etree.tostring(copy.deepcopy(info)).decode()).encode()


def test_signature_verifies_with_the_certificate_and_without(signed, cert):
    assert nfe_signature_verify(signed, cert) is True
    assert nfe_signature_verify(signed) is True


def test_tampered_value_fails_verification(signed, cert):
    tampered = signed.replace(b"<vNF>50.00</vNF>", b"<vNF>5.00</vNF>")
    assert tampered != signed
    assert nfe_signature_verify(tampered, cert) is False
    assert nfe_signature_verify(tampered) is False


def test_tampered_signed_info_fails_verification(signed, cert):
    tampered = signed.replace(b"<DigestValue>", b"<DigestValue>AA", 1)
    assert nfe_signature_verify(tampered, cert) is False


def test_another_certificate_does_not_verify(signed):
    other = certificate_load(certificate_pfx_build(), TEST_PASSWORD)
    assert nfe_signature_verify(signed, other) is False


def test_resigned_by_another_key_is_caught_only_with_the_expected_certificate(unsigned, cert):
    other = certificate_load(certificate_pfx_build(common_name="OUTRA:11222333000181"), TEST_PASSWORD)
    forged = nfe_sign(unsigned, other)
    assert nfe_signature_verify(forged) is True  # intact, but by someone else
    assert nfe_signature_verify(forged, cert) is False


def test_unsigned_document_does_not_verify(unsigned, cert):
    assert nfe_signature_verify(unsigned, cert) is False
    assert nfe_signature_verify(b"<broken", cert) is False


def test_signing_again_replaces_the_signature(signed, cert):
    twice = nfe_sign(signed, cert)
    assert len(etree.fromstring(twice).findall("ds:Signature", DS)) == 1
    assert nfe_signature_verify(twice, cert) is True


def test_signed_cancellation_event_passes_its_schema(cert):
    event = nfe.nfe_cancel_event_build(
        access_key="35260312345678000195550010000001231123456782",
        protocol="135260000000001",
        reason="Pedido cancelado pelo cliente antes do envio",
        environment="2",
        at=datetime(2026, 3, 10, 14, 0, tzinfo=UTC),
    )
    signed_event = nfe_sign(event, cert)
    assert nfe.nfe_event_validate(signed_event) == []
    assert nfe_signature_verify(signed_event, cert) is True
    inf = etree.fromstring(signed_event).find(f"{{{nfe.NFE_NS}}}infEvento")
    assert inf.get("Id") == "ID1101113526031234567800019555001000000123112345678201"
    assert inf.findtext(f"{{{nfe.NFE_NS}}}cOrgao") == "35"
    assert inf.findtext(f"{{{nfe.NFE_NS}}}CNPJ") == TEST_CNPJ
