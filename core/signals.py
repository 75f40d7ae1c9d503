"""A deactivated account's sessions end with it (SEC-10; issue 11 #10).

Django refuses an inactive user's session while the account is inactive, but keeps the session:
reactivating the account would bring every old session back. Whatever deactivates an account
(the admin's user form, account deletion, a command) saves the user with is_active False, so
the receivers below catch it there, once, instead of in each place.
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from core.services import user_sessions_end

User = get_user_model()


@receiver(pre_save, sender=User, dispatch_uid="core-user-deactivation-seen")
def _note_deactivation(sender, instance, raw=False, **kwargs):
    instance._deactivated = bool(
        not raw
        and instance.pk is not None
        and not instance.is_active
        and User.objects.filter(pk=instance.pk, is_active=True).exists()
    )


@receiver(post_save, sender=User, dispatch_uid="core-user-deactivation-ends-sessions")
def _end_sessions_on_deactivation(sender, instance, raw=False, **kwargs):
    if getattr(instance, "_deactivated", False):
        instance._deactivated = False
        user_sessions_end(user=instance)
