"""Import and export pages of catalog (CSV and XLSX)."""

urlpatterns: list = []
