from django.core.management.base import BaseCommand
from django.db import transaction

from cases.reference import load_reference_data


class Command(BaseCommand):
    help = "Load or refresh immigration courts, ISO 639-3 languages and case types (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            counts = load_reference_data(refresh=True)
        self.stdout.write(", ".join(f"{count} {name}" for name, count in counts.items()))
