import json

from django.core.management.base import BaseCommand, CommandError

from agreement.report import study_report
from studies.models import Stage, Study


class Command(BaseCommand):
    help = "Inter-annotator agreement of a study, field by field (--json: the stable JSON contract of the README)."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, metavar="SLUG")
        parser.add_argument("--field", metavar="KEY", help="one field only")
        parser.add_argument("--stage", choices=Stage.values, help="the fields of one stage only")
        parser.add_argument(
            "--since-version",
            type=int,
            metavar="N",
            help="only answers given (or re-checked) under codebook version N or later",
        )
        parser.add_argument("--bootstrap", type=int, default=0, metavar="N", help="95%% intervals from N resamples")
        parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object")

    def handle(self, *args, study, field, stage, since_version, bootstrap, seed, as_json, **options):
        found = Study.objects.filter(slug=study).first()
        if found is None:
            raise CommandError(f"No study {study!r}.")
        if bootstrap < 0:
            raise CommandError("--bootstrap takes a number of resamples, 0 or more.")
        report = study_report(
            found, field=field, stage=stage, since_version=since_version, bootstrap=bootstrap, seed=seed
        )
        if field and not report["fields"]:
            raise CommandError(f"{study} has no field {field!r} with agreement (choices, levels or votes).")
        if as_json:
            self.stdout.write(json.dumps(report, indent=2, ensure_ascii=False))
            return
        for key, numbers in report["fields"].items():
            self.stdout.write(
                f"{key} ({numbers['level']}): {numbers['items']} items, {numbers['annotators']} "
                f"annotators, {numbers['ratings']} ratings"
            )
            for name in ("percent_agreement", "pairwise_agreement", "fleiss_kappa", "krippendorff_alpha", "gwet_ac1"):
                shown = (
                    f"{numbers[name]:.3f}"
                    if numbers[name] is not None
                    else f"undefined ({numbers['undefined'][name]})"
                )
                interval = numbers.get("ci95", {}).get(name)
                if interval and None not in interval:
                    shown += f"  95% CI [{interval[0]:.3f}, {interval[1]:.3f}]"
                primary = numbers.get("primary")
                if primary and primary["statistic"] == name:
                    late = ", declared or changed late" if primary["after_labelling_started"] else ""
                    verdict = "met" if primary["met"] else "not met"
                    shown += f"  PRIMARY, threshold {primary['threshold']:.3f} ({primary['source']}): {verdict}{late}"
                elif primary:
                    shown += "  (secondary)"
                self.stdout.write(f"  {name.replace('_', ' ')}: {shown}")
            for warning in numbers["warnings"]:
                self.stdout.write(f"  warning ({warning['kind'].replace('_', ' ')}): {warning['message']}")
