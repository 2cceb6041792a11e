"""What an import did: the plan year it chose and why, and each objective's outcome.

The report is a list of outcomes, one per objective (added, updated with the fields
that changed, unchanged, or no longer in the file), so a finer level (the actions of
an objective) can carry outcomes of its own under each one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.plan.years import plan_year_label
from bot.text.numbers import plural

Outcome = Literal["added", "updated", "unchanged", "not in file"]

#: Field names as the report shows them, the file's column headings.
FIELD_LABELS: dict[str, str] = {
    "action": "Outcome/Action",
    "timescale": "Timescale",
    "progress": "Progress",
    "owners": "Owner(s)",
    "statutory_basis": "Statutory basis",
    "rag": "RAG",
}


@dataclass(frozen=True)
class ObjectiveOutcome:
    """One objective's outcome; ``fields`` names what changed when it was updated."""

    title: str
    outcome: Outcome
    fields: tuple[str, ...] = ()
    actions: int = 1  # how many actions the objective has after the import


@dataclass
class ImportReport:
    """What an import did, objective by objective (by title)."""

    plan_year: int
    reason: str = ""
    outcomes: list[ObjectiveOutcome] = field(default_factory=list)
    needs_dating: list[str] = field(default_factory=list)
    kept_columns: list[str] = field(default_factory=list)
    status_column: str | None = None
    title_block: str | None = None
    progress_restored: int = 0

    def _titles(self, outcome: Outcome) -> list[str]:
        return [o.title for o in self.outcomes if o.outcome == outcome]

    @property
    def created(self) -> list[str]:
        return self._titles("added")

    @property
    def updated(self) -> list[str]:
        return self._titles("updated")

    @property
    def unchanged(self) -> list[str]:
        return self._titles("unchanged")

    @property
    def not_in_file(self) -> list[str]:
        return self._titles("not in file")

    def changed_fields(self, title: str) -> tuple[str, ...]:
        """The fields the import changed on objective ``title`` (none if not updated)."""
        return next((o.fields for o in self.outcomes if o.title == title), ())

    def summary(self) -> str:
        """The counts in one sentence."""
        parts = [
            f"{len(self.created)} added",
            f"{len(self.updated)} updated",
            f"{len(self.unchanged)} unchanged",
        ]
        text = f"Plan {plan_year_label(self.plan_year)}: " + ", ".join(parts) + "."
        if self.not_in_file:
            text += f" {len(self.not_in_file)} not in the file."
        if self.progress_restored:
            restored = plural(self.progress_restored, "progress entry", "progress entries")
            text += f" {restored} restored."
        return text

    def lines(self) -> list[str]:
        """The whole report, a line each: the year and why, then each objective."""
        out = [self.summary()]
        if self.reason:
            out.append(f"Plan year {plan_year_label(self.plan_year)}: {self.reason}.")
        if self.title_block:
            out.append(f"Title above the header: {self.title_block}")
        if self.created:
            added = [o for o in self.outcomes if o.outcome == "added"]
            out.append(
                f"Added ({len(added)}): "
                + "; ".join(
                    f"{o.title} ({o.actions} actions)" if o.actions > 1 else o.title for o in added
                )
            )
        updated = [o for o in self.outcomes if o.outcome == "updated"]
        if updated:
            out.append(
                f"Updated ({len(updated)}): "
                + "; ".join(f"{o.title} ({', '.join(o.fields)})" for o in updated)
            )
        if self.unchanged:
            out.append(f"Unchanged ({len(self.unchanged)}): " + "; ".join(self.unchanged))
        if self.not_in_file:
            out.append(
                f"No longer in the file, left as they are ({len(self.not_in_file)}): "
                + "; ".join(self.not_in_file)
            )
        if self.kept_columns:
            out.append(
                "Columns the bot does not use, kept with each objective and exported back: "
                + ", ".join(self.kept_columns)
            )
        if self.status_column:
            out.append(
                f'RAG read from the "{self.status_column}" column where it says red, amber '
                "or green (the cell is kept as written)."
            )
        if self.needs_dating:
            out.append(
                "These need a person to set their dates (see `csp-bot plan show`): "
                + "; ".join(self.needs_dating)
            )
        return out
