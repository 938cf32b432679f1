from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EinvoicingConfig(AppConfig):
    name = "retaguarda.einvoicing"
    label = "einvoicing"
    verbose_name = _("Electronic invoicing")

    def ready(self):
        from retaguarda.billing.documents import PDF_EXTRAS
        from retaguarda.billing.services import INVOICE_POSTED_HOOKS
        from retaguarda.billing.views import DOCUMENT_DOWNLOADS

        # Registers the deviation kinds, so the inbox can title them in any process.
        from . import deviations  # noqa: F401
        from .register import register_invoice, register_qr_html
        from .services import nfe_queue_on_post
        from .views import invoice_downloads, nfe_pdf_html

        # In the transaction that issues each invoice: Spain's register record, Brazil's NF-e
        # queued (when the company has a certificate).
        for hook in (register_invoice, nfe_queue_on_post):
            if hook not in INVOICE_POSTED_HOOKS:
                INVOICE_POSTED_HOOKS.append(hook)
        # The invoice page links the UBL or NF-e file; the printed invoice carries Spain's QR or
        # Brazil's NF-e access key and protocol.
        if invoice_downloads not in DOCUMENT_DOWNLOADS:
            DOCUMENT_DOWNLOADS.append(invoice_downloads)
        for extra in (register_qr_html, nfe_pdf_html):
            if extra not in PDF_EXTRAS:
                PDF_EXTRAS.append(extra)
