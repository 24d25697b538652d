"""Codebook versions: every change to a study's codebook is a numbered version, with a snapshot and its diff.

The one home of the rule. Every path that changes fields or choices (studies/codebook.py, annotation uploads
that add choices, the admin) runs inside `codebook_change(study, …)` or ends with `codebook_changed(study, …)`,
which compares the codebook with the latest version and records a new version when anything differs. The diff
is computed from the two snapshots, never told by the caller, so a path cannot record a change wrongly; what
the snapshots cannot show (a choice merged into another rather than deleted, a field whose meaning changed) the
caller adds. `tests/test_codebook_versions.py` walks every codebook-changing page and service and checks that
each made a version.

Annotations and final values record the number of the version they were made under (`current_number`). A
codebook with fields but no version yet (made before versions existed) is version 1: its first change records
it as it was before, then the change as version 2.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, F, Max

from annotator.bidi import isolate
from studies.models import Annotation, CodebookVersion, Study

FORMAT = "annotator-codebook"
FIELD_ATTRIBUTES = ("label", "definition", "kind", "stage", "required", "max_choices", "allow_other")
CHOICE_ATTRIBUTES = ("label", "definition", "examples")
# What a field's or a choice's meaning is made of: a change to one of these "redefines" it.
DEFINING = ("definition", "examples")


def codebook_snapshot(study: Study) -> dict:
    """The codebook's fields and choices, as the codebook export writes them (a file that loads as a codebook)."""
    return {
        "format": FORMAT,
        "version": 1,
        "name": study.name,
        "fields": [
            {
                "key": each.key,
                **{name: getattr(each, name) for name in FIELD_ATTRIBUTES if getattr(each, name) not in (None, "")},
                **({"choices": [choice_dict(choice) for choice in each.choices.all()]} if each.has_choices else {}),
            }
            for each in study.fields.prefetch_related("choices")
        ],
    }


def choice_dict(choice) -> dict:
    return {
        "value": choice.value,
        **{name: getattr(choice, name) for name in CHOICE_ATTRIBUTES if getattr(choice, name)},
    }


# --- the diff: pure, over two snapshots ---


@dataclass
class Merge:
    """A choice (or an "Other…" code, `choice=False`) of a field merged into another choice."""

    field: str
    source: str
    target: str
    choice: bool = True


def codebook_diff(before: dict | None, after: dict, *, merged: list[Merge] = ()) -> list[dict]:
    """What changed from snapshot `before` (None: an empty codebook) to `after`, one entry per change:
    {"change": added|removed|renamed|redefined|changed|merged|reordered, "field": key, "choice": value or None,
    "what": the attribute, "before", "after", "text": the change in words}."""
    old = {item["key"]: item for item in (before or {}).get("fields", [])}
    new = {item["key"]: item for item in after.get("fields", [])}
    merged_away = {(merge.field, merge.source) for merge in merged if merge.choice}
    entries = []
    for key, item in new.items():
        if key not in old:
            entries.append(_entry("added", item, text=f"Field {_name(item)} added ({item.get('kind', '?')})."))
            continue
        entries += _attribute_changes(old[key], item, FIELD_ATTRIBUTES, f"Field {_name(item)}", field=key)
        entries += _choice_changes(old[key], item, merged_away)
    for key, item in old.items():
        if key not in new:
            entries.append(_entry("removed", item, text=f"Field {_name(item)} removed."))
    if [key for key in old if key in new] != [key for key in new if key in old]:
        entries.append({**_entry("reordered", {"key": ""}), "field": None, "text": "The order of the fields changed."})
    for merge in merged:
        source = f"“{isolate(merge.source)}”" if merge.choice else "an “Other…” code"
        target = _label_of(new.get(merge.field, {}), merge.target)
        entries.append(
            {
                **_entry("merged", new.get(merge.field, {"key": merge.field})),
                "choice": merge.source if merge.choice else None,
                "after": merge.target,
                "text": f"{_name(new.get(merge.field, {'key': merge.field}))}: {source} merged into “{target}”.",
            }
        )
    return entries


def _choice_changes(old_field: dict, new_field: dict, merged_away: set) -> list[dict]:
    key = new_field["key"]
    old = {item["value"]: item for item in old_field.get("choices", [])}
    new = {item["value"]: item for item in new_field.get("choices", [])}
    where = _name(new_field)
    entries = []
    for value, item in new.items():
        if value not in old:
            entries.append(_entry("added", new_field, choice=value, text=f"{where}: choice “{_label(item)}” added."))
        else:
            entries += _attribute_changes(
                old[value], item, CHOICE_ATTRIBUTES, f"{where}: choice “{_label(old[value])}”", field=key, choice=value
            )
    for value, item in old.items():
        if value not in new and (key, value) not in merged_away:
            entries.append(
                _entry("removed", new_field, choice=value, text=f"{where}: choice “{_label(item)}” removed.")
            )
    if [value for value in old if value in new] != [value for value in new if value in old]:
        entries.append(_entry("reordered", new_field, text=f"{where}: the order of the choices changed."))
    return entries


