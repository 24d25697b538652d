"""Read GitHub REST API objects (issues and issue comments) into our fields.

Only the shape of one object is handled here; the importers of dump formats
build on it.
"""

import re
from datetime import datetime
from typing import Any

# https://api.github.com/repos/{owner}/{repo}  or  https://github.com/{owner}/{repo}/issues/{n}
_REPOSITORY_IN_URL = re.compile(r"^https?://[^/]+/(?:repos/)?(?P<owner>[^/]+)/(?P<name>[^/]+)")


class InvalidIssueObject(ValueError):
    """A JSON object that is not a usable GitHub issue or comment."""


_OWNER_NAME = re.compile(r"^(?:https://github\.com/)?(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)/?$")


def parse_repository(text: str) -> tuple[str, str]:
    """(owner, name) from "owner/name" (or its github.com URL); ValueError with a message otherwise."""
    match = _OWNER_NAME.match(text.strip())
    if not match:
        raise ValueError(f"A repository is written owner/name, not {text!r}.")
    return match["owner"], match["name"]


def repository_of(obj: dict[str, Any]) -> tuple[str, str]:
    """(owner, name) from an issue's repository_url or html_url."""
    for key in ("repository_url", "html_url"):
        match = _REPOSITORY_IN_URL.match(obj.get(key) or "")
        if match:
            return match["owner"], match["name"]
    raise InvalidIssueObject("the issue has neither repository_url nor html_url")


def issue_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """The Issue model fields of one REST issue object (payload kept verbatim)."""
    try:
        return {
            "number": int(obj["number"]),
            "title": obj["title"],
            "body": obj.get("body") or "",
            "author_login": (obj.get("user") or {}).get("login", ""),
            "state": obj["state"],
            "state_reason": obj.get("state_reason") or "",
            "labels": [label["name"] if isinstance(label, dict) else label for label in obj.get("labels", [])],
            "created_at": _timestamp(obj["created_at"]),
            "updated_at": _timestamp(obj.get("updated_at") or obj["created_at"]),
            "closed_at": _timestamp(obj.get("closed_at")),
            "html_url": obj["html_url"],
            "is_pull_request": "pull_request" in obj,
            "payload": obj,
        }
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidIssueObject(f"issue {obj.get('number', '?')}: missing or bad {error}") from error


def comment_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """The IssueComment model fields of one REST comment object (without the issue)."""
    try:
        return {
            "github_id": int(obj["id"]),
            "author_login": (obj.get("user") or {}).get("login", ""),
            "body": obj.get("body") or "",
            "created_at": _timestamp(obj["created_at"]),
            "payload": obj,
        }
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidIssueObject(f"comment {obj.get('id', '?')}: missing or bad {error}") from error


# https://api.github.com/repos/{owner}/{repo}/issues/{n} (GitHub Enterprise: …/api/v3/repos/…)
_ISSUE_API_URL = re.compile(
    r"^https?://[^/]+/(?:api/v3/)?repos/(?P<owner>[^/\s]+)/(?P<name>[^/\s]+)/issues/(?P<number>\d+)$"
)


def issue_of_comment(obj: dict[str, Any]) -> tuple[tuple[str, str], int]:
    """((owner, name), number) of a comment's issue: comments carry only the issue's API URL."""
    match = _ISSUE_API_URL.match(obj.get("issue_url") or "")
    if not match:
        raise InvalidIssueObject(f"comment {obj.get('id', '?')}: no issue_url to join it to its issue")
    return (match["owner"], match["name"]), int(match["number"])


def _timestamp(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
