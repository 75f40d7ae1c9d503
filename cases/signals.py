"""Signals the case services send after commit, so that services never import tasks.

cases/tasks.py receives `case_request_review_due` (connected in CasesConfig.ready) and mails the
coordinators; without a receiver (a bare shell) the request still waits in the admin's
"Needs review" list.
"""

from django.dispatch import Signal

# Sent with case_id once a partner's request held for review (a repeated A-number) is committed.
case_request_review_due = Signal()
