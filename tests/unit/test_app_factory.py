"""Each app built by create_app owns its extensions: tests and the gunicorn master build several."""

from __future__ import annotations

from app.extensions import services


def _api_of(app):
    return app.extensions["flask-smorest"]["apis"][""]["ext_obj"]


def test_every_app_has_its_own_api_and_openapi_document(make_app):
    first, second = make_app(), make_app()
    assert _api_of(first) is not _api_of(second)
    assert _api_of(first)._app is first  # a shared Api would now belong to the second app
    assert _api_of(first).spec is not _api_of(second).spec
    document = first.test_client().get("/openapi.json").get_json()
    assert "/speak" in document["paths"] and set(document["components"]["securitySchemes"]) == {
        "bearerAuth",
        "apiKeyQuery",
    }


def test_the_services_accessor_returns_each_apps_own_services(make_app):
    first, second = make_app(), make_app()
    assert services(first) is not services(second)
    with first.app_context():
        assert services() is services(first)
