"""NF-e services against the fake SEFAZ: queue, send (authorized, rejected, denied, duplicate
after a timeout), outage -> contingency (SVC) -> recovery, cancellation, and the task."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from lxml import etree

from retaguarda.billing.choices import InvoiceKind
from retaguarda.billing.models import Invoice
from retaguarda.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog, OutboxEvent
from retaguarda.core.testing import actor_build, company_build
from retaguarda.einvoicing import nfe
from retaguarda.einvoicing.authority import SoapAuthority
from retaguarda.einvoicing.models import (
    AuthorityMode,
    EventStatus,
    NFeAuthorityState,
    NFeEvent,
    NFeSubmission,
    SubmissionStatus,
)
from retaguarda.einvoicing.nfe_services import (
    CONTINGENCY_AFTER_FAILURES,
    AuthoritySet,
    AuthorityUnreachable,
    nfe_cancel,
    nfe_submission_queue,
    nfe_submissions_send,
)
from retaguarda.einvoicing.signing import certificate_load, nfe_signature_verify
from retaguarda.einvoicing.tasks import nfe_send_queue
from retaguarda.einvoicing.testing import (
    BUYER_COMPANY,
    TEST_CNPJ,
    TEST_PASSWORD,
    FakeSefaz,
    certificate_pfx_build,
    normal_document,
    simples_document,
)
from retaguarda.parties.testing import party_build

REASON = "Pedido cancelado pelo cliente antes do envio"


@pytest.fixture(scope="module")
def cert():
    return certificate_load(certificate_pfx_build(), TEST_PASSWORD)


@pytest.fixture
def company(db):
    return company_build(country="BR", tax_id=TEST_CNPJ)


@pytest.fixture
def sefaz():
    fake = FakeSefaz().start()
    yield fake
    fake.stop()


@pytest.fixture
def svc():
    fake = FakeSefaz(protocol_counter=935260000000000).start()
    yield fake
    fake.stop()


def soap(fake, cert, **kwargs):
    return SoapAuthority(fake.url, cert, uf_code="35", environment="2", timeout=kwargs.pop("timeout", 5), **kwargs)


def invoice_row(company) -> Invoice:
    return Invoice.objects.create(
        company=company,
        kind=InvoiceKind.CUSTOMER_INVOICE,
        party=party_build(company),
        series="1",
        issue_date=date(2026, 3, 10),
        due_date=date(2026, 4, 9),
        currency="BRL",
        fiscal_position="contribuinte",
        language="pt-br",
    )


def queued(company, cert, *, number=123, document=None) -> NFeSubmission:
    invoice = invoice_row(company)
    document = document or simples_document(sequence_number=number, number=f"1-{number:06d}")
    return nfe_submission_queue(company=company, invoice_id=invoice.pk, document=document, certificate=cert)


def statuses(company) -> list[tuple]:
    return list(
        NFeSubmission.objects.filter(company=company)
        .order_by("pk")
        .values_list("status", "emission_type", "attempts", "outcome_uncertain")
    )


def state(company) -> NFeAuthorityState:
    return NFeAuthorityState.objects.get(company=company)


# --- queue --------------------------------------------------------------------------------------


def test_queue_builds_signs_validates_and_stores(company, cert, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        submission = queued(company, cert)
    assert submission.status == SubmissionStatus.QUEUED
    assert (submission.series, submission.number, submission.uf_code, submission.emission_type) == (1, 123, "35", "1")
    xml = submission.xml.encode()
    assert submission.access_key == nfe.nfe_access_key_of(xml)
    assert submission.access_key[:2] == "35" and submission.access_key[6:20] == TEST_CNPJ
    assert submission.access_key[25:34] == "000000123"
    assert nfe.nfe_validate(xml, require_signature=True) == []
    assert nfe_signature_verify(xml, cert) is True
    assert AuditLog.objects.filter(company=company, action="nfe.queued", object_id=str(submission.pk)).count() == 1
    job = DBTaskResult.objects.get(task_path="retaguarda.einvoicing.tasks.nfe_send_queue")
    assert job.args_kwargs["kwargs"] == {"company_id": company.pk}


def test_queue_twice_returns_the_same_submission(company, cert):
    invoice = invoice_row(company)
    first = nfe_submission_queue(company=company, invoice_id=invoice.pk, document=simples_document(), certificate=cert)
    again = nfe_submission_queue(company=company, invoice_id=invoice.pk, document=simples_document(), certificate=cert)
    assert again.pk == first.pk
    assert NFeSubmission.objects.filter(company=company).count() == 1


def test_invalid_document_is_refused_and_nothing_is_written(company, cert):
    invoice = invoice_row(company)
    broken = normal_document(buyer=replace(BUYER_COMPANY, tax_id="1122233300018"))
    audit_before = AuditLog.objects.filter(company=company).count()
    with pytest.raises(ValidationFailed) as refused:
        nfe_submission_queue(company=company, invoice_id=invoice.pk, document=broken, certificate=cert)
    assert refused.value.code == "nfe_schema"
    assert any("CNPJ" in detail and "1122233300018" in detail for detail in refused.value.details)
    assert NFeSubmission.objects.count() == 0
    assert AuditLog.objects.filter(company=company).count() == audit_before


def test_certificate_of_another_company_is_refused(company):
    other = certificate_load(certificate_pfx_build(common_name="OUTRA EMPRESA:11222333000181"), TEST_PASSWORD)
    invoice = invoice_row(company)
    with pytest.raises(ValidationFailed) as refused:
        nfe_submission_queue(company=company, invoice_id=invoice.pk, document=simples_document(), certificate=other)
    assert refused.value.code == "certificate_other_company"
    assert NFeSubmission.objects.count() == 0


# --- send ---------------------------------------------------------------------------------------


def test_send_authorizes_and_keeps_the_protocol(company, cert, sefaz):
    submission = queued(company, cert)
    sefaz.received_at = "2026-03-10T10:31:00-03:00"
    counts = nfe_submissions_send(company=company, authority=soap(sefaz, cert))
    assert counts == {"authorized": 1, "rejected": 0, "denied": 0, "failed": 0, "waiting": 0, "contingency": 0}
    submission.refresh_from_db()
    assert (submission.status, submission.cstat, submission.protocol, submission.attempts) == (
        SubmissionStatus.AUTHORIZED,
        "100",
        "135260000000001",
        1,
    )
    assert submission.xmotivo == "Autorizado o uso da NF-e"
    assert submission.authorized_at.isoformat() == "2026-03-10T13:31:00+00:00"
    assert submission.outcome_uncertain is False and submission.next_attempt_at is None
    event = OutboxEvent.objects.get(company=company, name="nfe.authorized")
    assert event.payload["protocol"] == "135260000000001"
    assert event.payload["access_key"] == submission.access_key
    # The file kept and sent to the buyer: NF-e with its protocol, valid against procNFe.
    proc = nfe.nfe_proc_build(submission.xml.encode(), submission.protocol_xml.encode())
    assert nfe.nfe_proc_validate(proc) == []
    # Nothing left to send: a second run sends nothing.
    assert nfe_submissions_send(company=company, authority=soap(sefaz, cert))["authorized"] == 0
    assert len(sefaz.requests) == 1


def test_rejected_note_can_be_corrected_and_queued_again(company, cert, sefaz):
    submission = queued(company, cert)
    sefaz.mode = "reject"
    counts = nfe_submissions_send(company=company, authority=soap(sefaz, cert))
    assert counts["rejected"] == 1
    submission.refresh_from_db()
    assert (submission.status, submission.cstat, submission.xmotivo) == (
        SubmissionStatus.REJECTED,
        "225",
        "Rejeicao: Falha no Schema XML",
    )
    assert OutboxEvent.objects.filter(company=company, name="nfe.rejected").count() == 1
    again = nfe_submission_queue(
        company=company, invoice_id=submission.invoice_id, document=simples_document(), certificate=cert
    )
    assert again.pk != submission.pk and again.status == SubmissionStatus.QUEUED
    assert again.number == submission.number and again.access_key != submission.access_key


def test_denied_note_is_final(company, cert, sefaz):
    submission = queued(company, cert)
    sefaz.mode = "deny"
    assert nfe_submissions_send(company=company, authority=soap(sefaz, cert))["denied"] == 1
    submission.refresh_from_db()
    assert (submission.status, submission.cstat) == (SubmissionStatus.DENIED, "301")
    assert OutboxEvent.objects.filter(company=company, name="nfe.denied").count() == 1
    # The number is used up: queuing the invoice again gives the denied note, not a new one.
    again = nfe_submission_queue(
        company=company, invoice_id=submission.invoice_id, document=simples_document(), certificate=cert
    )
    assert again.pk == submission.pk
    assert NFeSubmission.objects.filter(company=company).count() == 1


def test_timeout_then_resend_recovers_the_first_authorization(company, cert, sefaz):
    """The authority authorized the note but the answer was lost: the resend gets 204, the
    consultation brings the original protocol back, and the note is authorized once."""
    submission = queued(company, cert)
    t0 = timezone.now()
    sefaz.mode, sefaz.delay = "slow", 1.0
    counts = nfe_submissions_send(company=company, authority=soap(sefaz, cert, timeout=0.3), now=t0)
    assert counts["failed"] == 1
    submission.refresh_from_db()
    assert (submission.status, submission.outcome_uncertain, submission.attempts) == (SubmissionStatus.SENT, True, 1)
    assert submission.next_attempt_at == t0 + timedelta(seconds=60)
    assert "did not answer in time" in submission.last_error
    first_protocol = sefaz.authorized[submission.access_key]

    sefaz.mode = "authorize"
    # Not yet due: nothing is sent.
    assert nfe_submissions_send(company=company, authority=soap(sefaz, cert), now=t0 + timedelta(seconds=30)) == {
        "authorized": 0,
        "rejected": 0,
        "denied": 0,
        "failed": 0,
        "waiting": 0,
        "contingency": 0,
    }
    counts = nfe_submissions_send(company=company, authority=soap(sefaz, cert), now=t0 + timedelta(seconds=61))
    assert counts["authorized"] == 1
    submission.refresh_from_db()
    assert (submission.status, submission.protocol, submission.attempts) == (
        SubmissionStatus.AUTHORIZED,
        first_protocol,
        2,
    )
    assert [service for service, _ in sefaz.requests] == ["NFeAutorizacao4", "NFeAutorizacao4", "NFeConsultaProtocolo4"]


def _outage_until_contingency(company, cert, sefaz, t0):
    """Two queued notes, the authority down: three failed attempts put the company in contingency."""
    sefaz.mode = "down"
    counts = nfe_submissions_send(company=company, authority=soap(sefaz, cert), now=t0)
    assert (counts["failed"], counts["contingency"]) == (2, 0)
    assert state(company).consecutive_failures == 2
    assert statuses(company) == [("queued", "1", 1, False), ("queued", "1", 1, False)]
    counts = nfe_submissions_send(company=company, authority=soap(sefaz, cert), now=t0 + timedelta(seconds=61))
    # The third failure switches to contingency; without SVC the second note waits.
    assert counts == {"authorized": 0, "rejected": 0, "denied": 0, "failed": 1, "waiting": 1, "contingency": 1}
    current = state(company)
    assert current.mode == AuthorityMode.CONTINGENCY
    assert current.consecutive_failures == CONTINGENCY_AFTER_FAILURES
    assert current.contingency_since == t0 + timedelta(seconds=61)
    assert current.contingency_reason.startswith("The state's authorization service is unavailable")
    assert statuses(company) == [("contingency", "1", 2, False), ("contingency", "1", 1, False)]
    assert AuditLog.objects.filter(company=company, action="nfe.contingency_entered").count() == 1


def test_outage_contingency_then_recovery_sends_the_waiting_notes(company, cert, sefaz):
    first, second = queued(company, cert, number=123), queued(company, cert, number=124)
    t0 = timezone.now()
    _outage_until_contingency(company, cert, sefaz, t0)
    keys = {first.pk: first.access_key, second.pk: second.access_key}

    # Still down: the status probe fails, the notes keep waiting.
    later = t0 + timedelta(seconds=1000)
    counts = nfe_submissions_send(company=company, authority=soap(sefaz, cert), now=later)
    assert (counts["waiting"], counts["contingency"], counts["authorized"]) == (2, 1, 0)

    # The state's authority is back: contingency ends and both notes go out under their keys.
    sefaz.mode = "authorize"
    counts = nfe_submissions_send(company=company, authority=soap(sefaz, cert), now=later + timedelta(seconds=1))
    assert counts == {"authorized": 2, "rejected": 0, "denied": 0, "failed": 0, "waiting": 0, "contingency": 0}
    current = state(company)
    assert (current.mode, current.consecutive_failures, current.contingency_reason) == ("normal", 0, "")
    for submission in NFeSubmission.objects.filter(company=company):
        assert submission.status == SubmissionStatus.AUTHORIZED
        assert submission.access_key == keys[submission.pk] and submission.emission_type == "1"
    assert AuditLog.objects.filter(company=company, action="nfe.contingency_left").count() == 1


def test_outage_with_svc_reissues_and_authorizes_there(company, cert, sefaz, svc):
    first, second = queued(company, cert, number=123), queued(company, cert, number=124)
    t0 = timezone.now()
    _outage_until_contingency(company, cert, sefaz, t0)
    later = t0 + timedelta(seconds=1000)
    counts = nfe_submissions_send(
        company=company,
        authority=soap(sefaz, cert),
        contingency_authority=soap(svc, cert),
        certificate=cert,
        now=later,
    )
    assert counts == {"authorized": 2, "rejected": 0, "denied": 0, "failed": 0, "waiting": 0, "contingency": 1}
    for submission, before in zip(
        NFeSubmission.objects.filter(company=company).order_by("pk"), (first, second), strict=True
    ):
        assert submission.status == SubmissionStatus.AUTHORIZED
        assert submission.emission_type == "6"  # SP's contingency authority is SVC-AN
        assert submission.previous_access_key == before.access_key
        assert submission.access_key[34] == "6" and submission.access_key[:34] == before.access_key[:34]
        assert submission.protocol.startswith("93526")  # SVC's protocol
        assert submission.contingency_at == t0 + timedelta(seconds=61)
        xml = submission.xml.encode()
        assert nfe.nfe_validate(xml, require_signature=True) == []
        assert nfe_signature_verify(xml, cert) is True
        ide = etree.fromstring(xml).find(f"{{{nfe.NFE_NS}}}infNFe/{{{nfe.NFE_NS}}}ide")
        assert ide.findtext(f"{{{nfe.NFE_NS}}}tpEmis") == "6"
        assert ide.findtext(f"{{{nfe.NFE_NS}}}xJust").startswith("The state's authorization service is unavailable")
    assert [service for service, _ in svc.requests] == ["NFeAutorizacao4", "NFeAutorizacao4"]
    # The state's authority was only asked for its status during contingency.
    assert sefaz.requests == []  # it was down: it recorded nothing


def test_uncertain_note_is_not_reissued_in_contingency(company, cert, sefaz, svc):
    submission = queued(company, cert)
    t0 = timezone.now()
    sefaz.mode, sefaz.delay = "slow", 1.0
    nfe_submissions_send(company=company, authority=soap(sefaz, cert, timeout=0.3), now=t0)
    NFeAuthorityState.objects.filter(company=company).update(
        mode=AuthorityMode.CONTINGENCY, contingency_since=t0, contingency_reason="SEFAZ SP fora do ar desde as 11h"
    )
    sefaz.mode = "down"
    counts = nfe_submissions_send(
        company=company,
        authority=soap(sefaz, cert),
        contingency_authority=soap(svc, cert),
        certificate=cert,
        now=t0 + timedelta(seconds=61),
    )
    assert counts["waiting"] == 1 and counts["authorized"] == 0
    submission.refresh_from_db()
    # It may be authorized under its normal key: it waits for the state's authority.
    assert (submission.status, submission.emission_type, submission.outcome_uncertain) == ("contingency", "1", True)
    assert svc.requests == []


# --- cancel -------------------------------------------------------------------------------------


@pytest.fixture
def authorized(company, cert, sefaz):
    submission = queued(company, cert)
    nfe_submissions_send(company=company, authority=soap(sefaz, cert))
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.AUTHORIZED
    return submission


def everything(company) -> dict:
    return {
        "submissions": list(NFeSubmission.objects.filter(company=company).values_list("pk", "status", "cancelled_at")),
        "events": list(NFeEvent.objects.filter(company=company).values_list("pk", "status")),
        "audit": AuditLog.objects.filter(company=company).count(),
        "outbox": OutboxEvent.objects.filter(company=company).count(),
    }


def test_cancel_registers_the_event_and_cancels(company, cert, sefaz, authorized):
    actor = actor_build(company, Role.FINANCE)
    event = nfe_cancel(
        actor=actor,
        submission_id=authorized.pk,
        reason=REASON,
        authority=soap(sefaz, cert),
        certificate=cert,
        now=authorized.authorized_at + timedelta(hours=23),
    )
    assert (event.status, event.cstat, event.protocol, event.event_type) == (
        EventStatus.REGISTERED,
        "135",
        "135260000000002",
        "110111",
    )
    assert event.created_by == actor.user and event.reason == REASON
    assert nfe.nfe_event_validate(event.xml.encode()) == []
    authorized.refresh_from_db()
    assert authorized.status == SubmissionStatus.CANCELLED
    outbox = OutboxEvent.objects.get(company=company, name="nfe.cancelled")
    assert outbox.payload == {
        "invoice_id": authorized.invoice_id,
        "access_key": authorized.access_key,
        "protocol": "135260000000002",
        "reason": REASON,
    }
    assert AuditLog.objects.filter(company=company, action="nfe.cancelled", actor=actor.user).count() == 1


@pytest.mark.parametrize("role", [Role.SALES, Role.WAREHOUSE, Role.HR, Role.SUPPORT])
def test_cancel_needs_billing_change(company, cert, sefaz, authorized, role):
    actor = actor_build(company, role)
    before = everything(company)
    with pytest.raises(PermissionDenied):
        nfe_cancel(
            actor=actor, submission_id=authorized.pk, reason=REASON, authority=soap(sefaz, cert), certificate=cert
        )
    assert everything(company) == before
    assert [service for service, _ in sefaz.requests] == ["NFeAutorizacao4"]


@pytest.mark.parametrize("reason", ["curto demais", "x" * 256])
def test_cancel_reason_must_be_15_to_255_characters(company, cert, sefaz, authorized, reason):
    actor = actor_build(company, Role.FINANCE)
    before = everything(company)
    with pytest.raises(ValidationFailed) as refused:
        nfe_cancel(
            actor=actor, submission_id=authorized.pk, reason=reason, authority=soap(sefaz, cert), certificate=cert
        )
    assert "reason" in refused.value.fields
    assert everything(company) == before


def test_cancel_after_24_hours_is_refused(company, cert, sefaz, authorized):
    actor = actor_build(company, Role.FINANCE)
    before = everything(company)
    with pytest.raises(Conflict) as refused:
        nfe_cancel(
            actor=actor,
            submission_id=authorized.pk,
            reason=REASON,
            authority=soap(sefaz, cert),
            certificate=cert,
            now=authorized.authorized_at + timedelta(hours=24, minutes=1),
        )
    assert refused.value.code == "nfe_cancel_window"
    assert "within 24 hours" in refused.value.message
    assert everything(company) == before
    assert len(sefaz.requests) == 1


def test_only_authorized_notes_are_cancelled(company, cert, sefaz):
    submission = queued(company, cert)
    actor = actor_build(company, Role.FINANCE)
    with pytest.raises(Conflict) as refused:
        nfe_cancel(
            actor=actor, submission_id=submission.pk, reason=REASON, authority=soap(sefaz, cert), certificate=cert
        )
    assert refused.value.code == "nfe_not_authorized"
    assert sefaz.requests == []


def test_another_companys_note_is_not_found(company, cert, sefaz, authorized):
    other = actor_build(company_build(country="BR"), Role.FINANCE)
    before = everything(company)
    with pytest.raises(NotFound):
        nfe_cancel(
            actor=other, submission_id=authorized.pk, reason=REASON, authority=soap(sefaz, cert), certificate=cert
        )
    assert everything(company) == before


def test_authority_refusing_the_cancellation_is_recorded_and_raised(company, cert, sefaz, authorized):
    actor = actor_build(company, Role.FINANCE)
    sefaz.authorized[authorized.access_key] = "999"  # the authority knows another protocol
    with pytest.raises(Conflict) as refused:
        nfe_cancel(
            actor=actor, submission_id=authorized.pk, reason=REASON, authority=soap(sefaz, cert), certificate=cert
        )
    assert "222" in refused.value.message
    event = NFeEvent.objects.get(submission=authorized)
    assert (event.status, event.cstat) == (EventStatus.REJECTED, "222")
    authorized.refresh_from_db()
    assert authorized.status == SubmissionStatus.AUTHORIZED


def test_unreachable_authority_cancels_nothing(company, cert, sefaz, authorized):
    actor = actor_build(company, Role.FINANCE)
    sefaz.mode = "down"
    before = everything(company)
    with pytest.raises(AuthorityUnreachable):
        nfe_cancel(
            actor=actor, submission_id=authorized.pk, reason=REASON, authority=soap(sefaz, cert), certificate=cert
        )
    assert everything(company) == before


# --- the task -----------------------------------------------------------------------------------

_FACTORY = {}


def authorities_for_tests(company):
    return _FACTORY.get("set")


def test_task_sends_with_the_configured_authorities(company, cert, sefaz, settings):
    submission = queued(company, cert)
    settings.RETAGUARDA_NFE_AUTHORITIES = f"{__name__}.authorities_for_tests"
    _FACTORY["set"] = AuthoritySet(authority=soap(sefaz, cert), contingency_authority=None, certificate=cert)
    try:
        result = nfe_send_queue.call(company_id=company.pk)
    finally:
        _FACTORY.clear()
    assert result == {
        "configured": 1,
        "authorized": 1,
        "rejected": 0,
        "denied": 0,
        "failed": 0,
        "waiting": 0,
        "contingency": 0,
    }
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.AUTHORIZED


def test_task_schedules_the_next_retry(company, cert, sefaz, settings):
    submission = queued(company, cert)
    sefaz.mode = "down"
    settings.RETAGUARDA_NFE_AUTHORITIES = f"{__name__}.authorities_for_tests"
    _FACTORY["set"] = AuthoritySet(authority=soap(sefaz, cert), contingency_authority=None, certificate=cert)
    try:
        result = nfe_send_queue.call(company_id=company.pk)
    finally:
        _FACTORY.clear()
    assert result["failed"] == 1
    submission.refresh_from_db()
    job = DBTaskResult.objects.get(task_path="retaguarda.einvoicing.tasks.nfe_send_queue", status="READY")
    assert job.run_after == submission.next_attempt_at


def test_task_without_configuration_sends_nothing(company, cert, settings):
    submission = queued(company, cert)
    settings.RETAGUARDA_NFE_AUTHORITIES = ""
    assert nfe_send_queue.call(company_id=company.pk) == {"configured": 0}
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.QUEUED
