"""Fixed choices of dunning: the letters a level sends, the lifecycle of runs, promises and
e-mails, and how late charges are kept."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class LetterKind(models.TextChoices):
    """Which text a level's letter carries (templates dunning/letters/<kind>_subject.txt, _body.txt)."""

    REMINDER = "reminder", _("Friendly reminder")
    SECOND_NOTICE = "second_notice", _("Second notice")
    FINAL_NOTICE = "final_notice", _("Final notice")
    LEGAL_HANDOVER = "legal_handover", _("Handover to legal")


class RunStatus(models.TextChoices):
    PREVIEW = "preview", _("Preview")
    SENT = "sent", _("Sent")


class PromiseStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("status", "Open")
    KEPT = "kept", _("Kept")
    BROKEN = "broken", _("Broken")
    CANCELLED = "cancelled", _("Cancelled")


class EmailStatus(models.TextChoices):
    PREVIEW = "preview", _("Not sent (preview)")
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    NO_ADDRESS = "no_address", _("No e-mail address: print it")


class ChargeRule(models.TextChoices):
    """How late-payment charges are computed (collections.calculations.late_charges)."""

    BR = "BR", _("Brazil: fine and monthly interest pro rata")
    ES = "ES", _("Spain: legal late-payment interest and fixed compensation")
    NONE = "none", _("No late charges")


class ChargeBooking(models.TextChoices):
    """Whether a letter's fee and interest are posted to the customer's account."""

    POST = "post", _("Post them to the customer's account")
    LETTER_ONLY = "letter_only", _("Only show them on the letter")
