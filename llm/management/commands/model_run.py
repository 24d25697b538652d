import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from llm.models import ModelRater, ModelRun
from llm.runs import run_execute

PLAIN_PROGRESS_EVERY = 5.0  # seconds between lines when the output is not a terminal


class Command(BaseCommand):
    help = "Run a study's model rater here, with a progress bar (the Model raters page queues runs for the worker)."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, metavar="SLUG")
        parser.add_argument("--rater", required=True, metavar="NAME")

    def handle(self, *args, study, rater, **options):
        found = ModelRater.objects.filter(study__slug=study, name=rater).first()
        if found is None:
            raise CommandError(f"No model rater {rater!r} in study {study!r}.")
        if found.runs.filter(status__in=[ModelRun.Status.QUEUED, ModelRun.Status.RUNNING]).exists():
            raise CommandError(f"{rater} has a run queued or running already: pause it first.")
        run = ModelRun.objects.create(rater=found)
        bar = tqdm(unit="item", file=self.stdout) if self.stdout.isatty() else None
        last_line = [0.0]

        def progress(current: ModelRun) -> None:
            if bar is not None:
                bar.total = current.items_total
                bar.update(current.items_done - bar.n)
                bar.set_postfix_str(f"{current.requests:,} requests, {current.items_failed} failed", refresh=True)
            elif time.monotonic() - last_line[0] >= PLAIN_PROGRESS_EVERY:
                last_line[0] = time.monotonic()
                self.stdout.write(
                    f"{current.items_done:,} of {current.items_total:,} items, {current.requests:,} requests"
                )

        run = run_execute(run.pk, on_progress=progress)
        if bar is not None:
            bar.close()
        summary = (
            f"Run {run.pk}: {run.status}. {run.items_done:,} of {run.items_total:,} items "
            f"({run.items_reused:,} reused, {run.items_failed:,} failed), {run.requests:,} requests, "
            f"{run.prompt_tokens:,} prompt and "
            f"{run.completion_tokens:,} completion tokens."
        )
        if run.status == ModelRun.Status.FAILED:
            raise CommandError(f"{summary} {run.error}")
        self.stdout.write(summary + (f" {run.error}" if run.error else ""))
