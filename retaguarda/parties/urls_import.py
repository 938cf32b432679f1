"""Import and export pages of parties (CSV and XLSX)."""

urlpatterns: list = []
