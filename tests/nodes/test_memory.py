"""Conversation memory: the memory node (load, append, clear), windowing and token trimming,
project scoping, and the llm and agent nodes' `memory` config across runs."""

import pytest

from ai.models import ConversationMessage
from tests.factories import make_workflow, run_now, simple_definition
from tests.llm_servers import AgentServer

pytestmark = pytest.mark.django_db
KEY = "sk-test"


def memory(node_id="mem", **config):
    return {"id": node_id, "type": "memory", "config": {"session_id": "{{ input.user }}",
                                                          **config}}


def run_memory(user, input, **config):
    return run_now(make_workflow(owner=user, definition=simple_definition(memory(**config))),
                   input=input)


def say(n):
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": f"m{i}"}
            for i in range(n)]


def test_append_load_window_and_clear(user):
    run = run_memory(user, {"user": "ada", "msgs": say(5)}, operation="append",
                     messages=[{"role": "system", "content": "hello {{ input.user }}"}],
                     messages_expression="input.msgs")
    assert run.status == "succeeded", run.error
    assert run.result == {"session_id": "ada", "appended": 6}
    run = run_memory(user, {"user": "ada"}, window=3)
    assert run.result["messages"] == say(5)[2:]
    run = run_memory(user, {"user": "ada"})
    assert run.result["messages"][0] == {"role": "system", "content": "hello ada"}
    assert len(run.result["messages"]) == 6
    assert run_memory(user, {"user": "bob"}).result["messages"] == []
    run = run_memory(user, {"user": "ada"}, operation="clear")
    assert run.result == {"session_id": "ada", "deleted": 6}
    assert run_memory(user, {"user": "ada"}).result["messages"] == []


def test_token_limit_drops_the_oldest(user):
    long = [{"role": "user", "content": "x" * 400}, {"role": "assistant", "content": "short"}]
    run_memory(user, {"user": "t", "m": long}, operation="append", messages_expression="input.m")
    run = run_memory(user, {"user": "t"}, max_tokens=50)
    assert run.result["messages"] == [{"role": "assistant", "content": "short"}]


def test_sessions_are_scoped_to_the_project(user, other_user):
    run_memory(user, {"user": "same"}, operation="append",
               messages=[{"role": "user", "content": "secret plan"}])
    assert run_memory(other_user, {"user": "same"}).result["messages"] == []
    assert run_memory(other_user, {"user": "same"}, operation="clear").result["deleted"] == 0
    assert ConversationMessage.objects.count() == 1


@pytest.mark.parametrize(("input", "config", "reason"), [
    ({"user": ""}, {}, "config.session_id: String should have at least 1 character"),
    ({"user": "x" * 300}, {}, "longer than 255 characters"),
    ({"user": "a", "m": [{"role": "robot", "content": "x"}]},
     {"operation": "append", "messages_expression": "input.m"}, "message [0] must be"),
    ({"user": "a", "m": "nope"}, {"operation": "append", "messages_expression": "input.m"},
     "must give a list"),
])
def test_bad_input_fails_the_node_with_a_reason(user, input, config, reason):
    run = run_memory(user, input, **config)
    assert run.status == "failed"
    assert run.error_node_id == "mem"
    assert reason in run.error


@pytest.fixture
def server():
    s = AgentServer(api_key=KEY).start()
    yield s
    s.stop()


def test_memory_nodes_around_an_llm_node(server, user):
    d = simple_definition(
        memory("load", session_id="s", window=2),
        {"id": "ask", "type": "llm", "config": {
            "prompt": "{{ trigger.q }}", "messages_expression": "nodes.load.messages",
            "base_url": server.url + "/v1", "api_key": KEY, "model": "m", "stream": False,
            "system_prompt": "Be kind"}},
        memory("save", session_id="s", operation="append", messages=[
            {"role": "user", "content": "{{ trigger.q }}"},
            {"role": "assistant", "content": "{{ input.content }}"}]))
    wf = make_workflow(owner=user, definition=d)
    server.reply("Hello Ada")
    assert run_now(wf, input={"q": "I am Ada"}).status == "succeeded"
    server.reply("You are Ada")
    run = run_now(wf, input={"q": "Who am I?"})
    assert run.status == "succeeded", run.error
    assert server.requests[-1].json()["messages"] == [
        {"role": "system", "content": "Be kind"},
        {"role": "user", "content": "I am Ada"},
        {"role": "assistant", "content": "Hello Ada"},
        {"role": "user", "content": "Who am I?"}]
    server.reply("?")
    run_now(wf, input={"q": "third"})
    # window 2: only the last two stored messages go along
    assert [m["content"] for m in server.requests[-1].json()["messages"]] == [
        "Be kind", "Who am I?", "You are Ada", "third"]


