"""A study's codebook as JSON: export it, load it (from a file, a preset or another study).

The JSON is the one format for all three, so a preset is just a codebook
someone exported. Loading adds new fields and choices and updates existing
ones, matched by their stable keys and values; it never deletes anything, so
it cannot destroy what annotators have recorded.

Every function here that changes fields or choices does it inside `codebook_change` (studies/codebook_versions.py),
which records the new version of the codebook.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from annotator.bidi import isolate
from studies.access import StudyAccess
from studies.codebook_versions import (
    CHOICE_ATTRIBUTES,
    FIELD_ATTRIBUTES,
    FORMAT,
    Merge,
    codebook_change,
    codebook_snapshot,
)
from studies.export_profiles import ProfileError, profile_dict, profile_save, profiles_using
from studies.models import Annotation, Choice, CodebookChange, CodebookField, FinalValue, GoldAnswer, Stage, Study

PRESETS_DIR = Path(__file__).resolve().parent / "presets"
# Attributes a codebook file must give as JSON strings (a list or a number is a mistake, not text).
TEXT_ATTRIBUTES = {"key", "label", "definition", "kind", "stage", "examples"}
# Objects and lists inside one another in a codebook file: an exported one nests 4 deep (the file, its fields, a
# field's choices, a choice); export profiles a little more.
MAX_DEPTH = 10


class CodebookError(ValueError):
    """A codebook change that is refused; the message says what and where, `field` names the attribute at fault
    (`key`, `max_choices`, …) when there is one, so that a page shows the message next to it."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


def presets() -> list[str]:
    return sorted(path.stem for path in PRESETS_DIR.glob("*.json"))


def preset(name: str) -> dict:
    path = PRESETS_DIR / f"{name}.json"
    if not path.is_file():
        raise CodebookError(f"No codebook preset {name!r}; there are: {', '.join(presets())}.")
    return json.loads(path.read_text(encoding="utf-8"))


def codebook_parse(raw: bytes) -> object:
    """The JSON of a codebook file; CodebookError if it is not UTF-8, not JSON, or nested deeper than a codebook
    ever is (a file nested thousands deep would exhaust Python's recursion on parsing or loading it)."""
    too_deep = CodebookError(
        f"The codebook file is nested more than {MAX_DEPTH} levels deep; a codebook (fields, their choices, "
        "export profiles) needs no more than a few."
    )
    try:
        data = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise too_deep from None
    except (UnicodeDecodeError, ValueError) as error:
        raise CodebookError(f"Not a JSON file: {error}") from None
    if _depth(data) > MAX_DEPTH:
        raise too_deep
    return data


def _depth(data: object) -> int:
    """How deeply lists and objects nest in `data`, without recursion; stops counting past MAX_DEPTH."""
    deepest, pending = 0, [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list) and depth <= MAX_DEPTH:
            deepest = max(deepest, depth)
            pending.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
        elif isinstance(value, dict | list):
            return depth
    return deepest


def codebook_export(study: Study) -> dict:
    profiles = [profile_dict(profile) for profile in study.export_profiles.all()]
    return {**codebook_snapshot(study), **({"export_profiles": profiles} if profiles else {})}


def codebook_load(
    study: Study, data: dict, *, screening: bool = True, user=None, summary: str = "Codebook loaded"
) -> None:
    """Add and update the study's fields from a codebook (as exported); `screening=False` leaves out that stage."""
    with codebook_change(study, user=user, summary=summary):
        _load(study, data, screening)


