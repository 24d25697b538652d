"""Who takes part in a study: roles given and taken back, keeping what members have done."""

from django.db import transaction

from studies.models import Assignment, Membership


class MembershipError(ValueError):
    pass


@transaction.atomic
def member_remove(membership: Membership) -> None:
    """Take a role back; an annotator's unstarted assignments go with it. Refused for an annotator who has started
    labelling (their work stays, and so does the role) and for a study's last owner."""
    study, user = membership.study, membership.user
    if membership.role == Membership.Role.ANNOTATOR:
        started = Assignment.objects.filter(study=study, annotator=user).exclude(status=Assignment.Status.ASSIGNED)
        if started.exists():
            raise MembershipError(f"{user.username} has started labelling; their work stays, and so does the role.")
        Assignment.objects.filter(study=study, annotator=user, status=Assignment.Status.ASSIGNED).delete()
    if membership.role == Membership.Role.OWNER and study.memberships.filter(role=Membership.Role.OWNER).count() == 1:
        raise MembershipError("A study keeps at least one owner.")
    membership.delete()
