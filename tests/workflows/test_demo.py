import pytest
from django.core.management import call_command

from runs.models import Run
from tests.factories import run_now
from tests.servers import free_port
from workflows.models import Workflow


@pytest.mark.django_db(transaction=True)
def test_setup_demo_creates_a_runnable_demo(live_server, settings):
    settings.WFAIB = {**settings.WFAIB, "BASE_URL": live_server.url,
                      "HTTP_ALLOW": ["127.0.0.1"]}
    call_command("setup_demo", verbosity=0)
    call_command("setup_demo", verbosity=0)  # idempotent
    demo = Workflow.objects.get(name="demo")
    assert Workflow.objects.filter(name="demo").count() == 1
    run = run_now(demo, input={"name": "Ada"})
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.result == {"greeting": "Hello, Ada!", "server_status": "ok", "http_status": 200}
    assert [log.node_type for log in run.logs.order_by("id")] == [
        "webhook", "transform", "http", "transform"]


@pytest.mark.django_db
def test_the_demo_runs_from_the_cli_when_the_server_is_down(settings, capsys):
    settings.WFAIB = {**settings.WFAIB, "BASE_URL": f"http://127.0.0.1:{free_port()}",
                      "HTTP_ALLOW": ["127.0.0.1"]}
    call_command("setup_demo", verbosity=0)
    with pytest.raises(SystemExit) as exit_code:
        call_command("run_workflow", "demo", "--input", '{"name": "Ada"}')
    assert exit_code.value.code == 0
    run = Run.objects.get()
    assert run.status == Run.Status.SUCCEEDED
    assert run.result["greeting"] == "Hello, Ada!"
    assert run.result["server_status"].startswith("unreachable (start the server")
    assert run.result["http_status"] is None
    assert "unreachable (start the server" in capsys.readouterr().out