def _load(study: Study, data: dict, screening: bool) -> None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CodebookError(f'Not a codebook: expected a JSON object with "format": "{FORMAT}".')
    if not isinstance(data.get("fields"), list):
        raise CodebookError('A codebook needs a "fields" list.')
    existing = {field.key: field for field in study.fields.all()}
    position = max((field.position for field in existing.values()), default=-1)
    for index, item in enumerate(data["fields"], 1):
        where = f"field {index} ({item.get('key', '?') if isinstance(item, dict) else '?'})"
        if not isinstance(item, dict):
            raise CodebookError(f"{where}: not an object")
        _check_text_attributes(item, where)
        if not screening and item.get("stage") == Stage.SCREENING:
            continue
        field = existing.get(item.get("key")) or CodebookField(study=study, key=item.get("key", ""))
        if field.pk is None:
            position += 1
            field.position = position
        elif item.get("kind", field.kind) != field.kind:
            _widen(field, item["kind"], where)
        elif item.get("stage", field.stage) != field.stage and field.annotations.exists():
            raise CodebookError(f"{where}: it has answers in the {field.stage} stage; its stage cannot change")
        for name in FIELD_ATTRIBUTES:
            if name in item:
                setattr(field, name, item[name])
        if field.pk:
            _check_recorded_values(field)
        _save(field, where)
        if field.has_choices:
            _load_choices(field, item.get("choices", []), where)
        elif item.get("choices"):
            raise CodebookError(f"{where}: a {field.get_kind_display()} field has no choices")
    _load_profiles(study, data.get("export_profiles", []))


def _load_profiles(study: Study, items) -> None:
    """Add the export profiles of a codebook, and update those of the same name (studies/export_profiles.py)."""
    if not isinstance(items, list):
        raise CodebookError('"export_profiles" must be a list.')
    existing = {profile.name: profile for profile in study.export_profiles.all()}
    for index, item in enumerate(items, 1):
        name = item.get("name") if isinstance(item, dict) else None
        where = f"export profile {index} ({name or '?'})"
        if not isinstance(item, dict):
            raise CodebookError(f"{where}: not an object")
        try:
            profile_save(study, item, profile=existing.get(name))
        except ProfileError as error:
            raise CodebookError(f"{where}: {error}") from None


# Kind changes that every recorded value survives: a version or a list becomes free text (the silent-bugs preset's
# version and link fields became free text to take the paper's own values, "seems to be fixed in 2.2.0-rc0").
WIDENINGS = {
    (CodebookField.Kind.VERSION, CodebookField.Kind.TEXT),
    (CodebookField.Kind.URLS, CodebookField.Kind.TEXT),
    (CodebookField.Kind.COMMITS, CodebookField.Kind.TEXT),
}


def _widen(field: CodebookField, kind: str, where: str) -> None:
    """Change the field's kind to one that takes every value it holds; a list becomes its items on one line."""
    if (field.kind, kind) not in WIDENINGS:
        raise CodebookError(f"{where}: its kind cannot change from {field.kind} to {kind}")
    for model in (Annotation, FinalValue, GoldAnswer):
        rows = [row for row in model.objects.select_for_update().filter(field=field) if isinstance(row.value, list)]
        for row in rows:
            row.value = " ".join(row.value)  # one line: the text box shows no line breaks
        model.objects.bulk_update(rows, ["value"])
    field.kind = kind


def codebook_copy(source: Study, target: Study, *, user=None) -> None:
    codebook_load(target, codebook_export(source), user=user, summary=f"Copied from {source.name}"[:200])


