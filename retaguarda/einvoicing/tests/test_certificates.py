"""The company's A1 certificate: stored only when it opens, is valid and is the company's; its
password encrypted under the instance's secret key; a replaced one erased; the expiry warning
raised within 30 days and closed by the renewal, also by the worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from retaguarda.common.errors import Conflict, PermissionDenied, ValidationFailed
from retaguarda.core.choices import Role
from retaguarda.core.deviations import deviation_title
from retaguarda.core.models import AuditLog, Deviation
from retaguarda.core.testing import actor_build
from retaguarda.einvoicing.certificates import (
    certificate_a1_for,
    certificate_upload,
    certificates_review,
    password_decrypt,
)
from retaguarda.einvoicing.deviations import DEVIATION_CERTIFICATE_EXPIRING
from retaguarda.einvoicing.models import CompanyCertificate
from retaguarda.einvoicing.signing import certificate_load
from retaguarda.einvoicing.tasks import certificate_review
from retaguarda.einvoicing.testing import TEST_CNPJ, TEST_PASSWORD, TEST_SUBJECT, certificate_pfx_build

from .conftest import certificate_store

pytestmark = pytest.mark.django_db


def nothing_stored(company) -> bool:
    return (
        not CompanyCertificate.objects.filter(company=company).exists()
        and not AuditLog.objects.filter(company=company, action="einvoicing.certificate_uploaded").exists()
        and not Deviation.objects.filter(company=company).exists()
    )


def test_a_valid_certificate_is_stored_with_its_password_encrypted(br, pfx, django_capture_on_commit_callbacks):
    actor = actor_build(br, Role.FINANCE)
    loaded = certificate_load(pfx, TEST_PASSWORD)

    with django_capture_on_commit_callbacks(execute=True):
        row = certificate_upload(actor=actor, pfx=pfx, password=TEST_PASSWORD)

    row = CompanyCertificate.objects.get(pk=row.pk)
    assert (row.is_active, row.subject, row.cnpj, row.not_before, row.not_after, row.uploaded_by_id) == (
        True,
        TEST_SUBJECT,
        TEST_CNPJ,
        loaded.not_before.replace(microsecond=0),
        loaded.not_after.replace(microsecond=0),
        actor.user.pk,
    )
    assert bytes(row.pfx) == pfx
    assert TEST_PASSWORD not in row.password_token
    assert password_decrypt(row.password_token) == TEST_PASSWORD
    assert certificate_a1_for(br).certificate == loaded.certificate
    audit = AuditLog.objects.get(company=br, action="einvoicing.certificate_uploaded")
    assert audit.after["cnpj"] == TEST_CNPJ
    # The warning is queued for the day the certificate enters its last 30 days.
    task = DBTaskResult.objects.get(task_path="retaguarda.einvoicing.tasks.certificate_review")
    assert task.run_after == row.not_after - timedelta(days=30)
    assert not Deviation.objects.filter(company=br).exists()


def test_a_wrong_password_stores_nothing(br, pfx):
    with pytest.raises(ValidationFailed) as refused:
        certificate_store(br, pfx, password="not-the-password")
    assert refused.value.code == "certificate_unreadable"
    assert refused.value.fields == {"password": "Check the password."}
    assert nothing_stored(br)


def test_an_expired_certificate_stores_nothing(br):
    now = datetime.now(UTC)
    expired = certificate_pfx_build(not_before=now - timedelta(days=400), not_after=now - timedelta(days=1))
    with pytest.raises(ValidationFailed) as refused:
        certificate_store(br, expired)
    assert refused.value.code == "certificate_expired"
    assert refused.value.message == f"The certificate expired on {(now - timedelta(days=1)).date().isoformat()}."
    assert nothing_stored(br)


def test_another_companys_certificate_stores_nothing(br):
    other = certificate_pfx_build(common_name="OUTRA EMPRESA LTDA:11222333000181")
    with pytest.raises(ValidationFailed) as refused:
        certificate_store(br, other)
    assert refused.value.code == "certificate_other_company"
    assert refused.value.message == (
        "The certificate belongs to CNPJ 11.222.333/0001-81, not to the company (12.345.678/0001-95)."
    )
    assert refused.value.fields == {"file": ["Another company's certificate."]}
    assert nothing_stored(br)


def test_a_certificate_without_cnpj_stores_nothing(br):
    ecpf = certificate_pfx_build(common_name="MARIA DA SILVA:52998224725")
    with pytest.raises(ValidationFailed) as refused:
        certificate_store(br, ecpf)
    assert refused.value.code == "certificate_no_cnpj"
    assert nothing_stored(br)


def test_a_head_office_certificate_serves_its_branch(db, pfx):
    from .conftest import br_company

    branch = br_company()
    branch.tax_id = "12345678000276"  # same root as the certificate's 12345678000195
    branch.save(update_fields=["tax_id"])
    assert certificate_store(branch, pfx).cnpj == TEST_CNPJ


def test_outside_brazil_and_without_permission_nothing_is_stored(es, br, pfx):
    with pytest.raises(ValidationFailed) as refused:
        certificate_store(es, pfx)
    assert refused.value.code == "certificate_not_needed"
    with pytest.raises(PermissionDenied):
        certificate_upload(actor=actor_build(br, Role.SALES), pfx=pfx, password=TEST_PASSWORD)
    assert nothing_stored(es) and nothing_stored(br)


def test_an_oversized_or_missing_file_stores_nothing(br):
    for content in (b"", b"x" * (64 * 1024 + 1)):
        with pytest.raises(ValidationFailed) as refused:
            certificate_store(br, content)
        assert list(refused.value.fields) == ["file"]
    assert nothing_stored(br)


def test_a_new_certificate_replaces_and_erases_the_old_one(br, pfx):
    first = certificate_store(br, pfx)
    renewed = certificate_pfx_build()

    second = certificate_store(br, renewed)

    first.refresh_from_db()
    assert (first.is_active, bytes(first.pfx), first.password_token) == (False, b"", "")
    assert first.replaced_at is not None
    assert list(CompanyCertificate.objects.filter(company=br, is_active=True)) == [second]
    assert certificate_a1_for(br).certificate == certificate_load(renewed, TEST_PASSWORD).certificate


def test_the_password_survives_a_key_rotation_only_with_the_old_key_as_fallback(br, pfx, settings):
    certificate_store(br, pfx)
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-for-this-instance"
    settings.SECRET_KEY_FALLBACKS = [old]
    assert certificate_a1_for(br) is not None

    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(Conflict) as refused:
        certificate_a1_for(br)
    assert refused.value.code == "certificate_unreadable"


def test_a_certificate_expiring_within_30_days_raises_the_deviation_until_renewed(br):
    now = datetime.now(UTC)
    soon = certificate_pfx_build(not_after=now + timedelta(days=20))
    row = certificate_store(br, soon)

    deviation = Deviation.objects.get(company=br, kind=DEVIATION_CERTIFICATE_EXPIRING, status="open")
    date = row.not_after.date().isoformat()
    assert (deviation.object_id, deviation.owner_role, deviation.severity) == (str(row.pk), "finance", "high")
    assert deviation_title(deviation) == f"The A1 certificate {TEST_SUBJECT} expires on {date}: upload its renewal"
    # Reviewing again keeps the one deviation.
    assert certificates_review(br) == deviation

    certificate_store(br, certificate_pfx_build())

    deviation.refresh_from_db()
    assert deviation.status == "closed"
    assert not Deviation.objects.filter(company=br, status="open").exists()


def test_the_worker_raises_the_warning_when_the_day_comes(br, pfx):
    row = certificate_store(br, pfx)
    assert not Deviation.objects.filter(company=br).exists()

    CompanyCertificate.objects.filter(pk=row.pk).update(not_after=datetime.now(UTC) + timedelta(days=29))
    result = certificate_review.call(company_id=br.pk)

    deviation = Deviation.objects.get(company=br, kind=DEVIATION_CERTIFICATE_EXPIRING)
    assert result == {"deviation_id": deviation.pk}
    assert (deviation.status, deviation.object_id) == ("open", str(row.pk))


def test_a_company_without_certificate_has_no_warning(br):
    assert certificates_review(br) is None
    assert not Deviation.objects.filter(company=br).exists()