def test_agent_node_remembers_its_final_answers(server, user):
    wf = make_workflow(owner=user, definition=simple_definition({
        "id": "agent", "type": "agent", "config": {
            "prompt": "{{ input.q }}", "base_url": server.url + "/v1", "api_key": KEY,
            "model": "m", "system_prompt": "",
            "memory": {"session_id": "s1"}}}))
    server.reply("first answer")
    run_now(wf, input={"q": "one"})
    server.reply("second answer")
    run = run_now(wf, input={"q": "two"})
    assert run.status == "succeeded", run.error
    assert [m["content"] for m in server.requests[-1].json()["messages"]] == [
        "one", "first answer", "two"]


def llm_with_memory(server, **memory_config):
    return {"id": "ask", "type": "llm", "config": {
        "prompt": "{{ trigger.q }}", "base_url": server.url + "/v1", "api_key": KEY,
        "model": "m", "stream": False, "system_prompt": "Be kind",
        "memory": {"session_id": "{{ trigger.user }}", **memory_config}}}


def test_llm_node_memory_is_loaded_and_stored_by_the_engine(server, user):
    """The llm node works in its own thread; its memory is read before the attempt and its
    turn written after it, by the run's thread (runs/engine/memory_buffer.py)."""
    wf = make_workflow(owner=user, definition=simple_definition(
        llm_with_memory(server, window=3)))
    server.reply("Hello Ada")
    assert run_now(wf, input={"q": "I am Ada", "user": "ada"}).status == "succeeded"
    server.reply("You are Ada")
    run = run_now(wf, input={"q": "Who am I?", "user": "ada"})
    assert run.status == "succeeded", run.error
    assert server.requests[-1].json()["messages"] == [
        {"role": "system", "content": "Be kind"},
        {"role": "user", "content": "I am Ada"},
        {"role": "assistant", "content": "Hello Ada"},
        {"role": "user", "content": "Who am I?"}]
    stored = list(ConversationMessage.objects.filter(session_id="ada").order_by("id")
                  .values_list("role", "content"))
    assert stored == [("user", "I am Ada"), ("assistant", "Hello Ada"),
                      ("user", "Who am I?"), ("assistant", "You are Ada")]
    server.reply("Hi Bob")
    run_now(wf, input={"q": "I am Bob", "user": "bob"})  # another session sees nothing
    assert [m["content"] for m in server.requests[-1].json()["messages"]] == [
        "Be kind", "I am Bob"]
    server.reply("third")
    run_now(wf, input={"q": "again", "user": "ada"})  # window 3: the last three messages
    assert [m["content"] for m in server.requests[-1].json()["messages"]] == [
        "Be kind", "Hello Ada", "Who am I?", "You are Ada", "again"]


def test_a_failed_llm_call_stores_no_turn(server, user):
    server.fail(400, "Invalid value for 'temperature'")
    wf = make_workflow(owner=user, definition=simple_definition(llm_with_memory(server)))
    run = run_now(wf, input={"q": "hi", "user": "ada"})
    assert run.status == "failed"
    assert not ConversationMessage.objects.filter(session_id="ada").exists()


@pytest.mark.parametrize(("session", "reason"), [
    ("", "session_id: String should have at least 1 character"),
    ("x" * 300, "longer than 255 characters")])
def test_a_bad_llm_memory_session_fails_the_node(server, user, session, reason):
    wf = make_workflow(owner=user, definition=simple_definition(llm_with_memory(server)))
    run = run_now(wf, input={"q": "hi", "user": session})
    assert run.status == "failed"
    assert run.error_node_id == "ask"
    assert reason in run.error
    assert server.requests == []  # refused before any model call


def test_llm_memory_in_a_parallel_loop_runs_its_iterations_in_turn(server, user):
    """Iteration threads may not reach the database: a body with llm memory runs one
    iteration at a time, and each sees the turns before it."""
    loop = {"id": "each", "type": "loop",
            "config": {"items": "{{ input.qs }}", "parallelism": 3}}
    ask = llm_with_memory(server)
    ask["config"]["prompt"] = "{{ item }}"
    ask["config"]["memory"]["session_id"] = "loop"
    definition = simple_definition(loop, ask, edges=[
        {"from": "trigger", "to": "each"}, {"from": "each", "to": "ask", "port": "each"}])
    for text in ("a1", "a2", "a3"):
        server.reply(text)
    run = run_now(make_workflow(owner=user, definition=definition),
                  input={"qs": ["q1", "q2", "q3"]})
    assert run.status == "succeeded", run.error
    assert [m["content"] for m in server.requests[-1].json()["messages"]] == [
        "Be kind", "q1", "a1", "q2", "a2", "q3"]
