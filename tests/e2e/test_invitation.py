"""The invitation page in a real browser, at desktop and phone width, light and dark: a new
person opens the emailed link, chooses a password and lands signed in in the builder; a used
link then says so."""

import pytest

from accounts.models import Membership, User
from accounts.services import invitation_create, project_create
from tests.factories import UserFactory

PASSWORD = "correct horse battery"

LAYOUTS = [
    pytest.param({"width": 1440, "height": 900}, "light", id="desktop-light"),
    pytest.param({"width": 1440, "height": 900}, "dark", id="desktop-dark"),
    pytest.param({"width": 390, "height": 844}, "light", id="phone-light"),
    pytest.param({"width": 390, "height": 844}, "dark", id="phone-dark"),
]

LUMINANCE = """() => {
  const c = getComputedStyle(document.body).backgroundColor.match(/\\d+/g).map(Number);
  return (0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]) / 255;
}"""


@pytest.mark.parametrize(("viewport", "scheme"), LAYOUTS)
def test_a_new_person_joins_through_the_invitation_page(browser, live_server, transactional_db,
                                                        viewport, scheme):
    admin = UserFactory(is_staff=True)
    project = project_create(name="Growth team", creator=admin)
    _, key = invitation_create(project=project, email="newcomer@example.com", role="editor",
                               invited_by=admin)
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{live_server.url}/invitations/{key}")
        invitation = page.get_by_test_id("invitation")
        invitation.wait_for()
        assert "Growth team" in invitation.inner_text()
        assert "editor" in invitation.inner_text()
        # readable in this colour scheme, and nothing wider than the screen
        luminance = page.evaluate(LUMINANCE)
        assert luminance < 0.3 if scheme == "dark" else luminance > 0.7
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        accept = page.get_by_test_id("accept")
        box = accept.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= viewport["width"]

        page.fill("#id_password1", PASSWORD)
        page.fill("#id_password2", "not the same")
        accept.click()
        page.get_by_text("The two passwords differ.").wait_for()
        page.fill("#id_password1", PASSWORD)
        page.fill("#id_password2", PASSWORD)
        page.get_by_test_id("accept").click()
        page.wait_for_url(f"{live_server.url}/admin/")
        page.get_by_text("You joined Growth team as editor.").wait_for()
        user = User.objects.get(email="newcomer@example.com")
        assert Membership.objects.get(project=project, user=user).role == "editor"

        page.goto(f"{live_server.url}/invitations/{key}")
        problem = page.get_by_test_id("invitation-problem")
        problem.wait_for()
        assert "already accepted" in problem.inner_text()
        assert errors == []
    finally:
        context.close()
