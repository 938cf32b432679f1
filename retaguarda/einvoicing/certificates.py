"""The company's A1 certificate: uploading it (checked before anything is stored), reading it
back to sign NF-e, and the review that warns when it is about to expire.

The password is stored encrypted with Fernet under a key derived (HKDF-SHA256) from the
instance's SECRET_KEY. The trade-off, written down:

* Gained: a copy of the database alone (a backup, a dump handed to support) does not give the
  password, so it does not give the private key inside the PKCS#12 file either. Someone needs
  the database *and* the instance's SECRET_KEY.
* Not gained: anyone who can read the instance's settings and its database, or run code in it,
  can sign as the company. The key is not in an HSM and no person types it in at start-up,
  because the worker must sign NF-e unattended.
* Cost: changing SECRET_KEY makes the stored passwords unreadable. Put the old key in
  SECRET_KEY_FALLBACKS while rotating (it is tried for reading), or upload the certificate again.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from retaguarda.common.errors import Conflict, ValidationFailed
from retaguarda.common.taxids import tax_id_format
from retaguarda.core.choices import OPEN_DEVIATION_STATUSES
from retaguarda.core.deviations import deviation_clear, deviation_raise
from retaguarda.core.models import Company, Deviation
from retaguarda.core.permissions import Actor, require
from retaguarda.core.services import audit_record

from .deviations import DEVIATION_CERTIFICATE_EXPIRING
from .models import CompanyCertificate
from .signing import A1Certificate, certificate_load

# An A1 file is a few kilobytes; anything far larger is not one.
CERTIFICATE_MAX_BYTES = 64 * 1024
EXPIRY_WARNING = timedelta(days=30)
_KEY_INFO = b"retaguarda.einvoicing.certificate-password"


# --- the password at rest -----------------------------------------------------------------------


def _fernet_key(secret: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(secret.encode())
    return base64.urlsafe_b64encode(derived)


def _fernet() -> MultiFernet:
    """Encrypts with SECRET_KEY; decrypts with it or any of SECRET_KEY_FALLBACKS."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([Fernet(_fernet_key(secret)) for secret in secrets])


def password_encrypt(password: str) -> str:
    return _fernet().encrypt(password.encode()).decode()


def password_decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        raise Conflict(
            _(
                "The certificate's password can no longer be read (the instance's secret key changed): "
                "upload the certificate again."
            ),
            code="certificate_unreadable",
        ) from None


# --- reading ------------------------------------------------------------------------------------


def certificate_active(company) -> CompanyCertificate | None:
    """The company's active certificate row (with its file), or None."""
    return CompanyCertificate.objects.filter(company=company, is_active=True).first()


def certificate_a1(row: CompanyCertificate, *, at: datetime | None = None) -> A1Certificate:
    """The loaded certificate of a stored row, ready to sign; ValidationFailed when it expired."""
    return certificate_load(bytes(row.pfx), password_decrypt(row.password_token), at=at)


def certificate_a1_for(company, *, at: datetime | None = None) -> A1Certificate | None:
    """The company's active certificate loaded, or None when it has none or it expired."""
    row = certificate_active(company)
    now = at or timezone.now()
    if row is None or row.not_after <= now:
        return None
    return certificate_a1(row, at=now)


# --- uploading ----------------------------------------------------------------------------------


