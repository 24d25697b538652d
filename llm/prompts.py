"""What a model is asked: the study's guidelines, one field's definition and choices (with their definitions and
examples), and the issue's title, body and comments within a context budget; and how its answer is read.

The answer is JSON constrained to the field's values by a JSON schema (`schema`), and checked again by the field
itself (`CodebookField.clean_value`), as an annotator's is: a model gets no value an annotator could not give.
"""

import hashlib
import json
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from issues.models import Issue
from studies.models import CodebookField, Study

SYSTEM = (
    "You label GitHub issue reports for a software-engineering research study. Apply the study's codebook exactly "
    "as written. Answer with a JSON object only: the value, and a one-sentence rationale."
)
INSTRUCTION = {
    CodebookField.Kind.SINGLE: "Answer with exactly one of these values (the text in backticks):",
    CodebookField.Kind.MULTIPLE: "Answer with a list of one or more of these values (the text in backticks){most}:",
    CodebookField.Kind.ORDINAL: "Answer with one of these levels (the text in backticks):",
    CodebookField.Kind.VOTE: "Answer true (yes) or false (no).",
}
RATED_KINDS = set(INSTRUCTION)


@dataclass
class Prompt:
    messages: list[dict]
    cut: dict  # what of the issue did not fit: {"body_characters": n, "comments": m} (empty when nothing)
    schema: dict

    def digest(self, *, model: str, parameters: dict, codebook_version: int) -> str:
        """What an answer depends on: an item whose digest is unchanged is not asked again."""
        content = json.dumps(
            [model, parameters, codebook_version, self.messages, self.schema], sort_keys=True, ensure_ascii=False
        )
        return hashlib.sha256(content.encode()).hexdigest()


def build(study: Study, field: CodebookField, issue: Issue, comments: list, *, budget: int) -> Prompt:
    """The prompt for one field of one issue; `comments` in order, `budget` the characters the issue may take."""
    issue_text, cut = _issue_text(issue, comments, budget)
    parts = []
    if study.guidelines.strip():
        parts.append(f"# The study's guidelines\n\n{study.guidelines.strip()}")
    parts.append(_question(field))
    parts.append(issue_text)
    return Prompt(
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n\n".join(parts)}],
        cut=cut,
        schema=schema(field),
    )


def _question(field: CodebookField) -> str:
    lines = [f"# The question: {field.label}"]
    if field.definition.strip():
        lines += ["", field.definition.strip()]
    most = f" (at most {field.max_choices})" if field.max_choices else ""
    lines += ["", INSTRUCTION[field.kind].format(most=most)]
    for choice in field.choices.all():
        line = f"- `{choice.value}`" + (f": {choice.label}" if choice.label != choice.value else "")
        if choice.definition.strip():
            line += f" — {choice.definition.strip()}"
        if choice.examples.strip():
            line += f" Examples: {choice.examples.strip()}"
        lines.append(line)
    return "\n".join(lines)


def _issue_text(issue: Issue, comments: list, budget: int) -> tuple[str, dict]:
    """The issue within `budget` characters: its head always; the body up to half the rest when the comments need
    more room; then whole comments in order while they fit; what is left goes back to the body."""
    head = f"# The issue: {issue.repository.full_name}#{issue.number}\n\nTitle: {issue.title}"
    if issue.labels:
        head += f"\nLabels: {', '.join(issue.labels)}"
    rendered = [f"### {c.author_login or 'someone'} wrote\n\n{c.body.strip()}" for c in comments]
    room = max(budget - len(head), 0)
    wanted_by_comments = sum(len(text) + 2 for text in rendered)
    body = issue.body.strip()
    body_room = min(len(body), max(room // 2, room - wanted_by_comments))
    room -= body_room
    kept = []
    for text in rendered:
        if len(text) + 2 > room:
            break
        kept.append(text)
        room -= len(text) + 2
    body_room = min(len(body), body_room + room)  # what the comments left unused
    cut = {}
    if body_room < len(body):
        cut["body_characters"] = len(body) - body_room
    if len(kept) < len(rendered):
        cut["comments"] = len(rendered) - len(kept)
    text = head + "\n\n## Body\n\n" + (body[:body_room] or "(empty)")
    if body_room < len(body):
        text += f"\n\n[… {len(body) - body_room} characters cut]"
    if kept:
        text += "\n\n## Comments\n\n" + "\n\n".join(kept)
    if len(kept) < len(rendered):
        text += f"\n\n[… {len(rendered) - len(kept)} more comments cut]"
    return text, cut


def schema(field: CodebookField) -> dict:
    """A JSON schema that admits exactly the field's values, for the endpoint's constrained decoding."""
    values = [choice.value for choice in field.choices.all()]
    match field.kind:
        case CodebookField.Kind.SINGLE | CodebookField.Kind.ORDINAL:
            value = {"type": "string", "enum": values}
        case CodebookField.Kind.MULTIPLE:
            value = {"type": "array", "items": {"type": "string", "enum": values}, "minItems": 1}
            if field.max_choices:
                value["maxItems"] = field.max_choices
        case CodebookField.Kind.VOTE:
            value = {"type": "boolean"}
        case _:
            raise ValueError(f"A model does not rate {field.get_kind_display()} fields.")
    return {
        "type": "object",
        "properties": {"value": value, "rationale": {"type": "string"}},
        "required": ["value", "rationale"],
        "additionalProperties": False,
    }


def parse(field: CodebookField, content: str) -> tuple[object, str]:
    """The value a response gives, checked by the field as an annotator's answer is; ValueError says why not."""
    try:
        answer = json.loads(content)
    except ValueError:
        raise ValueError(f"not JSON: {content[:120]!r}") from None
    if not isinstance(answer, dict) or "value" not in answer:
        raise ValueError(f"no value in {content[:120]!r}")
    value = answer["value"]
    if field.kind == CodebookField.Kind.VOTE:
        value = {"vote": value, "comment": ""}
    elif field.kind == CodebookField.Kind.MULTIPLE and isinstance(value, list):
        value = sorted(value)
    try:
        cleaned = field.clean_value(value)
    except ValidationError as error:
        raise ValueError(" ".join(error.messages)) from None
    if cleaned is None:
        raise ValueError("an empty value")
    rationale = answer.get("rationale")
    return cleaned, rationale if isinstance(rationale, str) else ""