def _load_choices(field: CodebookField, items: list, where: str) -> None:
    if not isinstance(items, list):
        raise CodebookError(f"{where}: choices must be a list")
    existing = {choice.value: choice for choice in field.choices.all()}
    position = max((choice.position for choice in existing.values()), default=-1)
    for index, item in enumerate(items, 1):
        value = item.get("value") if isinstance(item, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # a level written as a number
        if not isinstance(value, str) or not value.strip():
            raise CodebookError(f"{where}, choice {index}: needs a value (text)")
        _check_text_attributes(item, f"{where}, choice {index}")
        choice = existing.get(value) or Choice(field=field, value=value)
        if choice.pk is None:
            position += 1
            choice.position = position
        for name in CHOICE_ATTRIBUTES:
            if name in item:
                setattr(choice, name, item[name] or "")
        choice.label = choice.label or choice.value
        _save(choice, f"{where}, choice {value!r}")
    if field.kind == CodebookField.Kind.ORDINAL:
        levels = [choice.value for choice in field.choices.all()]
        if not all(_is_level(level) for level in levels):
            raise CodebookError(f"{where}: the levels of an ordinal scale are numbers 1, 2, 3…")


def _check_text_attributes(item: dict, where: str) -> None:
    for name in TEXT_ATTRIBUTES & item.keys():
        if item[name] is not None and not isinstance(item[name], str):
            raise CodebookError(f"{where}: {name} must be text, not {type(item[name]).__name__} {item[name]!r:.60}")


def _is_level(value: str) -> bool:
    """0-9 only: str.isdigit() also takes "²", which int() refuses."""
    return value.isascii() and value.isdigit()


def _save(instance, where: str) -> None:
    try:
        instance.full_clean(exclude=["study", "field"])
    except ValidationError as error:
        messages = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in error.message_dict.items())
        at_fault = next(iter(error.message_dict)) if len(error.message_dict) == 1 else None
        raise CodebookError(f"{where}: {messages}", field=at_fault) from None
    # PostgreSQL refuses NUL in text; full_clean does not look for it.
    fields = instance._meta.concrete_fields
    with_nul = [field.name for field in fields if "\x00" in str(getattr(instance, field.attname))]
    if with_nul:
        raise CodebookError(f"{where}: {', '.join(with_nul)}: contains a NUL character (\\x00)")
    instance.save()


# --- open coding: the "Other…" texts annotators typed, promoted or merged into choices ---


@dataclass
class OpenCode:
    field: CodebookField
    text: str
    count: int
    issues: list[str]


def open_codes(access: StudyAccess) -> list[OpenCode]:
    """Every "Other…" text in the study's annotations, with how often and where it was used; without the codes
    of others on issues still blind to the viewer (studies/access.py)."""
    found: dict[tuple[int, str], OpenCode] = {}
    fields = {field.pk: field for field in access.study.fields.prefetch_related("choices")}  # shown with each code
    annotations = (
        Annotation.objects.filter(field__study=access.study, field__allow_other=True, value__isnull=False)
        .exclude(assignment__in=access.hidden_assignments())
        .select_related("assignment__issue__repository")
        .order_by("field__position", "id")
    )
    for annotation in annotations:
        assignment = annotation.assignment
        for text in _other_texts(annotation.value):
            code = found.setdefault((annotation.field_id, text), OpenCode(fields[annotation.field_id], text, 0, []))
            code.count += 1
            issue = assignment.issue
            code.issues.append(f"{issue.repository.full_name}#{issue.number}")
    return sorted(found.values(), key=lambda code: (code.field.position, -code.count, code.text.casefold()))


def code_promote(field: CodebookField, text: str, *, user=None) -> Choice:
    """Make an "Other…" text a choice of its own; the annotations that used it now hold the choice."""
    with codebook_change(field.study, user=user, summary=f"Promoted an “Other…” code of {field.label}"):
        if field.choices.filter(value=text).exists():
            raise CodebookError(f"{isolate(field.label)} has a choice {text!r} already; merge into it instead.")
        position = max(field.choices.values_list("position", flat=True), default=-1) + 1
        choice = Choice(field=field, value=text, label=text, position=position)
        _save(choice, f"{isolate(field.label)}, choice {text!r}")
        changed = _rewrite(field, {"other": text}, text)
        _record(field, CodebookChange.Action.PROMOTE, user, source=text, target=text, changed=changed)
    return choice


def code_merge(field: CodebookField, source: str, target: str, *, user=None, source_is_choice: bool = False) -> int:
    """Rewrite every annotation holding `source` (an "Other…" text, or a choice) to the choice `target`.

    A merged choice is deleted: its annotations hold the target now. Returns how many annotations changed.
    """
    with codebook_change(field.study, user=user, summary=f"Merged into a choice of {field.label}") as change:
        changed = _merge(field, source, target, user=user, source_is_choice=source_is_choice)
        change.merged.append(Merge(field.key, source, target, choice=source_is_choice))
    return changed


