"""Signals mentoring services send after commit, so that services never import tasks.

mentoring/tasks.py receives `mentorship_offered` (connected in MentoringConfig.ready) and mails the
mentor; without a receiver the offer still waits on the mentor's dashboard.
"""

from django.dispatch import Signal

# Sent with mentorship_id once a coordinator's approval (the offer to the mentor) is committed.
mentorship_offered = Signal()
