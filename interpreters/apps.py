from django.apps import AppConfig


class InterpretersConfig(AppConfig):
    name = "interpreters"
    verbose_name = "Interpreters"

    def ready(self):
        # matching.services asks, through matching.followups, whether a team's interpreter has
        # accepted and to release the interpreter of a match that ended; answered here.
        from interpreters import services
        from matching import followups

        followups.connect(followups.TEAM_READY, lambda pk: services.team_ready(match_id=pk))
        followups.connect(followups.TEAM_END, lambda pk: services.team_end_for_match(match_id=pk))

        from interpreters import signals, tasks

        signals.team_unfilled.connect(
            tasks.unfilled_notify_enqueue_on_signal, dispatch_uid="interpreters.team_unfilled"
        )
