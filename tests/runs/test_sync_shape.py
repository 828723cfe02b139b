"""The synchronous webhook's path per version is cached per process; a version id that comes
back (a rolled-back transaction rolls SQLite's sequence back too) never inherits the shape of
the version that had it before."""

import datetime as dt

from django.utils import timezone

from runs import dispatch
from tests.factories import simple_definition
from workflows.models import WorkflowVersion

PURE = simple_definition({"id": "t", "type": "transform", "config": {"expression": "1"}})
# A respond node with a node after it: stored first, answered on the engine's signal (a respond
# node that ends the run defers like pure nodes: tests/runs/test_respond_signal.py).
RESPOND = simple_definition({"id": "r", "type": "respond", "config": {"body": "{{ input }}"}},
                            {"id": "t", "type": "transform", "config": {"expression": "1"}})


def version(definition, created_at):
    return WorkflowVersion(pk=424242, workflow_id=7, number=1, definition=definition,
                           created_at=created_at)


def test_a_reused_version_id_gets_its_own_shape():
    first = timezone.now()
    assert dispatch.sync_shape(version(PURE, first)) == "deferred"
    again = version(RESPOND, first + dt.timedelta(milliseconds=3))
    assert dispatch.sync_shape(again) == "polled"


def test_the_same_version_is_read_from_the_cache():
    at = timezone.now()
    assert dispatch.sync_shape(version(PURE, at)) == "deferred"
    # Same identity: the cached shape, even if the object in hand were (wrongly) different.
    assert dispatch.sync_shape(version(RESPOND, at)) == "deferred"
