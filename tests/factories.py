"""factory_boy factories for the models tests need."""

import factory
from django.contrib.auth import get_user_model

from workflows.services import workflow_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Through the manager, as every real user is created: with their personal project.
        return model_class.objects.create_user(*args, **kwargs)
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def simple_definition(*nodes: dict, edges: list[dict] | None = None) -> dict:
    """A definition with a `trigger` webhook node first, then `nodes` chained in order unless
    `edges` is given."""
    all_nodes = [{"id": "trigger", "type": "webhook", "config": {}}, *nodes]
    if edges is None:
        edges = [{"from": a["id"], "to": b["id"]}
                 for a, b in zip(all_nodes, all_nodes[1:], strict=False)]
    return {"name": "test", "nodes": all_nodes, "edges": edges}


def make_workflow(owner=None, definition: dict | None = None, name: str = "wf", **kwargs):
    owner = owner or UserFactory()
    return workflow_create(owner=owner, name=name, definition=definition or simple_definition(),
                           **kwargs)


def run_now(workflow, input=None, trigger="manual"):
    """Start a run and execute it in this thread; return it refreshed."""
    from runs.engine.executor import execute_run
    from runs.services import run_start

    run = run_start(workflow=workflow, input=input, trigger=trigger, execute=False)
    execute_run(run.pk)
    run.refresh_from_db()
    return run
