"""Anonymise closed and withdrawn case requests past CASE_RETENTION_DAYS (SEC-25).

The beat task runs the same service every night; this command runs it now, e.g. after lowering
the retention period. Prints how many cases were anonymised, never who.
"""

from django.core.management.base import BaseCommand

from cases.services import case_requests_purge


class Command(BaseCommand):
    help = "Anonymise closed and withdrawn case requests past the retention period (SEC-25)."

    def handle(self, *args, **options):
        purged = case_requests_purge()
        self.stdout.write(f"{purged} case request(s) anonymised.")
