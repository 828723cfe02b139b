"""The run file store (runs/files.py): save and open through the node context, scoped to the
project, sized, deleted with the run (row and stored bytes), downloadable by run viewers."""

import pytest
from rest_framework.test import APIClient

from accounts.services import project_create
from nodes.base import NodeError
from runs.engine.context import EngineContext
from runs.engine.files import RunFileAccess
from runs.files import file_save, file_storage, run_files_purge, safe_content_type, safe_name
from runs.models import Run, RunFile
from tests.factories import UserFactory, make_workflow, run_now
from workflows.services import workflow_delete

pytestmark = pytest.mark.django_db


def ctx_for(run: Run) -> EngineContext:
    return EngineContext(node_id="n", node_type="t", names={},
                         files=RunFileAccess(lambda: run.pk, run.workflow.project_id))


@pytest.fixture
def run():
    return run_now(make_workflow(), {"x": 1})


def test_save_then_open_through_the_context(run):
    ctx = ctx_for(run)
    ref = ctx.save_file("report.pdf", b"%PDF-1.4 bytes", "application/pdf")
    assert set(ref) == {"name", "size", "content_type", "key"}
    assert ref["name"] == "report.pdf"
    assert ref["size"] == 14
    assert ref["content_type"] == "application/pdf"
    assert ref["key"].startswith(f"{run.pk}/")
    assert ctx.open_file(ref) == b"%PDF-1.4 bytes"
    assert RunFile.objects.get(key=ref["key"]).run == run
    # another run of the same project opens it too (a retry, a sub-workflow)
    other = run_now(make_workflow(owner=run.workflow.owner, project=run.workflow.project))
    assert ctx_for(other).open_file(ref) == b"%PDF-1.4 bytes"


def test_a_ref_of_another_project_is_refused(run):
    ref = ctx_for(run).save_file("a.txt", b"secret", "text/plain")
    stranger = run_now(make_workflow())  # another owner, another project
    assert stranger.workflow.project_id != run.workflow.project_id
    with pytest.raises(NodeError, match="not available"):
        ctx_for(stranger).open_file(ref)


@pytest.mark.parametrize("ref", [
    None, "a/b", {"key": "../../etc/passwd", "name": "x"}, {"key": "/etc/passwd"},
    {"key": "1/" + "0" * 32 + "/../x"}, {"name": "x"}, {"key": 5},
])
def test_forged_refs_are_refused(run, ref):
    with pytest.raises(NodeError, match="not a file reference|not available"):
        ctx_for(run).open_file(ref)


def test_over_the_size_limit_the_node_fails(run, settings):
    settings.WFAIB = {**settings.WFAIB, "FILE_MAX_SIZE": 10}
    with pytest.raises(NodeError, match="over the limit of 10 bytes"):
        ctx_for(run).save_file("big.bin", b"x" * 11, "application/octet-stream")
    assert not RunFile.objects.exists()


def test_without_a_file_store_the_context_says_so():
    ctx = EngineContext(node_id="n", node_type="t", names={})
    with pytest.raises(NodeError, match="files are not available"):
        ctx.save_file("a", b"", "text/plain")
    unstored = EngineContext(node_id="n", node_type="t", names={},
                             files=RunFileAccess(lambda: None, 1))
    with pytest.raises(NodeError, match="stored run"):
        unstored.save_file("a", b"", "text/plain")


@pytest.mark.parametrize(("name", "clean"), [
    ("../../etc/passwd", "passwd"), ("..\\..\\win.ini", "win.ini"), ("/abs/x.txt", "x.txt"),
    (".hidden", "hidden"), ("a\x00b\nc.txt", "abc.txt"), ("", "file"), ("..", "file"),
    ("r\u00e9sum\u00e9.pdf", "r\u00e9sum\u00e9.pdf"),
])
def test_names_never_carry_a_path(name, clean):
    assert safe_name(name) == clean


def test_content_types_are_checked():
    assert safe_content_type("image/png; charset=x") == "image/png"
    assert safe_content_type("text/html\r\nX-Evil: 1") == "application/octet-stream"
    assert safe_content_type("") == "application/octet-stream"


