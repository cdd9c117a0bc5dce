"""Running a promotion in a real Chromium: generating codes, acting on them, at a desktop's
width and at a phone's (390 px), where the page must fit and no code may break.

Screenshots go to tests/screenshots/ (git-ignored), to be looked at. Without Chromium or
Playwright these tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

# ruff: noqa: F811 (the browser fixtures, imported from the main browser test module)
import json
import re
import urllib.error

import pytest

from tests.live.test_browser import browser, live_server, shot, sign_in  # noqa: F401

pytestmark = pytest.mark.slow


def new_page(browser, width: int):
    # The phone runs in the dark scheme, the desktop in the light one: both get looked at.
    scheme = "dark" if width < 600 else "light"
    context = browser.new_context(viewport={"width": width, "height": 844}, color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(60_000)
    return context, page


def fits(page, width: int) -> None:
    """The page is no wider than the screen, and every code shown sits on one line."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        """(width) => [...document.querySelectorAll('body *')]
            .filter(element => element.getBoundingClientRect().right > width + 1
                && !element.closest('.promo-scroll table'))
            .map(element => element.tagName + '.' + element.className + ':'
                + Math.round(element.getBoundingClientRect().right)).slice(0, 8)""",
        width,
    )
    assert scroll_width <= width, f"{page.url} is {scroll_width} px wide at {width} px: {wide}"
    lines = page.evaluate(
        """() => [...document.querySelectorAll('.promo-code')].map(element => {
            const style = getComputedStyle(element);
            const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.45;
            const range = document.createRange();
            range.selectNodeContents(element);
            return Math.round(range.getBoundingClientRect().height / line);
        })"""
    )
    assert lines and set(lines) == {1}, f"codes wrap on {page.url}: {lines}"


@pytest.mark.parametrize("width", [1280, 390])
def test_merchant_generates_codes_and_voids_one(browser, live_server, width):
    context, page = new_page(browser, width)
    try:
        url = live_server.url
        sign_in(page, url)
        fits(page, width) if page.locator(".promo-code").count() else None
        shot(page, f"p{width}-01-programs")
        page.click("text=Almost out")
        page.click("text=Generate codes")
        page.fill("#count", "150000")
        page.fill("#prefix", "SPRING-2026-")
        page.fill("#pattern", "****-****")
        page.fill("#expire_date", "2031-05-31")
        shot(page, f"p{width}-02-generate-form")
        page.click("button:text('Generate codes')")
        page.wait_for_selector("[data-count=inserted]")
        assert page.locator("[data-count=inserted]").inner_text() == "150,000"
        assert page.locator(".promo-step:visible").count() == 1  # only the latest bar
        assert "150,000 of 150,000 (100 %)" in page.locator(".promo-step:visible").inner_text()
        shot(page, f"p{width}-03-generated")

        page.click("text=See the codes")
        assert page.locator("[data-count=total]").inner_text() == "150,003"
        first = page.locator("td.promo-code").first.inner_text()
        assert re.fullmatch(r"SPRING-2026-[A-Z3-9]{4}-[A-Z3-9]{4}", first)
        fits(page, width)
        shot(page, f"p{width}-04-program")

        # Void the newest code from its row, with the keyboard's reach: links and buttons.
        page.locator("td a", has_text="Act…").first.click()
        page.wait_for_url(re.compile(r"/codes/\d+$"))
        fits(page, width)
        page.select_option("#code-action", "void")
        page.click("text=Review…")
        assert page.locator("h1").inner_text() == "Void (for good): 1 code?"
        fits(page, width)
        shot(page, f"p{width}-05-confirm")
        page.keyboard.press("Enter")  # the confirm button has the focus
        page.wait_for_url(re.compile(r"/codes/\d+$"))
        assert "Voided 1 code of" in page.locator(".promo-flash").inner_text()
        assert page.locator("h1 .promo-status").inner_text() == "voided"
        shot(page, f"p{width}-06-voided")
        page.goto(f"{url}/admin/programs/{live_server.almost_out_id}?status=voided")
        assert page.locator("td.promo-code").all_inner_texts() == [first]
        with pytest.raises(urllib.error.HTTPError) as refused:
            live_server.attach(live_server.almost_out_id, "ann@example.com", first)
        assert json.loads(refused.value.read())["error_text"] == "Promo code has expired"

        # A bulk action on the filtered set: expire the three LAST- codes.
        page.goto(f"{url}/admin/programs/{live_server.almost_out_id}?q=LAST-")
        page.select_option("#bulk-action", "expire")
        page.click("text=Review…")
        assert page.locator("[data-count=touched]").inner_text() == "3"
        page.click("text=Yes, expire now")
        assert "Expired 3 codes" in page.locator(".promo-flash").inner_text()
        fits(page, width)
        shot(page, f"p{width}-07-expired")
    finally:
        context.close()
