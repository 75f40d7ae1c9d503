# allauth's rate-limit counters live in the shared cache: every pledge test starts from zero too.
from tests.volunteers.conftest import _fresh_rate_limits  # noqa: F401
