"""Workflows as data: a document's allowed transitions in one table, read by the services that
apply them and by the templates and API that show which actions are possible."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    action: str
    permission: str


class Workflow:
    """The transitions of one kind of document, by action name.

    `Workflow("status", [Transition("draft", "confirmed", "confirm", "sales.change"), …])`.
    An action may leave several states (cancel from draft or confirmed); each (source, action)
    pair names one transition.
    """

    def __init__(self, field: str, transitions: list[Transition]):
        self.field = field
        self.transitions = tuple(transitions)
        self._by_key = {(t.source, t.action): t for t in self.transitions}
        if len(self._by_key) != len(self.transitions):
            raise ValueError("two transitions share a source and an action")

    def find(self, source: str, action: str) -> Transition | None:
        return self._by_key.get((source, action))

    def actions_from(self, source: str) -> list[Transition]:
        return [t for t in self.transitions if t.source == source]

    def targets(self) -> set[str]:
        return {t.target for t in self.transitions}
