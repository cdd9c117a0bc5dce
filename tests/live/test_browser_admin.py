"""Tokens, admins and a customer's codes in a real Chromium, at a desktop's width and at a
phone's (390 px), driven with the keyboard where a merchant would: the page must fit, the
new token is shown once and copied, and what the page did holds for the API and for other
browsers.

Screenshots go to tests/screenshots/ (git-ignored), to be looked at.
"""

from __future__ import annotations

# ruff: noqa: F811 (the browser fixtures, imported from the main browser test module)
import json
import re
import urllib.error
import urllib.request

import pytest

from tests.live.test_browser import PASSWORD, browser, live_server, shot, sign_in  # noqa: F401
from tests.live.test_browser_promotions import fits, new_page

pytestmark = pytest.mark.slow

CLERK_PASSWORD = "clerk's own password"


def fits_width(page, width: int) -> None:
    """The page is no wider than the screen (tables scroll inside themselves)."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width} px wide at {width} px"


def tab_to(page, selector: str, presses: int = 80) -> None:
    """Press Tab until the element `selector` has the focus, as a keyboard user would."""
    target = page.locator(selector)
    for _ in range(presses):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reaches {selector} on {page.url}")


def call_attach(server, token: str, email: str) -> dict:
    params = {"token": token, "db_id": server.db_id, "loyalty_id": server.almost_out_id}
    request = urllib.request.Request(
        f"{server.url}/api/v1.1/promocodes/attach",
        data=json.dumps({**params, "email": email}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("width", [1280, 390])
def test_merchant_makes_uses_and_revokes_a_token(browser, live_server, width):
    context, page = new_page(browser, width)
    url = live_server.url
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    try:
        sign_in(page, url)
        tab_to(page, "a.promo-nav:text('API tokens')")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/admin/tokens$"))
        assert page.locator("tr[data-token=shop] [data-last-used]").inner_text() == "never"
        fits_width(page, width)
        shot(page, f"a{width}-01-tokens")

        assert page.locator("input[name=db_ids]").count() == 1  # the shop's database
        assert page.locator("input[name=loyalty_ids]").count() == 1  # its program
        page.fill("#token-name", "checkout")
        tab_to(page, "button:text('Create token')")
        page.keyboard.press("Enter")
        page.wait_for_selector("#token-secret")
        secret = page.input_value("#token-secret")
        assert len(secret) >= 40
        fits_width(page, width)
        tab_to(page, "#copy-secret")
        page.keyboard.press("Enter")
        assert page.locator("#copy-status").inner_text().startswith("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == secret
        shot(page, f"a{width}-02-token-shown-once")

        assert call_attach(live_server, secret, "ann@example.com")["error"] == 0
        page.goto(f"{url}/admin/tokens")
        assert secret not in page.content()  # shown once: never again
        last_used = page.locator("tr[data-token=checkout] [data-last-used]").inner_text()
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", last_used)

        tab_to(page, "button[aria-label='Revoke checkout']")
        page.keyboard.press("Enter")
        page.wait_for_selector(".promo-flash")
        assert "Revoked the token 'checkout'" in page.locator(".promo-flash").inner_text()
        fits_width(page, width)
        shot(page, f"a{width}-03-token-revoked")
        with pytest.raises(urllib.error.HTTPError) as refused:
            call_attach(live_server, secret, "ben@example.com")
        assert json.loads(refused.value.read())["error_text"] == "Invalid API token"
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_merchant_adds_resets_and_removes_an_admin(browser, live_server, width):
    context, page = new_page(browser, width)
    clerk_context, clerk = new_page(browser, width)
    url = live_server.url
    try:
        sign_in(page, url)
        page.click("a.promo-nav:text('Admins')")
        page.fill("#admin-name", "clerk")
        page.fill("#admin-password", CLERK_PASSWORD)
        tab_to(page, "button:text('Add admin')")
        page.keyboard.press("Enter")
        page.wait_for_selector(".promo-flash")
        assert "Added the admin 'clerk'" in page.locator(".promo-flash").inner_text()
        fits_width(page, width)
        shot(page, f"a{width}-04-admins")

        clerk.goto(f"{url}/admin/login")
        clerk.fill("#name", "clerk")
        clerk.fill("#password", CLERK_PASSWORD)
        clerk.click("button[type=submit]")
        clerk.wait_for_url(re.compile(r"/admin/$"))

        # A new password for the clerk ends the clerk's session.
        field = "tr[data-admin=clerk] input[type=password]"
        page.fill(field, "a brand new one")
        tab_to(page, "button[aria-label='Set the new password of clerk']")
        page.keyboard.press("Enter")
        page.wait_for_selector(".promo-flash")
        assert "every session they had is over" in page.locator(".promo-flash").inner_text()
        clerk.goto(f"{url}/admin/")
        assert "/admin/login" in clerk.url

        clerk.fill("#name", "clerk")
        clerk.fill("#password", "a brand new one")
        clerk.click("button[type=submit]")
        clerk.wait_for_url(re.compile(r"/admin/$"))
        # Removed, the clerk is signed out at once.
        tab_to(page, "button[aria-label='Remove clerk']")
        page.keyboard.press("Enter")
        page.wait_for_selector(".promo-flash")
        assert "Removed the admin 'clerk'" in page.locator(".promo-flash").inner_text()
        clerk.goto(f"{url}/admin/tokens")
        assert "/admin/login" in clerk.url

        # The last admin stays.
        page.click("button[aria-label='Remove boss']")
        assert "is the last admin" in page.locator(".promo-error").inner_text()
        assert page.locator("tr[data-admin]").count() == 1
        fits_width(page, width)
        shot(page, f"a{width}-05-last-admin-refused")
    finally:
        clerk_context.close()
        context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_merchant_finds_and_detaches_a_customers_code(browser, live_server, width):
    context, page = new_page(browser, width)
    url = live_server.url
    try:
        live_server.attach(live_server.almost_out_id, "ann@example.com", "LAST-2")
        live_server.attach(live_server.almost_out_id, "ben@example.com", "LAST-3")
        sign_in(page, url)
        page.goto(f"{url}/admin/programs/{live_server.almost_out_id}")
        page.select_option("#customer_by", "email")
        page.fill("#customer", "ANN@example.com")
        tab_to(page, "button:text('Filter')")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"customer=ANN"))
        assert page.locator("td.promo-code").all_inner_texts() == ["LAST-2"]
        fits(page, width)
        shot(page, f"a{width}-06-customer-filter")

        page.select_option("#bulk-action", "detach")
        page.click("text=Review…")
        assert page.locator("[data-count=touched]").inner_text() == "1"
        assert "held by the customer with email" in page.locator("#confirm-summary").inner_text()
        shot(page, f"a{width}-07-customer-confirm")
        page.keyboard.press("Enter")  # the confirm button has the focus
        page.wait_for_selector(".promo-flash")
        assert "Detached 1 code" in page.locator(".promo-flash").inner_text()
        assert page.locator("td.promo-code").count() == 0  # ann holds none now
        page.goto(f"{url}/admin/programs/{live_server.almost_out_id}?status=attached")
        assert page.locator("td.promo-code").all_inner_texts() == ["LAST-3"]
    finally:
        context.close()