def test_the_key_never_comes_from_the_name(run):
    ref = file_save(run_id=run.pk, name="../../../../tmp/evil", data=b"x",
                    content_type="text/plain")
    assert ref["name"] == "evil"
    assert ".." not in ref["key"]
    assert "evil" not in ref["key"]


def stored(key: str) -> bool:
    return file_storage().exists(key)


def test_files_go_with_their_run(run, django_capture_on_commit_callbacks):
    ref = file_save(run_id=run.pk, name="a.txt", data=b"a", content_type="text/plain")
    assert stored(ref["key"])
    with django_capture_on_commit_callbacks(execute=True):
        run.delete()
    assert not RunFile.objects.exists()
    assert not stored(ref["key"])


def test_a_batch_delete_of_runs_deletes_their_files(django_capture_on_commit_callbacks):
    workflow = make_workflow()
    runs = [run_now(workflow) for _ in range(3)]
    refs = [file_save(run_id=r.pk, name=f"{i}.txt", data=b"x", content_type="text/plain")
            for i, r in enumerate(runs)]
    with django_capture_on_commit_callbacks(execute=True):
        Run.objects.filter(pk__in=[r.pk for r in runs[:2]]).delete()  # as pruning does
    assert [stored(r["key"]) for r in refs] == [False, False, True]
    with django_capture_on_commit_callbacks(execute=True):
        workflow_delete(workflow=workflow)
    assert not stored(refs[2]["key"])


def test_a_rolled_back_delete_keeps_the_bytes(run, django_capture_on_commit_callbacks):
    from django.db import transaction

    ref = file_save(run_id=run.pk, name="a.txt", data=b"a", content_type="text/plain")
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        run.delete()
        transaction.set_rollback(True)
    assert callbacks == []
    assert stored(ref["key"])


def test_purge_for_callers_bypassing_the_orm(run, django_capture_on_commit_callbacks):
    ref = file_save(run_id=run.pk, name="a.txt", data=b"a", content_type="text/plain")
    with django_capture_on_commit_callbacks(execute=True):
        assert run_files_purge([run.pk]) == 1
    assert not stored(ref["key"])


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_download_for_who_may_view_the_run(run):
    ref = file_save(run_id=run.pk, name='q"uote.html', data=b"<script>x</script>",
                    content_type="text/html")
    row = RunFile.objects.get(key=ref["key"])
    url = f"/api/runs/{run.pk}/files/{row.pk}"
    response = client_of(run.workflow.owner).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"<script>x</script>"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert client_of(UserFactory()).get(url).status_code == 404
    # a file id of another run through this run's URL
    other_run = run_now(make_workflow(owner=run.workflow.owner, project=run.workflow.project))
    assert client_of(run.workflow.owner).get(
        f"/api/runs/{other_run.pk}/files/{row.pk}").status_code == 404
    assert client_of(run.workflow.owner).get(f"/api/runs/{run.pk}/files/999999").json()[
        "code"] == "not_found"


def test_the_run_viewer_links_the_files(run, client):
    owner = run.workflow.owner
    owner.is_staff = True
    owner.save()
    ref = file_save(run_id=run.pk, name="photo.png", data=b"\x89PNG", content_type="image/png")
    row = RunFile.objects.get(key=ref["key"])
    client.force_login(owner)
    page = client.get(f"/admin/runs/run/{run.pk}/change/").content.decode()
    assert f"/api/runs/{run.pk}/files/{row.pk}" in page
    assert "photo.png" in page
    # the link works with the viewer's session
    download = client.get(f"/api/runs/{run.pk}/files/{row.pk}")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"\x89PNG"


def test_project_scoping_uses_the_runs_project(run):
    team = project_create(name="elsewhere", creator=run.workflow.owner)
    moved = run_now(make_workflow(owner=run.workflow.owner, project=team))
    ref = ctx_for(run).save_file("a.txt", b"a", "text/plain")
    with pytest.raises(NodeError):
        ctx_for(moved).open_file(ref)
