"""The company settings page: administrators only, validated by the country, audited, with its
timeline; and the sales policy (back-orders, handling time)."""

import re

import pytest
from django.urls import reverse

from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog, Company, OutboxEvent
from retaguarda.core.testing import client_for, company_build, user_build

URL = "/admin/company/"

FORM_ES = {
    "legal_name": "Tienda Brisa SL",
    "trade_name": "Brisa",
    "tax_id": "B-58378431",
    "default_language": "es",
    "regime": "recargo_equivalencia",
    "province": "Valencia",
    "rounding": "document",
    "handling_days": "2",
}


def state(company) -> dict:
    """Everything a save of the settings could change."""
    return {
        "company": Company.objects.filter(pk=company.pk)
        .values(
            "legal_name",
            "trade_name",
            "tax_id",
            "default_language",
            "fiscal_settings",
            "allow_backorders",
            "handling_days",
        )
        .get(),
        "audit": AuditLog.objects.count(),
        "events": OutboxEvent.objects.count(),
    }


def client_as(company, role):
    if role == "anonymous":
        return client_for(None)
    return client_for(user_build(company, role, areas=["accounting"] if role == Role.PARTNER else ()))


def test_the_url_is_named():
    assert reverse("web:company_settings") == URL


@pytest.mark.parametrize(
    ("role", "status"),
    [("anonymous", 302), (Role.MANAGER, 403), (Role.FINANCE, 403), (Role.PARTNER, 403), (Role.ADMINISTRATOR, 200)],
)
def test_page_access(company, role, status):
    response = client_as(company, role).get(URL)
    assert response.status_code == status
    if role == "anonymous":
        assert response.url == f"/login/?next={URL}"


@pytest.mark.parametrize(
    ("role", "status"),
    [("anonymous", 302), (Role.MANAGER, 403), (Role.SALES, 403), (Role.PARTNER, 403), (Role.ADMINISTRATOR, 302)],
)
def test_saving_is_for_administrators_only(company, role, status):
    client = client_as(company, role)
    before = state(company)
    response = client.post(URL, FORM_ES)
    assert response.status_code == status
    after = state(company)
    if role == Role.ADMINISTRATOR:
        assert response.url == URL
        assert after["company"] == {
            "legal_name": "Tienda Brisa SL",
            "trade_name": "Brisa",
            "tax_id": "B58378431",
            "default_language": "es",
            "fiscal_settings": {"regime": "recargo_equivalencia", "province": "Valencia", "rounding": "document"},
            "allow_backorders": False,
            "handling_days": 2,
        }
        assert (after["audit"], after["events"]) == (before["audit"] + 1, before["events"] + 1)
    else:
        assert after == before


def test_the_form_shows_the_company_and_its_timeline(company, admin_client, django_assert_num_queries):
    admin_client.post(URL, FORM_ES)
    with django_assert_num_queries(5):
        response = admin_client.get(URL)
    html = response.content.decode()
    form = response.context["form"]
    assert form.initial["tax_id"] == "B58378431"
    assert form.initial["regime"] == "recargo_equivalencia"
    assert [code for code, _label in form.fields["regime"].choices] == [
        "general",
        "recargo_equivalencia",
        "simplificado",
    ]
    assert "state" not in form.fields
    assert 'value="Tienda Brisa SL"' in html
    timeline = re.findall(r'<li><strong title="([\w.]+)">([^<]+)</strong>', html)
    assert timeline == [("company.update", "Edited"), ("company.create", "Created")]
    assert "legal_name: " in html and "→ Tienda Brisa SL" in html


def test_the_timeline_query_count_does_not_grow(company, admin_client, django_assert_num_queries):
    for n in range(5):
        admin_client.post(URL, {**FORM_ES, "trade_name": f"Brisa {n}"})
    with django_assert_num_queries(5):
        response = admin_client.get(URL)
    assert len(re.findall(r'<li><strong title="company\.update">', response.content.decode())) == 5


