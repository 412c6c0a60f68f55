"""Organizations, webhooks, the admin page and the profile (password, access tokens) in Chromium
against the embedded runtime."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.e2e.ui.conftest import sign_in


class Receiver:
    """A webhook target on 127.0.0.1 (the embedded runtime allows loopback) keeping what it got."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                answer = b'{"received": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _register(page, username: str, password: str) -> None:
    """A new account through the API (its answer signs the browser context in as that user)."""
    response = page.request.post("/api/auth/register", data={
        "username": username, "email": f"{username}@example.com", "password1": password, "password2": password})
    assert response.status == 201, response.text()


def test_create_an_organization_invite_a_user_and_ping_a_webhook(page, admin, runtime, receiver):
    _register(page, "ui-invitee", "Invitee-pass-123")
    page.context.clear_cookies()
    sign_in(page, *admin)
    page.goto("/profile")
    page.get_by_role("link", name="Create an organization").click()
    expect(page).to_have_url(re.compile(r"/organization\?create=1$"))
    dialog = page.get_by_role("dialog", name="Create an organization")
    dialog.get_by_label("Short name (slug)").fill("bad slug!")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog.get_by_text("Only letters, digits")).to_be_visible()
    dialog.get_by_label("Short name (slug)").fill("ui-org")
    dialog.get_by_label("Full name").fill("UI Org")
    dialog.get_by_label("Description").fill("made by the UI test")
    page.shots("create-organization")
    dialog.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Organization UI Org")).to_be_visible()
    expect(page.get_by_role("combobox", name="Organization")).to_have_value("ui-org")  # switched to it

    # invite the user by email; the member list shows the pending membership
    page.get_by_label("Email to invite").fill("nobody@example.com")
    page.get_by_role("button", name="Invite", exact=True).click()
    expect(page.get_by_text("There is no user with this email.")).to_be_visible()
    page.get_by_label("Email to invite").fill("ui-invitee@example.com")
    page.get_by_label("Role", exact=True).select_option("supervisor")
    page.get_by_role("button", name="Invite", exact=True).click()
    expect(page.get_by_text("Invited ui-invitee@example.com as supervisor.")).to_be_visible()
    invitations = page.get_by_role("table", name="Invitations")
    expect(invitations.get_by_role("row", name=re.compile("ui-invitee.*supervisor.*pending"))).to_be_visible()
    members = page.get_by_role("table", name="Members")
    expect(members.get_by_role("row", name=re.compile("ui-invitee.*invited"))).to_be_visible()
    expect(members.get_by_role("combobox", name="Role of ui-invitee")).to_have_value("supervisor")
    page.shots("organization-members")
    page.reload()  # the organization stays chosen
    expect(page.get_by_role("heading", name="Organization UI Org")).to_be_visible()

    # an organization webhook: the SSRF guard's message on the field, then a real one
    page.goto("/webhooks")
    expect(page.get_by_text("No webhooks yet.")).to_be_visible()
    page.get_by_role("button", name="Create a webhook").click()
    form = page.get_by_role("dialog", name="Create a webhook")
    expect(form.get_by_label("Type", exact=True)).to_have_value("organization")
    form.get_by_label("Target URL").fill("http://10.0.0.1/")
    expect(form.get_by_role("checkbox", name="create:task", exact=True)).to_be_visible()
    form.get_by_label("Select all events").check()
    expect(form.get_by_role("checkbox", name="create:task", exact=True)).to_be_checked()
    form.get_by_role("button", name="Create").click()
    expect(form.get_by_text(re.compile(r"10\.0\.0\.1 is private"))).to_be_visible()
    page.shots("webhook-refused")
    form.get_by_label("Target URL").fill(receiver.url)
    form.get_by_label("Description").fill("local receiver")
    form.get_by_label("Secret").fill("ui-secret")
    form.get_by_role("button", name="Create").click()
    expect(form).to_have_count(0)
    table = page.get_by_role("table", name="Webhooks")
    expect(table.get_by_text(receiver.url)).to_be_visible()
    webhook_id = re.search(r"#(\d+)", table.get_by_role("row").nth(1).inner_text()).group(1)

    page.get_by_role("button", name=f"Ping webhook {webhook_id}").click()
    expect(page.get_by_role("status", name="Ping result")).to_contain_text("status 200")
    expect(page.get_by_role("status", name="Ping result")).to_contain_text('"received": true')
    expect(table.get_by_text("200", exact=True)).to_be_visible()  # last_status
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    expected = "sha256=" + hmac.new(b"ui-secret", body, hashlib.sha256).hexdigest()
    assert headers["x-signature-256"] == expected
    assert json.loads(body)["event"] == "ping"
    page.shots("webhook-pinged")

    # deliveries: the ping with its payload, then a redelivery
    page.get_by_role("button", name=f"Deliveries of webhook {webhook_id}").click()
    expect(page).to_have_url(re.compile(rf"deliveries={webhook_id}"))
    deliveries = page.get_by_role("table", name="Deliveries")
    expect(deliveries.get_by_role("row", name=re.compile(r"ping\s+200"))).to_be_visible()
    deliveries.get_by_role("button", name=re.compile(r"Details of delivery")).first.click()
    expect(deliveries.get_by_label(re.compile(r"Request of delivery"))).to_contain_text('"event": "ping"')
    page.shots("webhook-deliveries")
    deliveries.get_by_role("button", name=re.compile(r"Redeliver delivery")).first.click()
    expect(page.get_by_text(re.compile(r"Delivery #\d+ was sent again."))).to_be_visible()
    page.reload()  # the open panel is in the URL
    expect(page.get_by_role("table", name="Deliveries")).to_be_visible()

    # edit keeps the secret (write-only: empty means unchanged)
    page.get_by_role("button", name=f"Edit webhook {webhook_id}").click()
    edit = page.get_by_role("dialog", name=f"Edit webhook #{webhook_id}")
    expect(edit.get_by_label("Secret")).to_have_value("")
    edit.get_by_label("Description").fill("renamed receiver")
    edit.get_by_role("button", name="Save").click()
    expect(table.get_by_text("renamed receiver")).to_be_visible()

    page.get_by_role("button", name=f"Delete webhook {webhook_id}").click()
    page.get_by_role("dialog", name="Delete a webhook").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("No webhooks yet.")).to_be_visible()


