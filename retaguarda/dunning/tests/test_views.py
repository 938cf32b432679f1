"""Dunning pages: preview a run and send it, the history, a letter and its PDF, the levels and
late-charge settings, promises to pay (also from the customer's page), writing off; who may see
and do what (403 and nothing changed)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from retaguarda.core.choices import Role
from retaguarda.core.testing import client_for, user_build
from retaguarda.dunning.models import DunningLetter, DunningLevel, DunningRun, LateChargeSettings, PaymentPromise

from .conftest import day, everything


def client(shop, role=Role.FINANCE):
    return client_for(user_build(shop.company, role))


def html_of(response) -> str:
    return response.content.decode()


def test_preview_then_send_from_the_pages(es, django_capture_on_commit_callbacks, mailoutbox):
    browser = client(es)
    home = browser.get(reverse("dunning:home"))
    assert home.status_code == 200 and 'id="run-form"' in html_of(home)

    response = browser.post(reverse("dunning:run_create"), {"as_of": day(21).isoformat(), "preview": "1"})

    run = DunningRun.objects.get()
    assert response.status_code == 302 and response.url == reverse("dunning:run_detail", args=[run.pk])
    page = html_of(browser.get(response.url))
    assert "Ferretería Norte SL" in page and 'id="run-send"' in page and "1.257,07" not in page
    assert "€1,257.07" in page  # the user reads English
    assert mailoutbox == []

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(reverse("dunning:run_send", args=[run.pk]))

    assert response.status_code == 302
    run.refresh_from_db()
    assert (run.status, len(mailoutbox)) == ("sent", 1)
    page = html_of(browser.get(reverse("dunning:run_detail", args=[run.pk])))
    assert 'id="run-send"' not in page
    response = browser.post(reverse("dunning:run_send", args=[run.pk]))
    assert response.status_code == 409 and "This run was already sent." in html_of(response)
    history = html_of(browser.get(reverse("dunning:home")))
    assert reverse("dunning:run_detail", args=[run.pk]) in history


def test_a_run_in_the_future_is_refused_on_the_form(es):
    response = client(es).post(reverse("dunning:run_create"), {"as_of": "2999-01-01"})
    assert response.status_code == 422
    assert response.context["run_form"].errors == {"as_of": ["Enter today or an earlier date."]}
    assert not DunningRun.objects.exists()


def test_a_letter_and_its_pdf(es):
    from retaguarda.dunning.services import dunning_run

    run = dunning_run(actor=es.actor, company=es.company, as_of=day(7), preview=False)
    letter = DunningLetter.objects.get(run=run)
    browser = client(es, Role.LEGAL)

    page = html_of(browser.get(reverse("dunning:letter_detail", args=[letter.pk])))
    assert es.invoice.number in page and "Importe" in page

    response = browser.get(reverse("dunning:letter_pdf", args=[letter.pk]))
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    assert response.content.startswith(b"%PDF")


def test_levels_and_settings_are_edited_on_the_procedure_page(es):
    browser = client(es)
    assert browser.get(reverse("dunning:procedure")).status_code == 200
    second = DunningLevel.objects.get(company=es.company, days_overdue=21)

    response = browser.post(
        reverse("dunning:level_edit", args=[second.pk]),
        {
            "days_overdue": "21",
            "name": "Second notice",
            "letter": "second_notice",
            "fee": "5.00",
            "charge_interest": "on",
        },
    )
    assert response.status_code == 302
    response = browser.post(
        reverse("dunning:level_create"), {"days_overdue": "90", "name": "Court", "letter": "legal_handover", "fee": "0"}
    )
    assert response.status_code == 302
    response = browser.post(
        reverse("dunning:level_create"), {"days_overdue": "90", "name": "Twice", "letter": "reminder", "fee": "0"}
    )
    assert response.status_code == 422
    assert response.context["level_form"].errors == {"days_overdue": ["Another level starts at this number of days."]}
    response = browser.post(
        reverse("dunning:settings_update"),
        {
            "rule": "ES",
            "fine_percent": "0",
            "monthly_interest_percent": "0",
            "annual_interest_percent": "9.5",
            "fixed_compensation": "40.00",
            "booking": "letter_only",
            "payment_days": "15",
        },
    )
    assert response.status_code == 302

    assert list(DunningLevel.objects.filter(company=es.company).values_list("days_overdue", "fee", "sequence")) == [
        (7, 0, 1),
        (21, 5, 2),
        (45, 0, 3),
        (60, 0, 4),
        (90, 0, 5),
    ]
    settings = LateChargeSettings.objects.get(company=es.company)
    assert (str(settings.annual_interest_percent), settings.booking, settings.payment_days) == (
        "9.5000",
        "letter_only",
        15,
    )
    court = DunningLevel.objects.get(company=es.company, days_overdue=90)
    assert browser.post(reverse("dunning:level_delete", args=[court.pk])).status_code == 302
    assert not DunningLevel.objects.filter(pk=court.pk).exists()


def test_promises_from_the_promises_page_and_the_customer_page(es):
    browser = client(es)
    response = browser.post(
        reverse("dunning:promise_create"),
        {"invoice": es.invoice.number, "promised_date": day(30).isoformat(), "amount": "100.00", "note": "Phone"},
    )
    assert response.status_code == 302
    response = browser.post(
        reverse("dunning:promise_create"),
        {"invoice": "F9999-000001", "promised_date": day(30).isoformat(), "amount": "100.00"},
    )
    assert response.status_code == 404 and response.context["form"].errors == {"invoice": ["No such invoice."]}

    customer_page = html_of(browser.get(reverse("parties:party_detail", args=[es.customer.pk])))
    assert 'id="section-dunning"' in customer_page and 'id="promise-form"' in customer_page
    response = browser.post(
        reverse("dunning:promise_create"),
        {"party": es.customer.pk, "promised_date": day(40).isoformat(), "amount": "1210.00"},
    )
    assert response.status_code == 302
    promises = list(PaymentPromise.objects.order_by("pk").values_list("invoice_id", "amount", "status"))
    assert [(i, str(a), s) for i, a, s in promises] == [(es.invoice.pk, "100.00", "open"), (None, "1210.00", "open")]
    listing = html_of(browser.get(reverse("dunning:promise_list")))
    assert "Phone" in listing

    first = PaymentPromise.objects.order_by("pk").first()
    assert browser.post(reverse("dunning:promise_cancel", args=[first.pk])).status_code == 302
    assert PaymentPromise.objects.get(pk=first.pk).status == "cancelled"


def test_writing_off_from_the_page(es):
    browser = client(es)
    response = browser.post(reverse("dunning:write_off"), {"invoice": es.invoice.number, "reason": ""})
    assert response.status_code == 422
    response = browser.post(reverse("dunning:write_off"), {"invoice": es.invoice.number, "reason": "Insolvent"})
    assert response.status_code == 302
    es.invoice.refresh_from_db()
    assert (str(es.invoice.residual), es.invoice.payment_status) == ("0.00", "paid")


@pytest.mark.parametrize("role", [Role.MANAGER, Role.LEGAL])
def test_readers_see_the_pages_without_the_buttons(es, role):
    browser = client(es, role)
    home = browser.get(reverse("dunning:home"))
    assert home.status_code == 200 and 'id="run-form"' not in html_of(home)
    assert 'id="settings-form"' not in html_of(browser.get(reverse("dunning:procedure")))
    customer_page = html_of(browser.get(reverse("parties:party_detail", args=[es.customer.pk])))
    assert 'id="section-dunning"' in customer_page and 'id="promise-form"' not in customer_page


@pytest.mark.parametrize("role", [Role.MANAGER, Role.LEGAL, Role.SALES, Role.WAREHOUSE])
def test_who_may_not_run_dunning_gets_403_and_nothing_changes(es, role):
    from retaguarda.dunning.services import dunning_run

    preview = dunning_run(actor=es.actor, company=es.company, as_of=day(21), preview=True)
    level = DunningLevel.objects.filter(company=es.company).first()
    browser = client(es, role)
    before = everything(es.company)

    responses = [
        browser.post(reverse("dunning:run_create"), {"as_of": day(21).isoformat()}),
        browser.post(reverse("dunning:run_send", args=[preview.pk])),
        browser.post(reverse("dunning:level_delete", args=[level.pk])),
        browser.post(reverse("dunning:level_create"), {"days_overdue": "90", "name": "X", "letter": "reminder"}),
        browser.post(reverse("dunning:settings_update"), {"rule": "none"}),
        browser.post(reverse("dunning:promise_create"), {"invoice": es.invoice.number, "promised_date": "2026-03-01"}),
        browser.post(reverse("dunning:write_off"), {"invoice": es.invoice.number, "reason": "Insolvent"}),
    ]

    assert [r.status_code for r in responses] == [403] * 7
    assert everything(es.company) == before


@pytest.mark.parametrize("role", [Role.SALES, Role.WAREHOUSE, Role.HR, Role.SUPPORT])
def test_who_may_not_read_dunning_gets_403(es, role):
    browser = client(es, role)
    letter_url = reverse("dunning:letter_pdf", args=[1])
    for url in (reverse("dunning:home"), reverse("dunning:procedure"), reverse("dunning:promise_list"), letter_url):
        assert browser.get(url).status_code == 403


def test_anonymous_visitors_go_to_the_log_in(es):
    from django.test import Client

    response = Client().get(reverse("dunning:home"))
    assert response.status_code == 302 and reverse("web:login") in response.url


def test_the_customer_section_reads_three_queries_whatever_the_history(es):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from retaguarda.dunning.services import dunning_run, promise_register

    browser = client(es)
    url = reverse("parties:party_detail", args=[es.customer.pk])

    def dunning_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert browser.get(url).status_code == 200
        return sum(1 for q in queries if '"dunning_' in q["sql"])

    first = dunning_queries()
    for n in (7, 21, 45, 60):
        dunning_run(actor=es.actor, company=es.company, as_of=day(n), preview=False)
    promise_register(actor=es.actor, party_id=es.customer.pk, promised_date=day(90), amount="10.00")
    page = html_of(browser.get(url))
    assert page.count(reverse("dunning:letter_detail", args=[1])[: -len("1/")]) == 4
    assert (first, dunning_queries()) == (3, 3)
