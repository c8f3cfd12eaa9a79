"""``check --format markdown``: the check's reports as a pull-request comment.

Per change: the declared and suggested significance, the sections changed with words inserted
and deleted, the problems and warnings, and a collapsed redline (``<details>``) of each changed
section, with deletions in ``<del>`` and insertions in ``<ins>``. A comment may hold at most
:data:`LIMIT` characters (GitHub's limit), so when the redlines do not fit, the longest are cut
to a common length (at a word) with a note saying how to see the whole redline; the summary
part is never cut unless it alone would not fit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape

from tracker.check import ChangeReport
from tracker.redline.model import BlockChange, Op, Segment

LIMIT = 65_536
#: Room kept for the notes of cut sections and the closing lines.
_SLACK = 2_000
_MAX_SECTION_ROWS = 60
#: The shortest useful part of a section's redline, and what a cut note takes.
_MIN_CAP = 1_500
_NOTE = 160


@dataclass
class _Redline:
    """One changed section's redline: its ``<details>`` heading and its block paragraphs."""

    summary: str
    command: str
    paragraphs: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(p) + 1 for p in self.paragraphs)

    def cost(self, cap: int | None) -> int:
        """About the characters :meth:`render` takes with ``cap``."""
        cut = cap is not None and self.size > cap
        body = min(self.size, cap) if cap is not None else self.size
        return len(self.summary) + len(self.command) + 60 + body + (_NOTE if cut else 0)

    def render(self, cap: int | None) -> str:
        body, cut = _cut(self.paragraphs, cap)
        note = (
            f"\n<p><em>Cut: {cut:,} more characters (a comment holds {LIMIT:,}); the whole "
            f"redline: <code>{escape(self.command)}</code></em></p>"
            if cut
            else ""
        )
        return f"<details><summary>{self.summary}</summary>\n\n{body}{note}\n\n</details>\n"


def _cut(paragraphs: Sequence[str], cap: int | None) -> tuple[str, int]:
    """The paragraphs within ``cap`` characters (the last one cut between words, its tags
    closed), and how many characters were left out."""
    if cap is None:
        return "\n".join(paragraphs), 0
    kept: list[str] = []
    used = 0
    for paragraph in paragraphs:
        if used + len(paragraph) + 1 <= cap:
            kept.append(paragraph)
            used += len(paragraph) + 1
            continue
        room = cap - used
        shown = used
        if room > 200:
            kept.append(_shorten(paragraph, room))
            shown += len(kept[-1])
        left = sum(len(p) + 1 for p in paragraphs) - shown
        return "\n".join(kept), max(left, 1)
    return "\n".join(kept), 0


def _shorten(paragraph: str, room: int) -> str:
    """A ``<p>…</p>`` of segments cut at a space before ``room``, with open tags closed."""
    text = paragraph[: max(room - 40, 0)]
    cut = text.rfind(" ")
    text = text[:cut] if cut > 0 else text
    if text.rfind("<") > text.rfind(">"):  # inside a tag
        text = text[: text.rfind("<")]
    for tag in ("ins", "del"):
        if text.count(f"<{tag}>") > text.count(f"</{tag}>"):
            text += f"</{tag}>"
    return text + " …</p>"


def _segments(segments: Iterable[Segment]) -> str:
    out: list[str] = []
    for segment in segments:
        if segment.op == "equal":
            out.append(escape(segment.text))
        else:
            tag = "ins" if segment.op == "insert" else "del"
            core = segment.text.rstrip()
            out.append(f"<{tag}>{escape(core)}</{tag}>{escape(segment.text[len(core) :])}")
    return "".join(out)


def _block(change: BlockChange) -> str:
    block = change.block
    if change.stub:
        where = " › ".join(change.new.section) if change.new is not None else ""
        return f"<p><em>(moved to “{escape(where)}”)</em> {escape(block.text)}</p>"
    if change.op is Op.ADDED:
        inner = f"<ins>{escape(block.text)}</ins>"
    elif change.op is Op.REMOVED:
        inner = f"<del>{escape(block.text)}</del>"
    elif change.cells:
        inner = " | ".join(_segments(cell) for cell in change.cells)
    elif change.segments:
        inner = _segments(change.segments)
    else:
        inner = escape(block.text)
    if change.op is Op.MOVED and change.old is not None:
        inner = f"<em>(moved from “{escape(' › '.join(change.old.section))}”)</em> {inner}"
    elif change.op is Op.FORMATTED:
        inner += " <em>(formatting changed)</em>"
    return f"<p>{inner}</p>"


def _cell(text: str) -> str:
    return escape(text).replace("|", "\\|")


def _name(section: Sequence[str]) -> str:
    return " › ".join(section) or "(top)"


