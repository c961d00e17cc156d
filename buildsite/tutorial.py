"""The tutorial text under the tool: docs/tutorial.md rendered to HTML at build time and put into
index.html between `<!--cnn101:tutorial-->` and `<!--/cnn101:tutorial-->`.

Only the Markdown the tutorial uses (no dependency): HTML comments (dropped), `<a id="tutorial-…"></a>`
before a `## ` heading (the section's id, which layer labels and detail views link to) or a `### `
heading (that subheading's id, e.g. one backward view's or one attribution method's text), paragraphs,
`- ` lists with indented continuation lines, an indented line on its own (a displayed formula),
`**bold**`, `*italic*`, `` `code` `` and `[text](url)`. Headings move down one level (`##` → `<h3>`)
because the page's `<h2>` is the tutorial's own title.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

START, END = "<!--cnn101:tutorial-->", "<!--/cnn101:tutorial-->"
ANCHOR = re.compile(r'^<a id="([A-Za-z0-9_-]+)"></a>\s*$')


def inline(text: str) -> str:
    """Escape, then code spans, links, bold, italic."""
    parts = re.split(r"(`[^`]+`)", text)
    out = []
    for part in parts:
        if len(part) > 1 and part.startswith("`") and part.endswith("`"):
            out.append(f"<code>{html.escape(part[1:-1], quote=False)}</code>")
            continue
        s = html.escape(part, quote=False)
        s = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", lambda m: f'<a href="{html.escape(m[2])}">{m[1]}</a>', s)
        s = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", s)
        s = re.sub(r"\*(?![\s*])(.+?)(?<![\s*])\*", r"<em>\1</em>", s)
        out.append(s)
    return "".join(out)


def to_html(markdown: str) -> str:
    """The tutorial's Markdown as HTML: one <section id=…> per `## ` heading."""
    text = re.sub(r"<!--.*?-->", "", markdown, flags=re.S)
    blocks = re.split(r"\n\s*\n", text.strip("\n"))
    out: list[str] = []
    pending_id = None
    open_section = False
    for block in blocks:
        lines = [ln.rstrip() for ln in block.split("\n") if ln.strip()]
        if not lines:
            continue
        while lines and ANCHOR.match(lines[0]):
            pending_id = ANCHOR.match(lines[0])[1]
            lines = lines[1:]
        if not lines:
            continue
        head = re.match(r"^(#{1,6})\s+(.*)$", lines[0])
        if head:
            level = min(6, len(head[1]) + 1)
            if level == 3:
                if open_section:
                    out.append("</section>")
                sid = f' id="{html.escape(pending_id)}"' if pending_id else ""
                out.append(f"<section{sid}>")
                open_section = True
            sub = f' id="{html.escape(pending_id)}"' if pending_id and level > 3 else ""  # a subsection's anchor
            out.append(f"<h{level}{sub}>{inline(head[2])}</h{level}>")
            pending_id = None
            lines = lines[1:]
            if not lines:
                continue
        if lines[0].startswith("- "):
            items: list[str] = []
            for ln in lines:
                if ln.startswith("- "):
                    items.append(ln[2:].strip())
                else:
                    items[-1] += " " + ln.strip()
            out.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in items) + "</ul>")
        elif lines[0].startswith("  ") and len(lines) == 1:
            out.append(f'<p class="formula">{inline(lines[0].strip())}</p>')
        else:
            out.append("<p>" + inline(" ".join(ln.strip() for ln in lines)) + "</p>")
    if open_section:
        out.append("</section>")
    return "\n".join(out)


def with_tutorial(index, markdown_file: Path):
    """index.html (a Path or bytes) with the rendered tutorial between the markers; unchanged (same
    object) when the markers or the Markdown file are missing."""
    if not Path(markdown_file).is_file():
        return index
    page = (index.read_bytes() if isinstance(index, Path) else bytes(index)).decode("utf-8")
    a, b = page.find(START), page.find(END)
    if a < 0 or b < a:
        return index
    body = to_html(Path(markdown_file).read_text(encoding="utf-8"))
    return (page[: a + len(START)] + "\n" + body + "\n" + page[b:]).encode("utf-8")
