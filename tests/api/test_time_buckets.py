"""``eventStats.byTime``: buckets that follow the span, and no unbounded list of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
QUERY = """query($unit: TimeUnit) {
  eventStats { byTime(unit: $unit) { unit buckets { start count } } }
}"""


def by_time(client, unit: str | None = None) -> dict:
    return client.post("/graphql", json={"query": QUERY, "variables": {"unit": unit}}).json()


def test_buckets_follow_the_span_and_refuse_too_many(client, seed) -> None:
    seed(
        {"timestamp": T0.isoformat()},
        {"timestamp": (T0 + timedelta(minutes=1)).isoformat()},
        {"timestamp": (T0 + timedelta(days=3)).isoformat()},
        snapshot=False,
    )
    auto = by_time(client)["data"]["eventStats"]["byTime"]
    assert auto["unit"] == "HOUR"  # three days: hours
    assert [b["count"] for b in auto["buckets"]] == [2, 1]
    days = by_time(client, "DAY")["data"]["eventStats"]["byTime"]
    assert [b["count"] for b in days["buckets"]] == [2, 1]
    refused = by_time(client, "MINUTE")  # 4,321 minutes
    assert refused["data"] is None or refused["data"]["eventStats"] is None
    assert "pick a coarser unit" in refused["errors"][0]["message"]
