import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str, env_url


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("yes", True), ("off", False), (" 0 ", False)]
)
def test_env_bool_reads_the_usual_spellings(raw, expected):
    assert env_bool("FLAG", default=not expected, environ={"FLAG": raw}) is expected


def test_env_bool_uses_the_default_when_unset_or_blank():
    assert env_bool("FLAG", default=True, environ={}) is True
    assert env_bool("FLAG", default=False, environ={"FLAG": "  "}) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "enabled", "truthy"])
def test_env_bool_rejects_anything_else(raw):
    with pytest.raises(ImproperlyConfigured, match="FLAG"):
        env_bool("FLAG", default=False, environ={"FLAG": raw})


@pytest.mark.parametrize("raw", ["ten", "1.5", "0x10", ""])
def test_env_int_rejects_non_integers(raw):
    if raw == "":
        assert env_int("PORT", 5, environ={"PORT": raw}) == 5
        return
    with pytest.raises(ImproperlyConfigured, match="PORT must be a whole number"):
        env_int("PORT", 5, environ={"PORT": raw})


def test_env_int_rejects_values_below_the_minimum():
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("PORT", 5, minimum=1, environ={"PORT": "0"})


def test_env_list_splits_and_trims():
    assert env_list("HOSTS", environ={"HOSTS": "a.org, b.org"}) == ["a.org", "b.org"]


def test_env_list_rejects_an_empty_item():
    with pytest.raises(ImproperlyConfigured, match="empty item"):
        env_list("HOSTS", environ={"HOSTS": "a.org,,b.org"})


def test_env_url_rejects_an_unknown_scheme_without_echoing_the_password():
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_url(
            "DATABASE_URL", schemes={"postgres"}, environ={"DATABASE_URL": "mysql://u:s3cret@h/db"}
        )
    assert "DATABASE_URL" in str(excinfo.value)
    assert "s3cret" not in str(excinfo.value)


@pytest.mark.parametrize("raw", ["postgres", "postgres://", "127.0.0.1:5432/db"])
def test_env_url_rejects_malformed_urls(raw):
    with pytest.raises(ImproperlyConfigured):
        env_url("DATABASE_URL", schemes={"postgres"}, environ={"DATABASE_URL": raw})


def test_env_str_returns_default_for_blank():
    assert env_str("NAME", "x", environ={"NAME": ""}) == "x"
