"""Sign-in, the app shell, sign-out and sign-up in Chromium against the embedded runtime."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.ui.conftest import sign_in


def test_sign_in_lands_on_the_asked_page_and_sign_out_ends_the_session(page, admin, runtime):
    page.goto("/projects?search=nothing")
    expect(page).to_have_url(re.compile(r"/auth/login\?next="))
    page.shots("sign-in")
    page.get_by_label("Username or email").fill(admin[0])
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()  # CVAT's message, no blank page
    page.get_by_label("Password").fill(admin[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/projects\?search=nothing$"))
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()
    expect(page.get_by_text("No projects yet.")).to_be_visible()
    expect(page.get_by_role("link", name="Admin")).to_be_visible()  # a superuser's menu
    page.shots("projects-empty")
    page.reload()  # the session cookie keeps the user signed in
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/auth/login"))
    page.goto("/tasks")
    expect(page).to_have_url(re.compile(r"/auth/login\?next=%2Ftasks"))


def test_a_new_user_signs_up_and_is_signed_in(page, runtime):
    page.goto("/auth/register")
    page.get_by_label("Username").fill("ui-newbie")
    page.get_by_label("Email").fill("ui-newbie@example.com")
    page.get_by_label("Password", exact=True).fill("Newbie-pass-123")
    page.get_by_label("Confirm password").fill("Newbie-pass-456")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("password")
    page.get_by_label("Confirm password").fill("Newbie-pass-123")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    page.shots("signed-up")


def test_the_spa_serves_deep_links_and_its_assets(runtime):
    status, headers, body = runtime.get("/tasks/12/jobs/3")
    assert status == 200 and b'<div id="root">' in body
    asset = re.search(rb'src="(/assets/[^"]+\.js)"', body)
    assert asset is not None
    status, headers, _ = runtime.get(asset.group(1).decode())
    assert status == 200 and "javascript" in headers["Content-Type"]


def test_sign_in_then_lists_projects_with_search_and_paging(page, admin, runtime):
    sign_in(page, *admin)
    for i in range(12):
        response = page.request.post("/api/projects", data={"name": f"ui-project-{i:02d}"},
                                     headers={"X-CSRFToken": _csrf(page)})
        assert response.status == 201, response.text()
    page.goto("/projects")
    expect(page.get_by_text("Page 1 of 2 (12 in all)")).to_be_visible()
    page.get_by_role("button", name="Next page").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.get_by_role("link", name="ui-project-00")).to_be_visible()
    page.get_by_role("searchbox", name="Search").fill("ui-project-07")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=re.compile("ui-project-"))).to_have_count(1)
    page.shots("projects-search")


def _csrf(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


def test_a_server_that_cannot_say_who_you_are_is_shown_with_a_retry_not_a_sign_out(page, admin, runtime):
    sign_in(page, *admin)
    page.route("**/api/users/self", lambda route: route.fulfill(
        status=503, content_type="application/json", body='{"detail": "Service temporarily unavailable."}'))
    page.goto("/tasks")
    expect(page.get_by_role("heading", name="The server did not answer")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Service temporarily unavailable.")
    expect(page).to_have_url(re.compile(r"/tasks$"))  # not sent to sign in: the session is fine
    page.shots("server-error")
    page.unroute("**/api/users/self")
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
