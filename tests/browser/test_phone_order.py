"""A phone order in a real browser: a sales user finds the customer, types two SKUs, confirms,
and sees the order confirmed with its stock reserved."""

from __future__ import annotations

from decimal import Decimal

import pytest

from retaguarda.core.choices import Role
from retaguarda.core.testing import PASSWORD, user_build

from .conftest import log_in

pytestmark = pytest.mark.browser


def cells(page, selector: str) -> list[list[str]]:
    rows = page.locator(f"{selector} tbody tr")
    return [[c.strip() for c in rows.nth(i).locator("td").all_inner_texts()] for i in range(rows.count())]


def type_sku(page, key: int, sku: str, expected_name: str) -> None:
    """Type a SKU in row `key` and wait for htmx to show the product it found."""
    page.fill(f"#line-{key}-sku", sku)
    page.press(f"#line-{key}-sku", "Tab")
    page.locator(f"#line-{key}-info strong").filter(has_text=expected_name).wait_for()


def test_a_sales_user_takes_a_phone_order(page, shot, company, live_server):
    from retaguarda.inventory.models import StockLevel
    from retaguarda.inventory.testing import stocked_product, warehouse_build
    from retaguarda.parties.testing import party_build
    from retaguarda.sales.models import SalesOrder

    warehouse = warehouse_build(company, code="MAIN", name="Main")
    outlet = warehouse_build(company, code="OUTLET", name="Outlet")
    mug = stocked_product(
        company, warehouse=warehouse, quantity="10", sku="MUG-BLUE", name="Blue mug", list_price=Decimal("9.90")
    )
    teapot = stocked_product(
        company, warehouse=warehouse, quantity="4", sku="TEA-GREEN", name="Green teapot", list_price=Decimal("24.00")
    )
    customer = party_build(
        company,
        legal_name="Loja Azul SL",
        email="compras@azul.example",
        addresses=[
            {
                "kind": "shipping",
                "street": "Calle Mayor",
                "number": "5",
                "city": "Madrid",
                "postal_code": "28013",
                "country": "ES",
                "is_default": True,
            }
        ],
    )
    user = user_build(company, Role.SALES, username="sara")
    log_in(page, user.username, PASSWORD)

    with page.expect_navigation():
        page.click("#mainnav a:text-is('Orders')")
    assert page.url == f"{live_server.url}/sales/orders/"
    with page.expect_navigation():
        page.locator("main").get_by_text("New order").first.click()
    assert page.url == f"{live_server.url}/sales/orders/new/"
    assert page.locator("#id_warehouse").input_value() == str(warehouse.pk)

    # The customer: typed, found through htmx, chosen; its shipping address fills the ship-to.
    page.fill("#customer-search", "azul")
    page.locator("#customer-results button").filter(has_text="Loja Azul SL").click()
    page.locator("#customer-picked [data-customer]").filter(has_text="Loja Azul SL").wait_for()
    assert page.locator("#customer-picked input[name=customer]").input_value() == str(customer.pk)
    assert page.locator("#id_ship_to_street").input_value() == "Calle Mayor"
    assert page.locator("#id_ship_to_postal_code").input_value() == "28013"
    shot(page, "customer-chosen")

    # Two lines by SKU: each look-up shows the product, fills the list price and what is available.
    type_sku(page, 0, "MUG-BLUE", "Blue mug")
    assert page.locator("#line-0-unit_price").input_value() == "9.90"
    assert page.locator("#line-0-info [data-available]").inner_text() == "10 available in MAIN"
    page.fill("#line-0-quantity", "3")
    page.click("#add-line")
    assert page.evaluate("document.activeElement.id") == "line-1-sku"
    type_sku(page, 1, "TEA-GREEN", "Green teapot")
    assert page.locator("#line-1-unit_price").input_value() == "24.00"
    assert page.locator("#line-1-info [data-available]").inner_text() == "4 available in MAIN"
    page.fill("#line-1-quantity", "2")
    # A third row: a word matching several products offers them; one is chosen, then the row is
    # removed again, and is not sent.
    page.click("#add-line")
    page.fill("#line-2-sku", "e")
    page.press("#line-2-sku", "Tab")
    page.locator("#line-2-info button[data-sku=TEA-GREEN]").click()
    page.locator("#line-2-info strong").filter(has_text="Green teapot").wait_for()
    assert page.locator("#line-2-sku").input_value() == "TEA-GREEN"
    assert page.locator("#line-2-unit_price").input_value() == "24.00"
    page.locator("#line-2 button:text-is('Remove')").click()
    assert page.locator("#order-lines tbody tr").count() == 2
    # Another warehouse: every row shows what that one has.
    page.select_option("#id_warehouse", str(outlet.pk))
    page.locator("#line-1-info [data-available]").filter(has_text="0 available in OUTLET").wait_for()
    page.locator("#line-0-info [data-available]").filter(has_text="0 available in OUTLET").wait_for()
    page.select_option("#id_warehouse", str(warehouse.pk))
    page.locator("#line-1-info [data-available]").filter(has_text="4 available in MAIN").wait_for()
    page.locator("#line-0-info [data-available]").filter(has_text="10 available in MAIN").wait_for()
    assert page.locator("#line-0-unit_price").input_value() == "9.90"
    shot(page, "two-lines")

    with page.expect_navigation():
        page.click("button[name=action][value=confirm]")
    order = SalesOrder.objects.get(company=company)
    assert page.url == f"{live_server.url}/sales/orders/{order.pk}/"
    assert page.locator("ul.messages").inner_text().strip() == (
        f"Order {order.number} confirmed; its stock is reserved."
    )
    assert page.locator("main h1").inner_text() == f"Order {order.number}"
    assert page.locator("main .toolbar .badge").first.inner_text() == "Confirmed"
    # SKU, description, ordered, reserved, back-ordered, shipped, returned, invoiced, price, discount, amount
    assert cells(page, "#order-lines") == [
        ["MUG-BLUE", "Blue mug", "3", "3", "0", "0", "0", "0", "9.90", "", "€29.70"],
        ["TEA-GREEN", "Green teapot", "2", "2", "0", "0", "0", "0", "24.00", "", "€48.00"],
    ]
    assert page.locator("#order-total").inner_text() == "€77.70"
    shot(page, "order-confirmed")

    order.refresh_from_db()
    assert (order.status, order.channel, order.customer_id, order.ship_to_street, order.amount_untaxed) == (
        "confirmed",
        "phone",
        customer.pk,
        "Calle Mayor",
        Decimal("77.70"),
    )
    assert list(order.lines.values_list("product__sku", "quantity", "unit_price", "quantity_allocated")) == [
        ("MUG-BLUE", Decimal("3.000"), Decimal("9.9000"), Decimal("3.000")),
        ("TEA-GREEN", Decimal("2.000"), Decimal("24.0000"), Decimal("2.000")),
    ]
    levels = {row.product_id: (row.on_hand, row.allocated) for row in StockLevel.objects.filter(warehouse=warehouse)}
    assert levels == {mug.pk: (Decimal("10.000"), Decimal("3.000")), teapot.pk: (Decimal("4.000"), Decimal("2.000"))}