def _merge(field: CodebookField, source: str, target: str, *, user, source_is_choice: bool) -> int:
    if field.kind not in {CodebookField.Kind.SINGLE, CodebookField.Kind.MULTIPLE}:
        raise CodebookError(f"Only choices of single and multiple choice fields merge, not of {isolate(field.label)}.")
    if not field.choices.filter(value=target).exists():
        raise CodebookError(f"{target!r} is not a choice of {isolate(field.label)}.", field="target")
    if source_is_choice and source == target:
        raise CodebookError("A choice cannot be merged into itself.")
    changed = _rewrite(field, source if source_is_choice else {"other": source}, target)
    if source_is_choice:
        field.choices.filter(value=source).delete()
    _record(field, CodebookChange.Action.MERGE, user, source=source, target=target, changed=changed)
    return changed


def _rewrite(field: CodebookField, old, new) -> int:
    """Replace `old` by `new` in the field's annotations, final values and gold answers (lists keep one copy of
    `new`)."""
    changed = 0
    for model in (Annotation, FinalValue, GoldAnswer):
        rows = []
        for row in model.objects.select_for_update().filter(field=field, value__isnull=False):
            value = row.value
            if isinstance(value, list) and old in value:
                row.value = []
                for item in (new if item == old else item for item in value):
                    if item not in row.value:
                        row.value.append(item)
                rows.append(row)
            elif value == old:
                row.value = new
                rows.append(row)
        model.objects.bulk_update(rows, ["value"])
        changed += len(rows)
    return changed


def _other_texts(value) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [item["other"] for item in values if isinstance(item, dict) and "other" in item]


# --- Editing in the browser: what annotators recorded always stays valid ---

FIELD_EDITABLE = ("label", "definition", "required", "max_choices", "allow_other", "position")
CHOICE_EDITABLE = ("label", "definition", "examples", "position")


def field_add(study: Study, data: dict, *, user=None) -> CodebookField:
    """A new field (key, label, kind, stage, …), after the others."""
    with codebook_change(study, user=user, summary=f"Added the field {data.get('label', '')}"):
        if study.fields.filter(key=data.get("key")).exists():
            raise CodebookError(f"There is a field “{data['key']}” already.", field="key")
        position = max(study.fields.values_list("position", flat=True), default=-1) + 1
        field = CodebookField(study=study, position=position, **data)
        _save(field, f"field {field.key!r}")
        _record(field, CodebookChange.Action.ADD, user, target=field.label)
    return field


def field_update(field: CodebookField, changes: dict, *, user=None) -> None:
    """New label, definition, flags; refused when annotations already recorded would no longer fit.

    `changes["changes_meaning"]`: the owner says the field now means something else, so the answers made under
    earlier versions are queued for their annotators to re-check."""
    with codebook_change(field.study, user=user, summary=f"Edited {field.label}") as change:
        field = CodebookField.objects.select_for_update().get(pk=field.pk)
        before = field.label
        for name in FIELD_EDITABLE:
            if name in changes:
                setattr(field, name, changes[name])
        _check_recorded_values(field)
        _save(field, field.label)
        if field.label != before:
            _record(field, CodebookChange.Action.RENAME, user, source=before, target=field.label)
        if changes.get("changes_meaning"):
            change.meaning_changed.add(field.key)


def field_delete(field: CodebookField, *, user=None) -> None:
    with codebook_change(field.study, user=user, summary=f"Deleted the field {field.label}"):
        _field_delete(field)


def _field_delete(field: CodebookField) -> None:
    if count := field.annotations.count():
        raise CodebookError(f"{isolate(field.label)} has {count} answer{'s' if count != 1 else ''}; it stays.")
    if using := profiles_using(field):
        names = ", ".join(f"“{isolate(name)}”" for name in using)
        plural = "s" if len(using) > 1 else ""
        raise CodebookError(
            f"{isolate(field.label)} stays: the export profile{plural} {names} write{'' if plural else 's'} it."
        )
    field.delete()


