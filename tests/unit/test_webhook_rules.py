"""The webhook rules without Flask: the catalogue each domain event becomes, subscriptions
("*" leaves out the opt-in reaction.changed), the retry schedule and giving up, and the
SSRF rule on addresses and URLs."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from service.delivery import ssrf
from service.domain import events, webhooks
from service.domain.errors import RuleError

T0 = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(hours=24)


def ev(kind: str, **data: object) -> events.Event:
    return events.Event(kind, article_id="a", comment_id=1, data=data)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (ev(events.COMMENT_CREATED, status="published"), ["comment.created"]),
        (ev(events.COMMENT_CREATED, status="pending"), ["comment.created", "comment.held"]),
        (ev(events.COMMENT_EDITED), ["comment.edited"]),
        (ev(events.COMMENT_STATUS, before="pending", after="published"), ["comment.published"]),
        (ev(events.COMMENT_STATUS, before="published", after="hidden"), ["comment.held"]),
        (ev(events.COMMENT_STATUS, before="published", after="pending"), ["comment.held"]),
        (ev(events.COMMENT_STATUS, before="published", after="deleted"), ["comment.deleted"]),
        (ev(events.COMMENT_STATUS, before="published", after="removed"), ["comment.deleted"]),
        (ev(events.COMMENT_MODERATED, action="pin"), ["comment.moderated"]),
        (ev(events.COMMENT_FLAGGED, reason="spam"), ["comment.flagged"]),
        (ev(events.REACTION_CHANGED, counted=True), ["reaction.changed"]),
        (ev(events.REACTION_CHANGED, counted=False), []),
        (events.Event(events.USER_BANNED, user_id="u"), ["user.banned"]),
        (events.Event(events.USER_UNBANNED, user_id="u"), []),
        (events.Event(events.USER_ERASED, user_id="u"), ["user.erased"]),
        (events.Event(events.ARTICLE_CHANGED, article_id="a"), []),
        (events.Event(events.NOTIFICATION_CREATED, user_id="u"), ["notification.created"]),
    ],
    ids=lambda v: v.type if isinstance(v, events.Event) else str(v),
)
def test_each_domain_event_becomes_its_catalogue_types(
    event: events.Event, expected: list[str]
) -> None:
    assert webhooks.catalogue_types(event) == expected
    assert set(expected) <= set(webhooks.CATALOGUE)


def test_star_covers_everything_but_the_opt_in_reactions() -> None:
    for event_type in webhooks.CATALOGUE:
        assert webhooks.subscribed(["*"], event_type) == (event_type != "reaction.changed")
    assert webhooks.subscribed(["*", "reaction.changed"], "reaction.changed")
    assert webhooks.subscribed(["reaction.changed"], "reaction.changed")
    assert not webhooks.subscribed(["comment.created"], "comment.edited")
    assert not webhooks.subscribed(["*"], webhooks.TEST_EVENT)


def test_subscriptions_are_checked_and_deduplicated() -> None:
    assert webhooks.normalise_events(["comment.created", "*", "comment.created"]) == [
        "comment.created",
        "*",
    ]
    with pytest.raises(RuleError) as unknown:
        webhooks.normalise_events(["comment.created", "comment.creatd"])
    refused = unknown.value
    assert (refused.status, refused.kind, refused.field) == (422, "validation-error", "events")
    assert refused.detail == (
        "Unknown event 'comment.creatd': use '*' or any of comment.created, comment.edited, "
        "comment.deleted, comment.held, comment.published, comment.moderated, "
        "comment.flagged, reaction.changed, user.banned, user.erased, notification.created."
    )
    with pytest.raises(RuleError) as none:
        webhooks.normalise_events([])
    refused = none.value
    assert (refused.status, refused.kind, refused.field) == (422, "validation-error", "events")
    assert refused.detail == (
        "Subscribe to at least one event ('*' is every event except reaction.changed)."
    )


def test_retry_delays_grow_exponentially_with_bounded_jitter() -> None:
    low = [webhooks.retry_delay(n, jitter=0.0).total_seconds() for n in range(1, 10)]
    high = [webhooks.retry_delay(n, jitter=0.999999).total_seconds() for n in range(1, 10)]
    assert low[:4] == [3.75, 15.0, 60.0, 240.0]
    assert all(b > a for a, b in zip(low[:6], low[1:7], strict=True))
    assert max(high) <= 6 * 3600 * 1.25
    assert low[-1] == 6 * 3600 * 0.75  # capped
    for lo, hi in zip(low, high, strict=True):
        assert hi / lo == pytest.approx(1.25 / 0.75, rel=1e-4)


def test_failed_deliveries_are_retried_for_the_window_then_given_up() -> None:
    kwargs = {"created_at": T0, "retry_for": DAY, "jitter": 0.5}
    assert webhooks.next_attempt(now=T0, attempt=1, **kwargs) == T0 + dt.timedelta(seconds=5)
    late = T0 + dt.timedelta(hours=23, minutes=59)
    assert webhooks.next_attempt(now=late, attempt=12, **kwargs) == T0 + DAY  # one last try
    assert webhooks.next_attempt(now=T0 + DAY, attempt=13, **kwargs) is None
    attempts, now = 0, T0
    while (nxt := webhooks.next_attempt(now=now, attempt=attempts + 1, **kwargs)) is not None:
        attempts, now = attempts + 1, nxt
    assert 8 <= attempts <= 15 and now == T0 + DAY


def test_an_endpoint_is_disabled_only_after_failing_for_the_whole_window() -> None:
    assert not webhooks.failing_too_long(None, now=T0, retry_for=DAY)
    assert not webhooks.failing_too_long(T0, now=T0 + DAY - dt.timedelta(seconds=1), retry_for=DAY)
    assert webhooks.failing_too_long(T0, now=T0 + DAY, retry_for=DAY)


def test_secrets_are_standard_webhooks_keys_and_differ() -> None:
    one, two = webhooks.new_secret(), webhooks.new_secret()
    assert one != two and one.startswith("whsec_")
    assert len(base64.b64decode(one.removeprefix("whsec_"))) == 32


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.100.100.200",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",
        "2002:7f00:1::",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert ssrf.address_problem(address) is not None
    with pytest.raises(ssrf.Refused):
        host = f"[{address}]" if ":" in address else address
        ssrf.check(f"http://{host}/hook", allow_private=False)


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert ssrf.address_problem(address) is None
    host = f"[{address}]" if ":" in address else address
    target = ssrf.check(f"https://{host}:8443/hook?x=1", allow_private=False)
    assert (target.port, target.path, target.addresses) == (8443, "/hook?x=1", (address,))


def test_a_name_is_judged_by_every_address_it_resolves_to() -> None:
    def two_faced(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.0.0.7"]

    with pytest.raises(ssrf.Refused, match="10.0.0.7"):
        ssrf.check("https://hooks.example.com/x", allow_private=False, resolve=two_faced)
    target = ssrf.check("https://hooks.example.com/x", allow_private=True, resolve=two_faced)
    assert target.host == "hooks.example.com" and target.addresses[0] == "93.184.215.14"


def test_localhost_is_refused_through_the_real_resolver() -> None:
    with pytest.raises(ssrf.Refused, match="loopback"):
        ssrf.check("http://localhost:8080/hook", allow_private=False)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://93.184.215.14/x",
        "file:///etc/passwd",
        "gopher://93.184.215.14/",
        "http:///nohost",
        "https://user:pw@93.184.215.14/x",
        "https://93.184.215.14/x#frag",
        "https://93.184.215.14:99999/x",
        "https://93.184.215.14/a b",
        "https://93.184.215.14/" + "a" * 2000,
    ],
)
def test_urls_of_the_wrong_shape_are_refused_even_when_private_is_allowed(url: str) -> None:
    with pytest.raises(ssrf.Refused):
        ssrf.check(url, allow_private=True)


def test_the_catalogue_and_statuses_are_the_ones_openapi_publishes() -> None:
    from pathlib import Path

    import yaml

    from service.enums import DeliveryStatus

    spec = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())
    schemas = spec["components"]["schemas"]
    assert schemas["WebhookEventType"]["enum"] == list(webhooks.CATALOGUE)
    assert schemas["DeliveryStatus"]["enum"] == [s.value for s in DeliveryStatus]
    assert set(spec["webhooks"]) == {*webhooks.CATALOGUE, webhooks.TEST_EVENT}
