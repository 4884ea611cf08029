"""The OpenAPI 3.1 description of the remote API, and doc/rapi.md from it.

Built from the route table (paths, methods, access, query parameters) and
the opcode schema (request bodies: each body parameter's JSON schema, doc
and default come from the opcode's declaration). Served at
``/2/openapi.json``; ``python -m ganeti.rapi.openapi [--markdown]`` prints
the JSON document or the Markdown reference (doc/rapi.md).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ganeti import constants, serializer
from ganeti.rapi import FEATURES, REALM, routes
from ganeti.rapi.baserlib import HTTP_METHODS, QueryParam, Resource

#: Opcode parameters a path parameter fills in (they are not body parameters).
PATH_TO_OPCODE_PARAM = {"instance_name": "instance_name", "node_name": "node_name",
                        "group_name": "group_name", "network_name": "network_name",
                        "disk_index": "disk"}
#: Opcode parameters set from query arguments rather than the body.
QUERY_OPCODE_PARAMS = frozenset(["dry_run", "reason"])

ERROR_SCHEMA = {
    "type": "object",
    "description": "Error body (Ganeti's)",
    "properties": {
        "code": {"type": "integer", "description": "The HTTP status"},
        "message": {"type": "string", "description": "The status' reason phrase"},
        "explain": {"type": "string", "description": "What went wrong"},
    },
    "required": ["code", "message", "explain"],
}

_QUERY_SCHEMAS = {
    "bool": {"type": "integer", "enum": [0, 1]},
    "int": {"type": "integer"},
    "string": {"type": "string"},
    "list": {"type": "array", "items": {"type": "string"}},
}


def _query_parameter(param: QueryParam) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": param.name, "in": "query", "required": False,
                             "description": param.doc, "schema": _QUERY_SCHEMAS[param.kind]}
    if param.kind == "list":
        entry["explode"] = True
    return entry


def body_params(resource: type[Resource], method: str, template: str
                ) -> list[dict[str, Any]]:
    """The opcode parameters a client may put in the body (schema entries)."""
    op_class = resource.opcode_class(method)
    if op_class is None:
        return []
    from_path = {PATH_TO_OPCODE_PARAM.get(name, name)
                 for name in routes.path_parameters(template)}
    entries = []
    for entry in op_class.schema()["params"]:
        if entry["name"] in from_path or entry["name"] in QUERY_OPCODE_PARAMS:
            continue
        entries.append(entry)
    return entries


def _body_schema(resource: type[Resource], method: str, template: str
                 ) -> dict[str, Any] | None:
    op_class = resource.opcode_class(method)
    if op_class is None or method == "GET":
        return None
    params = body_params(resource, method, template)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for entry in params:
        schema = dict(entry["schema"])
        schema["description"] = "%s (%s)" % (entry["doc"], entry["description"]) \
            if entry["doc"] else entry["description"]
        if "default" in entry:
            schema["default"] = entry["default"]
        if entry["secret"]:
            schema["writeOnly"] = True
        properties[entry["name"]] = schema
        if entry["required"]:
            required.append(entry["name"])
    for alias, name in resource.renames(method).items():
        if name in properties:
            properties[alias] = {"description": "Alias of '%s'" % name}
    body: dict[str, Any] = {"type": "object", "properties": properties,
                            "additionalProperties": False,
                            "description": "Parameters of %s" % op_class.OP_ID}
    if required:
        body["required"] = required
    return body


def _operation(resource: type[Resource], method: str, template: str) -> dict[str, Any]:
    op_class = resource.opcode_class(method)
    access = resource.access(method)
    by_policy = resource.authorized_by_policy(method)
    if by_policy:
        access_text = ("an authenticated user whom the policy grants %s (default: the"
                       " 'write' option)" % op_class.OP_ID if op_class else "")
    elif access:
        access_text = "a user with the %s option" % " or ".join(access)
    else:
        access_text = "anonymous (unless the daemon requires authentication)"
    description = resource.DOC
    if op_class is not None:
        description += "\n\nOpcode: %s. %s" % (op_class.OP_ID,
                                                op_class.schema()["doc"].split("\n")[0])
    description += "\n\nAccess: %s." % access_text
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in routes.path_parameters(template)]
    parameters += [_query_parameter(param) for param in resource.query_params(method)]
    submits = op_class is not None and method != "GET" and not resource.BODY_DOC.get(method)
    ok_schema: dict[str, Any] = ({"type": "integer", "description": "The job id"}
                                 if submits else {})
    operation: dict[str, Any] = {
        "operationId": "%s_%s" % (method.lower(), resource.__name__),
        "summary": resource.DOC.split(".")[0],
        "description": description,
        "parameters": parameters,
        "responses": {
            "200": {"description": "Success",
                    "content": {"application/json": {"schema": ok_schema}}},
            "default": {"description": "Error",
                        "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Error"}}}},
        },
    }
    if op_class is not None:
        operation["x-ganeti-opcode"] = op_class.OP_ID
    body = _body_schema(resource, method, template)
    if body is not None and method not in resource.BODY_DOC:
        operation["requestBody"] = {"required": False,
                                    "content": {"application/json": {"schema": body}}}
    elif method in resource.BODY_DOC:
        operation["requestBody"] = {
            "required": False,
            "description": resource.BODY_DOC[method],
            "content": {"application/json": {"schema": {}}}}
    if access or by_policy:
        operation["security"] = [{"basic": []}, {"bearer": []}]
    return operation


def build_document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    paths: dict[str, Any] = {}
    for template, resource in routes.ROUTES:
        entry = paths.setdefault(routes.openapi_path(template), {})
        for method in HTTP_METHODS:
            if resource.offers(method):
                entry[method.lower()] = _operation(resource, method, template)
    paths[routes.OPENAPI_PATH] = {"get": {
        "operationId": "get_openapi", "summary": "This document",
        "responses": {"200": {"description": "The OpenAPI document",
                              "content": {"application/json": {"schema": {}}}}}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": REALM,
            "version": constants.RELEASE_VERSION,
            "description": ("Ganeti's remote API, version %d: JSON over HTTPS (port %d)."
                            " Write requests answer a job id; follow it at /2/jobs/{id}."
                            " Features: %s." % (constants.RAPI_VERSION,
                                                constants.DEFAULT_RAPI_PORT,
                                                ", ".join(FEATURES))),
        },
        "servers": [{"url": "https://localhost:%d" % constants.DEFAULT_RAPI_PORT}],
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic",
                          "description": "A user of the users file (rapi/users)"},
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "A token of the token file (rapi/tokens)"},
            },
        },
    }


# -- Markdown ---------------------------------------------------------------------

def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def build_markdown(document: dict[str, Any] | None = None) -> str:
    """doc/rapi.md: every path and method with its parameters and body."""
    doc = document or build_document()
    lines = [
        "# RAPI reference",
        "",
        "Generated by `tools/gen-rapi-doc` from the route table and the opcode schema;"
        " do not edit by hand. The same description is served as OpenAPI 3.1 at"
        " `/2/openapi.json`.",
        "",
        doc["info"]["description"],
        "",
        "Errors answer `{\"code\": status, \"message\": reason, \"explain\": details}`."
        " 401 carries `WWW-Authenticate: Basic realm=\"%s\"`; writes the policy refuses"
        " answer 403 naming the opcode; operations the cluster cannot do yet answer 501."
        % REALM,
        "",
    ]
    for path in sorted(doc["paths"]):
        lines.append("## `%s`" % path)
        lines.append("")
        for method, op in sorted(doc["paths"][path].items()):
            lines.append("### %s `%s`" % (method.upper(), path))
            lines.append("")
            lines.append(op.get("description", op.get("summary", "")))
            lines.append("")
            query = [p for p in op.get("parameters", []) if p["in"] == "query"]
            if query:
                lines.append("Query parameters:")
                lines.append("")
                lines.extend("- `%s`: %s" % (p["name"], p["description"]) for p in query)
                lines.append("")
            body = op.get("requestBody")
            if body:
                schema = body["content"]["application/json"]["schema"]
                props = schema.get("properties")
                if props:
                    required = set(schema.get("required", ()))
                    lines.append("Body (JSON object):")
                    lines.append("")
                    lines.append("| Parameter | Required | Default | Description |")
                    lines.append("|---|---|---|---|")
                    for name in sorted(props):
                        prop = props[name]
                        default = ("`%s`" % serializer.dump(prop["default"])
                                   if "default" in prop else "")
                        lines.append("| `%s` | %s | %s | %s |" % (
                            name, "yes" if name in required else "", _md_escape(default),
                            _md_escape(prop.get("description", ""))))
                    lines.append("")
                elif body.get("description"):
                    lines.append("Body: %s" % body["description"])
                    lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ganeti.rapi.openapi",
                                     description="Print the RAPI's OpenAPI document"
                                                 " or its Markdown reference")
    parser.add_argument("--markdown", action="store_true", help="print doc/rapi.md")
    parser.add_argument("-o", "--output", help="write to this file instead of stdout")
    options = parser.parse_args(argv)
    text = (build_markdown() if options.markdown
            else serializer.dump(build_document()) + "\n")
    if options.output:
        with open(options.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
