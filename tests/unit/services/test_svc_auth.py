from __future__ import annotations

from datetime import timedelta

import pytest

from cvat_serverless.domain.auth import LoginLimits, ThrottlePolicy, check_csrf_tokens, digest
from cvat_serverless.domain.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    ThrottledError,
    ValidationError,
)
from cvat_serverless.services.auth import Registration

WINDOW = timedelta(minutes=10)
LIMITS = LoginLimits(
    account_and_address=ThrottlePolicy(max_failures=3, window=WINDOW),
    account=ThrottlePolicy(max_failures=6, window=WINDOW),
    address=ThrottlePolicy(max_failures=10, window=WINDOW),
)


@pytest.fixture
def auth(world):
    c = world.container
    c.password_checks.limits = LIMITS
    alice = world.user("alice")
    alice.password_hash = c.passwords.hash("s3cret")
    world.repos.users.save(alice)
    return world, c.access_tokens, c.sessions, world.repos.users.get(alice.id)


def test_token_secret_is_shown_once_and_stored_hashed(auth):
    world, tokens, _, alice = auth
    created = tokens.create(world.ctx(alice), name="ci", expiry_date=world.clock.now() + timedelta(days=1)).value
    assert len(created.secret) == 40 and created.token.digest == digest(created.secret)
    assert created.secret not in repr(tokens.get(world.ctx(alice), created.token.id).value)
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
    ro = tokens.create(world.ctx(alice), name="ro", read_only=True).value
    ro_ctx = world.ctx(alice, read_only=True)
    with pytest.raises(PermissionDeniedError):
        tokens.create(ro_ctx, name="more")
    with pytest.raises(PermissionDeniedError):
        tokens.update(world.ctx(alice), ro.token.id, read_only=False)
    assert tokens.update(world.ctx(alice), ro.token.id, name="renamed").value.name == "renamed"
    with pytest.raises(NotFoundError):
        tokens.get(world.ctx(bob), ro.token.id)
    assert tokens.list(world.ctx(alice), {"search": "ren"}).value.count == 1
    assert tokens.list(world.ctx(bob), {}).value.count == 0
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
    check_csrf_tokens(session, result.csrf_token, result.csrf_token)
    with pytest.raises(PermissionDeniedError):
        check_csrf_tokens(session, "forged", result.csrf_token)
    with pytest.raises(PermissionDeniedError):
        check_csrf_tokens(session, None, result.csrf_token)
    assert sessions.login(email="ALICE@example.com", password="s3cret").user.id == alice.id
    sessions.logout(result.session_key)
    with pytest.raises(AuthenticationError):
        sessions.authenticate(result.session_key)
    late = sessions.login(username="alice", password="s3cret")
    world.clock.advance(timedelta(days=15))
    with pytest.raises(AuthenticationError):
        sessions.authenticate(late.session_key)


def test_wrong_passwords_lock_the_account_from_that_address_only(auth):
    world, _, sessions, _ = auth
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            sessions.login(username="alice", password="wrong", ip="1.2.3.4")
    with pytest.raises(ThrottledError) as err:
        sessions.login(username="alice", password="s3cret", ip="1.2.3.4")  # right password, still locked
    assert 0 < err.value.retry_after <= 600
    # alice from another address, and everybody else from the same address, are not locked out
    assert sessions.login(username="alice", password="s3cret", ip="9.9.9.9").user.username == "alice"
    world.user("bob")
    bob = world.repos.users.find_by_username("bob")
    bob.password_hash = world.container.passwords.hash("b0b-password")
    world.repos.users.save(bob)
    assert sessions.login(username="bob", password="b0b-password", ip="1.2.3.4").user.username == "bob"
    world.clock.advance(WINDOW + timedelta(seconds=1))
    assert sessions.login(username="alice", password="s3cret", ip="1.2.3.4").user.username == "alice"