def _fingerprint(certificate: A1Certificate) -> str:
    return hashlib.sha256(certificate.certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def certificate_upload(*, actor: Actor, pfx: bytes, password: str, now: datetime | None = None) -> CompanyCertificate:
    """Store a new A1 certificate as the company's active one (the previous one is kept as a
    record, its file and password erased), after checking that it opens with `password`, is
    valid now and is the company's e-CNPJ. Refused with ValidationFailed otherwise, storing
    nothing."""
    require(actor, "billing.change")
    company = actor.company
    now = now or timezone.now()
    if company.country != "BR":
        raise ValidationFailed(
            _("A1 certificates sign NF-e, which only companies in Brazil issue."), code="certificate_not_needed"
        )
    if not pfx:
        raise ValidationFailed(
            _("Choose the certificate file."), fields={"file": [_("Choose the certificate file (.pfx or .p12).")]}
        )
    if len(pfx) > CERTIFICATE_MAX_BYTES:
        raise ValidationFailed(
            _("The file is too large to be an A1 certificate."),
            fields={"file": [_("An A1 certificate file (.pfx or .p12) has a few kilobytes.")]},
        )
    certificate = certificate_load(pfx, password, at=now)
    company_cnpj = company.tax_id.upper()
    if not certificate.cnpj:
        raise ValidationFailed(
            _("The certificate carries no CNPJ: NF-e are signed with the company's e-CNPJ certificate."),
            code="certificate_no_cnpj",
            fields={"file": [_("Not an e-CNPJ certificate.")]},
        )
    # SEFAZ accepts the certificate of the head office for its branches: the CNPJ root decides.
    if certificate.cnpj[:8] != company_cnpj[:8]:
        raise ValidationFailed(
            _("The certificate belongs to CNPJ %(cert)s, not to the company (%(cnpj)s).")
            % {"cert": tax_id_format("BR", certificate.cnpj), "cnpj": tax_id_format("BR", company_cnpj)},
            code="certificate_other_company",
            fields={"file": [_("Another company's certificate.")]},
        )
    with transaction.atomic():
        # Uploads of one company queue on its row, so exactly one certificate ends up active.
        Company.objects.select_for_update().filter(pk=company.pk).first()
        previous = list(CompanyCertificate.objects.filter(company=company, is_active=True))
        for old in previous:
            old.is_active = False
            old.pfx = b""
            old.password_token = ""
            old.replaced_at = now
            old.save(update_fields=["is_active", "pfx", "password_token", "replaced_at"])
        row = CompanyCertificate.objects.create(
            company=company,
            pfx=pfx,
            password_token=password_encrypt(password),
            subject=certificate.subject_name[:255],
            cnpj=certificate.cnpj,
            fingerprint=_fingerprint(certificate),
            not_before=certificate.not_before,
            not_after=certificate.not_after,
            uploaded_at=now,
            uploaded_by=actor.user if actor.user_id else None,
        )
        audit_record(
            actor=actor,
            company=company,
            obj=row,
            action="einvoicing.certificate_uploaded",
            before={"certificate": previous[0].subject, "not_after": previous[0].not_after} if previous else None,
            after={"certificate": row.subject, "cnpj": row.cnpj, "not_after": row.not_after},
        )
        certificates_review(company, now=now)
        warn_at = row.not_after - EXPIRY_WARNING
        if warn_at > now:
            transaction.on_commit(lambda: _review_schedule(company.pk, warn_at))
    return row


def _review_schedule(company_id: int, at: datetime) -> None:
    from .tasks import certificate_review

    certificate_review.using(run_after=at).enqueue(company_id=company_id)


# --- the expiry warning -------------------------------------------------------------------------


def certificates_review(company, *, now: datetime | None = None) -> Deviation | None:
    """Open the "certificate expiring" deviation when the company's active certificate expires
    within 30 days (or has expired), and close the ones that no longer hold (the certificate
    was renewed). Returns the open deviation, or None. Run at upload and by the worker."""
    now = now or timezone.now()
    row = (
        CompanyCertificate.objects.filter(company=company, is_active=True)
        .only("pk", "subject", "not_after", "company_id")
        .first()
    )
    expiring = row is not None and row.not_after - now <= EXPIRY_WARNING
    stale = Deviation.objects.filter(
        company=company, kind=DEVIATION_CERTIFICATE_EXPIRING, status__in=OPEN_DEVIATION_STATUSES
    )
    if expiring:
        stale = stale.exclude(object_id=str(row.pk))
    for object_type, object_id in stale.values_list("object_type", "object_id"):
        deviation_clear(
            company=company, kind=DEVIATION_CERTIFICATE_EXPIRING, object_type=object_type, object_id=object_id
        )
    if not expiring:
        return None
    return deviation_raise(
        company=company,
        kind=DEVIATION_CERTIFICATE_EXPIRING,
        obj=row,
        object_repr=row.subject,
        params={"subject": row.subject, "date": timezone.localtime(row.not_after).date().isoformat()},
    )
