"""The company's A1 certificate (a PKCS#12 file and its password) and the XML signature SEFAZ
requires on an NF-e and on its events: enveloped XMLDSig over the element with the Id
(infNFe, infEvento), RSA-SHA1, inclusive C14N 1.0, the certificate in KeyInfo/X509Data.

SHA-1 is weak, but the NF-e 4.00 schema fixes these algorithms, so they are used here and
nowhere else.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.utils.translation import gettext as _
from lxml import etree

from retaguarda.common.errors import ValidationFailed

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
_CNPJ_IN_NAME = re.compile(r":([0-9A-Z]{12}[0-9]{2})\b")


@dataclass(frozen=True)
class A1Certificate:
    """A loaded A1 certificate: the private key, the certificate and the chain that came with it."""

    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def subject_name(self) -> str:
        names = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else ""

    @property
    def cnpj(self) -> str:
        """The CNPJ an ICP-Brasil e-CNPJ carries after the name ("EMPRESA LTDA:12345678000195")."""
        match = _CNPJ_IN_NAME.search(self.subject_name)
        return match.group(1) if match else ""

    @property
    def not_before(self) -> datetime:
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        return self.certificate.not_valid_after_utc

    def certificate_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (self.certificate, *self.chain))

    def private_key_pem(self) -> bytes:
        """The key unencrypted, for the TLS client handshake only; never store it."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


def certificate_load(pfx: bytes, password: str, *, at: datetime | None = None) -> A1Certificate:
    """The certificate in a PKCS#12 (.pfx/.p12) file, refused when the password is wrong, the key
    is not RSA or the certificate is not valid at `at` (now)."""
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(pfx, (password or "").encode())
    except (ValueError, TypeError):
        raise ValidationFailed(
            _("The certificate's password is wrong, or the file is not a PKCS#12 (.pfx) certificate."),
            code="certificate_unreadable",
            fields={"password": _("Check the password.")},
        ) from None
    if certificate is None or key is None:
        raise ValidationFailed(
            _("The certificate file holds no certificate with its private key."), code="certificate_incomplete"
        )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValidationFailed(
            _("The certificate's key is not an RSA key, which SEFAZ requires."), code="certificate_key"
        )
    now = at or datetime.now(UTC)
    if now > certificate.not_valid_after_utc:
        raise ValidationFailed(
            _("The certificate expired on %(date)s.") % {"date": certificate.not_valid_after_utc.date().isoformat()},
            code="certificate_expired",
        )
    if now < certificate.not_valid_before_utc:
        raise ValidationFailed(
            _("The certificate is valid only from %(date)s.")
            % {"date": certificate.not_valid_before_utc.date().isoformat()},
            code="certificate_not_yet_valid",
        )
    return A1Certificate(private_key=key, certificate=certificate, chain=tuple(chain or ()))


def _signed_element(root) -> etree._Element:
    """The element the signature covers: the root's child that carries the Id."""
    for child in root:
        if isinstance(child.tag, str) and child.get("Id"):
            return child
    raise ValidationFailed(_("Nothing to sign: the document has no element with an Id."), code="unsignable")


def _ds(parent, tag: str, text: str | None = None, **attributes) -> etree._Element:
    element = etree.SubElement(parent, f"{{{DS_NS}}}{tag}", **attributes)
    element.text = text
    return element


