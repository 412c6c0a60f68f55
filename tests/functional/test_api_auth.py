"""Authentication at the edge: CVAT's login/logout/register/password flows, session cookies with
CSRF, Token/Basic/Bearer schemes, personal access tokens and login throttling."""

from __future__ import annotations

import base64
from datetime import timedelta

from cvat_serverless.domain.users import SystemRole
from tests.functional._api_world import PASSWORD, api_fixture, sdk_parse  # noqa: F401 - fixture

ORIGIN = "https://abcdef1234.execute-api.us-east-1.amazonaws.com"


def _login(api, username="alice", password=PASSWORD):
    return api.call("POST", "/api/auth/login", {"username": username, "password": password})


def _session_headers(cookies, *, csrf=True, origin=ORIGIN):
    headers = {"Cookie": f"csrftoken={cookies['csrftoken']}; sessionid={cookies['sessionid']}"}
    if csrf:
        headers["X-CSRFToken"] = cookies["csrftoken"]
    if origin:
        headers["Origin"] = origin
    return headers


def test_password_login_sets_session_and_csrf_cookies_like_cvat(api):
    api.user("alice")
    answer = _login(api)
    assert answer.status == 200
    sdk_parse("Token", answer.body)
    assert len(answer.body["key"]) <= 40
    set_cookies = answer.headers["Set-Cookie"]
    assert len(set_cookies) == 2  # two Set-Cookie headers, not one folded header
    cookies = answer.cookies()
    assert set(cookies) == {"csrftoken", "sessionid"}
    assert all(c.replace("-", "").replace("_", "").isalnum() for c in cookies.values())
    session_cookie = next(c for c in set_cookies if c.startswith("sessionid="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie and "Path=/" in session_cookie
    # by email too
    assert api.call("POST", "/api/auth/login", {"email": "alice@example.com", "password": PASSWORD}).status == 200


def test_session_reads_and_writes_with_a_stable_csrf_token(api):
    api.user("alice")
    cookies = _login(api).cookies()
    me = api.call("GET", "/api/users/self", headers=_session_headers(cookies, csrf=False, origin=None))
    assert me.status == 200 and me.body["username"] == "alice"
    assert "Set-Cookie" not in me.headers  # the CSRF token is never rotated after login
    created = api.call("POST", "/api/projects", {"name": "P"}, headers=_session_headers(cookies))
    assert created.status == 201
    again = api.call("POST", "/api/projects", {"name": "P2"}, headers=_session_headers(cookies))
    assert again.status == 201


def test_session_writes_without_csrf_or_from_another_origin_are_refused(api):
    api.user("alice")
    cookies = _login(api).cookies()
    no_header = api.call("POST", "/api/projects", {"name": "P"}, headers=_session_headers(cookies, csrf=False))
    assert no_header.status == 403 and "CSRF" in no_header.body["detail"]
    wrong = _session_headers(cookies)
    wrong["X-CSRFToken"] = "not-the-token"
    assert api.call("POST", "/api/projects", {"name": "P"}, headers=wrong).status == 403
    evil = api.call("POST", "/api/projects", {"name": "P"}, headers=_session_headers(cookies, origin="https://evil.example"))
    assert evil.status == 403 and "Origin" in evil.body["detail"]
    assert api.repos.projects.list_all() == []


def test_token_key_and_basic_auth_work_without_csrf(api):
    api.user("alice")
    key = _login(api).body["key"]
    answer = api.call("POST", "/api/projects", {"name": "P"}, headers={"Authorization": f"Token {key}"})
    assert answer.status == 201
    basic = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    assert api.call("GET", "/api/users/self", headers={"Authorization": f"Basic {basic}"}).status == 200
    bad = base64.b64encode(b"alice:wrong").decode()
    assert api.call("GET", "/api/users/self", headers={"Authorization": f"Basic {bad}"}).status == 401
    assert api.call("GET", "/api/users/self", headers={"Authorization": "Basic %%%"}).status == 401
    assert api.call("GET", "/api/users/self", headers={"Authorization": "Token nope"}).status == 401


def test_no_credentials_is_401_with_cvat_body(api):
    answer = api.call("GET", "/api/projects")
    assert answer.status == 401
    assert answer.body == {"detail": "Authentication credentials were not provided."}
    # a stale session cookie is anonymous, too
    stale = api.call("GET", "/api/projects", headers={"Cookie": "sessionid=gone; csrftoken=x"})
    assert stale.status == 401


def test_logout_ends_the_session_and_its_token_key(api):
    api.user("alice")
    login = _login(api)
    cookies = login.cookies()
    out = api.call("POST", "/api/auth/logout", {}, headers=_session_headers(cookies))
    assert out.status == 200 and out.body == {"detail": "Successfully logged out."}
    assert all("Max-Age=0" in c for c in out.headers["Set-Cookie"])
    assert api.call("GET", "/api/users/self", headers=_session_headers(cookies)).status == 401
    assert api.call("GET", "/api/users/self", headers={"Authorization": f"Token {login.body['key']}"}).status == 401


def test_wrong_password_is_401_and_repeated_failures_are_throttled_with_retry_after(api):
    api.user("alice")
    for _ in range(5):
        assert _login(api, password="wrong").status == 401
    throttled = _login(api)  # even the right password waits now
    assert throttled.status == 429
    assert int(throttled.header("Retry-After")) > 0
    api.container.clock.advance(timedelta(minutes=16))
    assert _login(api).status == 200


def _basic(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def _from(address: str) -> dict[str, str]:
    # a client-supplied forwarding header: the throttle must ignore it (the edge's source IP counts)
    return {"X-Forwarded-For": address}


def test_basic_auth_is_throttled_like_session_login(api):
    api.user("alice")
    api.user("bob")
    for n in range(5):  # each try claims another address: only API Gateway's source IP counts
        answer = api.call("GET", "/api/users/self", headers={**_basic("alice", "wrong"), **_from(f"10.0.0.{n}")})
        assert answer.status == 401
    throttled = api.call("GET", "/api/users/self", headers=_basic("alice", PASSWORD))  # the right password
    assert throttled.status == 429
    assert int(throttled.header("Retry-After")) > 0
    assert throttled.body == {"detail": "Too many failed login attempts."}
    assert _login(api).status == 429  # one throttle for every door
    # the other users of the same address are not locked out
    assert api.call("GET", "/api/users/self", headers=_basic("bob", PASSWORD)).status == 200
    assert _login(api, "bob").status == 200
    api.container.clock.advance(timedelta(minutes=16))
    assert api.call("GET", "/api/users/self", headers=_basic("alice", PASSWORD)).status == 200


def test_a_wrong_old_password_counts_as_a_failed_login(api):
    api.user("alice")
    change = {"old_password": "wrong", "new_password1": "N3w-passw0rd!", "new_password2": "N3w-passw0rd!"}
    for _ in range(5):
        assert api.post("/api/auth/password/change", change, "alice").status == 400
    assert api.post("/api/auth/password/change", {**change, "old_password": PASSWORD}, "alice").status == 429
    assert _login(api).status == 429


def test_login_needs_a_username_or_email_and_a_password(api):
    assert api.call("POST", "/api/auth/login", {"username": "alice"}).status == 400
    answer = api.call("POST", "/api/auth/login", {"password": "x"})
    assert answer.status == 400 and "non_field_errors" in answer.body
    assert api.call("POST", "/api/auth/login", raw_body=b"{not json").status == 400


def test_register_creates_a_user_and_logs_in(api):
    body = {"username": "newbie", "password1": "long-enough-pw", "password2": "long-enough-pw",
            "email": "newbie@example.com", "first_name": "New"}
    answer = api.call("POST", "/api/auth/register", body)
    assert answer.status == 201
    sdk_parse("RegisterSerializerEx", answer.body)
    assert answer.body["email_verification_required"] is False
    me = api.call("GET", "/api/users/self", headers={"Authorization": f"Token {answer.body['key']}"})
    assert me.body["groups"] == ["user"] and me.body["first_name"] == "New"
    dup = api.call("POST", "/api/auth/register", body)
    assert dup.status == 400 and "username" in dup.body
    mismatch = api.call("POST", "/api/auth/register", {**body, "username": "other1", "password2": "different-pw"})
    assert mismatch.status == 400
    numeric = api.call("POST", "/api/auth/register", {**body, "username": "other2", "email": "",
                                                       "password1": "12345678901", "password2": "12345678901"})
    assert numeric.status == 400 and "password1" in numeric.body


def test_password_change_keeps_this_session_and_ends_the_others(api):
    api.user("alice")
    mine = _login(api).body["key"]
    other = _login(api).body["key"]
    body = {"old_password": PASSWORD, "new_password1": "brand-new-pw-1", "new_password2": "brand-new-pw-1"}
    wrong = api.call("POST", "/api/auth/password/change", {**body, "old_password": "nope"},
                     headers={"Authorization": f"Token {mine}"})
    assert wrong.status == 400 and "old_password" in wrong.body
    ok = api.call("POST", "/api/auth/password/change", body, headers={"Authorization": f"Token {mine}"})
    assert ok.status == 200
    assert api.call("GET", "/api/users/self", headers={"Authorization": f"Token {mine}"}).status == 200
    assert api.call("GET", "/api/users/self", headers={"Authorization": f"Token {other}"}).status == 401
    assert _login(api, password="brand-new-pw-1").status == 200


def test_password_reset_answers_that_email_is_not_configured(api):
    answer = api.call("POST", "/api/auth/password/reset", {"email": "a@example.com"})
    assert answer.status == 400 and "not configured" in answer.body[0]


def test_access_token_lifecycle(api):
    api.user("alice")
    created = api.post("/api/auth/access_tokens", {"name": "ci"}, "alice")
    assert created.status == 201
    sdk_parse("AccessTokenRead", created.body)
    secret = created.body["value"]
    token_id = created.body["id"]
    bearer = {"Authorization": f"Bearer {secret}"}
    this = api.call("GET", "/api/auth/access_tokens/self", headers=bearer)
    assert this.status == 200 and this.body["name"] == "ci" and "value" not in this.body
    assert api.get(f"/api/auth/access_tokens/{token_id}", "alice").body["owner"]["username"] == "alice"
    listed = api.get("/api/auth/access_tokens", "alice")
    sdk_parse("PaginatedAccessTokenReadList", listed.body)
    assert [t["id"] for t in listed.body["results"]] == [token_id]
    assert all("value" not in t for t in listed.body["results"])  # the secret is shown once
    renamed = api.patch(f"/api/auth/access_tokens/{token_id}", {"name": "ci-2"}, "alice")
    assert renamed.status == 200 and renamed.body["name"] == "ci-2"
    assert api.post("/api/projects", {"name": "P"}, headers=bearer).status == 201
    assert api.delete(f"/api/auth/access_tokens/{token_id}", "alice").status == 204
    assert api.call("GET", "/api/users/self", headers=bearer).status == 401


def test_tokens_are_private_and_validated(api):
    api.user("alice")
    api.user("bob")
    token_id = api.post("/api/auth/access_tokens", {"name": "mine"}, "alice").body["id"]
    assert api.get(f"/api/auth/access_tokens/{token_id}", "bob").status == 404
    assert api.delete(f"/api/auth/access_tokens/{token_id}", "bob").status == 404
    assert api.get("/api/auth/access_tokens", "bob").body["count"] == 0
    assert api.post("/api/auth/access_tokens", {"name": ""}, "alice").status == 400
    past = api.post("/api/auth/access_tokens", {"name": "old", "expiry_date": "2020-01-01T00:00:00"}, "alice")
    assert past.status == 400 and "expiry_date" in past.body


def test_expired_token_is_401(api):
    api.user("alice")
    secret = api.post("/api/auth/access_tokens", {"name": "short", "expiry_date": "2026-01-02T00:00:00Z"},
                      "alice").body["value"]
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.call("GET", "/api/users/self", headers=bearer).status == 200
    api.container.clock.advance(timedelta(days=2))
    assert api.call("GET", "/api/users/self", headers=bearer).status == 401


def test_read_only_token_reads_but_never_writes(api):
    api.user("alice")
    api.post("/api/projects", {"name": "P"}, "alice")
    secret = api.post("/api/auth/access_tokens", {"name": "ro", "read_only": True}, "alice").body["value"]
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.call("GET", "/api/projects", headers=bearer).body["count"] == 1
    for method, path, body in (("POST", "/api/projects", {"name": "X"}), ("PATCH", "/api/projects/1", {"name": "Y"}),
                               ("DELETE", "/api/projects/1", None), ("POST", "/api/auth/access_tokens", {"name": "z"}),
                               ("DELETE", "/api/auth/access_tokens/1", None)):
        answer = api.call(method, path, body, headers=bearer)
        assert answer.status == 403, (method, path, answer.body)
    assert api.get("/api/projects/1", "alice").body["name"] == "P"


def test_inactive_user_cannot_log_in(api):
    user = api.user("alice", SystemRole.USER)
    user = api.repos.users.get(user.id)
    user.is_active = False
    api.repos.users.save(user)
    assert _login(api).status == 401
