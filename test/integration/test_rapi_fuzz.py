"""Fuzzing ganeti-rapi from its own OpenAPI description: no 5xx, always JSON errors.

Hypothesis draws, for every path and method of /2/openapi.json, path
parameters, query parameters and bodies (random JSON, or objects built from
the documented body parameters with random values). Writes carry dry-run=1,
so whatever passes validation changes nothing. Allowed answers: 2xx, 4xx,
and 501 saying the operation is not implemented yet — never another 5xx,
and every error is Ganeti's JSON error body.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from test_rapi_helpers import RapiCluster, running_rapi

hypothesis = pytest.importorskip("hypothesis")
st = pytest.importorskip("hypothesis.strategies")

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8)
SEGMENTS = st.from_regex(r"\A[A-Za-z0-9._-]{1,16}\Z") | st.sampled_from(
    ["node1", "node2", "default", "1", "0", "inst1"])
QUERY_VALUES = st.sampled_from(["0", "1", "", "yes", "x", "-1", "node1"]) | st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=8)


@pytest.fixture(scope="module")
def rapi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RapiCluster]:
    with running_rapi(str(tmp_path_factory.mktemp("rapi-fuzz"))) as cluster:
        yield cluster


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method.upper(), operation)
            for path, methods in sorted(document["paths"].items())
            for method, operation in sorted(methods.items())]


@st.composite
def requests(draw: Any, spec: tuple[str, str, dict[str, Any]]) -> tuple[str, Any]:
    template, method, operation = spec
    path = template
    query: list[tuple[str, str]] = []
    for param in operation.get("parameters", []):
        if param["in"] == "path":
            segment = draw(SEGMENTS)
            path = path.replace("{%s}" % param["name"], urllib.parse.quote(segment, safe=""))
        elif param["name"] != "dry-run" and draw(st.booleans()):
            query.append((param["name"], draw(QUERY_VALUES)))
    if method != "GET":
        query.append(("dry-run", "1"))
    schema = (operation.get("requestBody", {}).get("content", {})
              .get("application/json", {}).get("schema", {}))
    names = sorted(schema.get("properties", {}))
    body_strategy = st.none() | JSON_VALUES
    if names:
        body_strategy = body_strategy | st.dictionaries(st.sampled_from(names), JSON_VALUES,
                                                        max_size=4)
    body = draw(body_strategy)
    if query:
        path += "?" + urllib.parse.urlencode(query)
    return path, body


def check_reply(rapi: RapiCluster, method: str, path: str, body: Any) -> None:
    reply = rapi.call(method, path, body)
    context = (method, path, body, reply.status, reply.body)
    if reply.status >= 400:
        assert isinstance(reply.body, dict), context
        assert set(reply.body) == {"code", "message", "explain"}, context
        assert reply.body["code"] == reply.status, context
    if reply.status >= 500:
        assert reply.status == 501, context
        explain = reply.body["explain"]
        assert ("no logical unit" in explain or "not supported" in explain), context


def test_fuzz_every_operation(rapi: RapiCluster) -> None:
    document = rapi.ok("GET", "/2/openapi.json")
    specs = operations(document)
    assert len(specs) > 70

    @hypothesis.settings(max_examples=200, deadline=None, derandomize=True,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(st.sampled_from(specs).flatmap(
        lambda spec: st.tuples(st.just(spec[1]), requests(spec))))
    def run(case: tuple[str, tuple[str, Any]]) -> None:
        method, (path, body) = case
        check_reply(rapi, method, path, body)

    run()
    assert "Traceback" not in rapi.log_text()
    assert "Unexpected error" not in rapi.log_text()
