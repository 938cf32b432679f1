"""The application shell in a real browser: log-in, language switch, the phone menu."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext

from retaguarda.core.choices import Role
from retaguarda.core.models import User
from retaguarda.core.testing import PASSWORD, user_build

from .conftest import log_in

pytestmark = pytest.mark.browser


def nav_labels(page) -> list[str]:
    return [text.strip() for text in page.locator("#mainnav a").all_inner_texts()]


def test_log_in_and_see_the_dashboard(page, shot, company, live_server):
    user = user_build(company, Role.ADMINISTRATOR, username="ana")
    page.goto("/")
    assert page.url.endswith("/login/?next=/")
    shot(page, "login-page")
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", "wrong password")
    page.click("form.stacked button[type=submit]")
    assert page.locator("p.errorlist[role=alert]").inner_text() == "Wrong user name or password."
    shot(page, "wrong-password")
    log_in(page, user.username, PASSWORD)
    assert page.url == f"{live_server.url}/"
    assert page.locator("h1").inner_text() == f"{company} — back office"
    # Widgets arrive through hx-get after the page loaded.
    page.wait_for_selector("#widget-getting-started ol.steps li")
    page.wait_for_selector("#widget-recent-activity ul.activity li")
    assert page.locator("#widget-getting-started ol.steps a").first.inner_text() == (
        "Choose your language and change your password"
    )
    shot(page, "dashboard")


@pytest.mark.parametrize("language", ["pt-br", "es"])
def test_switch_language_translates_the_navigation(page, shot, company, language):
    user = user_build(company, Role.MANAGER, username="bruno")
    log_in(page, user.username, PASSWORD)
    english = nav_labels(page)
    assert "Products" in english and "Customers" in english
    shot(page, "english")
    with page.expect_navigation():
        page.select_option("form.langswitch select[name=language]", language)
    assert page.locator("html").get_attribute("lang") == language
    translated = nav_labels(page)
    with translation.override(language):
        expected = [gettext(label) for label in english]
    assert translated == expected
    # The catalogue really translates the menu: not one label is left in English.
    assert all(t != e for t, e in zip(translated, english, strict=True))
    shot(page, f"navigation-{language}")
    # Stored on the user: it survives logging out and in again.
    assert User.objects.get(pk=user.pk).language == language
    with page.expect_navigation():
        page.click("form[action='/logout/'] button")
    log_in(page, user.username, PASSWORD)
    assert nav_labels(page) == expected


def test_the_menu_opens_on_a_phone(phone_page, shot, company):
    page = phone_page
    user = user_build(company, Role.SALES, username="carla")
    log_in(page, user.username, PASSWORD)
    nav = page.locator("#mainnav")
    toggle = page.locator("button.menu-toggle")
    assert toggle.is_visible()
    assert not nav.is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    shot(page, "menu-closed")
    toggle.click()
    nav.wait_for(state="visible")
    shot(page, "menu-open")
    assert toggle.get_attribute("aria-expanded") == "true"
    links = nav.locator("a")
    sales_menu = [
        "Deviations",
        "Orders",
        "Pick lists",
        "Shipments",
        "Returns",
        "Stock",
        "Stock moves",
        "Replenishment",
        "Cycle counts",
        "Warehouses",
        "Invoices",
        "Taxes",
        "Electronic invoicing",
        "Customers",
        "Suppliers",
        "Products",
        "Price lists",
        "API tokens",
    ]
    assert [t.strip() for t in links.all_inner_texts()] == sales_menu
    # Large enough to hit with a thumb.
    box = links.first.bounding_box()
    assert box["height"] >= 44
    assert box["width"] >= 300
    toggle.click()
    nav.wait_for(state="hidden")
    # Nothing overflows the screen sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
