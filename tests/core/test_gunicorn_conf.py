"""gunicorn.conf.py, the production web server's settings (REL-7), as gunicorn itself reads them."""

from pathlib import Path

from django.conf import settings
from gunicorn.config import Config

CONF = Path(settings.BASE_DIR) / "gunicorn.conf.py"


def _loaded(monkeypatch, **environ) -> Config:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    config = Config()
    namespace: dict = {}
    exec(compile(CONF.read_text(), str(CONF), "exec"), namespace)  # noqa: S102 - our own file
    for name, value in namespace.items():
        if name in config.settings:
            config.set(name, value)
    return config


def test_workers_are_threaded_so_a_slow_request_does_not_block_the_queue(monkeypatch):
    for name in ("WEB_CONCURRENCY", "WEB_THREADS", "WEB_KEEPALIVE"):
        monkeypatch.delenv(name, raising=False)
    config = _loaded(monkeypatch)
    assert config.worker_class_str == "gthread"
    assert (config.workers, config.threads, config.timeout) == (4, 4, 120)
    # Longer than the load run's and a browser's pauses: a reused connection is never closed
    # under a request (the resets seen with gunicorn's 2-second default).
    assert config.keepalive == 75


def test_the_environment_sizes_the_server(monkeypatch):
    config = _loaded(monkeypatch, WEB_CONCURRENCY="2", WEB_THREADS="8", WEB_KEEPALIVE="30")
    assert (config.workers, config.threads, config.keepalive) == (2, 8, 30)


def test_a_request_line_over_4_kb_is_refused_before_django(monkeypatch):
    config = _loaded(monkeypatch)
    assert config.limit_request_line == 4094
