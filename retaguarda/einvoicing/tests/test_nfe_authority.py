"""SoapAuthority against the fake SEFAZ served on 127.0.0.1: SOAP 1.2 envelopes, the answers
it understands, outages, and TLS with the company's certificate as client certificate."""

from __future__ import annotations

import socket
import ssl
from datetime import UTC, datetime

import pytest
from lxml import etree

from retaguarda.einvoicing import nfe
from retaguarda.einvoicing.authority import AuthorityUnavailable, SoapAuthority
from retaguarda.einvoicing.signing import certificate_load, nfe_sign, nfe_signature_verify
from retaguarda.einvoicing.testing import (
    SOAP12,
    TEST_PASSWORD,
    FakeSefaz,
    certificate_pfx_build,
    simples_document,
    tls_server_context,
)

N = f"{{{nfe.NFE_NS}}}"


@pytest.fixture(scope="module")
def cert():
    return certificate_load(certificate_pfx_build(), TEST_PASSWORD)


@pytest.fixture(scope="module")
def signed(cert):
    xml = nfe.nfe_build(simples_document(), uf_code="35", city_code="3550308", numeric_code="12345678")
    return nfe_sign(xml, cert)


@pytest.fixture
def sefaz():
    fake = FakeSefaz(received_at="2026-03-10T10:31:00-03:00").start()
    yield fake
    fake.stop()


def authority(fake, cert, **kwargs):
    return SoapAuthority(fake.url, cert, uf_code="35", environment="2", **kwargs)


def test_authorized_with_protocol(sefaz, cert, signed):
    response = authority(sefaz, cert).authorize(signed)
    key = nfe.nfe_access_key_of(signed)
    assert (response.cstat, response.authorized, response.protocol) == ("100", True, "135260000000001")
    assert response.access_key == key
    assert response.received_at == datetime.fromisoformat("2026-03-10T10:31:00-03:00")
    prot = etree.fromstring(response.xml)
    assert prot.tag == f"{N}protNFe" and prot.findtext(f"{N}infProt/{N}nProt") == "135260000000001"


def test_request_is_a_soap12_envelope_with_a_synchronous_batch(sefaz, cert, signed):
    authority(sefaz, cert).authorize(signed)
    service, envi = sefaz.requests[0]
    assert service == "NFeAutorizacao4"
    assert envi.tag == f"{N}enviNFe" and envi.get("versao") == "4.00"
    assert envi.findtext(f"{N}indSinc") == "1"
    assert len(envi.findtext(f"{N}idLote")) == 15
    # The NF-e travels as signed: its signature still verifies inside the batch.
    sent = etree.tostring(envi.find(f"{N}NFe"))
    assert nfe.nfe_access_key_of(sent) == nfe.nfe_access_key_of(signed)
    assert nfe_signature_verify(sent, cert) is True


def test_rejection_keeps_code_and_message(sefaz, cert, signed):
    sefaz.mode = "reject"
    response = authority(sefaz, cert).authorize(signed)
    assert (response.cstat, response.xmotivo) == ("225", "Rejeicao: Falha no Schema XML")
    assert not response.authorized and not response.denied and response.protocol == ""


def test_denial_is_told_apart(sefaz, cert, signed):
    sefaz.mode = "deny"
    response = authority(sefaz, cert).authorize(signed)
    assert (response.cstat, response.denied, response.authorized) == ("301", True, False)


def test_duplicate_then_consultation_finds_the_protocol(sefaz, cert, signed):
    sefaz.mode = "duplicate"
    client = authority(sefaz, cert)
    response = client.authorize(signed)
    assert (response.cstat, response.duplicate) == ("204", True)
    consulted = client.consult(nfe.nfe_access_key_of(signed))
    assert (consulted.cstat, consulted.authorized, consulted.protocol) == ("100", True, "135260000000001")
    assert sefaz.requests[-1][0] == "NFeConsultaProtocolo4"


def test_http_5xx_is_an_outage_that_was_not_received(sefaz, cert, signed):
    sefaz.mode = "down"
    with pytest.raises(AuthorityUnavailable) as failed:
        authority(sefaz, cert).authorize(signed)
    assert failed.value.uncertain is False
    assert "503" in failed.value.message


