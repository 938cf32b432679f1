"""The tax id stays unique among a company's active parties even when two writers race."""

import threading

import pytest
from django.db import connection, connections

from retaguarda.common.errors import Conflict
from retaguarda.core.models import AuditLog, OutboxEvent
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import company_build
from retaguarda.parties import services
from retaguarda.parties.models import Party
from retaguarda.parties.services import party_create
from retaguarda.parties.testing import party_build


def test_the_database_constraint_backs_the_check_and_answers_conflict(company, monkeypatch):
    party_build(company, legal_name="Primera SL", tax_id="B58378431")
    before = (Party.objects.count(), AuditLog.objects.count(), OutboxEvent.objects.count())
    # As if another writer inserted the same number between our check and our insert.
    monkeypatch.setattr(services, "_duplicate_tax_id_refuse", lambda actor, party: None)
    with pytest.raises(Conflict) as exc:
        party_create(actor=system_actor(company), legal_name="Segunda SL", tax_country="ES", tax_id="B58378431")
    assert exc.value.code == "duplicate_tax_id"
    assert exc.value.fields == {"tax_id": ["Another active customer or supplier already has this tax id."]}
    assert (Party.objects.count(), AuditLog.objects.count(), OutboxEvent.objects.count()) == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_two_writers_racing_for_one_tax_id_leave_one_party(monkeypatch):
    company = company_build(country="ES")
    actor = system_actor(company)
    barrier = threading.Barrier(2, timeout=10)
    original = services._duplicate_tax_id_refuse

    def check_then_wait(actor, party):
        original(actor, party)
        barrier.wait()  # both writers have passed the check before either inserts

    monkeypatch.setattr(services, "_duplicate_tax_id_refuse", check_then_wait)
    outcomes = []

    def write(name):
        try:
            party_create(actor=actor, legal_name=name, tax_country="ES", tax_id="B58378431")
            outcomes.append("created")
        except Conflict:
            outcomes.append("conflict")
        except Exception as exc:  # any other outcome fails the test below
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(f"Writer {n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "created"]
    assert Party.objects.filter(company=company, tax_id="B58378431").count() == 1
    assert OutboxEvent.objects.filter(company=company, name="party.created").count() == 1