def test_a_brazilian_company_chooses_its_state(company_br):
    client = client_for(user_build(company_br, Role.ADMINISTRATOR))
    form = client.get(URL).context["form"]
    assert "province" not in form.fields
    assert [code for code, _label in form.fields["regime"].choices] == ["simples_nacional", "regime_normal"]
    data = {
        "legal_name": "Casa Aurora Ltda",
        "trade_name": "",
        "tax_id": "11.222.333/0001-81",
        "default_language": "pt-br",
        "regime": "simples_nacional",
        "state": "SP",
        "rounding": "line",
        "handling_days": "2",
    }
    assert client.post(URL, data).status_code == 302
    company_br.refresh_from_db()
    assert (company_br.tax_id, company_br.fiscal_settings) == (
        "11222333000181",
        {"regime": "simples_nacional", "state": "SP", "rounding": "line"},
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"tax_id": "B58378432"}, "tax_id", "The check character does not match: this is not a valid CIF."),
        ({"tax_id": ""}, "tax_id", "This field is required."),
        ({"regime": "simples_nacional"}, "regime", "Select a valid choice."),
        ({"rounding": "cents"}, "rounding", "Select a valid choice."),
        ({"legal_name": ""}, "legal_name", "This field is required."),
        ({"handling_days": ""}, "handling_days", "This field is required."),
        ({"handling_days": "1.5"}, "handling_days", "Enter a whole number."),
        ({"handling_days": "61"}, "handling_days", "Enter a whole number of days from 0 to 60."),
        ({"handling_days": "-1"}, "handling_days", "Enter a whole number of days from 0 to 60."),
    ],
)
def test_invalid_input_is_refused_with_a_clear_error(company, admin_client, changes, field, message):
    before = state(company)
    response = admin_client.post(URL, {**FORM_ES, **changes})
    assert response.status_code == 422
    errors = response.context["form"].errors[field]
    assert errors[0].startswith(message)
    assert message.split(":")[0] in response.content.decode()
    assert state(company) == before


def test_the_tax_id_of_another_company_is_refused(company, admin_client):
    other = company_build(country="ES")
    before = state(company)
    response = admin_client.post(URL, {**FORM_ES, "tax_id": other.tax_id})
    assert response.status_code == 422
    assert response.context["form"].errors == {"tax_id": ["Another company of this country already has this tax id."]}
    assert state(company) == before


def test_only_the_actors_own_company_changes(company, admin_client):
    other = company_build(country="ES")
    other_before = state(other)
    assert admin_client.post(URL, FORM_ES).status_code == 302
    assert state(other)["company"] == other_before["company"]


# Sales policy ---------------------------------------------------------------------------------


def test_the_sales_policy_is_shown_with_the_current_values(company, admin_client):
    Company.objects.filter(pk=company.pk).update(allow_backorders=True, handling_days=5)
    response = admin_client.get(URL)
    html = response.content.decode()
    assert response.context["form"].initial["allow_backorders"] is True
    assert response.context["form"].initial["handling_days"] == 5
    assert re.search(r'<input type="checkbox" name="allow_backorders" [^>]*checked', html)
    assert re.search(r'<input type="number" name="handling_days" value="5" [^>]*max="60"', html)
    assert "Allow back-orders" in html and "Handling time (days)" in html


def test_saving_the_sales_policy_is_audited_with_before_and_after(company, admin_client):
    assert admin_client.post(URL, FORM_ES).status_code == 302
    before = state(company)
    response = admin_client.post(URL, {**FORM_ES, "allow_backorders": "on", "handling_days": "0"})
    assert response.status_code == 302
    after = state(company)
    assert (after["company"]["allow_backorders"], after["company"]["handling_days"]) == (True, 0)
    assert (after["audit"], after["events"]) == (before["audit"] + 1, before["events"] + 1)
    audit = AuditLog.objects.filter(action="company.update").latest("id")
    assert (audit.before, audit.after) == (
        {"allow_backorders": False, "handling_days": 2},
        {"allow_backorders": True, "handling_days": 0},
    )
    assert OutboxEvent.objects.filter(name="company.updated").latest("id").payload == audit.after

    # Unticking the box turns back-orders off again; 60 days is the longest handling time.
    assert admin_client.post(URL, {**FORM_ES, "handling_days": "60"}).status_code == 302
    company.refresh_from_db()
    assert (company.allow_backorders, company.handling_days) == (False, 60)


def test_saving_the_same_sales_policy_writes_nothing(company, admin_client):
    assert admin_client.post(URL, FORM_ES).status_code == 302
    before = state(company)
    assert admin_client.post(URL, FORM_ES).status_code == 302
    assert state(company) == before


def test_a_refused_handling_time_keeps_the_back_order_box_unsaved(company, admin_client):
    before = state(company)
    response = admin_client.post(URL, {**FORM_ES, "allow_backorders": "on", "handling_days": "90"})
    assert response.status_code == 422
    assert response.context["form"].errors == {"handling_days": ["Enter a whole number of days from 0 to 60."]}
    assert state(company) == before
