"""Folders in the admin (workflows/admin_folders.py): the list's folder filter and breadcrumb,
the move-to-folder action, the workflow form's folder, and a non-empty folder kept."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from accounts.access import personal_project
from accounts.services import project_create
from tests.factories import UserFactory, make_workflow
from workflows.folders import folder_create
from workflows.models import Folder, Workflow

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:workflows_workflow_changelist"


def names(response) -> list[str]:
    return sorted(w.name for w in response.context["cl"].result_list)


@pytest.fixture
def tree(staff):
    project = personal_project(staff)
    billing = folder_create(project=project, name="Billing")
    invoices = folder_create(project=project, name="Invoices", parent=billing)
    make_workflow(owner=staff, name="Loose")
    make_workflow(owner=staff, name="Bill run", folder=billing)
    make_workflow(owner=staff, name="Invoice run", folder=invoices)
    return {"billing": billing, "invoices": invoices}


def test_the_list_opens_folders_with_a_breadcrumb(staff_client, tree):
    url = reverse(CHANGELIST)
    everything = staff_client.get(url)
    assert names(everything) == ["Bill run", "Invoice run", "Loose"]
    assert 'data-testid="folder-bar"' in everything.content.decode()
    top = staff_client.get(url, {"folder": "top"})
    assert names(top) == ["Loose"]
    assert f'href="?folder={tree["billing"].pk}"' in top.content.decode()
    opened = staff_client.get(url, {"folder": tree["invoices"].pk})
    assert names(opened) == ["Invoice run"]
    page = opened.content.decode()
    crumbs = page[page.index('class="breadcrumbs"'):page.index("</ol>")]
    assert "Top level" in crumbs
    assert "Billing" in crumbs
    assert "Invoices" in crumbs
    assert f'?folder={tree["billing"].pk}' in crumbs  # the parent is a link
    billing = staff_client.get(url, {"folder": tree["billing"].pk})
    assert names(billing) == ["Bill run"]
    assert f'data-testid="folder-{tree["invoices"].pk}"' in billing.content.decode()


def test_another_user_s_folder_is_not_shown(staff_client, tree):
    stranger = UserFactory(is_staff=True)
    theirs = folder_create(project=personal_project(stranger), name="Secret")
    make_workflow(owner=stranger, name="Their run", folder=theirs)
    response = staff_client.get(reverse(CHANGELIST), {"folder": theirs.pk})
    assert names(response) == []
    page = response.content.decode()
    assert "Secret" not in page
    assert "Their run" not in page
    assert "does not exist or is not yours" in page
    assert "Secret" not in staff_client.get(reverse("admin:workflows_folder_changelist")) \
        .content.decode()
    assert staff_client.get(reverse("admin:workflows_folder_change",
                                    args=[theirs.pk])).status_code == 302


def test_move_selected_workflows_to_a_folder(staff_client, staff, tree):
    loose = Workflow.objects.get(name="Loose")
    bill = Workflow.objects.get(name="Bill run")
    team = project_create(name="team", creator=staff)
    other = make_workflow(owner=staff, name="Team run", project=team)
    url = reverse(CHANGELIST)
    selected = [loose.pk, bill.pk, other.pk]
    page = staff_client.post(url, {"action": "move_to_folder",
                                   ACTION_CHECKBOX_NAME: selected})
    assert page.status_code == 200
    assert 'data-testid="move-form"' in page.content.decode()
    assert "Billing / Invoices" in page.content.decode()
    done = staff_client.post(url, {"action": "move_to_folder", ACTION_CHECKBOX_NAME: selected,
                                   "target_folder": tree["invoices"].pk, "apply": "Move"},
                             follow=True)
    text = done.content.decode()
    assert "2 workflow(s) moved to Billing / Invoices" in text
    assert "Team run" in text  # named as not moved: another project
    assert set(Workflow.objects.filter(folder=tree["invoices"]).values_list(
        "name", flat=True)) == {"Loose", "Bill run", "Invoice run"}
    assert Workflow.objects.get(pk=other.pk).folder_id is None
    # To the top level; a folder that is not a choice is refused.
    staff_client.post(url, {"action": "move_to_folder", ACTION_CHECKBOX_NAME: [loose.pk],
                            "target_folder": "top", "apply": "Move"})
    assert Workflow.objects.get(pk=loose.pk).folder_id is None
    stranger_folder = folder_create(project=personal_project(UserFactory()), name="X")
    refused = staff_client.post(url, {"action": "move_to_folder",
                                      ACTION_CHECKBOX_NAME: [loose.pk],
                                      "target_folder": stranger_folder.pk, "apply": "Move"})
    assert refused.status_code == 200
    assert "errornote" in refused.content.decode()
    assert Workflow.objects.get(pk=loose.pk).folder_id is None


def test_a_non_empty_folder_is_kept_and_an_empty_one_deleted(staff_client, tree):
    delete = reverse("admin:workflows_folder_delete", args=[tree["billing"].pk])
    response = staff_client.get(delete, follow=True)
    assert "still holds workflows or subfolders" in response.content.decode()
    staff_client.post(delete, {"post": "yes"})
    assert Folder.objects.filter(pk=tree["billing"].pk).exists()
    empty = folder_create(project=tree["billing"].project, name="Empty")
    staff_client.post(reverse("admin:workflows_folder_delete", args=[empty.pk]),
                      {"post": "yes"})
    assert not Folder.objects.filter(pk=empty.pk).exists()


def test_the_folder_add_form_refuses_a_parent_of_another_project(staff_client, staff, tree):
    team = project_create(name="team", creator=staff)
    add = reverse("admin:workflows_folder_add")
    response = staff_client.post(add, {"project": team.pk, "parent": tree["billing"].pk,
                                       "name": "Mixed"})
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    ok = staff_client.post(add, {"project": team.pk, "name": "Team folder"})
    assert ok.status_code == 302
    assert Folder.objects.filter(project=team, name="Team folder").exists()
