from __future__ import annotations

from datetime import timedelta

import pytest

from cvat_serverless.adapters import memory as mem
from cvat_serverless.domain.auth import ThrottlePolicy, digest
from cvat_serverless.domain.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    ThrottledError,
    ValidationError,
)
from cvat_serverless.services.auth import AccessTokenService, SessionService


@pytest.fixture
def auth(world):
    hasher = mem.InMemoryPasswordHasher()
    alice = world.user("alice")
    alice.password_hash = hasher.hash("s3cret")
    world.repos.users.save(alice)
    tokens = AccessTokenService(mem.InMemoryAccessTokenRepository(), world.repos.users, world.ids, world.clock)
    sessions = SessionService(
        mem.InMemorySessionRepository(),
        world.repos.users,
        hasher,
        mem.InMemoryLoginAttemptRepository(),
        world.clock,
        policy=ThrottlePolicy(max_failures=3, window=timedelta(minutes=10)),
    )
    return world, tokens, sessions, world.repos.users.get(alice.id)


def test_token_secret_is_shown_once_and_stored_hashed(auth):
    world, tokens, _, alice = auth
    created = tokens.create(world.ctx(alice), name="ci", expiry_date=world.clock.now() + timedelta(days=1))
    assert len(created.secret) == 40 and created.token.digest == digest(created.secret)
    assert created.secret not in repr(tokens.get(world.ctx(alice), created.token.id))
    user, token = tokens.authenticate(created.secret)
    assert user.id == alice.id and token.last_used_date == world.clock.now()
    with pytest.raises(AuthenticationError):
        tokens.authenticate(created.secret + "x")
    world.clock.advance(timedelta(days=2))
    with pytest.raises(AuthenticationError):
        tokens.authenticate(created.secret)
    with pytest.raises(ValidationError):
        tokens.create(world.ctx(alice), name="old", expiry_date=world.clock.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError):
        tokens.create(world.ctx(alice), name="x" * 51)


def test_read_only_tokens_and_privacy(auth):
    world, tokens, _, alice = auth
    bob = world.user("bob")
    ro = tokens.create(world.ctx(alice), name="ro", read_only=True)
    ro_ctx = world.ctx(alice, read_only=True)
    with pytest.raises(PermissionDeniedError):
        tokens.create(ro_ctx, name="more")
    with pytest.raises(PermissionDeniedError):
        tokens.update(world.ctx(alice), ro.token.id, read_only=False)
    assert tokens.update(world.ctx(alice), ro.token.id, name="renamed").name == "renamed"
    with pytest.raises(NotFoundError):
        tokens.get(world.ctx(bob), ro.token.id)
    assert tokens.list(world.ctx(alice), {"search": "ren"}).count == 1
    assert tokens.list(world.ctx(bob), {}).count == 0
    tokens.delete(world.ctx(alice), ro.token.id)
    with pytest.raises(AuthenticationError):
        tokens.authenticate(ro.secret)


def test_session_login_csrf_and_logout(auth):
    world, _, sessions, alice = auth
    result = sessions.login(username="alice", password="s3cret", ip="10.0.0.1")
    assert len(result.key) <= 40 and result.user.last_login == world.clock.now()
    user, session = sessions.authenticate(result.session_key)
    assert user.id == alice.id and session.csrf_token == result.csrf_token
    assert sessions.authenticate(result.session_key)[1].csrf_token == result.csrf_token  # never rotates
    sessions.check_csrf(session, result.csrf_token, result.csrf_token)
    with pytest.raises(PermissionDeniedError):
        sessions.check_csrf(session, "forged", result.csrf_token)
    with pytest.raises(PermissionDeniedError):
        sessions.check_csrf(session, None, result.csrf_token)
    assert sessions.login(email="ALICE@example.com", password="s3cret").user.id == alice.id
    sessions.logout(result.session_key)
    with pytest.raises(AuthenticationError):
        sessions.authenticate(result.session_key)
    late = sessions.login(username="alice", password="s3cret")
    world.clock.advance(timedelta(days=15))
    with pytest.raises(AuthenticationError):
        sessions.authenticate(late.session_key)


def test_login_throttling_per_username_and_ip(auth):
    world, _, sessions, _ = auth
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            sessions.login(username="alice", password="wrong", ip="1.2.3.4")
    with pytest.raises(ThrottledError) as err:
        sessions.login(username="alice", password="s3cret", ip="9.9.9.9")  # right password, still locked
    assert 0 < err.value.retry_after <= 600
    with pytest.raises(ThrottledError):
        sessions.login(username="nobody", password="x", ip="1.2.3.4")  # same IP
    world.clock.advance(timedelta(minutes=10, seconds=1))
    assert sessions.login(username="alice", password="s3cret", ip="1.2.3.4").user.username == "alice"
    # a success clears the username's counter
    with pytest.raises(AuthenticationError):
        sessions.login(username="alice", password="wrong")
    assert sessions.login(username="alice", password="s3cret").user.username == "alice"
