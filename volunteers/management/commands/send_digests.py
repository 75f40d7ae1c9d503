"""Send the weekly digest now, as the Monday beat does (``make run``: the worker prints the mails).

    python manage.py send_digests                 # enqueue the weekly fan-out on the worker
    python manage.py send_digests --attorney EMAIL [--again]   # one attorney's, here and now

``--again`` makes that attorney due even if a digest went out this week (a demo convenience:
the digest is otherwise sent at most once in DUE_AFTER).
"""

from django.core.management.base import BaseCommand, CommandError

from volunteers.digest import attorney_digests_send
from volunteers.models import AttorneyProfile
from volunteers.tasks import digests_send_task


class Command(BaseCommand):
    help = "Send the weekly digest of new needs now (all due attorneys, or one)."

    def add_arguments(self, parser):
        parser.add_argument("--attorney", help="the attorney's email address")
        parser.add_argument("--again", action="store_true")

    def handle(self, *args, attorney=None, again=False, **options):
        if attorney is None:
            result = digests_send_task.delay()
            self.stdout.write(f"Weekly digest enqueued (task {result.id}); the worker sends it.")
            return
        profile = AttorneyProfile.objects.filter(user__email__iexact=attorney).first()
        if profile is None:
            raise CommandError(f"No attorney with the email address {attorney}.")
        if again:
            AttorneyProfile.objects.filter(pk=profile.pk).update(last_digest_at=None)
        sent = attorney_digests_send(attorney_ids=[profile.pk])
        self.stdout.write(
            "Digest sent." if sent else "Nothing sent: not due, no room, or no new need fits."
        )