def _attribute_changes(old: dict, new: dict, attributes, where: str, *, field: str, choice=None) -> list[dict]:
    entries = []
    for name in attributes:
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        change = "renamed" if name == "label" else "redefined" if name in DEFINING else "changed"
        if change == "renamed":
            text = f"{where} renamed “{isolate(before)}” → “{isolate(after)}”."
        elif change == "redefined":
            text = f"{where}: {name} changed." if before else f"{where}: {name} added."
        else:
            text = f"{where}: {name.replace('_', ' ')} {_shown(before)} → {_shown(after)}."
        entries.append(
            {"change": change, "field": field, "choice": choice, "what": name, "before": before, "after": after}
            | {"text": text}
        )
    return entries


def _entry(change: str, item: dict, *, choice=None, text: str = "") -> dict:
    return {
        "change": change,
        "field": item.get("key"),
        "choice": choice,
        "what": "",
        "before": None,
        "after": None,
    } | {"text": text}


def _name(item: dict) -> str:
    return f"“{isolate(item.get('label') or item.get('key'))}”"


def _label(choice: dict) -> str:
    """Isolated: the diff's words quote it (annotator/bidi.py)."""
    return isolate(choice.get("label") or choice["value"])


def _label_of(item: dict, value: str) -> str:
    return next((_label(choice) for choice in item.get("choices", []) if choice["value"] == value), isolate(value))


def _shown(value) -> str:
    if value is None or value == "":
        return "none"
    return {True: "yes", False: "no"}.get(value, str(value)) if isinstance(value, bool) else str(value)


# --- recording ---


@dataclass
class CodebookEdit:
    """What a change says that the snapshots cannot: merges, and fields whose meaning it changes."""

    merged: list[Merge] = field(default_factory=list)
    meaning_changed: set[str] = field(default_factory=set)


@contextmanager
def codebook_change(study: Study, *, user=None, summary: str = "") -> Iterator[CodebookEdit]:
    """Around a change of the study's codebook: in one transaction, one change of the study at a time; at the end,
    a new version if the codebook differs from the latest one (or the owner said a field's meaning changed)."""
    with transaction.atomic():
        Study.objects.select_for_update().filter(pk=study.pk).values_list("pk").first()
        if not study.codebook_versions.exists() and study.fields.exists():
            _create(study, codebook_snapshot(study), summary="The codebook before versions were recorded")
        change = CodebookEdit()
        yield change
        codebook_changed(study, user=user, summary=summary, change=change)


def codebook_changed(study: Study, *, user=None, summary: str = "", change: CodebookEdit | None = None):
    """Record the codebook as it is now as a new version if it differs from the latest; returns it (or None)."""
    change = change or CodebookEdit()
    latest = study.codebook_versions.order_by("-number").first()
    snapshot = codebook_snapshot(study)
    diff = codebook_diff(latest.snapshot if latest else None, snapshot, merged=change.merged)
    if latest is not None and not diff and not change.meaning_changed:
        return None
    version = _create(
        study, snapshot, diff=diff, summary=summary, user=user, meaning_changed=sorted(change.meaning_changed)
    )
    if change.meaning_changed:
        study.fields.filter(key__in=change.meaning_changed).update(meaning_version=version.number)
    return version


def _create(study: Study, snapshot: dict, **values) -> CodebookVersion:
    number = (study.codebook_versions.aggregate(n=Max("number"))["n"] or 0) + 1
    values["summary"] = values.get("summary", "")[:200]
    return CodebookVersion.objects.create(study=study, number=number, snapshot=snapshot, **values)


def current_number(study_id: int) -> int:
    """The number of the study's latest codebook version: what a new annotation or final value is made under."""
    return CodebookVersion.objects.filter(study_id=study_id).aggregate(n=Max("number"))["n"] or 1


# --- re-checks: answers made before their field's meaning changed ---


def rechecks(study: Study, user):
    """The user's own answers made under a codebook version older than the one that changed their field's meaning.

    Only the user's own: re-checking is labelling, and labelling is blind (studies/access.py)."""
    return (
        Annotation.objects.filter(
            assignment__study=study,
            assignment__annotator=user,
            value__isnull=False,
            codebook_version__lt=F("field__meaning_version"),
        )
        .select_related("field", "assignment__issue__repository")
        .prefetch_related("field__choices")
        .order_by("assignment__issue_id", "field__position")
    )


def rechecks_pending(study: Study) -> list[dict]:
    """For owners: per field, how many answers wait to be re-checked (counts only: no values, no annotators)."""
    waiting = Annotation.objects.filter(
        assignment__study=study, value__isnull=False, codebook_version__lt=F("field__meaning_version")
    )
    return list(waiting.values("field__label").annotate(n=Count("id")).order_by("field__position"))


def snapshot_field(version: CodebookVersion | None, key: str) -> dict | None:
    """The field `key` as the codebook `version` held it."""
    if version is None:
        return None
    return next((item for item in version.snapshot.get("fields", []) if item["key"] == key), None)
