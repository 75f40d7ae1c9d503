from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"
    verbose_name = "Matching"

    def ready(self):
        # Services ask for follow-up work through matching.followups; the tasks that do it are
        # connected here, so that services never import tasks (tasks import services).
        from matching import followups
        from matching.tasks import checkins, lifecycle, runs

        followups.connect(followups.OFFER_NOTIFY, lifecycle.offer_notify_enqueue)
        followups.connect(followups.RUN_REQUEST, runs.matching_run_request)
        followups.connect(followups.STATUS_NOTIFY, checkins.status_requests_notify_enqueue)
