"""Test helpers for NF-e: self-signed A1 certificates made in memory, sample documents for both
tax regimes, and a fake SEFAZ that answers SOAP 1.2 requests on a local port.

Nothing here reaches a real authority: the fake server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import ipaddress
import ssl
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from lxml import etree

from .document import DocumentLine, InvoiceDocument, PartyInfo, TaxAmount
from .nfe import BRASILIA

TEST_CNPJ = "12345678000195"
TEST_SUBJECT = f"EMPRESA TESTE:{TEST_CNPJ}"
TEST_PASSWORD = "senha-de-teste"


def certificate_pfx_build(
    *,
    common_name: str = TEST_SUBJECT,
    password: str = TEST_PASSWORD,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    key_size: int = 2048,
) -> bytes:
    """A self-signed A1 certificate as PKCS#12 bytes, valid from yesterday for a year unless told."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    now = datetime.now(UTC)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ICP-Brasil"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(
        b"a1", key, certificate, None, serialization.BestAvailableEncryption(password.encode())
    )


def tls_server_pem_build(host: str = "127.0.0.1") -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) of a self-signed TLS server certificate for `host`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def tls_server_context(folder, *, client_certificate_pem: bytes | None) -> tuple[ssl.SSLContext, bytes]:
    """A TLS server context for the fake SEFAZ on 127.0.0.1 that (like SEFAZ) demands a client
    certificate, trusting only `client_certificate_pem`; and the server's certificate PEM, for the
    client to trust. `folder` holds the server's key files (ssl reads them only from disk)."""
    cert_pem, key_pem = tls_server_pem_build()
    cert_path, key_path = Path(folder) / "server.pem", Path(folder) / "server.key"
    cert_path.write_bytes(cert_pem)
    key_path.write_bytes(key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert_path), str(key_path))
    if client_certificate_pem is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cadata=client_certificate_pem.decode())
    return context, cert_pem


# --- documents ----------------------------------------------------------------------------------

SELLER = PartyInfo(
    name="Empresa Teste Ltda",
    tax_id=TEST_CNPJ,
    country="BR",
    street="Rua Augusta",
    number="1500",
    district="Consolacao",
    city="Sao Paulo",
    city_code="3550308",
    state="SP",
    postal_code="01304-001",
    phone="+55 11 3333-4444",
    trade_name="Loja Teste",
    state_registration="111222333444",
)
BUYER_COMPANY = PartyInfo(
    name="Cliente Comprador SA",
    tax_id="11222333000181",
    country="BR",
    street="Avenida Afonso Pena",
    number="100",
    complement="Sala 2",
    district="Centro",
    city="Belo Horizonte",
    city_code="3106200",
    state="MG",
    postal_code="30130-001",
    email="compras@cliente.com.br",
    state_registration="0623079040081",
)
BUYER_PERSON = PartyInfo(
    name="Maria da Silva",
    tax_id="52998224725",
    country="BR",
    street="Rua das Flores",
    number="12",
    district="Jardim",
    city="Campinas",
    city_code="3509502",
    state="SP",
    postal_code="13010-000",
    email="maria@example.com",
    is_company=False,
)


