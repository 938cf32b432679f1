"""Talking to the tax authority (SEFAZ, or its SVC stand-in): the `Authority` interface the
services use, and `SoapAuthority`, which posts SOAP 1.2 envelopes over HTTP(S) with the
company's certificate as the TLS client certificate.

An answer the authority gave is an `AuthorityResponse`, whatever its code; failing to get one
(refused connection, HTTP error, timeout, service paused) raises `AuthorityUnavailable`, which
the services count towards contingency.
"""

from __future__ import annotations

import http.client
import os
import ssl
import tempfile
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from lxml import etree

from .signing import A1Certificate

NFE_NS = "http://www.portalfiscal.inf.br/nfe"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
WSDL = "http://www.portalfiscal.inf.br/nfe/wsdl/"
SERVICE_AUTHORIZE = "NFeAutorizacao4"
SERVICE_STATUS = "NFeStatusServico4"
SERVICE_CONSULT = "NFeConsultaProtocolo4"
SERVICE_EVENT = "NFeRecepcaoEvento4"
_OPERATIONS = {
    SERVICE_AUTHORIZE: "nfeAutorizacaoLote",
    SERVICE_STATUS: "nfeStatusServicoNF",
    SERVICE_CONSULT: "nfeConsultaNF",
    SERVICE_EVENT: "nfeRecepcaoEvento",
}

AUTHORIZED = frozenset({"100", "150"})  # 150: authorized after the deadline
DENIED = frozenset({"110", "301", "302", "303"})  # the number is used up, the note refused
DUPLICATE = "204"
DUPLICATE_OTHER_KEY = "539"
EVENT_REGISTERED = frozenset({"135", "136", "155"})  # 155: cancellation accepted after the deadline
SERVICE_RUNNING = "107"
SERVICE_PAUSED = frozenset({"108", "109"})


class AuthorityUnavailable(Exception):
    """No answer from the authority. `uncertain` when the request may have arrived (a timeout
    after sending): the note may be authorized there, so it must not be re-issued under
    another key before the authority is asked again."""

    def __init__(self, message: str, *, uncertain: bool = False):
        super().__init__(message)
        self.message = message
        self.uncertain = uncertain


@dataclass(frozen=True)
class AuthorityResponse:
    """The authority's answer about one document or event."""

    cstat: str
    xmotivo: str
    protocol: str = ""
    received_at: datetime | None = None
    access_key: str = ""
    xml: bytes = b""  # protNFe or retEvento as received, kept with the document

    @property
    def authorized(self) -> bool:
        return self.cstat in AUTHORIZED

    @property
    def denied(self) -> bool:
        return self.cstat in DENIED

    @property
    def duplicate(self) -> bool:
        return self.cstat == DUPLICATE

    @property
    def event_registered(self) -> bool:
        return self.cstat in EVENT_REGISTERED


class Authority(Protocol):
    def authorize(self, signed_xml: bytes) -> AuthorityResponse:
        """Send one signed NF-e for authorization (synchronously)."""

    def status(self) -> bool:
        """Whether the authorization service is running."""

    def consult(self, access_key: str) -> AuthorityResponse:
        """The authority's record of a note (to recover the protocol of a duplicate)."""

    def cancel(self, access_key: str, protocol: str, reason: str, signed_event_xml: bytes) -> AuthorityResponse:
        """Register a signed cancellation event."""


def _q(tag: str) -> str:
    return f"{{{NFE_NS}}}{tag}"


def _text(element, tag: str) -> str:
    return (element.findtext(_q(tag)) or "").strip() if element is not None else ""


