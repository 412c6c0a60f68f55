"""Logins and registrations per client address (memory and DynamoDB adapters alike), and closed
self-registration."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cvat_serverless.domain.auth import AddressLimits, ThrottlePolicy
from cvat_serverless.domain.errors import AuthenticationError, NotFoundError, ThrottledError, ValidationError
from cvat_serverless.services.auth import Registration

HERE, THERE = "203.0.113.7", "198.51.100.9"
LIMITS = AddressLimits(logins=ThrottlePolicy(max_failures=4, window=timedelta(minutes=1)),
                       registrations=ThrottlePolicy(max_failures=2, window=timedelta(hours=1)))


@pytest.fixture
def c(world):
    c = world.container
    c.sessions.address_limits = LIMITS
    c.accounts.address_limits = LIMITS
    alice = world.user("alice")
    alice.password_hash = c.passwords.hash("s3cret")
    world.repos.users.save(alice)
    return c


def _account(name: str) -> Registration:
    return Registration(username=name, password1="Long-enough-pw", password2="Long-enough-pw")


def test_every_login_from_an_address_counts_right_or_wrong(c):
    c.sessions.login(username="alice", password="s3cret", ip=HERE)
    with pytest.raises(AuthenticationError):
        c.sessions.login(username="alice", password="wrong", ip=HERE)
    c.sessions.login(username="alice", password="s3cret", ip=HERE)
    with pytest.raises(AuthenticationError):
        c.sessions.login(username="nobody", password="x", ip=HERE)
    with pytest.raises(ThrottledError) as flood:
        c.sessions.login(username="alice", password="s3cret", ip=HERE)  # the right password waits too
    assert flood.value.retry_after == 60
    assert str(flood.value) == "Request was throttled. Expected available in 60 seconds."
    assert c.sessions.login(username="alice", password="s3cret", ip=THERE).user.username == "alice"
    c.clock.advance(timedelta(minutes=1))
    assert c.sessions.login(username="alice", password="s3cret", ip=HERE).user.username == "alice"


def test_refused_logins_are_not_counted_so_the_wait_does_not_grow(c):
    for _ in range(4):
        c.sessions.login(username="alice", password="s3cret", ip=HERE)
    for _ in range(3):
        with pytest.raises(ThrottledError):
            c.sessions.login(username="alice", password="s3cret", ip=HERE)
    c.clock.advance(timedelta(seconds=61))
    c.sessions.login(username="alice", password="s3cret", ip=HERE)


def test_http_basic_is_not_rate_limited_per_address(c):
    # an SDK on Basic auth sends the password with every request: only failures are throttled
    for _ in range(10):
        assert c.accounts.basic_login("alice", "s3cret", ip=HERE).username == "alice"


def test_registrations_per_address_count_the_accounts_made(c):
    for name in ("r1", "r2"):
        c.accounts.register(_account(name), ip=HERE)
    with pytest.raises(ThrottledError) as third:  # refused before validation: even a bad one
        c.accounts.register(Registration(username="r3", password1="a", password2="b"), ip=HERE)
    assert third.value.retry_after == 3600
    assert c.users.find_by_username("r3") is None
    assert c.accounts.register(_account("r3"), ip=THERE).user.username == "r3"  # another address
    c.clock.advance(timedelta(hours=1))
    assert c.accounts.register(_account("r4"), ip=HERE).user.username == "r4"


def test_invalid_registrations_do_not_use_up_the_address(c):
    for _ in range(3):
        with pytest.raises(ValidationError):
            c.accounts.register(Registration(username="r1", password1="a", password2="b"), ip=HERE)
    c.accounts.register(_account("r1"), ip=HERE)
    c.accounts.register(_account("r2"), ip=HERE)


def test_loopback_and_unknown_addresses_are_not_limited(c):
    for n in range(3):
        c.accounts.register(_account(f"local{n}"), ip="127.0.0.1")
        c.accounts.register(_account(f"unknown{n}"))
    for _ in range(6):
        c.sessions.login(username="alice", password="s3cret", ip="::1")


def test_closed_registration_is_not_found_and_makes_nobody(c):
    c.accounts.self_registration = False
    with pytest.raises(NotFoundError) as closed:
        c.accounts.register(_account("r1"), ip=HERE)
    assert str(closed.value) == "Not found."
    assert c.users.find_by_username("r1") is None
    # admins still make users
    from cvat_serverless.services.superuser import SuperuserService

    admin = SuperuserService(c.users, c.ids, c.passwords, c.clock).create_superuser("root", "", "Root-pass-123")
    assert admin.is_superuser
