"""Picking on a phone: a warehouse user creates a pick list, scans each line's product into the
autofocused input (as a scanner does: type, Enter), completes it, packs a parcel and ships."""

from __future__ import annotations

import pytest

from retaguarda.core.choices import Role
from retaguarda.core.testing import PASSWORD, user_build

from .conftest import log_in

pytestmark = pytest.mark.browser

MUG_BARCODE = "4006381333931"


@pytest.fixture
def floor(company):
    from retaguarda.fulfilment.testing import binned_product, bins_build
    from retaguarda.inventory.testing import warehouse_build
    from retaguarda.sales.testing import order_build

    warehouse = warehouse_build(company, code="MAIN", name="Main warehouse")
    bins = bins_build(company, warehouse, ["A-01", "A-02", "B-01"])
    mug = binned_product(
        company,
        warehouse=warehouse,
        stock={bins["A-01"]: 4, bins["B-01"]: 6},
        sku="MUG",
        name="Blue mug",
        barcode=MUG_BARCODE,
    )
    tea = binned_product(company, warehouse=warehouse, stock={bins["A-02"]: 5}, sku="TEA", name="Green tea")
    order = order_build(company, warehouse=warehouse, lines=[(mug, 5), (tea, 2)])
    return {"warehouse": warehouse, "mug": mug, "tea": tea, "order": order}


def scan(page, code: str) -> None:
    """What a USB or phone scanner does: type into the focused field and press Enter."""
    assert page.evaluate("document.activeElement && document.activeElement.id") == "pick-code"
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def test_pick_pack_and_ship_on_a_phone(phone_page, shot, company, floor, live_server):
    from retaguarda.fulfilment.models import PickList, Shipment
    from retaguarda.inventory.models import StockBalance, StockLevel

    page = phone_page
    user = user_build(company, Role.WAREHOUSE, username="wilma")
    log_in(page, user.username, PASSWORD)
    page.click("button.menu-toggle")
    with page.expect_navigation():
        page.click("#mainnav a:text-is('Pick lists')")
    assert page.url == f"{live_server.url}/fulfilment/pick-lists/"
    with page.expect_navigation():
        page.click("main a:text-is('New pick list')")
    shot(page, "new-pick-list")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    pick_list = PickList.objects.get()
    assert pick_list.assigned_to_id == user.pk  # "I will pick it" is ticked by default
    assert page.url == f"{live_server.url}/fulfilment/pick-lists/{pick_list.pk}/pick/"

    # Walking order: A-01 (4 mugs), A-02 (2 teas), B-01 (the 5th mug).
    bin_code = page.locator("[data-testid=pick-bin]")
    assert bin_code.inner_text() == "MAIN/A-01"
    assert page.locator("#pick-quantity").input_value() == "4"
    # The bin code is the largest text on the screen.
    assert page.eval_on_selector("[data-testid=pick-bin]", "e => parseFloat(getComputedStyle(e).fontSize)") >= 40
    shot(page, "first-line")

    # A wrong scan is refused on the spot, naming the code; the line stays.
    scan(page, "TEA")
    page.get_by_text("You scanned TEA, but this line is MUG.").first.wait_for()
    assert bin_code.inner_text() == "MAIN/A-01"
    shot(page, "wrong-scan")

    scan(page, MUG_BARCODE)
    page.wait_for_function("document.querySelector('[data-testid=pick-bin]').innerText === 'MAIN/A-02'")
    assert page.locator(".pick-done").inner_text() == "Picked 4.000 × MUG."
    scan(page, "TEA")
    page.wait_for_function("document.querySelector('[data-testid=pick-bin]').innerText === 'MAIN/B-01'")
    shot(page, "third-line")
    scan(page, "MUG")
    page.get_by_text("All lines picked").wait_for()
    assert page.locator(".pick-progress span").inner_text() == "3 of 3 lines"
    shot(page, "all-picked")
    with page.expect_navigation():
        page.click("button:text-is('Complete pick list')")
    shipment = Shipment.objects.get()
    assert page.url == f"{live_server.url}/fulfilment/pick-lists/{pick_list.pk}/"

    with page.expect_navigation():
        page.click(f"main a:text-is('{shipment.number}')")
    assert page.url == f"{live_server.url}/fulfilment/shipments/{shipment.pk}/"
    page.fill("#parcel-form input[name=weight]", "2.4")
    page.fill("#parcel-form input[name=length]", "30")
    page.fill("#parcel-form input[name=width]", "20")
    page.fill("#parcel-form input[name=height]", "15")
    with page.expect_navigation():
        page.click("#parcel-form button[type=submit]")
    assert page.locator("#parcels tbody tr").count() == 1
    with page.expect_navigation():
        page.click("button:text-is('Packed')")
    assert page.locator("[data-testid=shipment-status]").inner_text() == "Packed"
    page.fill("#ship-form input[name=carrier]", "SEUR")
    page.fill("#ship-form input[name=tracking_number]", "SEUR-2026-0001")
    shot(page, "ship-form")
    with page.expect_navigation():
        page.click("#ship-form button[type=submit]")
    assert page.locator("[data-testid=shipment-status]").inner_text() == "Shipped"
    assert page.locator("[data-testid=tracking]").inner_text() == "SEUR-2026-0001"
    shot(page, "shipped")

    shipment.refresh_from_db()
    assert (shipment.status, shipment.carrier, shipment.tracking_number, shipment.shipped_by_id) == (
        "shipped",
        "SEUR",
        "SEUR-2026-0001",
        user.pk,
    )
    assert [(str(p.weight), str(p.height)) for p in shipment.parcels.all()] == [("2.400", "15.000")]
    mug_level = StockLevel.objects.get(product=floor["mug"])
    assert (str(mug_level.on_hand), str(mug_level.allocated)) == ("5.000", "0.000")
    mug_bins = dict(StockBalance.objects.filter(product=floor["mug"]).values_list("location__code", "on_hand"))
    assert {code: str(q) for code, q in mug_bins.items()} == {"MAIN/A-01": "0.000", "MAIN/B-01": "5.000"}
    floor["order"].refresh_from_db()
    assert floor["order"].fulfilment_status == "shipped"