def simples_document(**changes) -> InvoiceDocument:
    """A Simples Nacional sale (CRT 1, CSOSN 102) to a consumer in the same state: 2 lines,
    2 × 10.00 and 1 × 35.50 less 5.50 discount, 50.00 in all."""
    lines = (
        DocumentLine(
            position=1,
            sku="MUG-01",
            description="Caneca azul 300 ml",
            quantity=Decimal("2"),
            unit_code="UN",
            unit_price=Decimal("10.00"),
            discount=Decimal("0"),
            net_amount=Decimal("20.00"),
            taxes=(TaxAmount(code="ICMS", rate=Decimal("0"), base=Decimal("0"), amount=Decimal("0"), situation="102"),),
            barcode="7891234567895",
            ncm="69120000",
            cfop="5102",
        ),
        DocumentLine(
            position=2,
            sku="TEA-02",
            description="Chá verde 100 g",
            quantity=Decimal("1"),
            unit_code="UN",
            unit_price=Decimal("35.50"),
            discount=Decimal("5.50"),
            net_amount=Decimal("30.00"),
            ncm="09021000",
            cfop="5102",
        ),
    )
    document = InvoiceDocument(
        kind="invoice",
        number="1-000123",
        series="1",
        sequence_number=123,
        issue_date=date(2026, 3, 10),
        issued_at=datetime(2026, 3, 10, 13, 30, tzinfo=UTC),
        currency="BRL",
        seller=SELLER,
        buyer=BUYER_PERSON,
        lines=lines,
        net_total=Decimal("50.00"),
        tax_total=Decimal("0.00"),
        withheld_total=Decimal("0.00"),
        grand_total=Decimal("50.00"),
        payable=Decimal("50.00"),
        notes=("Documento emitido por ME ou EPP optante pelo Simples Nacional.", "Pedido da loja 4711"),
        order_reference="4711",
        operation_nature="Venda de mercadoria",
        crt="1",
        environment="2",
    )
    return replace(document, **changes)


def normal_document(**changes) -> InvoiceDocument:
    """A Regime Normal sale (CRT 3) to a company in another state, paid by boleto in 30 days:
    one line of 4 × 25.00 = 100.00 with ICMS 12% (12.00), IPI 10% (10.00, added to the total),
    PIS 1.65% (1.65) and COFINS 7.60% (7.60) inside the price. NF-e total 110.00."""
    line = DocumentLine(
        position=1,
        sku="DRILL-9",
        description="Furadeira de impacto 650 W",
        quantity=Decimal("4"),
        unit_code="UN",
        unit_price=Decimal("25.00"),
        discount=Decimal("0"),
        net_amount=Decimal("100.00"),
        taxes=(
            TaxAmount(code="ICMS", rate=Decimal("12"), base=Decimal("100.00"), amount=Decimal("12.00"), situation="00"),
            TaxAmount(code="IPI", rate=Decimal("10"), base=Decimal("100.00"), amount=Decimal("10.00"), situation="50"),
            TaxAmount(code="PIS", rate=Decimal("1.65"), base=Decimal("100.00"), amount=Decimal("1.65"), situation="01"),
            TaxAmount(
                code="COFINS", rate=Decimal("7.60"), base=Decimal("100.00"), amount=Decimal("7.60"), situation="01"
            ),
        ),
        ncm="84672100",
        cfop="6101",
    )
    document = simples_document(
        buyer=BUYER_COMPANY,
        lines=(line,),
        net_total=Decimal("100.00"),
        tax_total=Decimal("10.00"),
        grand_total=Decimal("110.00"),
        payable=Decimal("110.00"),
        due_date=date(2026, 4, 9),
        notes=("Pedido 4712",),
        order_reference="4712",
        crt="3",
    )
    return replace(document, **changes)


# --- the fake SEFAZ -----------------------------------------------------------------------------

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
NFE_NS = "http://www.portalfiscal.inf.br/nfe"
WSDL = "http://www.portalfiscal.inf.br/nfe/wsdl/"