def choice_add(field: CodebookField, data: dict, *, user=None) -> Choice:
    with codebook_change(field.study, user=user, summary=f"Added a choice to {field.label}"):
        return _choice_add(field, data, user)


def _choice_add(field: CodebookField, data: dict, user) -> Choice:
    if not field.has_choices:
        raise CodebookError(f"{isolate(field.label)} is a {field.get_kind_display()} field: it has no choices.")
    value = str(data.get("value", "")).strip()
    if field.kind == CodebookField.Kind.ORDINAL and not _is_level(value):
        raise CodebookError("The levels of an ordinal scale are numbers 1, 2, 3…", field="value")
    if field.choices.filter(value=value).exists():
        raise CodebookError(f"{isolate(field.label)} has a choice “{isolate(value)}” already.", field="value")
    position = max(field.choices.values_list("position", flat=True), default=-1) + 1
    choice = Choice(field=field, position=position, **{**data, "value": value})
    choice.label = choice.label or value
    _save(choice, f"{isolate(field.label)}, choice {value!r}")
    _record(field, CodebookChange.Action.ADD, user, target=choice.label)
    return choice


def choice_update(choice: Choice, changes: dict, *, user=None) -> None:
    """Label, definition, examples, order: free at any time, the value (what annotations hold) never changes.

    `changes["changes_meaning"]`: as for field_update, the choice's field now means something else."""
    field = choice.field
    with codebook_change(field.study, user=user, summary=f"Edited a choice of {field.label}") as change:
        choice = Choice.objects.select_for_update().select_related("field__study").get(pk=choice.pk)
        before = choice.label
        for name in CHOICE_EDITABLE:
            if name in changes:
                setattr(choice, name, changes[name])
        choice.label = choice.label or choice.value
        _save(choice, f"{isolate(choice.field.label)}, choice {choice.value!r}")
        if choice.label != before:
            _record(choice.field, CodebookChange.Action.RENAME, user, source=before, target=choice.label)
        if changes.get("changes_meaning"):
            change.meaning_changed.add(field.key)


def choice_delete(choice: Choice, *, user=None) -> None:
    """Delete a choice nobody has used; one in use must be merged into another choice first."""
    with codebook_change(choice.field.study, user=user, summary=f"Deleted a choice of {choice.field.label}"):
        try:
            with transaction.atomic():  # a savepoint: the refusal leaves the surrounding transaction usable
                choice.delete()
        except ProtectedError as error:
            raise CodebookError(error.args[0]) from None
        _record(choice.field, CodebookChange.Action.DELETE, user, source=choice.label)


def _check_recorded_values(field: CodebookField) -> None:
    """Refuse a maximum below, or no "Other…" under, what annotators have recorded already."""
    values = field.annotations.filter(value__isnull=False).values_list("value", flat=True)
    if field.kind == CodebookField.Kind.MULTIPLE and field.max_choices:
        over = sum(1 for value in values if isinstance(value, list) and len(value) > field.max_choices)
        if over:
            raise CodebookError(
                f"{over} annotation{'s' if over != 1 else ''} of {isolate(field.label)} hold more than "
                f"{field.max_choices} values; the maximum stays until they are changed.",
                field="max_choices",
            )
    if not field.allow_other and (others := sum(1 for value in values if _other_texts(value))):
        raise CodebookError(
            f"{others} annotation{'s' if others != 1 else ''} of {isolate(field.label)} use “Other…”; "
            "promote or merge those codes first.",
            field="allow_other",
        )


def _record(field: CodebookField, action: str, user, *, source: str = "", target: str = "", changed: int = 0) -> None:
    CodebookChange.objects.create(
        study=field.study,
        field=field,
        user=user,
        action=action,
        source=source[:200],
        target=target[:200],
        annotations_changed=changed,
    )
