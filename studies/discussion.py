"""The discussion under an issue's comparison: Markdown comments; `@name` notifies that member of the study."""

import re

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from studies.models import DiscussionComment, Notification, Study, StudyIssue

# Django usernames: letters, digits and @ . + - _; a mention ends before a trailing dot or comma.
MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]*\w)")
MAX_COMMENT = 20_000


@transaction.atomic
def comment_post(study_issue: StudyIssue, *, author, body: str) -> DiscussionComment:
    body = body.strip()
    if not body:
        raise ValidationError("Write something first.")
    if len(body) > MAX_COMMENT:
        raise ValidationError(f"A comment is at most {MAX_COMMENT:,} characters.")
    if "\x00" in body:
        raise ValidationError("A comment cannot hold a NUL character (\\x00).")
    comment = DiscussionComment.objects.create(study_issue=study_issue, author=author, body=body)
    mentioned = (
        get_user_model()
        .objects.filter(username__in=set(MENTION.findall(body)), memberships__study=study_issue.study_id)
        .exclude(pk=author.pk)
        .distinct()
    )
    Notification.objects.bulk_create([Notification(user=user, comment=comment) for user in mentioned])
    return comment


def notifications_of(user):
    """The user's mentions in studies they may still see: once removed from a study, its name and issues are
    no longer theirs to read, in the Mentions page or its count."""
    return Notification.objects.filter(user=user, comment__study_issue__study__in=Study.objects.visible_to(user))


def unread_count(user) -> int:
    return notifications_of(user).filter(read_at__isnull=True).count()


def mark_read(user) -> None:
    Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
