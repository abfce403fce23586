"""The OpenAPI description: served, well-formed, and in step with the real /api/ routes."""
import re

HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def _api_routes(app):
    """{(openapi path, method)} of every /api/ route the app serves."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            routes |= {(path, m.lower()) for m in rule.methods & HTTP_METHODS}
    return routes


def test_served_as_openapi_3(client):
    resp = client.get("/api/openapi.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    spec = resp.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] and spec["paths"]


def test_every_api_route_is_described(app, client):
    spec = client.get("/api/openapi.json").get_json()
    described = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    missing = _api_routes(app) - described
    assert not missing, f"/api/ routes missing from portal/openapi.py: {sorted(missing)}"


def test_contract_endpoints_are_described(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path, method in [("/api/search", "get"), ("/api/suggest", "get"), ("/api/articles/{slug}", "get"),
                         ("/api/articles/{slug}/feedback", "post"), ("/api/tickets", "post"),
                         ("/api/metrics/self-service", "get"), ("/api/metrics/tickets", "get")]:
        op = paths[path][method]
        assert op["responses"] and op["operationId"]
        for code, answer in op["responses"].items():
            assert "application/json" in answer["content"], (path, code)


def test_every_reference_resolves(client):
    spec = client.get("/api/openapi.json").get_json()
    text = str(spec)
    for name in set(re.findall(r"#/components/schemas/([A-Za-z]+)", text)):
        assert name in spec["components"]["schemas"], name
    for path, ops in spec["paths"].items():
        for op in ops.values():
            for param in op.get("parameters", []):
                if param["in"] == "path":
                    assert "{" + param["name"] + "}" in path


def test_schemas_are_valid_json_schema(client):
    import jsonschema_rs

    spec = client.get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for name, schema in schemas.items():
        # OpenAPI 3.0's "nullable" is an extension of JSON Schema; validators ignore it.
        jsonschema_rs.validator_for({**schema, "components": {"schemas": schemas}})