@dataclass
class FakeSefaz:
    """A local SEFAZ stand-in. `mode` decides the answer to the next requests:

    - "authorize": cStat 100 with a protocol number; "reject": `reject_code` (e.g. 225);
    - "deny": 301 (use denied); "duplicate": 204 once, then the consultation finds the note
      authorized; "duplicate_key": 539;
    - "down": HTTP 503 for everything; "paused": batch cStat 108 (service paused);
    - "slow": sleeps `delay` seconds before answering (for client timeouts).

    Every request is kept in `requests` as (service, parsed body element) for assertions.
    """

    mode: str = "authorize"
    reject_code: str = "225"
    delay: float = 0.0
    # dhRecbto of the answers (ISO with offset); the current time when empty.
    received_at: str = ""
    requests: list = field(default_factory=list)
    authorized: dict = field(default_factory=dict)  # access key -> protocol
    protocol_counter: int = 135260000000000
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None
    ssl_context: object | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{host}:{port}/ws"

    def start(self) -> FakeSefaz:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                return None

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, answer = fake.answer(body, self.headers.get("Content-Type", ""))
                if fake.mode == "slow":
                    time.sleep(fake.delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up waiting (a timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if self.ssl_context is not None:
            self.server.socket = self.ssl_context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)

    # The answers -------------------------------------------------------------------------------

    def _received(self) -> str:
        return self.received_at or datetime.now(UTC).astimezone(BRASILIA).isoformat(timespec="seconds")

    def _next_protocol(self) -> str:
        self.protocol_counter += 1
        return str(self.protocol_counter)

    def answer(self, body: bytes, content_type: str) -> tuple[int, bytes]:
        if self.mode == "down":
            return 503, b"Service Unavailable"
        try:
            envelope = etree.fromstring(body)
        except etree.XMLSyntaxError:
            return 400, b"bad request"
        if envelope.tag != f"{{{SOAP12}}}Envelope" or "application/soap+xml" not in content_type:
            return 400, b"SOAP 1.2 expected"
        message = envelope.find(f"{{{SOAP12}}}Body/*")
        service = etree.QName(message).namespace.removeprefix(WSDL)
        payload = message[0]
        with self.lock:
            self.requests.append((service, payload))
            if service == "NFeAutorizacao4":
                result = self._authorize(payload)
            elif service == "NFeStatusServico4":
                result = self._status(payload)
            elif service == "NFeConsultaProtocolo4":
                result = self._consult(payload)
            elif service == "NFeRecepcaoEvento4":
                result = self._event(payload)
            else:
                return 404, b"unknown service"
        return 200, _envelope(service, result.replace("@RECEIVED@", self._received()))

    def _authorize(self, envi) -> str:
        if self.mode == "paused":
            return _ret_envi("108", "Servico Paralisado Momentaneamente (curto prazo)", "")
        nfe = envi.find(f"{{{NFE_NS}}}NFe")
        key = nfe.find(f"{{{NFE_NS}}}infNFe").get("Id")[3:]
        if self.mode == "reject":
            return _ret_envi(
                "104", "Lote processado", _prot(key, self.reject_code, "Rejeicao: Falha no Schema XML", "")
            )
        if self.mode == "deny":
            return _ret_envi(
                "104", "Lote processado", _prot(key, "301", "Uso Denegado: Irregularidade fiscal do emitente", "")
            )
        if self.mode == "duplicate_key":
            return _ret_envi(
                "104",
                "Lote processado",
                _prot(key, "539", "Rejeicao: Duplicidade de NF-e com diferenca na Chave de Acesso", ""),
            )
        if self.mode == "duplicate" or key in self.authorized:
            self.authorized.setdefault(key, self._next_protocol())
            return _ret_envi("104", "Lote processado", _prot(key, "204", "Rejeicao: Duplicidade de NF-e", ""))
        protocol = self._next_protocol()
        self.authorized[key] = protocol
        return _ret_envi("104", "Lote processado", _prot(key, "100", "Autorizado o uso da NF-e", protocol))

    def _status(self, payload) -> str:
        if self.mode == "paused":
            return _ret_status("108", "Servico Paralisado Momentaneamente (curto prazo)")
        return _ret_status("107", "Servico em Operacao")

    def _consult(self, payload) -> str:
        key = payload.findtext(f"{{{NFE_NS}}}chNFe")
        protocol = self.authorized.get(key)
        if protocol is None:
            return (
                f'<retConsSitNFe xmlns="{NFE_NS}" versao="4.00"><tpAmb>2</tpAmb><verAplic>FAKE</verAplic>'
                "<cStat>217</cStat><xMotivo>Rejeicao: NF-e nao consta na base de dados da SEFAZ</xMotivo>"
                f"<cUF>35</cUF><dhRecbto>@RECEIVED@</dhRecbto><chNFe>{key}</chNFe></retConsSitNFe>"
            )
        return (
            f'<retConsSitNFe xmlns="{NFE_NS}" versao="4.00"><tpAmb>2</tpAmb><verAplic>FAKE</verAplic>'
            f"<cStat>100</cStat><xMotivo>Autorizado o uso da NF-e</xMotivo><cUF>35</cUF>"
            f"<dhRecbto>@RECEIVED@</dhRecbto><chNFe>{key}</chNFe>"
            f"{_prot(key, '100', 'Autorizado o uso da NF-e', protocol)}</retConsSitNFe>"
        )

    def _event(self, env) -> str:
        evento = env.find(f"{{{NFE_NS}}}evento")
        inf = evento.find(f"{{{NFE_NS}}}infEvento")
        key = inf.findtext(f"{{{NFE_NS}}}chNFe")
        given = inf.findtext(f"{{{NFE_NS}}}detEvento/{{{NFE_NS}}}nProt")
        if self.mode == "reject" or self.authorized.get(key) != given:
            code, reason, protocol = "573", "Rejeicao: Duplicidade de Evento", ""
            if self.authorized.get(key) != given:
                code, reason = "222", "Rejeicao: Protocolo de Autorizacao de Uso difere do cadastrado"
        else:
            code, reason, protocol = "135", "Evento registrado e vinculado a NF-e", self._next_protocol()
        id_lote = env.findtext(f"{{{NFE_NS}}}idLote")
        return (
            f'<retEnvEvento xmlns="{NFE_NS}" versao="1.00"><idLote>{id_lote}</idLote><tpAmb>2</tpAmb>'
            "<verAplic>FAKE</verAplic><cOrgao>35</cOrgao><cStat>128</cStat>"
            "<xMotivo>Lote de Evento Processado</xMotivo>"
            f'<retEvento versao="1.00"><infEvento><tpAmb>2</tpAmb><verAplic>FAKE</verAplic><cOrgao>35</cOrgao>'
            f"<cStat>{code}</cStat><xMotivo>{reason}</xMotivo><chNFe>{key}</chNFe><tpEvento>110111</tpEvento>"
            f"<xEvento>Cancelamento registrado</xEvento><nSeqEvento>1</nSeqEvento>"
            f"<dhRegEvento>@RECEIVED@</dhRegEvento>"
            + (f"<nProt>{protocol}</nProt>" if protocol else "")
            + "</infEvento></retEvento></retEnvEvento>"
        )


def _envelope(service: str, result: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP12}"><soap:Body>'
        f'<nfeResultMsg xmlns="{WSDL}{service}">{result}</nfeResultMsg></soap:Body></soap:Envelope>'
    ).encode()


