"""Fixtures of the editor walk (issue 19): each test runs at desktop (1280x800) and phone
(390x844) widths, in light and dark, and saves screenshots under .ci/artifacts/screenshots
(which `.ci/run` lists at the end)."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

SCREENSHOTS = Path(__file__).resolve().parents[2] / ".ci" / "artifacts" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
COMBOS = [("desktop", "light"), ("desktop", "dark"), ("phone", "light"), ("phone", "dark")]


@pytest.fixture(params=COMBOS, ids=[f"{v}-{t}" for v, t in COMBOS])
def walk(browser, request):
    """A page at one of the four (viewport, theme) combinations; `walk.shot(name)` saves a
    screenshot named after the test, the combination and `name`."""
    viewport, theme = request.param
    context = browser.new_context(viewport=VIEWPORTS[viewport], color_scheme=theme,
                                  permissions=["clipboard-read", "clipboard-write"])
    # The admin's theme toggle stores its choice here; "auto" follows color_scheme.
    context.add_init_script(f"localStorage.setItem('theme', '{theme}')")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    page.viewport_name = viewport
    page.theme = theme
    page.phone = viewport == "phone"
    test = re.sub(r"[^A-Za-z0-9_]+", "_", request.node.originalname)

    def shot(name: str, full_page: bool = False) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{test}-{name}-{viewport}-{theme}.png"),
                        full_page=full_page)

    page.shot = shot
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        shot("FAILED", full_page=True)
    context.close()


def view_ready(page) -> None:
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-view", "ready")


def select_node(page, node_id: str) -> None:
    view_ready(page)
    page.locator(f'[data-testid="node-{node_id}"] .wf-node-id').click()
    expect(page.locator("#node-id")).to_have_value(node_id)


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (
        f"page is {width} px wide at {page.viewport_size['width']}: "
        + str(page.evaluate("""(w) => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > w + 1)
            .slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id)""",
            page.viewport_size["width"])))
