"""versions.json validates against its shipped schema; the Atom feed parses."""

from __future__ import annotations

import json

import feedparser
import jsonschema

from tests.publish.conftest import Site
from tracker.publish import versions


def test_versions_json_validates_against_its_schema(built: Site) -> None:
    document = json.loads(built.file("versions.json"))
    schema = versions.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(document)
    assert json.loads(built.file("versions.schema.json")) == schema


def test_versions_json_content(built: Site) -> None:
    document = json.loads(built.file("versions.json"))
    assert document["as_of"] == "2024-01-20"
    assert document["commit"] == built.repo.git("rev-parse", "HEAD")
    policies = {p["slug"]: p for p in document["policies"]}
    assert set(policies) == {"privacy", "legal/terms", "cookies"}
    privacy = policies["privacy"]
    assert privacy["current_version"] == 2
    assert privacy["latest_version"] == 3
    assert privacy["upcoming_versions"] == [3]
    assert privacy["url"] == "privacy/"
    v1, v2, v3 = privacy["versions"]
    assert [v["status"] for v in (v1, v2, v3)] == ["archived", "current", "upcoming"]
    assert v2["significance"] == "minor" and v2["significance_source"] == "declared"
    assert v2["summary"] == "We now say which cookies we use."
    assert v2["published"] == "2024-01-03T12:00:00Z"
    assert v3["effective"] == "2024-03-01"
    assert v1["url"] == "privacy/v1/"
    assert v1["changes_to_current_url"] == "privacy/changes/1-2/"
    assert v1["changes_to_latest_url"] == "privacy/changes/1-3/"
    assert v2["changes_from_previous_url"] == "privacy/changes/1-2/"
    assert {(r["from"], r["to"]) for r in privacy["redlines"]} == {(1, 2), (2, 3), (1, 3)}
    for policy in policies.values():
        for redline in policy["redlines"]:
            assert built.exists(redline["url"])
        for version in policy["versions"]:
            assert built.exists(version["url"])
    terms = policies["legal/terms"]["versions"]
    assert terms[1]["significance"] == "major", "the merge brings in the major trailer"
    assert terms[1]["summary"] == "Disputes now go to arbitration."


def test_feed_lists_major_and_minor_versions(built: Site) -> None:
    feed = feedparser.parse(built.file("feed.xml"))
    assert not feed.bozo, feed.get("bozo_exception")
    titles = [entry.title for entry in feed.entries]
    assert titles[0] == "Privacy Policy: version 3 (major)", "newest first"
    assert "Terms of Service: version 2 (major)" in titles
    assert "Privacy Policy: version 2 (minor)" in titles
    assert "Cookie Policy: version 2 (minor)" in titles
    assert not [t for t in titles if "(patch)" in t]
    entry = feed.entries[0]
    assert entry.summary == "We now collect your location and say how long we keep data."
    assert entry.link == "privacy/changes/2-3/"
    assert "Effective 1 March 2024" in entry.content[0].value
    assert entry.published == "2024-01-09T12:00:00Z"
