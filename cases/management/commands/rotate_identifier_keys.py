"""`manage.py rotate_identifier_keys`: finish a key rotation of the respondent identifiers.

To rotate, put the new key first in FIELD_ENCRYPTION_KEYS and keep the old ones after it (every
key still decrypts), deploy, then run this command. It re-encrypts each case's name, A-number and
contact route with the first key and recomputes the A-number hash, which is derived from the first
key too (cases/crypto.py): until it has run, "Find by A-number" and the duplicate check miss the
cases saved under the old key. Afterwards the old keys can be removed.

Safe to run again, in batches of primary keys (one transaction each), so it can be interrupted.
Identifiers that fail their integrity check are left as they are and counted: rewriting them
would destroy the evidence of tampering (see EncryptedTextField).
"""

from time import perf_counter

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cases.crypto import Unreadable, a_number_hash
from cases.models import CaseRequest
from core.services import event_record

FIELDS = ("respondent_name", "a_number", "contact_route")


class Command(BaseCommand):
    help = "Re-encrypt respondent identifiers with the first FIELD_ENCRYPTION_KEYS key and re-hash."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        started, last, rotated, unreadable = perf_counter(), 0, 0, 0
        while True:
            with transaction.atomic():
                batch = list(
                    CaseRequest.objects.select_for_update()
                    .filter(pk__gt=last)
                    .order_by("pk")
                    .only("pk", *FIELDS, "a_number_hash")[:batch_size]
                )
                if not batch:
                    break
                last = batch[-1].pk
                readable = [case for case in batch if not _unreadable(case)]
                unreadable += len(batch) - len(readable)
                for case in readable:
                    case.a_number_hash = a_number_hash(case.a_number) if case.a_number else None
                # Saving encrypts with the first key (MultiFernet), whichever key wrote it.
                CaseRequest.objects.bulk_update(readable, [*FIELDS, "a_number_hash"])
                rotated += len(readable)
            self.stdout.write(f"{rotated} case requests rotated", ending="\r")
        with transaction.atomic():
            event_record(
                verb="cases.identifier_keys_rotated",
                data={"rotated": rotated, "unreadable": unreadable},
            )
        self.stdout.write(
            f"{rotated} case requests rotated, {unreadable} left unreadable "
            f"(integrity check failed), in {perf_counter() - started:.1f} s"
        )


def _unreadable(case: CaseRequest) -> bool:
    return any(isinstance(getattr(case, name), Unreadable) for name in FIELDS)
