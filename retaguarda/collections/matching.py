"""Automatic match proposals between bank statement lines and open invoices, for a person to
confirm. Pure functions: the caller loads the open items and stores what is confirmed.

Signals, strongest first, each adding to a proposal's integer score:

- "reference": an invoice number or payment reference appears in the line's text. Compared
  without case, accents, spaces, dashes, dots or slashes, on whole words: "F2026-000123" is
  found in "pago fra f2026 000123" but not in "F2026-0001234". References shorter than
  four characters (six when all digits, so that years and days do not match) are ignored.
- "amount": the line amount equals one item's residual exactly, or (scoring a little less)
  the residuals of two to four items of one party add up to it exactly.
- "iban": the counterparty's IBAN belongs to a known party. Such a line is then only matched
  by amount to that party's items (a reference can still point elsewhere).
- "party_name": the counterparty name is close to a party's name (difflib, accents and legal
  forms such as S.L. or Ltda. ignored), or the party's name appears in the line's text.

Money in (amount > 0) matches receivables, money out (amount < 0) payables, in the line's
currency (a line whose file gave no currency matches any); amounts in a proposal are positive
and never add up to more than the line. Each line gets at most one
proposal and each item is proposed to at most one line: candidates are taken greedily by score,
ties going to the earlier line, then to the older item. The result is the same for the same input.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from difflib import SequenceMatcher

from .statements import StatementLine, normalise_iban

RECEIVABLE = "receivable"
PAYABLE = "payable"

REFERENCE = "reference"
AMOUNT = "amount"
IBAN = "iban"
PARTY_NAME = "party_name"
REASONS = (REFERENCE, AMOUNT, IBAN, PARTY_NAME)

SCORE_REFERENCE = 50
SCORE_AMOUNT = 30
SCORE_AMOUNT_COMBINATION = 20
SCORE_IBAN = 25
SCORE_PARTY_NAME = 10

# Names are similar when difflib's ratio 2·M/T reaches NAME_SIMILARITY_PERCENT (integer
# arithmetic: no floats).
NAME_SIMILARITY_PERCENT = 80
MIN_REFERENCE_LENGTH = 4
MIN_NUMERIC_REFERENCE_LENGTH = 6
# A reference can be split by the bank into this many words ("F 2026 000123").
MAX_REFERENCE_WORDS = 4
# Bounds of the search for several items adding up to a line: the oldest items of a party,
# combinations up to this size, and a cap on the steps per line so a large ledger stays fast.
COMBINATION_MAX_ITEMS = 20
COMBINATION_MAX_SIZE = 4
COMBINATION_MAX_STEPS = 10_000

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class OpenItem:
    key: Hashable  # the invoice (or bill) id; keys of one run must be comparable
    party_id: int
    party_name: str
    number: str  # the invoice number
    reference: str  # the payment reference printed on the invoice (e.g. a PIX txid), or ""
    residual: Decimal  # still owed, positive
    due_date: date
    currency: str
    side: str = RECEIVABLE  # RECEIVABLE (customers pay us) or PAYABLE (we pay suppliers)


@dataclass(frozen=True)
class Proposal:
    line_index: int  # position of the line in the sequence given
    items: tuple[tuple[Hashable, Decimal], ...]  # (item key, amount applied), oldest item first
    score: int
    reasons: tuple[str, ...]  # in the order of REASONS

    @property
    def amount(self) -> Decimal:
        return sum((amount for _key, amount in self.items), ZERO)


# --- normalisation ---------------------------------------------------------------------------


def _ascii_upper(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in text if not unicodedata.combining(ch)).upper()


def reference_key(text: str) -> str:
    """A reference as compared: letters and digits only, upper case, accents stripped."""
    return re.sub(r"[^A-Z0-9]", "", _ascii_upper(text))


def _reference_usable(key: str) -> bool:
    if key.isdigit():
        return len(key) >= MIN_NUMERIC_REFERENCE_LENGTH
    return len(key) >= MIN_REFERENCE_LENGTH


def _text_keys(text: str) -> set[str]:
    """Every run of one to MAX_REFERENCE_WORDS consecutive words of the text, joined."""
    words = re.findall(r"[A-Z0-9]+", _ascii_upper(text))
    keys = set()
    for start in range(len(words)):
        joined = ""
        for word in words[start : start + MAX_REFERENCE_WORDS]:
            joined += word
            keys.add(joined)
    return keys


_LEGAL_FORMS = frozenset(
    """sl slu sll sa sau scp cb sc coop ltda ltd me epp eireli mei ss cia lda limited gmbh srl sas
    inc llc plc bv nv ag de da do del das dos la el y e and""".split()
)


def name_key(text: str) -> str:
    """A company or person name as compared: lower case, no accents, no punctuation, no legal
    form ("S.L.", "Ltda.") and no linking words."""
    words = re.sub(r"[^a-z0-9]+", " ", _ascii_upper(text).lower()).split()
    return " ".join(word for word in words if word not in _LEGAL_FORMS and len(word) > 1)


def names_similar(a: str, b: str) -> bool:
    """Whether two name keys are close enough to be the same party."""
    if not a or not b:
        return False
    if a == b:
        return True
    matched = sum(block.size for block in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
    return 2 * matched * 100 >= NAME_SIMILARITY_PERCENT * (len(a) + len(b))


# --- proposals -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    line_index: int
    order: int  # generation order within the line: the tie-break after the score
    allocations: tuple[tuple[OpenItem, Decimal], ...]
    score: int
    reasons: tuple[str, ...]


def _sort_key(item: OpenItem):
    return (item.due_date, item.key)


def _allocate(items: Sequence[OpenItem], amount: Decimal) -> tuple[tuple[OpenItem, Decimal], ...]:
    """Oldest first, each item up to its residual, never more than `amount` in all."""
    allocations = []
    remaining = amount
    for item in sorted(items, key=_sort_key):
        if remaining <= 0:
            break
        applied = min(item.residual, remaining)
        allocations.append((item, applied))
        remaining -= applied
    return tuple(allocations)


def _combination(items: Sequence[OpenItem], amount: Decimal, budget: list[int]) -> tuple[OpenItem, ...] | None:
    """The first set (in oldest-first order) of 2..COMBINATION_MAX_SIZE of the given items, sorted
    oldest first, whose residuals add up to `amount` exactly, within the remaining step budget."""
    pool = list(items[:COMBINATION_MAX_ITEMS])  # already oldest first
    if len(pool) < 2 or sum(item.residual for item in pool) < amount:
        return None
    # suffix[i] = the most the items from i on can still add, to prune hopeless branches.
    suffix = [ZERO] * (len(pool) + 1)
    for i in range(len(pool) - 1, -1, -1):
        suffix[i] = suffix[i + 1] + pool[i].residual

    chosen: list[OpenItem] = []

    def search(start: int, remaining: Decimal) -> bool:
        for i in range(start, len(pool)):
            if budget[0] <= 0:
                return False
            budget[0] -= 1
            if suffix[i] < remaining:
                return False
            residual = pool[i].residual
            if residual > remaining:
                continue
            chosen.append(pool[i])
            if residual == remaining and len(chosen) >= 2:
                return True
            if residual < remaining and len(chosen) < COMBINATION_MAX_SIZE and search(i + 1, remaining - residual):
                return True
            chosen.pop()
        return False

    return tuple(chosen) if search(0, amount) else None


class _Index:
    """The open items of one side, indexed for the lookups a line needs."""

    def __init__(self, items: Sequence[OpenItem]):
        self.items = [item for item in items if item.residual > 0]
        self.by_reference: dict[str, list[OpenItem]] = defaultdict(list)
        self.by_amount: dict[Decimal, list[OpenItem]] = defaultdict(list)
        self.by_party: dict[int, list[OpenItem]] = defaultdict(list)
        self.party_names: dict[int, str] = {}
        self.by_name_word: dict[str, set[int]] = defaultdict(set)
        for item in self.items:
            for text in (item.number, item.reference):
                key = reference_key(text)
                if _reference_usable(key) and item not in self.by_reference[key]:
                    self.by_reference[key].append(item)
            self.by_amount[item.residual].append(item)
            self.by_party[item.party_id].append(item)
            if item.party_id not in self.party_names:
                name = name_key(item.party_name)
                self.party_names[item.party_id] = name
                for word in name.split():
                    if len(word) >= 3:
                        self.by_name_word[word].add(item.party_id)
        for party_items in self.by_party.values():
            party_items.sort(key=_sort_key)

    def parties_named(self, line: StatementLine) -> set[int]:
        """Parties whose name is close to the counterparty's, or written in the line's text."""
        counterparty = name_key(line.counterparty_name)
        text = name_key(f"{line.counterparty_name} {line.reference}")
        padded = f" {text} "
        candidates = set()
        for word in set(text.split()):
            candidates |= self.by_name_word.get(word, set())
        found = set()
        for party_id in candidates:
            name = self.party_names[party_id]
            if names_similar(counterparty, name) or (len(name) >= 5 and f" {name} " in padded):
                found.add(party_id)
        return found


def proposals_for(
    lines: Sequence[StatementLine],
    open_items: Sequence[OpenItem],
    party_ibans: Mapping[str, int] | None = None,
) -> list[Proposal]:
    """Match proposals for the lines, at most one per line, ordered by line index.

    `party_ibans` maps the IBANs known for parties (customers' and suppliers' bank accounts)
    to the party id.
    """
    ibans = {normalise_iban(iban) or iban: party_id for iban, party_id in (party_ibans or {}).items()}
    indexes = {side: _Index([item for item in open_items if item.side == side]) for side in (RECEIVABLE, PAYABLE)}
    candidates: list[_Candidate] = []
    for line_index, line in enumerate(lines):
        if line.amount == 0:
            continue
        index = indexes[RECEIVABLE if line.amount > 0 else PAYABLE]
        candidates.extend(_line_candidates(line_index, line, abs(line.amount), index, ibans))

    candidates.sort(key=lambda c: (-c.score, c.line_index, c.order))
    taken_lines: set[int] = set()
    taken_items: set = set()
    proposals = []
    for candidate in candidates:
        keys = [item.key for item, _amount in candidate.allocations]
        if candidate.line_index in taken_lines or any(key in taken_items for key in keys):
            continue
        taken_lines.add(candidate.line_index)
        taken_items.update(keys)
        proposals.append(
            Proposal(
                line_index=candidate.line_index,
                items=tuple((item.key, amount) for item, amount in candidate.allocations),
                score=candidate.score,
                reasons=candidate.reasons,
            )
        )
    proposals.sort(key=lambda proposal: proposal.line_index)
    return proposals


def _line_candidates(line_index, line, amount, index: _Index, ibans) -> list[_Candidate]:
    currency = line.currency.upper()

    def same_currency(item: OpenItem) -> bool:
        return not currency or not item.currency or item.currency.upper() == currency

    iban_party = ibans.get(line.counterparty_account) if line.counterparty_account else None
    named = index.parties_named(line)
    candidates: list[_Candidate] = []

    def add(allocations, base: int, reasons: set[str]):
        if not allocations:
            return
        parties = {item.party_id for item, _amount in allocations}
        score = base
        if iban_party is not None and parties == {iban_party}:
            score += SCORE_IBAN
            reasons = reasons | {IBAN}
        if len(parties) == 1 and parties <= named:
            score += SCORE_PARTY_NAME
            reasons = reasons | {PARTY_NAME}
        if not reasons:
            return
        candidates.append(
            _Candidate(
                line_index=line_index,
                order=len(candidates),
                allocations=tuple(allocations),
                score=score,
                reasons=tuple(reason for reason in REASONS if reason in reasons),
            )
        )

    # 1. References written in the line's text.
    referenced = []
    for key in sorted(_text_keys(f"{line.reference} {line.counterparty_name}")):
        for item in index.by_reference.get(key, ()):
            if item not in referenced and same_currency(item):
                referenced.append(item)
    if referenced:
        exact = sum(item.residual for item in referenced) == amount
        add(
            _allocate(referenced, amount),
            SCORE_REFERENCE + (SCORE_AMOUNT if exact else 0),
            {REFERENCE, AMOUNT} if exact else {REFERENCE},
        )

    # A known IBAN says who paid: amounts are then matched against that party only.
    def allowed(item: OpenItem) -> bool:
        return same_currency(item) and (iban_party is None or item.party_id == iban_party)

    # 2. One item whose residual is the amount.
    for item in sorted(index.by_amount.get(amount, ()), key=_sort_key):
        if allowed(item):
            add(((item, amount),), SCORE_AMOUNT, {AMOUNT})

    # 3. Several items of one party adding up to the amount.
    if iban_party is not None:
        parties = [iban_party]
    elif named:
        parties = sorted(named)
    else:
        parties = sorted(index.by_party)
    budget = [COMBINATION_MAX_STEPS]
    for party_id in parties:
        items = [item for item in index.by_party.get(party_id, ()) if allowed(item) and item.residual < amount]
        found = _combination(items, amount, budget)
        if found:
            add(
                tuple((item, item.residual) for item in sorted(found, key=_sort_key)),
                SCORE_AMOUNT_COMBINATION,
                {AMOUNT},
            )

    # 4. A party recognised by IBAN or name, with no amount to go by: its oldest items.
    for party_id in [iban_party] if iban_party is not None else sorted(named):
        items = [item for item in index.by_party.get(party_id, ()) if same_currency(item)]
        add(_allocate(items, amount), 0, set())
    return candidates
