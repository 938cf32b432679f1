"""What the pages importing and downloading a CSV or XLSX file share: the upload form, the
check-then-import page and the download response."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retaguarda.common import tabular
from retaguarda.common.errors import Conflict
from retaguarda.common.tabular import ImportResult

MAX_UPLOAD_BYTES = 100 << 20


class ImportForm(forms.Form):
    """A CSV or XLSX file of at most MAX_UPLOAD_BYTES; subclasses add the import's options."""

    file = forms.FileField(label=gettext_lazy("CSV or XLSX file"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is too large: at most %(size)s MB.") % {"size": MAX_UPLOAD_BYTES >> 20}
            )
        return upload


def import_page(
    request,
    form_class: type[ImportForm],
    *,
    run: Callable[[object, dict], ImportResult],
    done_message: Callable[[ImportResult, str], str],
    done_url: str,
    template: str,
    columns: list[str],
    export_url: str,
    initial: dict | None = None,
):
    """The import page: GET shows the form; POST checks the file with `run(upload, cleaned_data)`
    and redirects to `done_url` (a URL or URL name) with `done_message(result, file name)` when it is imported, or
    shows the form again (422, or the Conflict's status) with every error of the file.
    `template` extends core/import.html; `export_url` names the URL that downloads the file."""
    post = request.method == "POST"
    form = form_class(request.POST, request.FILES) if post else form_class(initial=initial)
    result = None
    status = 200
    if post:
        status = 422
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = run(upload, form.cleaned_data)
            except Conflict as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                if result.ok:
                    messages.success(request, done_message(result, upload.name))
                    return redirect(done_url)
    context = {"form": form, "result": result, "columns": columns, "export_url": reverse(export_url)}
    return render(request, template, context, status=status)


def export_response(request, export: Callable[[object, str], int], label: str):
    """The download of `export(stream, format)` in the format the request asks for (CSV unless
    it asks for another known one), named <label>-<company>-<date>."""
    format = request.GET.get("format", tabular.CSV)
    if format not in tabular.FORMATS:
        format = tabular.CSV
    stem = f"{label}-{request.actor.company.pk}-{timezone.localdate():%Y%m%d}"
    return tabular.download_response(lambda stream: export(stream, format), format, stem)
