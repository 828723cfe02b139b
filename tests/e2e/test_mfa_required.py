"""A project that requires two-factor sign-in, seen in a real browser by a member who has not
turned it on: a banner on the admin pages names the project and links to the two-factor page,
its workflow is hidden and its page sends them there; once 2FA is on, the workflow is back.
Desktop and phone width, light and dark theme."""

import re

import pyotp
import pytest
from playwright.sync_api import expect

from accounts.mfa import totp_enrol_confirm, totp_enrol_start
from accounts.models import Membership, Project, Role
from accounts.services import project_create
from tests.e2e.conftest import sign_in
from tests.e2e.test_mfa import LAYOUTS, SHOTS, assert_layout, themed_page  # noqa: F401 (fixture)
from tests.factories import UserFactory, make_workflow


def _enrol(user) -> None:
    secret = totp_enrol_start(user=user).secret
    totp_enrol_confirm(user=user, code=pyotp.TOTP(secret).now())


@pytest.mark.parametrize(("viewport", "theme"), LAYOUTS)
def test_a_member_without_2fa_sees_why_the_project_is_hidden(themed_page, live_server,  # noqa: F811
                                                             e2e_user, viewport, theme):
    admin = UserFactory(is_staff=True)
    _enrol(admin)
    project = project_create(name="Payments team", creator=admin, require_mfa=True)
    member = UserFactory(is_staff=True)
    Membership.objects.create(project=project, user=member, role=Role.EDITOR)
    workflow = make_workflow(owner=admin, name="payouts-flow", project=project)
    make_workflow(owner=member, name="my-own-flow")
    assert Project.objects.get(pk=project.pk).require_mfa

    page = themed_page(viewport, theme)
    sign_in(page, live_server.url, member.email)
    page.goto(f"{live_server.url}/admin/workflows/workflow/")
    banner = page.locator("#mfa-required-banner")
    expect(banner).to_contain_text("Project Payments team requires two-factor sign-in")
    expect(page.get_by_role("link", name="my-own-flow")).to_be_visible()
    expect(page.get_by_role("link", name="payouts-flow")).to_have_count(0)
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/mfa_required_{viewport}_{theme}.png")
    assert_layout(page, theme)

    page.goto(f"{live_server.url}/admin/workflows/workflow/{workflow.pk}/change/")
    page.wait_for_url(f"{live_server.url}/admin/account/two-factor/")
    expect(page.locator("ul.messagelist:not(#mfa-required-banner)")).to_contain_text(
        "Project 'Payments team' requires two-factor sign-in")
    assert_layout(page, theme)

    _enrol(member)
    page.goto(f"{live_server.url}/admin/workflows/workflow/")
    expect(page.get_by_role("link", name="payouts-flow")).to_be_visible()
    expect(page.locator("#mfa-required-banner")).to_have_count(0)
    assert re.search(r"/admin/workflows/workflow/$", page.url)
