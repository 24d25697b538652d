"""Which issues of a dump to import: the filters studies are built with."""

from dataclasses import asdict, dataclass, field
from datetime import date

from issues.importers.records import IssueRecord

STATES = ("open", "closed", "all")


@dataclass(frozen=True)
class Selection:
    labels: tuple[str, ...] = ()  # every one must be on the issue
    any_labels: tuple[str, ...] = ()  # at least one must be
    exclude_labels: tuple[str, ...] = ()  # none may be
    state: str = "all"
    since: date | None = None  # created on or after
    until: date | None = None  # created on or before
    include_prs: bool = False
    limit: int | None = None  # the first N selected issues of the dump
    sample: int | None = None  # N selected issues drawn at random…
    seed: int = 0  # …reproducibly
    _folded: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        if self.state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}, not {self.state!r}")
        if self.since and self.until and self.since > self.until:
            raise ValueError("since must not be after until")
        for name in ("limit", "sample"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive number")
        # GitHub matches label names without regard to case; so do we.
        for name in ("labels", "any_labels", "exclude_labels"):
            self._folded[name] = {label.casefold() for label in getattr(self, name)}

    @property
    def takes_every_issue(self) -> bool:
        """No filter, limit or sample: every issue is taken (pull requests as include_prs says)."""
        return self == Selection(include_prs=self.include_prs, seed=self.seed)

    def skip_reason(self, record: IssueRecord) -> str | None:
        """Why the issue is left out, or None when it is selected (limit and sample aside)."""
        if record.is_pull_request and not self.include_prs:
            return "pull request"
        if self.state != "all" and record.state != self.state:
            return "filtered out"
        if self.since or self.until:
            created = record.created_at.date() if record.created_at else None
            if created is None or (self.since and created < self.since) or (self.until and created > self.until):
                return "filtered out"
        if self._folded["labels"] or self._folded["any_labels"] or self._folded["exclude_labels"]:
            labels = {label.casefold() for label in record.labels}
            if not self._folded["labels"] <= labels:
                return "filtered out"
            if self._folded["any_labels"] and not self._folded["any_labels"] & labels:
                return "filtered out"
            if self._folded["exclude_labels"] & labels:
                return "filtered out"
        return None

    def as_dict(self) -> dict:
        """For the import history: only what was set."""
        values = {key: value for key, value in asdict(self).items() if not key.startswith("_")}
        defaults = {key: value for key, value in asdict(Selection()).items() if not key.startswith("_")}
        return {
            key: value.isoformat() if isinstance(value, date) else list(value) if isinstance(value, tuple) else value
            for key, value in values.items()
            if value != defaults[key] and not (key == "seed" and self.sample is None)
        }