def nfe_sign(xml: bytes, cert: A1Certificate) -> bytes:
    """`xml` (an NF-e, or an event) with its enveloped signature as SEFAZ requires, as the last
    child of the root. A signature already there is replaced.

    Written out rather than through signxml's signer: the schema fixes every element of the
    signature (no prefix, which SEFAZ refuses with rejection 404; exactly these transforms; only
    the certificate in KeyInfo), so the few steps are clearer than bending a general signer, and
    libxml2's in-place canonicalization must be avoided (see `_c14n`)."""
    root = etree.fromstring(xml)
    for old in root.findall(f"{{{DS_NS}}}Signature"):
        root.remove(old)
    target = _signed_element(root)
    digest = hashlib.sha1(_c14n(target)).digest()  # noqa: S324 - fixed by the schema

    signature = etree.SubElement(root, f"{{{DS_NS}}}Signature", nsmap={None: DS_NS})
    signed_info = _ds(signature, "SignedInfo")
    _ds(signed_info, "CanonicalizationMethod", Algorithm=C14N)
    _ds(signed_info, "SignatureMethod", Algorithm=f"{DS_NS}rsa-sha1")
    reference = _ds(signed_info, "Reference", URI=f"#{target.get('Id')}")
    transforms = _ds(reference, "Transforms")
    _ds(transforms, "Transform", Algorithm=f"{DS_NS}enveloped-signature")
    _ds(transforms, "Transform", Algorithm=C14N)
    _ds(reference, "DigestMethod", Algorithm=f"{DS_NS}sha1")
    _ds(reference, "DigestValue", base64.b64encode(digest).decode())
    # SignedInfo is canonicalized with the namespace it inherits from Signature.
    value = cert.private_key.sign(_c14n(signed_info), padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    _ds(signature, "SignatureValue", base64.b64encode(value).decode())
    x509_data = _ds(_ds(signature, "KeyInfo"), "X509Data")
    der = cert.certificate.public_bytes(serialization.Encoding.DER)
    _ds(x509_data, "X509Certificate", base64.b64encode(der).decode())
    return etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def _c14n(element) -> bytes:
    """Inclusive C14N 1.0 of `element` with the namespaces it inherits.

    Canonicalized on a detached copy: libxml2 2.14 writes a wrong xmlns="" on grandchildren when
    it canonicalizes a subtree in place under a redeclared default namespace (SignedInfo inside
    Signature inside NFe), which would make SEFAZ compute another digest (rejection 297). The
    copy keeps the namespaces the element uses; our documents declare no others."""
    return etree.tostring(copy.deepcopy(element), method="c14n")


def _embedded_certificate(signature) -> x509.Certificate | None:
    node = signature.find(f"{{{DS_NS}}}KeyInfo/{{{DS_NS}}}X509Data/{{{DS_NS}}}X509Certificate")
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join((node.text or "").split())))
    except (AttributeError, ValueError, binascii.Error):
        return None


def _algorithm(parent, tag: str) -> str:
    node = parent.find(f"{{{DS_NS}}}{tag}")
    return node.get("Algorithm", "") if node is not None else ""


def nfe_signature_verify(xml: bytes, cert: A1Certificate | None = None) -> bool:
    """Whether `xml` carries one intact SEFAZ signature over its signed element (infNFe or
    infEvento): the expected algorithms, the digest of the element and the signature value. With
    `cert`, the signature must also be that certificate's; without, the certificate embedded in
    the signature is used (integrity only, not who signed)."""
    try:
        root = etree.fromstring(xml)
        target = _signed_element(root)
    except (etree.XMLSyntaxError, ValidationFailed):
        return False
    signatures = root.findall(f"{{{DS_NS}}}Signature")
    if len(signatures) != 1:
        return False
    signature = signatures[0]
    signed_info = signature.find(f"{{{DS_NS}}}SignedInfo")
    references = signed_info.findall(f"{{{DS_NS}}}Reference") if signed_info is not None else []
    if len(references) != 1 or references[0].get("URI") != f"#{target.get('Id')}":
        return False
    reference = references[0]
    transforms = [t.get("Algorithm") for t in reference.iterfind(f"{{{DS_NS}}}Transforms/{{{DS_NS}}}Transform")]
    if (
        _algorithm(signed_info, "CanonicalizationMethod") != C14N
        or _algorithm(signed_info, "SignatureMethod") != f"{DS_NS}rsa-sha1"
        or _algorithm(reference, "DigestMethod") != f"{DS_NS}sha1"
        or transforms != [f"{DS_NS}enveloped-signature", C14N]
    ):
        return False
    # The enveloped transform: the signature sits beside the signed element, never inside it.
    if target.find(f".//{{{DS_NS}}}Signature") is not None:
        return False
    digest = base64.b64encode(hashlib.sha1(_c14n(target)).digest()).decode()  # noqa: S324 - fixed by the schema
    if digest != "".join((reference.findtext(f"{{{DS_NS}}}DigestValue") or "").split()):
        return False
    embedded = _embedded_certificate(signature)
    if embedded is None or (cert is not None and embedded != cert.certificate):
        return False
    try:
        value = base64.b64decode("".join((signature.findtext(f"{{{DS_NS}}}SignatureValue") or "").split()))
        embedded.public_key().verify(value, _c14n(signed_info), padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    except (InvalidSignature, ValueError, TypeError, binascii.Error):
        return False
    return True
