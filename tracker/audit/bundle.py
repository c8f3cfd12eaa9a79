"""Evidence bundles: everything about one user that an auditor needs, checkable offline.

A bundle is one JSON file: the user's chain records (with their personal values and salts,
so each commitment can be opened), the exact texts of the versions they accepted, the
notices they were sent, the latest checkpoint, and ``links``: the body digests of every
record from the user's first one up to the checkpoint, so the verifier can recompute the
chain up to the signed head hash without seeing anyone else's data. What the bundle shows
in readable form is checked against the chained records (``tracker.audit.readable``).

A bundle proves the records it holds, not that it holds all of the user's: the links carry
only digests, which do not say whose record each one is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jinja2 import Environment

from tracker.audit import readable
from tracker.chain.canonical import rfc3339
from tracker.chain.checkpoint import Checkpoint, CheckpointError, parse
from tracker.chain.records import ChainRecord, link, personal_problem
from tracker.errors import TrackerError
from tracker.policy import sha256_text

FORMAT = "policy-tracker/evidence/1"
_RECORD_FIELDS = {"seq", "type", "data", "commitments", "prev_hash", "hash", "personal", "salts"}


class BundleError(TrackerError):
    code = "bad_bundle"


def build(
    *,
    user_id: str,
    records: list[tuple[ChainRecord, dict[str, Any]]],
    versions: list[dict[str, Any]],
    notices: list[dict[str, Any]],
    checkpoint: Checkpoint | None,
    links: dict[str, Any] | None,
    generated_at: datetime,
    site_url: str,
    store_ip: bool = True,
    translations: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The bundle as JSON data; ``records`` pairs each chain record with its readable event."""
    return {
        "format": FORMAT,
        "generated_at": rfc3339(generated_at),
        "user_id": user_id,
        "site_url": site_url,
        # The tracker's setting when the bundle was made (POLICY_TRACKER_STORE_IP).
        "stores_ip_addresses": store_ip,
        "records": [{**r.to_json(), "event": event} for r, event in records],
        "versions": versions,
        "translations": translations or [],
        "notices": notices,
        "checkpoint": checkpoint.to_json() if checkpoint else None,
        "links": links,
    }


@dataclass
class BundleReport:
    user_id: str
    records: int
    texts: int
    checkpoint: Checkpoint | None
    anchored: int
    problems: list[str] = field(default_factory=list)
    #: Whether a trusted key checked who signed the checkpoint (else: anyone could have).
    key_checked: bool = True
    #: Notices shown as acknowledged with no chained acknowledgement in the bundle.
    unproven_acks: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def message(self) -> str:
        if self.problems:
            return "bundle REFUSED: " + "; ".join(self.problems)
        text = (
            f"bundle verified: {self.records} record(s) of user {self.user_id!r}, "
            f"{self.texts} exact text(s) match their SHA-256"
        )
        if self.checkpoint is None:
            return text + "; no checkpoint: the records are self-consistent but not anchored"
        if self.key_checked:
            text += f"; {self.anchored} record(s) anchored by checkpoint {self.checkpoint.label}"
        else:
            text += (
                f"; {self.anchored} record(s) lead to checkpoint {self.checkpoint.label}, but "
                "its signature could not be checked against a trusted key (pass --public-key), "
                "so they are not anchored"
            )
        if self.anchored < self.records:
            text += f"; {self.records - self.anchored} later record(s) are not yet checkpointed"
        if self.unproven_acks:
            text += (
                f"; {self.unproven_acks} notice acknowledgement(s) shown are not in the chain "
                "(made before it existed, or added by hand)"
            )
        return text


