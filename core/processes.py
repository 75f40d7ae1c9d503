"""For commands and tests that start processes (gunicorn, Celery workers) on this database."""

from pathlib import Path

from django.db import connection


def database_url() -> str:
    """The URL of the database this process uses (the test database under pytest)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
