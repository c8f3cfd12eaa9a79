"""A realistic policy repository, generated: the corpus every real-world figure is measured on.

Seeded and deterministic (fixed authors, fixed dates, ``git fast-import``): the same seed and
shape give the same commits, byte for byte. The full shape is modelled on a large public
corporate policy repository:

* ~60 policies at HEAD (a few in sub-folders) and some withdrawn, ~900 versions, one policy
  with ~50 versions; documents from a few hundred words up to ~20,000;
* Markdown as editors write it: headings, paragraphs with emphasis, bullet and numbered
  lists, pipe tables, HTML comments (``<!-- markdownlint-disable … -->``), relative links
  between policies (sometimes with an anchor), a "Last updated" line;
* history as it happens: edits by five editors at local office hours in
  America/Los_Angeles (so some commits fall on the next UTC day), pull requests merged by a
  bot (``Merge pull request #N``) with the trailers, if any, on the branch's commits, a rename
  git pairs by similarity and one it cannot (the text rewritten in the same commit), a policy
  deleted and added again months later, others withdrawn, a heading-level reformatting
  (``###`` → ``##`` throughout, words unchanged), comment-only and formatting-only edits,
  front-matter-only edits, a link to a policy that never existed (fixed in the next version),
  commits outside ``policy/``; ``Policy-Change`` trailers on about a quarter of the commits.

    python benchmarks/corpus.py DEST            # the full shape
    python benchmarks/corpus.py DEST --quick    # a small shape with every feature (seconds)
    python benchmarks/corpus.py DEST --json     # print what was generated as JSON

Benchmarks load it with ``load_corpus()`` (below) and call ``generate(path, quick=...)``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

SEED = 2026
ZONE = ZoneInfo("America/Los_Angeles")
START = datetime(2019, 1, 7, 9, 0, tzinfo=ZONE)
AUTHORS = (
    ("Dana Whitfield", "dana@example.com"),
    ("Rahul Mehta", "rahul@example.com"),
    ("Jo Okafor", "jo@example.com"),
    ("Mei Lin", "mei@example.com"),
    ("Sam Cortez", "sam@example.com"),
)
BOT = ("policy-bot[bot]", "bot@example.com")
#: The link written into one version and fixed in the next: no policy of this name ever exists.
NEVER_EXISTED = "retention-schedule.md"

_VOCABULARY = (
    "we you your data personal information service account use collect share process store "
    "retain delete request law rights consent purpose third parties cookies contact email "
    "address payment security access provide may must will days months years policy terms "
    "privacy processing controller processor transfer country protection legitimate interest "
    "marketing analytics support improve safety fraud legal obligation court order notice "
    "content repository user users customer agreement subscription billing refund license "
    "feedback report abuse enforcement government requests export sanctions trademark "
    "copyright infringement counter notification appeal review suspend terminate warranty "
    "liability indemnity dispute arbitration jurisdiction governing amendments entire "
    "severability waiver assignment affiliates vendors subprocessors encryption retention"
)
_WORDS = _VOCABULARY.split()
_FILE_NAMES = (
    "privacy-statement terms-of-service acceptable-use cookie-policy dmca-takedown "
    "trademark-policy community-guidelines corporate-terms marketplace-terms sponsors-terms "
    "api-terms data-protection-agreement security-policy subprocessors government-requests "
    "transparency-report sanctions export-controls bug-bounty-terms pages-terms "
    "codespaces-terms copilot-terms packages-terms actions-terms education-terms "
    "research-terms developer-program partner-program reseller-terms event-code-of-conduct "
    "open-source-terms balanced-employee-ip accessibility-statement candidate-privacy "
    "california-privacy eu-data-transfer uk-addendum brazil-addendum japan-addendum "
    "supplemental-terms additional-product-terms beta-terms preview-terms enterprise-terms "
    "nonprofit-terms student-terms teacher-terms gift-terms contest-rules username-policy "
    "impersonation-policy spam-policy malware-policy deceased-users-policy legal-hold "
    "law-enforcement-guidelines content-removal-policies takedown-appeals payment-terms "
    "tax-policy refund-policy invoicing-terms support-terms service-levels "
    "whistleblower-policy modern-slavery-statement anti-bribery vendor-code-of-conduct "
    "responsible-disclosure ai-principles"
)
_NAMES = _FILE_NAMES.split()
_FOLDERS = ("github-terms", "site-policy")


def load_corpus() -> ModuleType:
    """This module, loaded by path (benchmarks/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("_policy_corpus", Path(__file__))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("_policy_corpus", module)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Shape:
    policies: int  # created over the history (some are withdrawn)
    steps: int  # commits on the first-parent line that change a policy, roughly
    words: tuple[int, int]  # the size of an ordinary document
    long_words: int  # the size of the longest documents
    long_documents: int
    withdrawn: int  # policies deleted for good


FULL = Shape(policies=68, steps=780, words=(400, 3_000), long_words=20_000, long_documents=4,
             withdrawn=6)  # fmt: skip
QUICK = Shape(policies=9, steps=60, words=(150, 500), long_words=1_500, long_documents=1,
              withdrawn=1)  # fmt: skip


@dataclass
class Doc:
    name: str  # the file name it was created with (renames keep it)
    path: str
    title: str
    blocks: list[str]
    heading: str = "##"
    front: dict[str, object] = field(default_factory=dict)

    def content(self) -> bytes:
        lines = [f"title: {self.title}"] + [f"{k}: {v}" for k, v in self.front.items()]
        body = "\n\n".join(self.blocks)
        return ("---\n" + "\n".join(lines) + "\n---\n\n" + body + "\n").encode("utf-8")


@dataclass
class Summary:
    """What was generated, for the benchmarks and the tests."""

    head: str = ""
    commits: int = 0
    merges: int = 0
    policy_commits: int = 0
    declared: int = 0
    live: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # git pairs these
    rewritten: tuple[str, str] = ("", "")  # an old path and the new one git cannot pair
    readded: str = ""
    reformatted: str = ""  # the path whose headings went from ### to ##
    broken_link: tuple[str, str] = ("", "")  # the path whose version linked NEVER_EXISTED
    largest_words: int = 0

    def as_json(self) -> str:
        return json.dumps(self.__dict__, indent=2)


class Corpus:
    """The simulation: documents, their edits, and the ``git fast-import`` stream."""

    def __init__(self, shape: Shape, seed: int):
        self.shape = shape
        self.rng = random.Random(seed)
        self.docs: dict[str, Doc] = {}  # live documents by path
        self.gone: dict[str, Doc] = {}  # deleted documents by path (re-added later)
        self.clock = START
        self.mark = 0
        self.main_mark = 0
        self.stream: list[bytes] = []
        self.summary = Summary()
        self.names = list(_NAMES[: shape.policies])
        self.pr = 0

    # -- text -------------------------------------------------------------------------------

    def sentence(self, low: int = 8, high: int = 20) -> str:
        rng = self.rng
        words = [rng.choice(_WORDS) for _ in range(rng.randint(low, high))]
        if rng.random() < 0.15:
            i = rng.randrange(len(words))
            words[i] = f"**{words[i]}**" if rng.random() < 0.5 else f"*{words[i]}*"
        return " ".join(words).capitalize() + "."

    def paragraph(self, words: int = 60) -> str:
        out: list[str] = []
        while words > 0:
            out.append(self.sentence())
            words -= len(out[-1].split())
        return " ".join(out)

    def link(self, doc: Doc) -> str:
        """A relative link from ``doc`` to another live policy, as its file sits now."""
        others = [d for d in self.docs.values() if d.path != doc.path]
        if not others:
            return ""
        target = self.rng.choice(others)
        href = _relative(target.path, doc.path)
        if self.rng.random() < 0.3:
            href += "#" + _anchor(target.blocks)
        return f"See [{target.title}]({href}) for details."

    def table(self) -> str:
        rng = self.rng
        head = "| Category | Purpose | Retention |"
        align = rng.choice(["| --- | --- | --- |", "|:---|:---|---:|", "|---|---|---|"])
        rows = [
            f"| {rng.choice(_WORDS).title()} | {self.sentence(3, 6)} | {rng.randint(1, 36)} mo. |"
            for _ in range(rng.randint(3, 8))
        ]
        return "\n".join([head, align, *rows])

    def bullets(self, marker: str = "-") -> str:
        return "\n".join(f"{marker} {self.sentence(4, 12)}" for _ in range(self.rng.randint(3, 7)))

    def document(self, title: str, words: int, heading: str) -> list[str]:
        rng = self.rng
        blocks = ["<!-- markdownlint-disable MD013 MD033 -->"]
        blocks.append(f"Last updated: {_human(self.clock)}")
        count, section = 0, 0
        while count < words:
            section += 1
            blocks.append(f"{heading} {section}. {self.sentence(2, 5)[:-1].title()}")
            for _ in range(rng.randint(2, 5)):
                roll = rng.random()
                if roll < 0.12:
                    block = self.table()
                elif roll < 0.27:
                    block = self.bullets(rng.choice("-*"))
                elif roll < 0.33:
                    block = "\n".join(f"{i}. {self.sentence(4, 10)}" for i in range(1, 5))
                elif roll < 0.36:
                    block = f"<!-- TODO({rng.choice(AUTHORS)[0].split()[0]}): {self.sentence()} -->"
                else:
                    block = self.paragraph(rng.randint(40, 110))
                blocks.append(block)
                count += len(block.split())
        return blocks

    # -- git fast-import --------------------------------------------------------------------

    def tick(self) -> datetime:
        """The next commit time: office hours in the publisher's zone, a few hours to days on."""
        rng = self.rng
        when = self.clock + timedelta(hours=rng.choice([2, 3, 5, 20, 26, 44, 70, 96]))
        when = when.replace(minute=rng.randrange(60))
        if when.hour < 8 or when.hour > 19:
            when = (when + timedelta(days=1)).replace(hour=rng.randint(9, 19))
        self.clock = when
        return when

    def commit(
        self,
        ref: str,
        message: str,
        files: dict[str, bytes | None],
        *,
        author: tuple[str, str] | None = None,
        parent: int | None = None,
        merge: int | None = None,
        renames: tuple[tuple[str, str], ...] = (),
    ) -> int:
        self.mark += 1
        when = self.tick()
        name, email = author or self.rng.choice(AUTHORS)
        stamp = f"{int(when.timestamp())} {when.strftime('%z')}"
        data = message.encode("utf-8") + b"\n"
        out = [f"commit {ref}\nmark :{self.mark}\n".encode()]
        out.append(
            f"author {name} <{email}> {stamp}\ncommitter {name} <{email}> {stamp}\n".encode()
        )
        out.append(f"data {len(data)}\n".encode() + data)
        if parent is not None:
            out.append(f"from :{parent}\n".encode())
        if merge is not None:
            out.append(f"merge :{merge}\n".encode())
        for old, new in renames:
            out.append(f"R {old} {new}\n".encode())
        for path, content in sorted(files.items()):
            if content is None:
                out.append(f"D {path}\n".encode())
            else:
                out.append(f"M 100644 inline {path}\ndata {len(content)}\n".encode() + content)
                out.append(b"\n")
        out.append(b"\n")
        self.stream.append(b"".join(out))
        self.summary.commits += 1
        if ref == "refs/heads/main":
            self.main_mark = self.mark
            if merge is not None:
                self.summary.merges += 1
        return self.mark

    def message(self, subject: str, declare: bool) -> str:
        if not declare:
            return subject
        self.summary.declared += 1
        level = self.rng.choice(["patch", "patch", "minor", "major"])
        return f"{subject}\n\nPolicy-Change: {level}\nPolicy-Summary: {subject}"

    # -- edits ------------------------------------------------------------------------------

    def edit(self, doc: Doc) -> str:
        """Change ``doc`` as an editor would; return a commit subject."""
        rng = self.rng
        blocks = doc.blocks
        prose = [i for i, b in enumerate(blocks) if b[:1].isalpha() and not b.startswith("Last")]
        roll = rng.random()
        if roll < 0.05:
            blocks[1] = f"Last updated: {_human(self.clock)}"
            roll = 0.2  # and a change of words, as the date line rarely changes alone
        if roll < 0.50 and prose:
            for i in rng.sample(prose, min(len(prose), rng.randint(1, 3))):
                words = blocks[i].split(" ")
                for _ in range(rng.randint(1, 5)):
                    words[rng.randrange(len(words))] = rng.choice(_WORDS)
                blocks[i] = " ".join(words)
            return f"Clarify wording in {doc.title}"
        if roll < 0.60:
            blocks.insert(rng.randrange(2, len(blocks) + 1), self.paragraph(rng.randint(30, 90)))
            return f"Add a paragraph to {doc.title}"
        if roll < 0.66 and len(prose) > 3:
            del blocks[rng.choice(prose)]
            return f"Remove an outdated paragraph from {doc.title}"
        if roll < 0.70:
            heads = [i for i, b in enumerate(blocks) if b.startswith("#")]
            if len(heads) > 2:
                a = rng.randrange(len(heads) - 1)
                start, end = heads[a], heads[a + 1]
                section = blocks[start:end]
                del blocks[start:end]
                at = rng.choice([h for h in [*heads[a + 1 :], len(blocks) + len(section)]])
                at = min(max(2, at - len(section)), len(blocks))
                blocks[at:at] = section
                return f"Reorder sections of {doc.title}"
        if roll < 0.74:
            comment = f"<!-- Reviewed by legal on {_human(self.clock)} -->"
            comments = [i for i, b in enumerate(blocks) if b.startswith("<!-- R")]
            if comments:
                blocks[comments[0]] = comment
            else:
                blocks.insert(2, comment)
            return f"Record legal review of {doc.title}"
        if roll < 0.80:
            return self.reformat(doc)
        if roll < 0.86:
            tables = [i for i, b in enumerate(blocks) if b.startswith("| Category")]
            if tables:
                i = rng.choice(tables)
                rows = blocks[i].split("\n")
                rows.append(f"| {rng.choice(_WORDS).title()} | {self.sentence(3, 6)} | 12 months |")
                blocks[i] = "\n".join(rows)
                return f"Add a retention category to {doc.title}"
        if roll < 0.92:
            link = self.link(doc)
            if link and prose:
                i = rng.choice(prose)
                blocks[i] = blocks[i] + " " + link
                return f"Link related policies from {doc.title}"
        words = blocks[prose[0]].split(" ") if prose else []
        if words:
            words[-1] = rng.choice(_WORDS) + "."
            blocks[prose[0]] = " ".join(words)
        return f"Fix a typo in {doc.title}"

    def reformat(self, doc: Doc) -> str:
        """A change of form only: emphasis, list markers, line wrapping or table alignment."""
        rng = self.rng
        blocks = doc.blocks
        kinds = []
        for i, b in enumerate(blocks):
            if b.startswith(("- ", "* ")):
                kinds.append(("list", i))
            elif b.startswith("| Category"):
                kinds.append(("table", i))
            elif "**" in b:
                kinds.append(("emphasis", i))
            elif b[:1].isalpha() and len(b) > 200 and "\n" not in b:
                kinds.append(("wrap", i))
        if not kinds:
            return self.edit(doc)
        kind, i = rng.choice(kinds)
        b = blocks[i]
        if kind == "list":
            marker = "*" if b.startswith("- ") else "-"
            blocks[i] = "\n".join(marker + line[1:] for line in b.split("\n"))
        elif kind == "table":
            rows = b.split("\n")
            rows[1] = "|:---|:---|---:|" if rows[1] != "|:---|:---|---:|" else "| --- | --- | --- |"
            blocks[i] = "\n".join(rows)
        elif kind == "emphasis":
            blocks[i] = b.replace("**", "__")
        else:
            blocks[i] = _wrap(b, 80)
        return f"Reformat {doc.title} ({kind})"

    # -- the history ------------------------------------------------------------------------

    def new_doc(self, index: int) -> Doc:
        name = self.names[index]
        folder = _FOLDERS[index % 2] + "/" if index % 9 == 5 else ""
        words = (
            self.shape.long_words
            if index < self.shape.long_documents
            else self.rng.randint(*self.shape.words)
        )
        if index == 1 and self.shape.long_documents > 1:
            words = self.shape.long_words // 2
        heading = "###" if index == 1 else "##"
        title = name.replace("-", " ").title().replace("Dmca", "DMCA").replace("Api", "API")
        doc = Doc(name, f"policy/{folder}{name}.md", title, [], heading)
        doc.blocks = self.document(title, words, heading)
        if index % 7 == 3:
            doc.front["notice_days"] = 30
        link = self.link(doc)
        if link:
            doc.blocks.insert(3, self.paragraph(30) + " " + link)
        return doc

    def add(self, doc: Doc) -> dict[str, bytes | None]:
        self.docs[doc.path] = doc
        return {doc.path: doc.content()}

    def run(self) -> Summary:
        shape, rng = self.shape, self.rng
        first = max(6, shape.policies * 2 // 5)
        files: dict[str, bytes | None] = {"README.md": b"# Site policy\n\nOur policies.\n"}
        for i in range(first):
            files |= self.add(self.new_doc(i))
        self.commit("refs/heads/main", "Import the site policies", files)
        self.summary.policy_commits += 1
        created = first
        specials = self.specials()
        step = 0
        while step < shape.steps:
            step += 1
            special = specials.pop(step, None)
            if special is not None:
                special()
                self.summary.policy_commits += 1
                continue
            roll = rng.random()
            if created < shape.policies and roll < (shape.policies - first) / shape.steps * 1.6:
                doc = self.new_doc(created)
                created += 1
                self.commit("refs/heads/main", self.message(f"Add {doc.title}", rng.random() < 0.5),
                            self.add(doc))  # fmt: skip
                self.summary.policy_commits += 1
            elif roll < 0.30:
                self.pull_request()
            elif roll < 0.36:
                name = rng.choice(["README.md", ".github/workflows/lint.yml", "CONTRIBUTING.md"])
                self.commit("refs/heads/main", f"Update {name}", {name: f"{step}\n".encode()})
                step -= 1  # not a policy commit
            elif roll < 0.39:
                doc = self.pick()
                doc.front["reviewed"] = _human(self.clock)
                self.commit("refs/heads/main", f"Bump review date of {doc.title}",
                            {doc.path: doc.content()})  # fmt: skip
            else:
                doc = self.pick()
                subject = self.edit(doc)
                declare = rng.random() < 0.25
                self.commit("refs/heads/main", self.message(subject, declare),
                            {doc.path: doc.content()})  # fmt: skip
                self.summary.policy_commits += 1
        self.summary.live = sorted(self.docs)
        self.summary.largest_words = max(
            len(" ".join(d.blocks).split()) for d in self.docs.values()
        )
        return self.summary

    def pick(self, exclude: set[str] | frozenset[str] = frozenset()) -> Doc:
        """A live document, the oldest ones edited most (one gets ~50 versions)."""
        docs = [d for d in self.docs.values() if d.path not in exclude]
        order = {name: i for i, name in enumerate(self.names)}
        weights = [1 / (order[d.name] + 10) for d in docs]
        return self.rng.choices(docs, weights)[0]

    def pull_request(self) -> None:
        """A branch of one to three commits, maybe a commit on main meanwhile, a bot merge."""
        rng = self.rng
        self.pr += 1
        base = self.main_mark
        touched: dict[str, Doc] = {}
        parent: int | None = base
        subject = ""
        for _ in range(rng.randint(1, 3)):
            doc = self.pick() if not touched or rng.random() < 0.3 else next(iter(touched.values()))
            touched[doc.path] = doc
            subject = self.edit(doc)
            declare = rng.random() < 0.3
            parent = self.commit("refs/heads/pr", self.message(subject, declare),
                                 {doc.path: doc.content()}, parent=parent)  # fmt: skip
        if rng.random() < 0.4:
            other = self.pick(exclude=set(touched))
            self.commit("refs/heads/main", self.edit(other), {other.path: other.content()})
            self.summary.policy_commits += 1
        message = f"Merge pull request #{100 + self.pr} from example/pr-{self.pr}\n\n{subject}"
        self.commit("refs/heads/main", message, {p: d.content() for p, d in touched.items()},
                    author=BOT, merge=parent)  # fmt: skip
        self.summary.policy_commits += 1

    def specials(self) -> dict[int, Callable[[], None]]:
        """The rare events, at fixed points of the history."""
        n = self.shape.steps
        at: dict[int, Callable[[], None]] = {
            n * 15 // 100: self.rename_similar,
            n * 25 // 100: self.delete_for_now,
            n * 40 // 100: self.broken_link,
            n * 40 // 100 + 1: self.fix_broken_link,
            n * 50 // 100: self.rename_rewritten,
            n * 55 // 100: self.reformat_headings,
            n * 75 // 100: self.readd,
        }
        for k in range(self.shape.withdrawn):
            at[n * (30 + k * 60 // max(1, self.shape.withdrawn)) // 100 + 2] = self.withdraw
        return at

    def rename_similar(self) -> None:
        doc = self.docs.pop(self.docs_named("dmca-takedown").path)
        old = doc.path
        doc.path = "policy/github-terms/dmca-takedown-policy.md"
        doc.blocks[-1] += " " + self.sentence()
        self.docs[doc.path] = doc
        self.summary.renamed.append((old, doc.path))
        self.commit("refs/heads/main", "Move the DMCA policy under GitHub terms",
                    {old: None, doc.path: doc.content()})  # fmt: skip

    def rename_rewritten(self) -> None:
        doc = self.docs.pop(self.docs_named("acceptable-use").path)
        old = doc.path
        doc.path = "policy/acceptable-use-policies.md"
        doc.title = "Acceptable Use Policies"
        doc.blocks = self.document(doc.title, len(" ".join(doc.blocks).split()), "##")
        self.docs[doc.path] = doc
        self.summary.rewritten = (old, doc.path)
        self.commit("refs/heads/main", self.message("Rewrite the acceptable use policies", True),
                    {old: None, doc.path: doc.content()})  # fmt: skip

    def reformat_headings(self) -> None:
        doc = self.docs_named(self.names[1])
        doc.blocks = ["##" + b[3:] if b.startswith("### ") else b for b in doc.blocks]
        doc.heading = "##"
        self.summary.reformatted = doc.path
        self.commit("refs/heads/main", f"Use level-2 headings in {doc.title}",
                    {doc.path: doc.content()})  # fmt: skip

    def delete_for_now(self) -> None:
        doc = self.docs.pop(self.docs_named("cookie-policy").path)
        self.gone[doc.path] = doc
        self.commit("refs/heads/main", f"Remove the {doc.title} (folded into privacy)",
                    {doc.path: None})  # fmt: skip

    def readd(self) -> None:
        path, doc = next(iter(self.gone.items()))
        del self.gone[path]
        doc.blocks.append(self.paragraph(80))
        self.summary.readded = path
        self.commit("refs/heads/main", self.message(f"Restore the {doc.title}", True),
                    self.add(doc))  # fmt: skip

    def withdraw(self) -> None:
        candidates = [d for d in self.docs.values() if d.name not in self.names[:6]]
        if not candidates:
            doc = self.pick()
            self.commit("refs/heads/main", self.edit(doc), {doc.path: doc.content()})
            return
        doc = self.rng.choice(candidates[len(candidates) // 2 :] or candidates)
        del self.docs[doc.path]
        self.summary.withdrawn.append(doc.path)
        self.commit("refs/heads/main", f"Retire the {doc.title}", {doc.path: None})

    def broken_link(self) -> None:
        doc = self.docs_named(self.names[0])
        doc.blocks.insert(4, f"We keep records as the [retention schedule]({NEVER_EXISTED}) says.")
        self.summary.broken_link = (doc.path, NEVER_EXISTED)
        self.commit("refs/heads/main", "Point to the retention schedule", {doc.path: doc.content()})

    def fix_broken_link(self) -> None:
        doc = self.docs_named(self.names[0])
        doc.blocks = [b for b in doc.blocks if NEVER_EXISTED not in b]
        self.commit("refs/heads/main", "Drop the link to the unpublished retention schedule",
                    {doc.path: doc.content()})  # fmt: skip

    def docs_named(self, stem: str) -> Doc:
        return next(d for d in self.docs.values() if d.name == stem)


def _relative(target: str, source: str) -> str:
    up = source.count("/") - 1  # folders below policy/
    return "../" * up + target.removeprefix("policy/")


def _anchor(blocks: list[str]) -> str:
    heads = [b.lstrip("#").strip() for b in blocks if b.startswith("#")]
    text = heads[0] if heads else "top"
    return "-".join("".join(c for c in text.lower() if c.isalnum() or c == " ").split())


def _human(when: datetime) -> str:
    return f"{when:%B} {when.day}, {when.year}"


def _wrap(text: str, width: int) -> str:
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(lines)


def generate(path: Path, *, quick: bool = False, seed: int = SEED) -> Summary:
    """Write the corpus repository at ``path`` (a new folder); return what it holds."""
    corpus = Corpus(QUICK if quick else FULL, seed)
    summary = corpus.run()
    path.mkdir(parents=True, exist_ok=False)
    git = ["git", "-c", "init.defaultBranch=main", "-C", str(path)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run(
        [*git, "fast-import", "--quiet", "--done"],
        input=b"".join(corpus.stream) + b"done\n",
        check=True,
    )
    subprocess.run([*git, "branch", "-q", "-D", "pr"], check=False, capture_output=True)
    subprocess.run([*git, "reset", "-q", "--hard", "main"], check=True)
    done = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True)
    summary.head = done.stdout.strip()
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path, help="a folder to create")
    parser.add_argument("--quick", action="store_true", help="the small shape")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    options = parser.parse_args(argv)
    if options.dest.exists():
        print(f"corpus: {options.dest} exists; name a new folder", file=sys.stderr)
        return 1
    summary = generate(options.dest, quick=options.quick, seed=options.seed)
    if options.json:
        print(summary.as_json())
    else:
        print(
            f"{options.dest}: {summary.commits} commits ({summary.merges} merges, "
            f"{summary.policy_commits} changing policies, {summary.declared} declared), "
            f"{len(summary.live)} policies at HEAD, {len(summary.withdrawn)} withdrawn, "
            f"largest {summary.largest_words:,} words; HEAD {summary.head}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
