"""The catalog and parties pages in a real browser: filter products, customer form errors, create a customer."""

from __future__ import annotations

from decimal import Decimal

import pytest

from retaguarda.catalog.testing import product_build
from retaguarda.core.choices import Role
from retaguarda.core.testing import PASSWORD, user_build

from .conftest import log_in

pytestmark = pytest.mark.browser


def table_skus(page) -> list[str]:
    return [t.strip() for t in page.locator("#product-table tbody td:first-child a").all_inner_texts()]


def test_open_the_product_list_and_filter_it(page, shot, company, live_server):
    product_build(company, sku="MUG-BLUE", name="Blue mug", list_price=Decimal("9.90"))
    product_build(company, sku="MUG-RED", name="Red mug", list_price=Decimal("9.90"))
    product_build(company, sku="TEA-GREEN", name="Green teapot", list_price=Decimal("24.00"))
    product_build(company, sku="SRV-GIFT", name="Gift wrapping", kind="service", list_price=Decimal("2.50"))
    user = user_build(company, Role.WAREHOUSE, username="wanda")
    log_in(page, user.username, PASSWORD)
    with page.expect_navigation():
        page.click("#mainnav a:text-is('Products')")
    assert page.url == f"{live_server.url}/catalog/products/"
    assert table_skus(page) == ["MUG-BLUE", "MUG-RED", "SRV-GIFT", "TEA-GREEN"]
    shot(page, "product-list")

    # Typing filters through htmx: the table is replaced, the page is not reloaded.
    page.evaluate("window.__same_page = true")
    page.fill("input[name=q]", "mug")
    page.wait_for_function("document.querySelectorAll('#product-table tbody tr').length === 2")
    assert table_skus(page) == ["MUG-BLUE", "MUG-RED"]
    assert page.evaluate("window.__same_page") is True
    page.wait_for_url("**/catalog/products/?*q=mug*")
    shot(page, "search-mug")

    page.fill("input[name=q]", "")
    page.select_option("select[name=kind]", "service")
    page.wait_for_function("document.querySelectorAll('#product-table tbody tr').length === 1")
    assert table_skus(page) == ["SRV-GIFT"]
    shot(page, "kind-service")

    # The filtered address is shareable: loading it afresh shows the same rows.
    page.goto("/catalog/products/?q=teapot")
    assert table_skus(page) == ["TEA-GREEN"]
    assert page.locator("input[name=q]").input_value() == "teapot"


def invalid_tax_id_message(country: str, number: str, kind: str) -> str:
    """What the parties app says about this number, from its own validator (not hard-coded)."""
    from retaguarda.common.taxids import TaxIdInvalid, tax_id_validate

    try:
        tax_id_validate(country=country, number=number, kind=kind)
    except TaxIdInvalid as exc:
        return exc.message
    raise AssertionError(f"{number} was expected to be invalid")


def fill_customer_form(page, *, legal_name: str, country: str, tax_id: str, kind: str = "company") -> None:
    page.fill("input[name=legal_name]", legal_name)
    page.check(f"input[name=kind][value={kind}]")
    page.select_option("select[name=tax_country]", country)
    page.fill("input[name=tax_id]", tax_id)


def submit_party_form(page) -> None:
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").first.click()


def test_customer_form_shows_the_invalid_tax_id_error(page, shot, company_br):
    from retaguarda.parties.models import Party

    user = user_build(company_br, Role.SALES, username="sergio")
    log_in(page, user.username, PASSWORD)
    page.goto("/parties/new/")
    shot(page, "empty-form")
    # Check digits pass, but every digit is the same: refused.
    fill_customer_form(page, legal_name="Cliente Repetido", country="BR", tax_id="111.111.111-11", kind="person")
    submit_party_form(page)
    expected = invalid_tax_id_message("BR", "111.111.111-11", "person")
    error = page.locator("main").get_by_text(expected, exact=True)
    error.wait_for()
    assert error.is_visible()
    # What was typed is kept so it can be corrected.
    assert page.locator("input[name=legal_name]").input_value() == "Cliente Repetido"
    assert page.locator("input[name=tax_id]").input_value() == "111.111.111-11"
    assert Party.objects.filter(company=company_br).count() == 0
    shot(page, "tax-id-error")


def test_create_a_customer_and_find_it_in_the_list(page, shot, company_br, live_server):
    from retaguarda.parties.models import Party

    user = user_build(company_br, Role.SALES, username="sonia")
    log_in(page, user.username, PASSWORD)
    with page.expect_navigation():
        page.click("#mainnav a:text-is('Customers')")
    page.locator("main").get_by_text("New customer").first.click()
    page.wait_for_url("**/parties/new/**")
    fill_customer_form(page, legal_name="Padaria Pão Quente Ltda", country="BR", tax_id="11.222.333/0001-81")
    page.fill("input[name=email]", "compras@paoquente.example")
    shot(page, "filled-form")
    submit_party_form(page)
    party = Party.objects.get(company=company_br, legal_name="Padaria Pão Quente Ltda")
    assert (party.is_customer, party.tax_id, party.email) == (True, "11222333000181", "compras@paoquente.example")
    assert page.url == f"{live_server.url}/parties/{party.pk}/"
    assert page.locator("ul.messages").inner_text().strip() == "Padaria Pão Quente Ltda was created."
    shot(page, "customer-page")
    page.goto("/parties/customers/?q=padaria")
    row = page.locator("main table tbody tr").filter(has_text="Padaria Pão Quente Ltda")
    assert row.count() == 1
    shot(page, "customer-in-list")
