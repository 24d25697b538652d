from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from studies.models import Membership, Study


class Command(BaseCommand):
    help = "Give users a role in a study (a user may hold several roles)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("usernames", nargs="+", metavar="USER")
        parser.add_argument("--role", choices=Membership.Role.values, required=True)

    def handle(self, *args, slug, usernames, role, **options):
        study = Study.objects.filter(slug=slug).first()
        if study is None:
            raise CommandError(f"No study {slug!r}.")
        users = {user.username: user for user in get_user_model().objects.filter(username__in=usernames)}
        missing = [name for name in usernames if name not in users]
        if missing:
            raise CommandError(f"No such user(s): {', '.join(missing)}. Nobody was added.")
        added = 0
        for username in usernames:
            _, created = Membership.objects.get_or_create(study=study, user=users[username], role=role)
            added += created
        self.stdout.write(f"{added} added as {role} of {slug!r}; {len(usernames) - added} had that role already.")
