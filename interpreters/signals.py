"""Signals the interpreter services send after commit, so that services never import tasks.

interpreters/tasks.py receives `team_unfilled` (connected in InterpretersConfig.ready) and mails
the coordinators and the attorney; without a receiver (a bare shell) the team still shows as
waiting for an interpreter on the attorney's offer page and in the admin.
"""

from django.dispatch import Signal

# Sent with match_id once a declined interpreter's team is committed without a replacement.
team_unfilled = Signal()
