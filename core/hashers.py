"""Password hashing: Argon2id at Django's cost, computed in one thread (SEC-8, REL-7)."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2OneLanePasswordHasher(Argon2PasswordHasher):
    """Django's Argon2id cost, two passes over 100 MiB, in one lane instead of eight.

    argon2-cffi runs each lane as a thread, so with eight lanes a sign-in takes every core of a
    small web server for its duration and every other visitor's request waits behind it (the
    REL-7 load run). The attacker's cost per guess is set by the memory and the passes (RFC
    9106), which stay Django's; one lane only stops a sign-in from stalling the rest of the site.
    The algorithm name is Django's too: hashes made with eight lanes still verify, and are
    rehashed with one at the next sign-in (``must_update`` compares the parameters).
    """

    parallelism = 1
