"""Sign-ins in the audit log (SEC-24): who signed in, and that a sign-in was refused.

A refused attempt records no address or username: it may be a mistyped stranger's email.
"""

from core.services import event_record


def login_recorded(sender, request, user, **kwargs):
    event_record(verb="account.logged_in", actor=user, target=user)


def login_failure_recorded(sender, credentials, request=None, **kwargs):
    event_record(verb="account.login_failed")
