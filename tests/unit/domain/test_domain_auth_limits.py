"""The per-address rate limits of logins and registrations (policy only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cvat_serverless.domain.auth import AddressLimits, ThrottlePolicy, throttled_message

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_defaults_are_30_logins_a_minute_and_5_registrations_an_hour():
    limits = AddressLimits()
    assert limits.logins == ThrottlePolicy(max_failures=30, window=timedelta(minutes=1))
    assert limits.registrations == ThrottlePolicy(max_failures=5, window=timedelta(hours=1))


def test_the_sixth_registration_within_the_hour_waits_for_the_first_to_age_out():
    policy = AddressLimits().registrations
    made = [NOW - timedelta(minutes=50 - 10 * n) for n in range(5)]  # 50, 40, 30, 20, 10 minutes ago
    assert policy.retry_after(made[:4], NOW) == 0
    assert policy.retry_after(made, NOW) == 10 * 60  # the oldest leaves the window in ten minutes
    assert policy.retry_after(made, NOW + timedelta(minutes=10)) == 0


def test_counters_are_per_kind_and_address_and_loopback_is_not_limited():
    assert AddressLimits.key("login", "203.0.113.7") == "login:ip:203.0.113.7"
    assert AddressLimits.key("register", "203.0.113.7") == "register:ip:203.0.113.7"
    assert AddressLimits.key("register", "2001:db8::1") == "register:ip:2001:db8::1"
    # the failure throttle's keys are "ip:...", "account:...": no counter is shared
    for address in ("", "127.0.0.1", "127.8.9.10", "::1"):
        assert AddressLimits.key("login", address) is None


def test_the_message_is_rest_frameworks():
    assert throttled_message(1) == "Request was throttled. Expected available in 1 second."
    assert throttled_message(600) == "Request was throttled. Expected available in 600 seconds."
