from retaguarda.core.models import AuditLog


def test_unreadable_body_is_400_with_the_error_shape(admin_api):
    audit_before = AuditLog.objects.count()
    response = admin_api.post("/api/v1/catalog/products", data=b"\xff{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "malformed_request", "message": "The request body could not be read as JSON.", "fields": {}}
    }
    assert AuditLog.objects.count() == audit_before


def test_unknown_route_is_404_json(admin_api):
    response = admin_api.get("/api/v1/nothing-here")
    assert response.status_code == 404
