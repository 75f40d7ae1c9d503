"""Password hashing: Argon2id at OWASP's recommended cost, one thread per hash (REL-7)."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class OwaspArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id with 46 MiB, one pass and one lane: the first configuration of OWASP's Password
    Storage Cheat Sheet (m=47104 KiB, t=1, p=1), which it rates as strong as its others.

    Django's default (100 MiB, two passes, eight lanes) costs four times the work per sign-in,
    and argon2-cffi runs each lane as a thread: on a two-core web server every sign-in then took
    both cores for 0.2 s and the REL-7 load run's sign-ins queued for seconds behind each other,
    a denial-of-service lever as much as a delay. Here a check costs about 50 ms of one core.
    Memory stays the attacker's cost (46 MiB per guess defeats GPU parallelism as 100 MiB does).
    The algorithm name is Django's: hashes made with its parameters still verify and are rehashed
    with these at the next sign-in (``must_update`` compares the parameters).
    """

    memory_cost = 47104
    time_cost = 1
    parallelism = 1
