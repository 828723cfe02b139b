"""The projects migration: existing users get a personal project they administer, and every
existing workflow and credential lands in its owner's personal project, so nothing becomes
visible to anyone new. Runs the real migrations backwards and forwards on the test database."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("accounts", "0002_api_token"), ("workflows", "0002_credential")]
AFTER = [("accounts", "0003_projects"), ("workflows", "0003_projects")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_rows_land_in_their_owners_personal_project():
    old = migrate(BEFORE)
    User = old.get_model("accounts", "User")
    Workflow = old.get_model("workflows", "Workflow")
    Credential = old.get_model("workflows", "Credential")
    ann = User.objects.create(email="ann@example.com", password="!")
    bob = User.objects.create(email="bob@example.com", password="!")
    User.objects.create(email="idle@example.com", password="!")
    flows = {Workflow.objects.create(owner=ann, name="a1", definition={}).pk: ann.pk,
             Workflow.objects.create(owner=ann, name="a2", definition={}).pk: ann.pk,
             Workflow.objects.create(owner=bob, name="b1", definition={}).pk: bob.pk}
    cred = Credential.objects.create(owner=bob, name="key", kind="x").pk
    try:
        new = migrate(AFTER)
        Project = new.get_model("accounts", "Project")
        Membership = new.get_model("accounts", "Membership")
        NewWorkflow = new.get_model("workflows", "Workflow")
        NewCredential = new.get_model("workflows", "Credential")
        assert Project.objects.count() == 3  # one per user, including the idle one
        for project in Project.objects.all():
            members = list(Membership.objects.filter(project=project).values_list(
                "user_id", "role"))
            assert members == [(project.personal_owner_id, "admin")]  # no one else
        for pk, owner in flows.items():
            assert NewWorkflow.objects.get(pk=pk).project.personal_owner_id == owner
        assert NewCredential.objects.get(pk=cred).project.personal_owner_id == bob.pk
    finally:  # back to the latest migrations, whatever came after these
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