def _report(report: ChangeReport, redlines: list[_Redline]) -> str:
    mark = "✅" if report.ok else "❌"
    commit = f" (commit `{report.commit[:12]}`)" if report.commit else " (uncommitted edits)"
    declared = f"Declared **{report.declared}**" if report.declared else "**Not declared**"
    r = report.redline
    lines = [
        f"### {mark} `{report.policy}` {report.label}{commit}",
        "",
        f"{declared}, suggested **{report.classification.suggested}**; "
        f"{r.words_inserted:,} words inserted, {r.words_deleted:,} deleted.",
        "",
    ]
    if report.problems:
        lines += ["**Problems**", "", *(f"- {escape(p)}" for p in report.problems), ""]
    if report.warnings:
        lines += ["**Warnings**", "", *(f"- {escape(w)}" for w in report.warnings), ""]
    if r.sections:
        lines += [
            "| section | change | words inserted | words deleted |",
            "| --- | --- | --: | --: |",
        ]
        for section in r.sections[:_MAX_SECTION_ROWS]:
            lines.append(
                f"| {_cell(_name(section.section))} | {section.change} | "
                f"{section.words_inserted:,} | {section.words_deleted:,} |"
            )
        if len(r.sections) > _MAX_SECTION_ROWS:
            lines.append(f"| … and {len(r.sections) - _MAX_SECTION_ROWS} more sections | | | |")
        lines.append("")
    if report.classification.reasons:
        reasons = "; ".join(report.classification.reasons)
        lines += [f"<sub>Why {report.classification.suggested}: {escape(reasons)}</sub>", ""]
    by_section: dict[tuple[str, ...], list[BlockChange]] = {}
    for change in r.changes:
        by_section.setdefault(change.block.section, []).append(change)
    old, new = report.label, report.label
    if report.label.startswith("v"):
        number = int(report.label[1:])
        old, new = str(max(number - 1, 1)), str(number)
    command = (
        f"policy-tracker diff {report.policy}"
        if report.label == "draft"
        else f"policy-tracker diff {report.policy} {old} {new}"
    )
    for path, changes in by_section.items():
        inserted = sum(c.words_inserted for c in changes)
        deleted = sum(c.words_deleted for c in changes)
        summary = f"Redline: {escape(_name(path))} (+{inserted:,} −{deleted:,} words)"
        redlines.append(_Redline(summary, command, [_block(c) for c in changes]))
    return "\n".join(lines)


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def _fair_cap(redlines: Sequence[_Redline], budget: int) -> int:
    """The largest cap such that the redlines, each cut to it, take at most ``budget``."""
    low, high = 0, max((r.size for r in redlines), default=0)
    while low < high:
        mid = (low + high + 1) // 2
        if sum(r.cost(mid) for r in redlines) <= budget:
            low = mid
        else:
            high = mid - 1
    return low


def render(reports: Sequence[ChangeReport], *, scope: str, limit: int = LIMIT) -> str:
    """The comment for ``reports`` (the changes in ``scope``), at most ``limit`` characters."""
    failed = sum(1 for r in reports if not r.ok)
    policies = len({r.policy for r in reports})
    verdict = f"❌ {_count(failed, 'change')} to fix" if failed else "✅ ready to merge"
    head = [
        f"## policy-tracker check: {verdict}",
        "",
        f"{_count(len(reports), 'change')} to {_count(policies, 'policy', 'policies')} "
        f"in {escape(scope)}."
        if reports
        else f"No policy changes in {escape(scope)}.",
        "",
    ]
    parts: list[tuple[str, list[_Redline]]] = []
    for report in reports:
        redlines: list[_Redline] = []
        parts.append((_report(report, redlines), redlines))
    fixed = len("\n".join(head)) + sum(len(text) + 2 for text, _ in parts)
    every = [redline for _, redlines in parts for redline in redlines]
    budget = limit - fixed - _SLACK
    cap: int | None = None
    if sum(r.cost(None) for r in every) > budget:
        cap = _fair_cap(every, budget)
    shown = len(every)
    if cap is not None and cap < _MIN_CAP:
        # Too many sections to show a useful part of each: the first ones, each cut to
        # _MIN_CAP, and one line for the rest.
        cap, shown, used = _MIN_CAP, 0, 0
        for redline in every:
            used += redline.cost(cap)
            if used > budget:
                break
            shown += 1
    out = ["\n".join(head)]
    left = shown
    for text, redlines in parts:
        out.append(text + "\n" + "".join(r.render(cap) for r in redlines[:left]))
        if len(redlines) > left:
            out.append(
                f"<p><em>The redlines of {_count(len(redlines) - left, 'more section')} are "
                f"left out to keep this comment within GitHub's {LIMIT:,} characters; the "
                f"whole redline: <code>{escape(redlines[0].command)}</code></em></p>\n"
            )
        left = max(left - len(redlines), 0)
    comment = "\n".join(out)
    if len(comment) > limit:  # the summaries alone do not fit: a hard cut, said plainly
        note = "\n\n_(cut: this report is longer than a comment may be; run check locally)_\n"
        comment = comment[: limit - len(note)] + note
    return comment