def _when(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _response_from(info, *, xml_element) -> AuthorityResponse:
    return AuthorityResponse(
        cstat=_text(info, "cStat"),
        xmotivo=_text(info, "xMotivo"),
        protocol=_text(info, "nProt"),
        received_at=_when(_text(info, "dhRecbto") or _text(info, "dhRegEvento")),
        access_key=_text(info, "chNFe"),
        xml=etree.tostring(xml_element, encoding="UTF-8") if xml_element is not None else b"",
    )


class SoapAuthority:
    """One SEFAZ (or SVC) reached over SOAP 1.2.

    `url` is the authorization service (NFeAutorizacao4); the status, consultation and event
    services have their own addresses at a real SEFAZ (`status_url`, `consult_url`,
    `event_url`, defaulting to `url`). `uf_code` and `environment` (1 production, 2
    homologation) go into the status and consultation requests. `ca_file`/`ca_pem` choose the
    authorities trusted for the server's TLS certificate (ICP-Brasil's chain in production).
    """

    def __init__(
        self,
        url: str,
        cert: A1Certificate,
        *,
        uf_code: str,
        environment: str = "2",
        status_url: str = "",
        consult_url: str = "",
        event_url: str = "",
        timeout: float = 30.0,
        ca_file: str | None = None,
        ca_pem: bytes | None = None,
    ):
        self.url = url
        self.cert = cert
        self.uf_code = uf_code
        self.environment = environment
        self.urls = {
            SERVICE_AUTHORIZE: url,
            SERVICE_STATUS: status_url or url,
            SERVICE_CONSULT: consult_url or url,
            SERVICE_EVENT: event_url or url,
        }
        self.timeout = timeout
        self.ca_file = ca_file
        self.ca_pem = ca_pem
        self._ssl: ssl.SSLContext | None = None

    # Transport ---------------------------------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            context = ssl.create_default_context(
                cafile=self.ca_file, cadata=self.ca_pem.decode() if self.ca_pem else None
            )
            # ssl loads a client certificate only from files: write both to a private temporary
            # directory, load them and remove them at once.
            with tempfile.TemporaryDirectory() as folder:
                cert_path = os.path.join(folder, "cert.pem")
                key_path = os.path.join(folder, "key.pem")
                for path, data in ((cert_path, self.cert.certificate_pem()), (key_path, self.cert.private_key_pem())):
                    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(descriptor, "wb") as handle:
                        handle.write(data)
                context.load_cert_chain(cert_path, key_path)
            self._ssl = context
        return self._ssl

    def _envelope(self, service: str, payload: bytes) -> bytes:
        envelope = etree.Element(f"{{{SOAP12_NS}}}Envelope", nsmap={"soap12": SOAP12_NS})
        body = etree.SubElement(envelope, f"{{{SOAP12_NS}}}Body")
        message = etree.SubElement(body, f"{{{WSDL}{service}}}nfeDadosMsg", nsmap={None: f"{WSDL}{service}"})
        message.append(etree.fromstring(payload))
        return etree.tostring(envelope, encoding="UTF-8", xml_declaration=True)

    def _post(self, service: str, payload: bytes) -> etree._Element:
        """The first element of the answer's nfeResultMsg."""
        url = urlsplit(self.urls[service])
        action = f"{WSDL}{service}/{_OPERATIONS[service]}"
        body = self._envelope(service, payload)
        if url.scheme == "https":
            connection = http.client.HTTPSConnection(
                url.hostname, url.port or 443, timeout=self.timeout, context=self._ssl_context()
            )
        else:
            connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=self.timeout)
        sent = False
        try:
            connection.request(
                "POST",
                url.path or "/",
                body=body,
                headers={"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'},
            )
            sent = True
            answer = connection.getresponse()
            data = answer.read()
        except TimeoutError as error:
            raise AuthorityUnavailable(
                _("The authority did not answer in time: %(error)s") % {"error": error}, uncertain=sent
            ) from error
        except (OSError, http.client.HTTPException) as error:
            raise AuthorityUnavailable(
                _("The authority could not be reached: %(error)s") % {"error": error}, uncertain=sent
            ) from error
        finally:
            connection.close()
        if answer.status >= 500 or answer.status in (404, 408, 429):
            raise AuthorityUnavailable(
                _("The authority answered HTTP %(status)s.") % {"status": answer.status}, uncertain=False
            )
        try:
            envelope = etree.fromstring(data)
        except etree.XMLSyntaxError as error:
            raise AuthorityUnavailable(
                _("The authority's answer is not XML (HTTP %(status)s).") % {"status": answer.status}, uncertain=True
            ) from error
        result = envelope.find(f"{{{SOAP12_NS}}}Body/{{{WSDL}{service}}}nfeResultMsg")
        if result is None or len(result) == 0:
            raise AuthorityUnavailable(
                _("The authority's answer has no result (HTTP %(status)s).") % {"status": answer.status},
                uncertain=True,
            )
        return result[0]

    # Services ----------------------------------------------------------------------------------

    def authorize(self, signed_xml: bytes) -> AuthorityResponse:
        envi = etree.Element(_q("enviNFe"), nsmap={None: NFE_NS}, versao="4.00")
        etree.SubElement(envi, _q("idLote")).text = datetime.now().strftime("%y%m%d%H%M%S%f")[:15]
        etree.SubElement(envi, _q("indSinc")).text = "1"  # synchronous: the answer carries the protocol
        envi.append(etree.fromstring(signed_xml))
        ret = self._post(SERVICE_AUTHORIZE, etree.tostring(envi, encoding="UTF-8"))
        batch = _text(ret, "cStat")
        if batch in SERVICE_PAUSED:
            raise AuthorityUnavailable(
                _("The authority's service is paused (%(code)s: %(reason)s).")
                % {"code": batch, "reason": _text(ret, "xMotivo")}
            )
        prot = ret.find(_q("protNFe"))
        if prot is None:
            # The whole batch was refused (schema, certificate, ...): the code says why.
            return _response_from(ret, xml_element=ret)
        return _response_from(prot.find(_q("infProt")), xml_element=prot)

    def status(self) -> bool:
        cons = etree.Element(_q("consStatServ"), nsmap={None: NFE_NS}, versao="4.00")
        etree.SubElement(cons, _q("tpAmb")).text = self.environment
        etree.SubElement(cons, _q("cUF")).text = self.uf_code
        etree.SubElement(cons, _q("xServ")).text = "STATUS"
        try:
            ret = self._post(SERVICE_STATUS, etree.tostring(cons, encoding="UTF-8"))
        except AuthorityUnavailable:
            return False
        return _text(ret, "cStat") == SERVICE_RUNNING

    def consult(self, access_key: str) -> AuthorityResponse:
        cons = etree.Element(_q("consSitNFe"), nsmap={None: NFE_NS}, versao="4.00")
        etree.SubElement(cons, _q("tpAmb")).text = self.environment
        etree.SubElement(cons, _q("xServ")).text = "CONSULTAR"
        etree.SubElement(cons, _q("chNFe")).text = access_key
        ret = self._post(SERVICE_CONSULT, etree.tostring(cons, encoding="UTF-8"))
        prot = ret.find(_q("protNFe"))
        if prot is None:
            return _response_from(ret, xml_element=ret)
        return _response_from(prot.find(_q("infProt")), xml_element=prot)

    def cancel(self, access_key: str, protocol: str, reason: str, signed_event_xml: bytes) -> AuthorityResponse:
        event = etree.fromstring(signed_event_xml)
        inf = event.find(_q("infEvento"))
        if (
            inf is None
            or _text(inf, "chNFe") != access_key
            or (inf.findtext(f"{_q('detEvento')}/{_q('nProt')}") or "") != protocol
            or (inf.findtext(f"{_q('detEvento')}/{_q('xJust')}") or "") != reason
        ):
            raise ValueError("the signed event does not match the access key, protocol and reason given")
        env = etree.Element(_q("envEvento"), nsmap={None: NFE_NS}, versao="1.00")
        etree.SubElement(env, _q("idLote")).text = datetime.now().strftime("%y%m%d%H%M%S%f")[:15]
        env.append(event)
        ret = self._post(SERVICE_EVENT, etree.tostring(env, encoding="UTF-8"))
        batch = _text(ret, "cStat")
        if batch in SERVICE_PAUSED:
            raise AuthorityUnavailable(
                _("The authority's service is paused (%(code)s: %(reason)s).")
                % {"code": batch, "reason": _text(ret, "xMotivo")}
            )
        answer = ret.find(_q("retEvento"))
        if answer is None:
            return _response_from(ret, xml_element=ret)
        return _response_from(answer.find(_q("infEvento")), xml_element=answer)