def _record(raw: Any, i: int) -> ChainRecord:
    where = f"records[{i}]"
    if not isinstance(raw, dict):
        raise BundleError(f"{where} is not an object")
    missing = _RECORD_FIELDS - set(raw)
    if missing:
        raise BundleError(f"{where} lacks {', '.join(sorted(missing))}")
    checks = [
        isinstance(raw["seq"], int) and not isinstance(raw["seq"], bool) and raw["seq"] > 0,
        isinstance(raw["type"], str),
        isinstance(raw["data"], dict),
        isinstance(raw["commitments"], dict),
        isinstance(raw["prev_hash"], str) and len(raw["prev_hash"]) == 64,
        isinstance(raw["hash"], str) and len(raw["hash"]) == 64,
        isinstance(raw["personal"], dict),
        isinstance(raw["salts"], dict),
    ]
    if not all(checks):
        raise BundleError(f"{where} has a field of the wrong type")
    return ChainRecord(
        raw["seq"],
        raw["type"],
        raw["data"],
        raw["commitments"],
        raw["prev_hash"],
        raw["hash"],
        raw["personal"],
        raw["salts"],
    )


def verify(data: Any, *, trusted: Ed25519PublicKey | None = None) -> BundleReport:
    """Check a bundle with no database: hashes, commitments, texts, and the checkpoint path."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BundleError(f"not an evidence bundle (format must be {FORMAT!r})")
    for key, kind in (("records", list), ("versions", list), ("user_id", str)):
        if not isinstance(data.get(key), kind):
            raise BundleError(f"the bundle's {key} is missing or of the wrong type")
    checkpoint = None
    if data.get("checkpoint") is not None:
        try:
            checkpoint = parse(data["checkpoint"], trusted=trusted, where="the bundle's checkpoint")
        except CheckpointError as exc:
            raise BundleError(str(exc)) from None
    records = [_record(raw, i) for i, raw in enumerate(data["records"])]
    report = BundleReport(
        data["user_id"], len(records), 0, checkpoint, 0, key_checked=trusted is not None
    )
    problems = report.problems
    for r in records:
        try:
            digest = r.body_digest()
        except (TrackerError, ValueError) as exc:
            problems.append(f"record {r.seq} cannot be encoded: {exc}")
            continue
        if link(r.prev_hash, digest) != r.hash:
            problems.append(f"record {r.seq}: its contents do not match its hash (edited)")
        reason = personal_problem(r)
        if reason:
            problems.append(f"record {r.seq}: {reason}")
        uid = r.personal.get("user_id")
        if uid is not None and uid != data["user_id"]:
            problems.append(f"record {r.seq} belongs to another user")
    texts: dict[str, str] = {}
    for i, v in enumerate(data["versions"]):
        if not isinstance(v, dict) or not isinstance(v.get("text"), str):
            raise BundleError(f"versions[{i}] has no text")
        actual = sha256_text(v["text"])
        if actual != v.get("sha256"):
            problems.append(f"versions[{i}]: the text hashes to {actual}, not {v.get('sha256')}")
        texts[actual] = v["text"]
    report.texts = len(texts) + _translations(
        data.get("translations", []), records, texts, problems
    )
    for r in records:
        sha = r.data.get("version_sha256")
        if r.type == "event" and sha is not None and sha not in texts:
            what = "accepted text" if r.data.get("kind") == "accepted" else "text of its version"
            problems.append(f"record {r.seq}: the {what} {sha} is not in the bundle")
    shown, report.unproven_acks = readable.check(data, records)
    problems.extend(shown)
    if checkpoint is not None:
        report.anchored = _walk(data.get("links"), records, checkpoint, problems)
    return report


def _translations(
    translations: Any, records: list[ChainRecord], texts: dict[str, str], problems: list[str]
) -> int:
    """Check each translated text: its hash, that the source version it translates is in
    the bundle, and that each record it answers is bound (in the chain) to this text and to
    that source version; and that every record bound to a text has it in the bundle.
    Returns how many texts were checked."""
    if not isinstance(translations, list):
        raise BundleError("the bundle's translations is of the wrong type")
    by_seq = {r.seq: r for r in records}
    for i, t in enumerate(translations):
        if not isinstance(t, dict) or not isinstance(t.get("text"), str):
            raise BundleError(f"translations[{i}] has no text")
        where = f"translations[{i}] ({t.get('language')} of v{t.get('translates')})"
        actual = sha256_text(t["text"])
        if actual != t.get("sha256"):
            problems.append(f"{where}: the text hashes to {actual}, not {t.get('sha256')}")
        if t.get("source_sha256") not in texts:
            problems.append(f"{where}: the source text it translates is not in the bundle")
        for seq in t.get("records") or []:
            r = by_seq.get(seq)
            if (
                r is None
                or r.type != "event"
                or r.data.get("translation_sha256") != t.get("sha256")
                or r.data.get("version_sha256") != t.get("source_sha256")
            ):
                problems.append(
                    f"{where}: record {seq} is not bound to this text and its source version"
                )
    held = {t.get("sha256") for t in translations if isinstance(t, dict)}
    for r in records:
        sha = r.data.get("translation_sha256") if r.type == "event" else None
        if sha is not None and sha not in held:
            problems.append(
                f"record {r.seq} is bound to the {r.data.get('locale')} text with SHA-256 "
                f"{sha}, which is not in the bundle"
            )
    return len(translations)


def _walk(links: Any, records: list[ChainRecord], cp: Checkpoint, problems: list[str]) -> int:
    """Recompute the chain from the first record to the checkpoint; count anchored records."""
    mine = [r for r in records if r.seq <= cp.sequence]
    if not mine:
        return 0
    if not isinstance(links, dict) or not isinstance(links.get("digests"), list):
        problems.append("the bundle has a checkpoint but no links to reach it")
        return 0
    start, prev, digests = links.get("from"), links.get("prev_hash"), links["digests"]
    if not isinstance(start, int) or not isinstance(prev, str) or len(prev) != 64:
        problems.append("the bundle's links are malformed")
        return 0
    if start + len(digests) - 1 != cp.sequence or start > mine[0].seq:
        problems.append("the bundle's links do not span from the first record to the checkpoint")
        return 0
    by_seq = {r.seq: r for r in mine}
    try:
        for i, d in enumerate(digests):
            seq = start + i
            r = by_seq.get(seq)
            if r is not None and (d != r.body_digest().hex() or prev != r.prev_hash):
                problems.append(f"record {seq} is not where the links put it in the chain")
                return 0
            prev = link(prev, bytes.fromhex(d))
    except (ValueError, TypeError):
        problems.append("the bundle's links contain something other than hex digests")
        return 0
    if prev != cp.head_hash:
        problems.append(
            f"the chain recomputed from the links ends at {prev[:16]}…, not at the "
            f"checkpoint's head {cp.head_hash[:16]}…: the records or links were altered"
        )
        return 0
    return len(mine)


def load(path: Path, *, trusted: Ed25519PublicKey | None = None) -> BundleReport:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BundleError(f"cannot read {path}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path} is not valid JSON: {exc}") from None
    return verify(data, trusted=trusted)


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evidence for {{ b.user_id }}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;
color:#1f1f1f;background:#fff;overflow-wrap:anywhere}
a{color:#1a4fb4;text-decoration:underline}
.scroll{overflow-x:auto;max-width:100%}
.scroll:focus-visible,summary:focus-visible,a:focus-visible{outline:2px solid #1a4fb4;
outline-offset:2px}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem;
text-align:left;vertical-align:top}code{font-size:12px;word-break:break-all}
.ok{color:#075}.bad{color:#a00}pre{white-space:pre-wrap;background:#f6f6f6;padding:1rem}
summary{padding:.4rem 0;cursor:pointer}
</style></head><body><main>
{#- Tables scroll inside their own box on a narrow screen; the box takes the keyboard focus so
that it can be scrolled without a mouse. -#}
<h1>Evidence for user <code>{{ b.user_id }}</code></h1>
<p>Generated {{ b.generated_at }}. Check this bundle offline with
<code>policy-tracker verify-bundle FILE</code>.</p>
<p class="{{ 'ok' if report.ok else 'bad' }}">{{ report.message }}</p>
<p>The bundle proves the records it holds; it cannot prove that it holds every record of
the user. Titles and publication and effective dates are not in the chain.</p>
{% if b.stores_ip_addresses is false %}<p>This tracker is set not to store IP addresses or
user agents (<code>POLICY_TRACKER_STORE_IP=false</code>): events it recorded so set hold
neither.</p>{% endif %}
<h2 id="events">Events</h2>
<div class="scroll" role="region" aria-labelledby="events" tabindex="0">
<table><thead><tr><th scope="col">#</th><th scope="col">When</th><th scope="col">What</th>
<th scope="col">Policy</th><th scope="col">Version</th><th scope="col">Text SHA-256</th>
<th scope="col">Method</th><th scope="col">Evidence</th><th scope="col">Chain hash</th></tr>
</thead><tbody>
{% for r in b.records %}<tr><td>{{ r.seq }}</td><td>{{ r.event.recorded_at }}</td>
<td>{{ r.event.type }}</td><td>{{ r.event.policy }}</td><td>{{ r.event.version }}</td>
<td><code>{{ r.event.sha256 }}</code></td><td>{{ r.event.method }}</td>
<td>{% if r.event.ip %}IP {{ r.event.ip }}<br>{% endif %}
{% if r.event.user_agent %}{{ r.event.user_agent }}{% endif %}</td>
<td><code>{{ r.hash }}</code></td></tr>
{% endfor %}</tbody></table></div>
<h2 id="notices">Notices</h2>
{% if b.notices %}<div class="scroll" role="region" aria-labelledby="notices" tabindex="0">
<table><thead><tr><th scope="col">#</th><th scope="col">Created</th><th scope="col">Policy</th>
<th scope="col">Change</th><th scope="col">Significance</th><th scope="col">Summary</th>
<th scope="col">Effective</th><th scope="col">State</th><th scope="col">Changes</th></tr>
</thead><tbody>{% for n in b.notices %}<tr><td>{{ n.id }}</td><td>{{ n.created_at }}</td>
<td>{{ n.title or n.policy }}</td><td>version {{ n.from_version }} to {{ n.to_version }}</td>
<td>{{ n.significance }}{% if n.acceptance_required %} (acceptance required){% endif %}</td>
<td>{{ n.summary }}</td><td>{{ n.effective }}</td>
<td>{{ n.state }}{% if n.acknowledged_at %}, acknowledged {{ n.acknowledged_at }}{% endif %}</td>
<td>{% if n.redline_url %}<a href="{{ n.redline_url }}">what changed</a>{% endif %}</td></tr>
{% endfor %}</tbody></table></div>
{% else %}<p>No notices.</p>{% endif %}
<h2>Texts accepted</h2>
{% for v in b.versions %}<details><summary>{{ v.policy }} version {{ v.version }}
(<code>{{ v.sha256 }}</code>)</summary>
{% if v.url %}<p>Published at <a href="{{ v.url }}">{{ v.url }}</a></p>{% endif %}
<pre{% if v.language %} lang="{{ v.language }}"{% endif %}>{{ v.text }}</pre></details>{% endfor %}
<h2>Checkpoint</h2>
{% if b.checkpoint %}<p>Sequence {{ b.checkpoint.sequence }}, head
<code>{{ b.checkpoint.head_hash }}</code>, signed {{ b.checkpoint.time }} by key
<code>{{ b.checkpoint.key_id }}</code>.</p>{% else %}<p>None yet.</p>{% endif %}
</main></body></html>
"""


def render_html(bundle: dict[str, Any], report: BundleReport) -> str:
    """A page a person can read: events, notices, the texts, the checkpoint."""
    env = Environment(autoescape=True)
    return env.from_string(_TEMPLATE).render(b=bundle, report=report)
