"""/openapi.json carries request and response schemas, real answers fit them, and /docs shows
them offline in headless Chromium."""

from __future__ import annotations

from pydantic import TypeAdapter
from selenium.webdriver.common.by import By

from analytics_pipeline.api import openapi
from tests.api.conftest import WRITE_HEADERS
from tests.api.test_page import browser, server, wait  # noqa: F401 (fixtures)


def test_every_rest_route_has_its_schemas(client) -> None:
    from analytics_pipeline.api import rest

    spec = client.get("/openapi.json").json()
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    for route in rest.routes:
        path = route.path.replace(":int", "")
        for method in route.methods - {"HEAD"}:
            assert (path, method.lower()) in documented, (path, method)
    schemas = spec["components"]["schemas"]
    for item in spec["paths"].values():
        for operation in item.values():
            assert operation["summary"]
            assert any("content" in r for r in operation["responses"].values())
    post = spec["paths"]["/api/cameras"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"type": "array", "items": {"$ref": "#/components/schemas/CameraInput"}}
    assert "source_url" in schemas["CameraInput"]["properties"]
    assert post["security"] == [{"apiKey": []}]
    page = spec["paths"]["/api/events"]["get"]
    assert {p["name"] for p in page["parameters"]} >= {"camera_id", "plate", "plate_fuzzy"}
    assert schemas["EventPage"]["properties"]["events"]["items"]["$ref"].endswith("/EventOut")


def test_real_answers_fit_the_documented_models(client, seed) -> None:
    ids = seed({}, {"event_type": "anpr", "event_data": {"plate": "AB12CDE"}})
    checks = [
        (client.get("/api/events"), openapi.EventPage),
        (client.get("/api/events/stats"), openapi.EventStatsOut),
        (client.get(f"/api/events/{ids[0]}"), openapi.EventOut),
        (client.get("/api/cameras"), openapi.Cameras),
        (client.get("/api/reports"), openapi.Reports),
        (client.get("/api/events/999999"), openapi.Error),
        (
            client.post(
                "/api/cameras", headers=WRITE_HEADERS, json=[{"id": "c1", "source_url": "x"}]
            ),
            openapi.Cameras,
        ),
        (client.delete(f"/api/events/{ids[1]}", headers=WRITE_HEADERS), openapi.EventDeleted),
        (client.delete("/api/cameras/c1", headers=WRITE_HEADERS), openapi.Message),
    ]
    for response, model in checks:
        TypeAdapter(model).validate_python(response.json(), strict=False)


def test_the_docs_page_renders_offline(server, browser) -> None:  # noqa: F811
    browser.get(f"{server}/docs")
    wait(browser, lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    routes = browser.find_elements(By.CSS_SELECTOR, "article.route")
    shown = {(r.get_attribute("data-method"), r.get_attribute("data-path")) for r in routes}
    assert ("get", "/api/events") in shown and ("post", "/api/cameras") in shown
    events = next(r for r in routes if r.get_attribute("data-path") == "/api/events")
    assert "plate_fuzzy" in events.text and "EventPage" in events.text
    assert browser.find_element(By.ID, "schema-CameraInput").is_displayed()
    log = browser.get_log("browser")
    errors = [e for e in log if e["level"] == "SEVERE" and "favicon" not in e["message"]]
    assert errors == []
