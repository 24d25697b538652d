from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from studies.codebook import CodebookError, codebook_load, preset, presets
from studies.models import Membership, Study


class Command(BaseCommand):
    help = "Create a study, optionally with a codebook preset and its owner."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--description", default="")
        parser.add_argument("--preset", dest="preset_name", choices=presets(), help="start from this codebook")
        parser.add_argument("--no-screening", action="store_true", help="label every issue; no screening vote")
        parser.add_argument("--owner", metavar="USER", help="username of the study's owner")
        parser.add_argument("--annotators-per-issue", type=int, default=2)

    @transaction.atomic
    def handle(self, *args, slug, name, description, preset_name: str | None, no_screening, owner, **options):
        if Study.objects.filter(slug=slug).exists():
            raise CommandError(f"A study {slug!r} exists already.")
        owner_user = None
        if owner:
            owner_user = get_user_model().objects.filter(username=owner).first()
            if owner_user is None:
                raise CommandError(f"No user {owner!r}.")
        study = Study(
            slug=slug,
            name=name,
            description=description,
            screening=not no_screening,
            annotators_per_issue=options["annotators_per_issue"],
        )
        try:
            study.full_clean()
        except ValidationError as error:
            raise CommandError("; ".join(f"{name}: {' '.join(m)}" for name, m in error.message_dict.items())) from None
        study.save()
        if preset_name:
            try:
                summary = f"Loaded the {preset_name} preset"
                codebook_load(study, preset(preset_name), screening=not no_screening, summary=summary)
            except CodebookError as error:
                raise CommandError(str(error)) from None
        if owner_user:
            Membership.objects.create(study=study, user=owner_user, role=Membership.Role.OWNER)
        fields = study.fields.count()
        self.stdout.write(f"Created study {slug!r} with {fields} codebook field{'s' if fields != 1 else ''}.")
