"""Pages to import products from a CSV or XLSX file and to download them as one."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retaguarda.core.ui.decorators import permission_required
from retaguarda.core.ui.importing import ImportForm, export_response, import_page

from .imports import product_columns, product_export, product_import


class ProductImportForm(ImportForm):
    update_existing = forms.BooleanField(
        label=gettext_lazy("Update the products whose SKU exists already"),
        required=False,
        help_text=gettext_lazy("Otherwise a SKU that exists already is an error."),
    )


@permission_required("catalog.import")
def product_import_view(request):
    return import_page(
        request,
        ProductImportForm,
        run=lambda upload, data: product_import(
            actor=request.actor, file=upload, name=upload.name, update_existing=data["update_existing"]
        ),
        done_message=lambda result, file: (
            _("%(created)s products created and %(updated)s updated from %(file)s.")
            % {"created": result.created, "updated": result.updated, "file": file}
        ),
        done_url="catalog:product_import",
        template="catalog/import.html",
        export_url="catalog:product_export",
        columns=[c.name for c in product_columns()],
    )


@permission_required("catalog.view")
def product_export_view(request):
    actor = request.actor
    return export_response(
        request, lambda stream, format: product_export(actor=actor, stream=stream, format=format), "products"
    )
