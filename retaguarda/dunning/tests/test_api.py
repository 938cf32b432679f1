"""The dunning API: preview a run, read it, send it; promises; write-offs; the procedure; the
error shapes; who may do what (403 and nothing changed)."""

from __future__ import annotations

import json

import pytest

from retaguarda.core.choices import Role
from retaguarda.core.testing import api_client_for, user_build
from retaguarda.dunning.models import DunningRun

from .conftest import day, everything


def api(shop, role=Role.FINANCE):
    return api_client_for(user_build(shop.company, role), shop.company)


def post(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def test_preview_then_send(es, django_capture_on_commit_callbacks, mailoutbox):
    client = api(es)

    response = post(client, "/api/v1/dunning/runs", {"as_of": day(21).isoformat()})

    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["status"], data["letter_count"], data["totals"]) == (
        "preview",
        1,
        {"EUR": {"open": "1210.00", "fees": "40.00", "interest": "7.07", "due": "1257.07"}},
    )
    letter = data["letters"][0]
    assert {k: letter[k] for k in ("party_id", "letter", "language", "currency", "fee", "interest", "total_due")} == {
        "party_id": es.customer.pk,
        "letter": "second_notice",
        "language": "es",
        "currency": "EUR",
        "fee": "40.00",
        "interest": "7.07",
        "total_due": "1257.07",
    }
    assert (letter["email_status"], letter["entry"]) == ("preview", None)
    assert letter["invoices"] == [
        {
            "invoice_id": es.invoice.pk,
            "number": es.invoice.number,
            "due_date": "2026-02-04",
            "days_overdue": 21,
            "residual": "1210.00",
            "level": 2,
            "fine": "0.00",
            "compensation": "40.00",
            "interest": "7.07",
        }
    ]
    assert client.get(f"/api/v1/dunning/runs/{data['id']}").json() == data

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, f"/api/v1/dunning/runs/{data['id']}/send")

    assert response.status_code == 200, response.content
    sent = response.json()
    assert (sent["id"], sent["status"]) == (data["id"], "sent")
    # The e-mail goes once the run is committed.
    assert client.get(f"/api/v1/dunning/runs/{data['id']}").json()["letters"][0]["email_status"] == "sent"
    assert sent["letters"][0]["entry"].startswith("GEN/2026/")
    assert len(mailoutbox) == 1
    assert [run["id"] for run in client.get("/api/v1/dunning/runs").json()["items"]] == [data["id"]]

    response = post(client, f"/api/v1/dunning/runs/{data['id']}/send")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "run_sent")


def test_a_run_sent_at_once_and_one_out_of_order(es):
    client = api(es)
    response = post(client, "/api/v1/dunning/runs", {"as_of": day(45).isoformat(), "preview": False})
    assert (response.status_code, response.json()["status"], response.json()["blocked_count"]) == (201, "sent", 1)

    response = post(client, "/api/v1/dunning/runs", {"as_of": day(21).isoformat(), "preview": False})

    error = response.json()["error"]
    assert (response.status_code, error["code"], list(error["fields"])) == (409, "run_out_of_order", ["as_of"])


@pytest.mark.parametrize("body", [{"as_of": "04/02/2026"}, {"as_of": "2026-02-30"}, {"preview": "perhaps"}])
def test_bad_run_input_is_a_422(es, body):
    response = post(api(es), "/api/v1/dunning/runs", body)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "validation_error")
    assert not DunningRun.objects.exists()


def test_promise_and_write_off(es):
    client = api(es)
    response = post(
        client,
        "/api/v1/dunning/promises",
        {"invoice_id": es.invoice.pk, "promised_date": day(30).isoformat(), "amount": "600", "note": "Half now"},
    )
    assert response.status_code == 201, response.content
    assert {k: response.json()[k] for k in ("invoice_id", "promised_date", "amount", "currency", "status")} == {
        "invoice_id": es.invoice.pk,
        "promised_date": "2026-03-06",
        "amount": "600.00",
        "currency": "EUR",
        "status": "open",
    }
    response = post(client, "/api/v1/dunning/promises", {"promised_date": "2026-03-06", "amount": "1"})
    assert (response.status_code, list(response.json()["error"]["fields"])) == (422, ["invoice_id"])

    response = post(client, f"/api/v1/dunning/invoices/{es.invoice.pk}/write-off", {"reason": "Insolvent"})

    assert response.status_code == 200, response.content
    assert response.json() == {
        "invoice_id": es.invoice.pk,
        "number": es.invoice.number,
        "residual": "0.00",
        "payment_status": "paid",
    }
    response = post(client, f"/api/v1/dunning/invoices/{es.invoice.pk}/write-off", {"reason": "Again"})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "invoice_not_open")
    response = post(client, "/api/v1/dunning/invoices/999999/write-off", {"reason": "Nobody"})
    assert response.status_code == 404


def test_procedures(es):
    response = api(es, Role.LEGAL).get("/api/v1/dunning/procedures")
    assert response.status_code == 200
    (procedure,) = response.json()
    assert procedure["is_default"] is True
    assert [(lv["sequence"], lv["days_overdue"], lv["letter"], lv["fee"]) for lv in procedure["levels"]] == [
        (1, 7, "reminder", "0.00"),
        (2, 21, "second_notice", "0.00"),
        (3, 45, "final_notice", "0.00"),
        (4, 60, "legal_handover", "0.00"),
    ]


@pytest.mark.parametrize("role", [Role.SALES, Role.WAREHOUSE, Role.MANAGER, Role.LEGAL, Role.HR])
def test_who_may_not_run_dunning_gets_403_and_nothing_changes(es, role):
    preview = post(api(es), "/api/v1/dunning/runs", {"as_of": day(21).isoformat()}).json()
    client = api(es, role)
    before = everything(es.company)

    responses = [
        post(client, "/api/v1/dunning/runs", {"as_of": day(21).isoformat(), "preview": False}),
        post(client, f"/api/v1/dunning/runs/{preview['id']}/send"),
        post(
            client,
            "/api/v1/dunning/promises",
            {"invoice_id": es.invoice.pk, "promised_date": "2026-03-06", "amount": "1"},
        ),
        post(client, f"/api/v1/dunning/invoices/{es.invoice.pk}/write-off", {"reason": "Insolvent"}),
    ]

    assert [(r.status_code, r.json()["error"]["code"]) for r in responses] == [(403, "permission_denied")] * 4
    assert everything(es.company) == before


@pytest.mark.parametrize("role, status", [(Role.MANAGER, 200), (Role.LEGAL, 200), (Role.SALES, 403), (Role.HR, 403)])
def test_who_may_read_runs(es, role, status):
    preview = post(api(es), "/api/v1/dunning/runs", {"as_of": day(21).isoformat()}).json()
    client = api(es, role)
    assert client.get(f"/api/v1/dunning/runs/{preview['id']}").status_code == status
    assert client.get("/api/v1/dunning/runs").status_code == status
    assert client.get("/api/v1/dunning/procedures").status_code == status


def test_another_companys_run_is_a_404(es, br):
    preview = post(api(br), "/api/v1/dunning/runs", {"as_of": day(21).isoformat()}).json()
    client = api(es)
    assert client.get(f"/api/v1/dunning/runs/{preview['id']}").status_code == 404
    assert post(client, f"/api/v1/dunning/runs/{preview['id']}/send").status_code == 404
    assert DunningRun.objects.get(pk=preview["id"]).status == "preview"
