"""``manage.py train_propensity``: train the propensity models now (the nightly task's work)."""

from django.core.management.base import BaseCommand

from propensity import services
from propensity.models import ModelVersion, Target


class Command(BaseCommand):
    help = "Train the learned propensity models on the closed history and use the ready ones."

    def add_arguments(self, parser):
        parser.add_argument("--target", choices=[t.value for t in Target], help="Train one target only.")
        parser.add_argument("--no-activate", action="store_true", help="Keep the version without using it.")

    def handle(self, *args, target=None, no_activate=False, **options):
        targets = [target] if target else [Target.WON, Target.RENEWED, Target.ACCEPTED]
        for t in targets:
            version = services.train(target=t, activate=not no_activate)
            if options["verbosity"] >= 1:
                self.stdout.write(describe(version))


def describe(version: ModelVersion) -> str:
    counts = (
        f"{version.outcomes} outcomes ({version.train_positives + version.held_out_positives} positive), "
        f"{version.held_out_outcomes} held out"
    )
    if version.status != ModelVersion.Status.READY:
        return f"{version.get_target_display()}: too little history, {counts}; the fit score stays."
    return (
        f"{version.get_target_display()}: version {version.pk}, {counts}; held-out AUC {version.auc:.3f} "
        f"(fit score {version.fit_auc if version.fit_auc is not None else float('nan'):.3f}), "
        f"Brier {version.brier:.3f}, {version.seconds:.1f} s{'' if not version.is_active else ', in use'}."
    )
