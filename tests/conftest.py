import pytest

from tests.factories import UserFactory
from tests.servers import LoopbackServer, openai_compatible


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def api_server():
    server = LoopbackServer().start()
    yield server
    server.stop()


@pytest.fixture
def llm_server():
    server = LoopbackServer().start()
    openai_compatible(server)
    yield server
    server.stop()