def test_a_guesser_spread_over_addresses_meets_the_account_limit(auth):
    _, _, sessions, _ = auth
    for n in range(6):  # two tries from each of three addresses: none reaches its own limit
        with pytest.raises(AuthenticationError):
            sessions.login(username="alice", password="wrong", ip=f"10.0.0.{n // 2}")
    with pytest.raises(ThrottledError):
        sessions.login(username="alice", password="s3cret", ip="10.0.0.99")
    with pytest.raises(ThrottledError):  # by email too: the account is counted, not what was typed
        sessions.login(email="alice@example.com", password="s3cret", ip="10.0.0.98")


def test_one_address_spraying_many_accounts_meets_the_address_limit(auth):
    _, _, sessions, _ = auth
    for n in range(10):
        with pytest.raises(AuthenticationError):
            sessions.login(username=f"nobody{n}", password="x", ip="6.6.6.6")
    with pytest.raises(ThrottledError):
        sessions.login(username="alice", password="s3cret", ip="6.6.6.6")
    assert sessions.login(username="alice", password="s3cret", ip="7.7.7.7").user.username == "alice"


def test_a_success_forgives_the_typos_of_that_address(auth):
    _, _, sessions, _ = auth
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            sessions.login(username="alice", password="wrong", ip="1.2.3.4")
    assert sessions.login(username="alice", password="s3cret", ip="1.2.3.4").user.username == "alice"
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            sessions.login(username="alice", password="wrong", ip="1.2.3.4")
    assert sessions.login(username="alice", password="s3cret", ip="1.2.3.4").user.username == "alice"


def test_basic_auth_and_password_change_share_the_login_throttle(auth):
    world, _, sessions, alice = auth
    accounts = world.container.accounts
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            accounts.basic_login("alice", "wrong", ip="1.2.3.4")
    with pytest.raises(ValidationError):
        accounts.change_password(alice.id, old_password="wrong", new_password1="N3w-passw0rd",
                                 new_password2="N3w-passw0rd", ip="1.2.3.4")
    # three failures through three doors: the fourth try is refused before the password is read
    with pytest.raises(ThrottledError):
        accounts.basic_login("alice", "s3cret", ip="1.2.3.4")
    with pytest.raises(ThrottledError):
        sessions.login(username="alice", password="s3cret", ip="1.2.3.4")
    assert accounts.basic_login("alice", "s3cret", ip="5.5.5.5").id == alice.id


def test_password_change_keeps_only_the_changing_session(auth):
    world, _, sessions, alice = auth
    accounts = world.container.accounts
    here = sessions.login(username="alice", password="s3cret")
    elsewhere = sessions.login(username="alice", password="s3cret")
    _, session = sessions.authenticate(here.session_key)
    with pytest.raises(ValidationError):  # too similar to the username
        accounts.change_password(alice.id, old_password="s3cret", new_password1="alice-1234",
                                 new_password2="alice-1234", keep_session=session)
    accounts.change_password(alice.id, old_password="s3cret", new_password1="N3w-passw0rd",
                             new_password2="N3w-passw0rd", keep_session=session)
    assert sessions.authenticate(here.session_key)[0].id == alice.id
    with pytest.raises(AuthenticationError):
        sessions.authenticate(elsewhere.session_key)
    assert sessions.login(username="alice", password="N3w-passw0rd").user.id == alice.id


def test_registration_validates_and_logs_in(auth):
    world, _, sessions, _ = auth
    accounts = world.container.accounts
    result = accounts.register(Registration(username="carol", password1="Car0l-pass", password2="Car0l-pass",
                                            email="Carol@Example.com"))
    assert sessions.authenticate(result.session_key)[0].username == "carol"
    assert result.user.email == "carol@example.com"
    with pytest.raises(ValidationError) as taken:
        accounts.register(Registration(username="CAROL", password1="Car0l-pass", password2="Car0l-pass"))
    assert "username" in taken.value.fields
    with pytest.raises(ValidationError) as mismatch:
        accounts.register(Registration(username="dave", password1="Dave-pass1", password2="Dave-pass2"))
    assert "non_field_errors" in mismatch.value.fields
    with pytest.raises(ValidationError) as short:
        accounts.register(Registration(username="erin", password1="12345678", password2="12345678"))
    assert short.value.fields["password1"] == ["This password is entirely numeric."]
