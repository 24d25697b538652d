"""No silent overwrite: the versions of annotations, final values and issue stages, checked in one place.

Each versioned row carries a `version` that the database raises on every update
(`version_trigger`, on the models): so every path that writes them — the pages,
uploads, commands, the admin, raw SQL — bumps it, and none can forget. (Paths
that would write a row unchanged, such as an upload of the same values, skip
the write.) Every path that writes on behalf of a page passes the
version that page showed to `check_version`, which refuses a write based on an
older one (`StaleVersion`; the views answer HTTP 409, in one decorator:
studies/views/conflicts.py), and writes with `save_versioned`, which writes only
if nobody wrote in between. A missing or malformed version from a form is
`BadVersion` (HTTP 400), never a crash.
"""

from collections.abc import Callable

import pgtrigger


class StaleVersion(Exception):
    """The form was based on a version that someone has changed since; `current` is the row as it is now."""

    def __init__(self, current, message: str):
        super().__init__(message)
        self.current = current

    @property
    def version(self) -> int:
        return self.current.version if self.current is not None else 0


class BadVersion(ValueError):
    """A form sent no version, or one that is not a whole number."""


def version_trigger() -> pgtrigger.Trigger:
    """Raise the row's version on every update, whoever makes it: each acknowledged save is a version of its own."""
    return pgtrigger.Trigger(
        name="bump_version",
        when=pgtrigger.Before,
        operation=pgtrigger.Update,
        func="NEW.version := OLD.version + 1; RETURN NEW;",
    )


def check_version(current, given: int | None, changed: Callable[[], str]) -> None:
    """Refuse a write based on version `given` when the row (None: there is none yet, version 0) is at another.

    `given` None: the caller writes on no page's behalf (an upload, a command) and checks nothing here.
    `changed()` says what changed, for the person whose write is refused.
    """
    if current is None and given:
        # The form saw a row that is gone (an agreed final value the annotators no longer agree on), or a version
        # that never was: either way nothing is there for `changed()` to describe.
        raise StaleVersion(None, "What you saw was removed meanwhile; there is no value now. Reload to see it.")
    if given is not None and given != (current.version if current is not None else 0):
        raise StaleVersion(current, changed())


def save_versioned(instance, **changes) -> None:
    """Write `changes` to the row if it is still at the version `instance` was read at, in one UPDATE; the database
    raises the version, and so does `instance`. StaleVersion if a writer that checked nothing (an upload, the
    admin) got there in between."""
    model = type(instance)
    if not model.objects.filter(pk=instance.pk, version=instance.version).update(**changes):
        raise StaleVersion(model.objects.get(pk=instance.pk), "Changed meanwhile. Reload to see the change.")
    for name, value in changes.items():
        setattr(instance, name, value)
    instance.version += 1


def posted_version(data) -> int:
    """The version a form was showing (0: no value yet); BadVersion if it is missing or not a whole number."""
    text = data.get("version")
    if text is None:
        raise BadVersion("The form sent no version. Reload the page and try again.")
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise BadVersion(f"The form's version {text[:20]!r} is not a whole number. Reload the page and try again.")
    return int(text)
