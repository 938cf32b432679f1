"""The texts of dunning letters: the e-mail (subject and plain-text body) and the printable
letter (HTML, and PDF by weasyprint), always in the customer's language, with amounts and dates
in that language's conventions. The wording lives in templates/dunning/letters/ and in the
subjects below, translated through Django's catalogues."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from retaguarda.core.choices import Language
from retaguarda.core.permissions import Actor
from retaguarda.core.templatetags.rtg import format_money

from .choices import LetterKind
from .selectors import letter_get

SUBJECTS = {
    LetterKind.REMINDER: _("%(company)s: payment reminder, %(amount)s overdue"),
    LetterKind.SECOND_NOTICE: _("%(company)s: second notice, %(amount)s overdue"),
    LetterKind.FINAL_NOTICE: _("%(company)s: final notice, %(amount)s overdue"),
    LetterKind.LEGAL_HANDOVER: _("%(company)s: %(amount)s overdue, handed over to our legal department"),
}
SUBJECT_MAX = 200


def letter_language(party, company) -> str:
    """The customer's language, else the company's, else English."""
    language = party.language or company.default_language
    return language if language in Language.values else "en"


def _rows(invoices: list[dict]) -> list[dict]:
    """The letter's invoice snapshot with amounts and dates typed again for formatting."""
    rows = []
    for row in invoices:
        rows.append(
            {
                **row,
                "issue_date": datetime.date.fromisoformat(row["issue_date"]),
                "due_date": datetime.date.fromisoformat(row["due_date"]),
                "residual": Decimal(row["residual"]),
                "fine": Decimal(row.get("fine", "0")),
                "compensation": Decimal(row.get("compensation", "0")),
                "interest": Decimal(row.get("interest", "0")),
            }
        )
    return rows


def _context(letter, *, company, party) -> dict:
    rows = _rows(letter.invoices)
    return {
        "language": letter.language,
        "company": company,
        "party": party,
        "letter": letter,
        "kind": letter.letter,
        "rows": rows,
        "currency": letter.currency,
        "level_fee": letter.level_fee,
        "fines": sum((r["fine"] for r in rows), Decimal(0)),
        "compensations": sum((r["compensation"] for r in rows), Decimal(0)),
        "blocks": letter.blocks_orders,
        "date": letter.run.as_of,
    }


def letter_texts(letter, *, company, party) -> tuple[str, str]:
    """(subject, plain-text body) of a letter, in its language."""
    context = _context(letter, company=company, party=party)
    with translation.override(letter.language):
        subject = str(SUBJECTS[letter.letter]) % {
            "company": str(company),
            "amount": format_money(letter.total_due, letter.currency),
        }
        body = render_to_string("dunning/letters/body.txt", context)
    # One line (a company name with a line break would break the header); non-breaking spaces
    # of formatted amounts stay.
    subject = re.sub(r"\s*[\r\n]+\s*", " ", subject).strip()[:SUBJECT_MAX]
    return subject, body.strip() + "\n"


def letter_email(letter) -> EmailMessage:
    """The e-mail of a letter, tagged with its language."""
    return EmailMessage(
        subject=letter.subject,
        body=letter.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[letter.email_to],
        headers={"Content-Language": letter.language},
    )


def letter_html(letter) -> str:
    """The printable letter, rendered in its language from what the run recorded."""
    company, party = letter.company, letter.party
    address = party.addresses.filter(is_default=True).first() or party.addresses.first()
    lines = []
    if address is not None:
        lines = [
            " ".join(p for p in (address.street, address.number) if p),
            address.complement,
            address.district,
            " ".join(p for p in (address.postal_code, address.city) if p),
            address.state,
        ]
    context = _context(letter, company=company, party=party)
    with translation.override(letter.language):
        context["address"] = [line for line in lines if line]
        context["intro"] = render_to_string(f"dunning/letters/{letter.letter}.txt", context).strip()
        return render_to_string("dunning/letter.html", context)


def letter_pdf(*, actor: Actor, letter_id) -> tuple[str, bytes]:
    """(file name, PDF bytes) of a letter; needs `dunning.view`."""
    letter = letter_get(actor, letter_id)
    html = letter_html(letter)
    import weasyprint  # loaded on demand: Pango and fonts cost time at start-up

    return f"dunning-letter-{letter.pk}.pdf", weasyprint.HTML(string=html).write_pdf()
