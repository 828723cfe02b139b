"""Every registered node type honours the contract; the system check enforces it."""

import pytest
from django.core import checks

from nodes.base import NodeConfig, NodeType
from nodes.registry import registry

ALL = list(registry)


@pytest.mark.parametrize("cls", ALL, ids=[c.type for c in ALL])
def test_node_type_contract(cls):
    assert issubclass(cls, NodeType)
    assert cls.type
    assert cls.label
    assert cls.description
    assert cls.category
    assert issubclass(cls.Config, NodeConfig)
    desc = cls.describe()
    assert desc["type"] == cls.type
    schema = desc["config_schema"]
    assert schema["type"] == "object"
    for name in cls.secret_fields:
        assert schema["properties"][name]["x-secret"] is True
    for name in cls.raw_fields:
        assert name in cls.Config.model_fields
    assert cls.outputs
    assert cls.timeout > 0
    assert cls.run is not NodeType.run


@pytest.mark.django_db
def test_system_check_passes_for_registered_types():
    errors = [e for e in checks.run_checks() if e.id.startswith("wfaib.")]
    assert errors == []


@pytest.mark.django_db
def test_system_check_reports_a_broken_node_type():
    class Broken(NodeType):
        type = "broken_for_test"
        label = ""
        secret_fields = ("nope",)

    with registry.temporarily(Broken):
        ids = {e.id for e in checks.run_checks() if e.id.startswith("wfaib.")}
    assert {"wfaib.E002", "wfaib.E004", "wfaib.E008"} <= ids
    assert "broken_for_test" not in registry


def test_duplicate_type_name_is_an_error():
    from django.core.exceptions import ImproperlyConfigured

    class Dup(NodeType):
        type = "http"

    with pytest.raises(ImproperlyConfigured, match="registered twice"):
        registry.register(Dup)
