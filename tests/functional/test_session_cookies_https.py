"""The session and CSRF cookies follow the scheme of each request: ``Secure`` when the client spoke
HTTPS (API Gateway's X-Forwarded-Proto on AWS; the embedded runtime sets it over `up --tls-cert`),
not over plain HTTP (`cvat-serverless up` on one machine, where a Secure cookie would never come
back). The Origin check of a session write over HTTPS takes https://host:port, and only https."""

from __future__ import annotations

from tests.functional._api_world import PASSWORD, api_fixture  # noqa: F401 - fixture

LAN = "cvat.lan:8443"


def _set_cookies(answer) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, values in answer.headers.items():
        if key.lower() == "set-cookie":
            for value in values:
                name, _, rest = value.partition("=")
                out[name] = [a.strip().lower() for a in rest.split(";")[1:]]
    return out


def _login(api, headers):
    return api.call("POST", "/api/auth/login", {"username": "alice", "password": PASSWORD}, headers=headers)


def test_login_over_https_sets_secure_cookies(api):
    api.user("alice")
    answer = _login(api, {"Host": LAN, "X-Forwarded-Proto": "https"})
    assert answer.status == 200, answer.body
    cookies = _set_cookies(answer)
    assert "secure" in cookies["sessionid"] and "secure" in cookies["csrftoken"]
    assert "httponly" in cookies["sessionid"] and "httponly" not in cookies["csrftoken"]  # the UI reads csrftoken


def test_login_over_plain_http_sets_cookies_without_secure(api):
    api.user("alice")
    # the captured API Gateway event says https; the embedded runtime over HTTP sends no such header
    # (tests/unit/foundation/test_local_tls.py), which base_url reads as http as well
    cookies = _set_cookies(_login(api, {"Host": "127.0.0.1:8080", "X-Forwarded-Proto": "http"}))
    assert set(cookies) == {"sessionid", "csrftoken"}
    assert "secure" not in cookies["sessionid"] and "secure" not in cookies["csrftoken"]


def test_logout_over_https_expires_secure_cookies(api):
    api.user("alice")
    https = {"Host": LAN, "X-Forwarded-Proto": "https"}
    cookies = _login(api, https).cookies()
    answer = api.call("POST", "/api/auth/logout", {}, headers={
        **https, "Cookie": f"csrftoken={cookies['csrftoken']}; sessionid={cookies['sessionid']}",
        "X-CSRFToken": cookies["csrftoken"], "Origin": f"https://{LAN}"})
    assert answer.status == 200, answer.body
    expired = _set_cookies(answer)
    assert all("secure" in attrs and "max-age=0" in attrs for attrs in expired.values()), expired


def _session_write(api, origin):
    https = {"Host": LAN, "X-Forwarded-Proto": "https"}
    cookies = _login(api, https).cookies()
    return api.call("POST", "/api/projects", {"name": "P"}, headers={
        **https, "Cookie": f"csrftoken={cookies['csrftoken']}; sessionid={cookies['sessionid']}",
        "X-CSRFToken": cookies["csrftoken"], "Origin": origin})


def test_a_session_write_over_https_from_its_own_origin_passes(api):
    api.user("alice")
    created = _session_write(api, f"https://{LAN}")
    assert created.status == 201, created.body
    assert created.body["url"].startswith(f"https://{LAN}/api/projects/")


def test_a_session_write_over_https_from_the_http_origin_of_the_same_host_is_refused(api):
    api.user("alice")
    refused = _session_write(api, f"http://{LAN}")
    assert refused.status == 403 and "Origin" in refused.body["detail"]
    assert api.repos.projects.list_all() == []
