import re


def test_openapi_document_is_served(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "retaguarda API"
    assert "/api/v1/core/me" in document["paths"]
    assert document["components"]["securitySchemes"]["BearerToken"] == {"type": "http", "scheme": "bearer"}


def test_docs_page_works_offline(client, db):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert all(not a.startswith(("http://", "https://", "//")) for a in assets), assets
    for asset in assets:
        if asset.startswith("/static/"):
            assert client.get(asset).status_code == 200, asset