def test_change_the_password_and_use_a_personal_access_token(page, runtime):
    _register(page, "ui-profile", "Profile-pass-123")
    page.goto("/profile")
    expect(page.get_by_role("heading", name="Profile")).to_be_visible()
    page.get_by_label("First name").fill("Pro")
    page.get_by_label("Last name").fill("File")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_text("Saved.")).to_be_visible()

    page.get_by_label("Current password").fill("Profile-pass-123")
    page.get_by_label("New password", exact=True).fill("Profile-pass-456")
    page.get_by_label("Confirm new password").fill("Profile-pass-789")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_contain_text("The two password fields didn't match.")
    page.get_by_label("Current password").fill("Wrong-pass-000")
    page.get_by_label("Confirm new password").fill("Profile-pass-456")
    page.get_by_role("button", name="Change password").click()
    # on its field
    expect(page.locator("#pw-old-error")).to_have_text(re.compile("old password was entered incorrectly"))
    page.get_by_label("Current password").fill("Profile-pass-123")
    page.get_by_label("Confirm new password").fill("Profile-pass-456")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("New password has been saved.")).to_be_visible()
    page.shots("password-changed")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/auth/login"))
    sign_in(page, "ui-profile", "Profile-pass-456")

    page.goto("/profile")
    expect(page.get_by_text("No access tokens.")).to_be_visible()
    page.get_by_role("button", name="Create a token").click()
    dialog = page.get_by_role("dialog", name="Create an access token")
    dialog.get_by_label("Token name").fill("ci")
    dialog.get_by_label("Read only").check()
    dialog.get_by_role("button", name="Create token").click()
    shown = page.get_by_role("dialog", name="Token “ci” created")
    value = shown.get_by_label("Token value").inner_text().strip()
    assert len(value) >= 20
    page.shots("token-created")
    shown.get_by_role("button", name="Done").click()
    tokens = page.get_by_role("table", name="Access tokens")
    expect(tokens.get_by_role("row", name=re.compile(r"ci\s+read only"))).to_be_visible()
    expect(page.get_by_text(value)).to_have_count(0)  # shown once only

    # the token alone (no cookies) authenticates as its owner
    request = urllib.request.Request(runtime.url + "/api/users/self", headers={"Authorization": f"Bearer {value}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert json.loads(answer.read())["username"] == "ui-profile"

    page.get_by_role("button", name="Revoke token ci").click()
    page.get_by_role("dialog", name="Revoke an access token").get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("No access tokens.")).to_be_visible()
    status, _, _ = runtime.get("/api/users/self", headers={"Authorization": f"Bearer {value}"})
    assert status == 401

    page.goto("/admin")  # not an administrator
    expect(page.get_by_role("alert")).to_have_text("This page is for administrators only.")


def test_the_admin_page_shows_the_server_version_status_and_users(page, admin, runtime):
    status, _, body = runtime.get("/api/server/about")
    assert status == 200
    version = json.loads(body)["version"]
    sign_in(page, *admin)
    page.get_by_role("link", name="Admin").click()
    expect(page.get_by_test_id("server-version")).to_have_text(version)
    checks = page.get_by_role("table", name="Status checks")
    expect(checks.get_by_role("row")).to_have_count(5)  # header + 4 checks
    expect(checks.get_by_text("Failed")).to_have_count(0)
    expect(checks.get_by_role("row", name=re.compile(r"Your rights\s+OK.*superuser"))).to_be_visible()
    users = page.get_by_role("table", name="Users")
    expect(users.get_by_role("row", name=re.compile(admin[0]))).to_be_visible()
    page.get_by_role("searchbox", name="Search users").fill(admin[0])
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(rf"search={admin[0]}"))
    expect(users.get_by_role("row")).to_have_count(2)
    page.shots("admin")