def _ret_envi(code: str, reason: str, prot: str) -> str:
    return (
        f'<retEnviNFe xmlns="{NFE_NS}" versao="4.00"><tpAmb>2</tpAmb><verAplic>FAKE</verAplic>'
        f"<cStat>{code}</cStat><xMotivo>{reason}</xMotivo><cUF>35</cUF>"
        f"<dhRecbto>@RECEIVED@</dhRecbto>{prot}</retEnviNFe>"
    )


def _prot(key: str, code: str, reason: str, protocol: str) -> str:
    return (
        f'<protNFe versao="4.00"><infProt><tpAmb>2</tpAmb><verAplic>FAKE</verAplic><chNFe>{key}</chNFe>'
        f"<dhRecbto>@RECEIVED@</dhRecbto>"
        + (f"<nProt>{protocol}</nProt>" if protocol else "")
        + f"<digVal>AAAAAAAAAAAAAAAAAAAAAAAAAAA=</digVal><cStat>{code}</cStat><xMotivo>{reason}</xMotivo>"
        "</infProt></protNFe>"
    )


def _ret_status(code: str, reason: str) -> str:
    return (
        f'<retConsStatServ xmlns="{NFE_NS}" versao="4.00"><tpAmb>2</tpAmb><verAplic>FAKE</verAplic>'
        f"<cStat>{code}</cStat><xMotivo>{reason}</xMotivo><cUF>35</cUF>"
        f"<dhRecbto>@RECEIVED@</dhRecbto></retConsStatServ>"
    )
