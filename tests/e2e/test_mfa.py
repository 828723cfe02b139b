"""Two-factor sign-in in a real browser: the admin's code step and the settings page, at
desktop and phone width, in the light and the dark theme. Codes are computed with pyotp."""

import os
import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from accounts.mfa import totp_enrol_confirm, totp_enrol_start, user_has_mfa

PASSWORD = "correct horse battery"
VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
SHOTS = os.environ.get("WFAIB_E2E_SHOTS", "")  # a folder: save screenshots for a look
LAYOUTS = [(v, t) for v in VIEWPORTS for t in ("light", "dark")]


@pytest.fixture
def themed_page(browser, request):
    """A page at the given width with the admin's theme set as its toggle stores it."""
    contexts = []

    def make(viewport: str, theme: str):
        context = browser.new_context(viewport=VIEWPORTS[viewport], color_scheme=theme)
        context.add_init_script(f"localStorage.setItem('theme', '{theme}')")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.js_errors = errors
        return page

    yield make
    for context in contexts:
        context.close()


def assert_layout(page, theme: str) -> None:
    """The page uses the theme and fits its width (no sideways scrolling on a phone)."""
    assert page.evaluate("document.documentElement.dataset.theme") == theme
    rgb = [int(x) for x in re.findall(r"\d+", page.evaluate(
        "getComputedStyle(document.body).backgroundColor"))[:3]]
    assert (sum(rgb) / 3 < 100) if theme == "dark" else (sum(rgb) / 3 > 200), rgb
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert page.js_errors == []


@pytest.mark.parametrize(("viewport", "theme"), LAYOUTS)
def test_admin_sign_in_with_a_totp_code(themed_page, live_server, e2e_user, viewport, theme):
    secret = totp_enrol_start(user=e2e_user).secret
    totp_enrol_confirm(user=e2e_user, code=pyotp.TOTP(secret).now())
    page = themed_page(viewport, theme)
    page.goto(f"{live_server.url}/admin/login/")
    expect(page.get_by_role("link", name="Forgotten your login credentials?")).to_be_visible()
    page.fill("#id_username", e2e_user.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/login/code/.*"))
    code_input = page.locator("#id_code")
    expect(code_input).to_be_visible()
    expect(code_input).to_have_attribute("autocomplete", "one-time-code")
    assert_layout(page, theme)

    code_input.fill("000000")
    page.click("input[type=submit]")
    expect(page.locator(".errornote")).to_contain_text("Wrong two-factor code")
    assert_layout(page, theme)

    # the enrolment used this step's code; the next step's is accepted (clock drift window)
    page.fill("#id_code", pyotp.TOTP(secret).at(time.time() + 30))
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    expect(page.get_by_role("link", name="Two-factor sign-in")).to_be_visible()
    assert_layout(page, theme)


@pytest.mark.parametrize(("viewport", "theme"), LAYOUTS)
def test_set_up_two_factor_in_the_settings_page(themed_page, live_server, e2e_user, viewport,
                                                theme):
    page = themed_page(viewport, theme)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", e2e_user.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/account/two-factor/")
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    qr = page.get_by_role("img", name="QR code of the secret")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.naturalWidth > 0")  # the SVG data URI rendered
    secret = page.get_by_test_id("totp-secret").get_attribute("data-secret")
    shown = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    assert shown == secret
    assert_layout(page, theme)

    page.fill("#id_code", pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    codes = page.get_by_test_id("recovery-codes").locator("li")
    expect(codes).to_have_count(10)
    recovery = codes.first.inner_text()
    assert user_has_mfa(e2e_user)
    assert_layout(page, theme)

    # signing in again now takes a code: a recovery code here
    page.get_by_role("button", name="Log out").click()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", e2e_user.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/login/code/.*"))
    page.fill("#id_code", recovery)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    # and off again, with the password as proof
    page.goto(f"{live_server.url}/admin/account/two-factor/")
    expect(page.get_by_test_id("mfa-on")).to_contain_text("9 recovery codes left")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/mfa_on_{viewport}_{theme}.png", full_page=True)
    expect(page.locator("ol.breadcrumbs")).to_be_visible()
    assert_layout(page, theme)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Turn off two-factor sign-in").click()
    expect(page.get_by_test_id("mfa-off")).to_be_visible()
    assert not user_has_mfa(e2e_user)
