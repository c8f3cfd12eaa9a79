"""What a screen reader gets from a redline: the accessibility tree Chromium exposes to assistive
technology (CDP ``Accessibility.getFullAXTree``), read in document order the way a screen
reader reads a page. Insertions and deletions must say so in words, not only by their role
(which VoiceOver and TalkBack usually do not announce) or by colour and strike-through.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, Page

ROLES = ("insertion", "deletion")


def ax_tree(page: Page, selector: str) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The nodes of the accessibility tree under the element ``selector`` finds, in order."""
    cdp = page.context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        found = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        backend = cdp.send("DOM.describeNode", {"nodeId": found})["node"]["backendNodeId"]
        nodes: list[dict[str, Any]] = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    by_id = {n["nodeId"]: n for n in nodes}
    top = next(n for n in nodes if n.get("backendDOMNodeId") == backend)
    under: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        under.append(node)
        for child in node.get("childIds", []):
            if child in by_id:
                walk(by_id[child])

    walk(top)
    return under, by_id


def role(node: dict[str, Any]) -> str:
    return str(node.get("role", {}).get("value", ""))


def spoken(node: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> str:
    """The text a screen reader reads for a node: its static text, in order."""
    if role(node) == "StaticText":
        return str(node.get("name", {}).get("value", ""))
    return "".join(spoken(by_id[c], by_id) for c in node.get("childIds", []) if c in by_id)


def read_redline(page: Page) -> tuple[list[tuple[str, str]], str]:
    """Each insertion and deletion of the redline (role, what is read), and the whole paragraph
    holding the first insertion as it is read."""
    nodes, by_id = ax_tree(page, ".pt-redline")
    marks = [(role(n), spoken(n, by_id)) for n in nodes if role(n) in ROLES]
    parent = {c: n["nodeId"] for n in nodes for c in n.get("childIds", [])}
    first = next(n for n in nodes if role(n) == "insertion")
    holder = by_id[parent[first["nodeId"]]]
    while role(holder) not in ("paragraph", "listitem", "heading", "cell"):
        holder = by_id[parent[holder["nodeId"]]]
    return marks, spoken(holder, by_id)


def test_a_redline_reads_insertions_and_deletions_as_such(browser: Browser, site_url: str) -> None:
    page = browser.new_page()
    try:
        page.goto(site_url + "privacy/changes/2-3/")
        marks, sentence = read_redline(page)
    finally:
        page.close()
    print("\n".join(f"{r}: {t!r}" for r, t in marks))
    print(f"read: {sentence!r}")
    assert {r for r, _ in marks} == set(ROLES)
    for kind, text in marks:
        word = "inserted" if kind == "insertion" else "deleted"
        end = "insertion" if kind == "insertion" else "deletion"
        assert text.startswith(f"[{word}: ") and text.endswith(f" :end of {end}]"), text
    assert sentence == (
        "We collect your name [deleted: and :end of deletion][inserted: , :end of insertion] "
        "email address [inserted: and location :end of insertion] when you register."
    )


def test_a_moved_section_says_where_it_came_from_in_words(browser: Browser, site_url: str) -> None:
    page = browser.new_page()
    try:
        page.goto(site_url + "returns/changes/1-2/")
        nodes, by_id = ax_tree(page, ".pt-redline .redline-body")
    finally:
        page.close()
    text = spoken(nodes[0], by_id)
    print(f"read: {text!r}")
    assert "[Moved from “" in text and "[Moved to “" in text, text
