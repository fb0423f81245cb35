"""Stories Onda found itself in the Bluesky stream are marked in the list (◆) and told in the detail."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from fake_service import make_trend

from tui.demo import NOW
from tui.opportunities import titled
from tui.text import found_by_onda, found_line


def test_a_story_first_seen_in_the_stream_is_marked() -> None:
    found = replace(make_trend("t1", "Neve a Roma, Colosseo imbiancato"), sources=["jetstream", "google_trends", "rss"])
    listed = make_trend("t2", "Sanremo 2027")  # gdelt, mastodon
    late = replace(listed, sources=["google_trends", "jetstream"])  # Bluesky only corroborates a listed story
    assert found_by_onda(found) == "Bluesky"
    assert found_by_onda(listed) is None and found_by_onda(late) is None
    assert titled(found, None, "", 60).plain.startswith("◆ Neve a Roma")
    assert titled(late, None, "", 60).plain.startswith("Sanremo")
    line = found_line(found, NOW)
    assert line is not None
    assert "found by Onda on Bluesky at" in line.plain and line.plain.endswith("before Google Trends, before the news feeds")
    assert found_line(late, NOW) is None

    # With each source's first sighting kept on the trend, the detail says by how much Onda was first.
    timed = replace(
        found,
        joined={"jetstream": NOW - timedelta(minutes=30), "google_trends": NOW - timedelta(minutes=18)},
    )  # rss: first sighting unknown (a trend stored before Onda kept them)
    line = found_line(timed, NOW)
    assert line is not None
    assert line.plain.endswith("12 min before Google Trends, before the news feeds")