def test_paused_service_is_an_outage(sefaz, cert, signed):
    sefaz.mode = "paused"
    with pytest.raises(AuthorityUnavailable) as failed:
        authority(sefaz, cert).authorize(signed)
    assert "108" in failed.value.message


def test_timeout_after_sending_is_uncertain(sefaz, cert, signed):
    sefaz.mode, sefaz.delay = "slow", 1.0
    with pytest.raises(AuthorityUnavailable) as failed:
        authority(sefaz, cert, timeout=0.3).authorize(signed)
    assert failed.value.uncertain is True


def test_refused_connection_is_certain_not_received(cert, signed):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = SoapAuthority(f"http://127.0.0.1:{port}/ws", cert, uf_code="35", timeout=2)
    with pytest.raises(AuthorityUnavailable) as failed:
        client.authorize(signed)
    assert failed.value.uncertain is False
    assert client.status() is False


def test_status(sefaz, cert):
    client = authority(sefaz, cert)
    assert client.status() is True
    service, cons = sefaz.requests[0]
    assert service == "NFeStatusServico4"
    assert [cons.findtext(f"{N}{tag}") for tag in ("tpAmb", "cUF", "xServ")] == ["2", "35", "STATUS"]
    sefaz.mode = "paused"
    assert client.status() is False
    sefaz.mode = "down"
    assert client.status() is False


def test_cancel_registers_the_event(sefaz, cert, signed):
    client = authority(sefaz, cert)
    key = nfe.nfe_access_key_of(signed)
    protocol = client.authorize(signed).protocol
    reason = "Pedido cancelado pelo cliente antes do envio"
    event = nfe_sign(
        nfe.nfe_cancel_event_build(
            access_key=key, protocol=protocol, reason=reason, environment="2", at=datetime(2026, 3, 10, tzinfo=UTC)
        ),
        cert,
    )
    response = client.cancel(key, protocol, reason, event)
    assert (response.cstat, response.event_registered, response.protocol) == ("135", True, "135260000000002")
    service, env = sefaz.requests[-1]
    assert service == "NFeRecepcaoEvento4" and env.tag == f"{N}envEvento"
    assert env.find(f"{N}evento/{{http://www.w3.org/2000/09/xmldsig#}}Signature") is not None


def test_cancel_refuses_an_event_for_another_note(sefaz, cert, signed):
    event = nfe_sign(
        nfe.nfe_cancel_event_build(
            access_key=nfe.nfe_access_key_of(signed),
            protocol="1",
            reason="Pedido cancelado pelo cliente antes do envio",
            environment="2",
            at=datetime(2026, 3, 10, tzinfo=UTC),
        ),
        cert,
    )
    with pytest.raises(ValueError):
        authority(sefaz, cert).cancel(nfe.nfe_access_key_of(signed), "2", "outro motivo qualquer", event)
    assert sefaz.requests == []


def test_fake_refuses_what_is_not_soap12(sefaz):
    status, _body = sefaz.answer(b"<x/>", "text/xml")
    assert status == 400
    envelope = f'<s:Envelope xmlns:s="{SOAP12}"><s:Body/></s:Envelope>'.encode()
    assert sefaz.answer(envelope, "text/xml")[0] == 400


def test_https_presents_the_company_certificate(tmp_path, cert, signed):
    context, server_pem = tls_server_context(tmp_path, client_certificate_pem=cert.certificate_pem())
    fake = FakeSefaz(ssl_context=context).start()
    try:
        assert fake.url.startswith("https://127.0.0.1:")
        response = authority(fake, cert, ca_pem=server_pem, timeout=5).authorize(signed)
        assert response.authorized
        # Without the client certificate the server refuses the handshake: the success above
        # needed it.
        plain = ssl.create_default_context(cadata=server_pem.decode())
        host, port = fake.server.server_address[:2]
        with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):  # noqa: PT012
            with socket.create_connection((host, port), timeout=5) as raw:
                with plain.wrap_socket(raw, server_hostname=host) as tls:
                    tls.sendall(b"POST /ws HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                    tls.recv(1)
        # A server certificate the client does not trust is refused too.
        with pytest.raises(AuthorityUnavailable):
            authority(fake, cert, timeout=5).authorize(signed)
    finally:
        fake.stop()
