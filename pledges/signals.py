"""Signals the pledge services send after commit, so that services never import tasks.

pledges/tasks.py receives `pledge_confirmation_due` (connected in PledgesConfig.ready) and
publishes the confirmation email; without a receiver (a bare shell), the sweeper sends it later.
"""

from django.dispatch import Signal

# Sent with pledge_id once a new or resubmitted unconfirmed pledge is committed.
pledge_confirmation_due = Signal()
