"""The base of every notebook display: static HTML (no JavaScript) plus the numbers behind it.

A view wraps one explanation object (`view.data`, from cnn101.explain) and forwards attribute access to
it, so `view.kernels`, `view.products`, `view.probs` … are the very arrays the picture shows.
"""
from __future__ import annotations

from ..render.svg import esc

FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif"


class View:
    """A rich-display object: `_repr_html_` for Jupyter, `.html` for anything else."""

    title = "cnn101"

    def __init__(self, data):
        self.data = data

    def __getattr__(self, name):
        # Only called for attributes the view itself lacks: forward to the explanation data.
        data = self.__dict__.get("data")
        if data is None or name.startswith("__"):
            raise AttributeError(name)
        return getattr(data, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | {n for n in dir(self.data) if not n.startswith("_")})

    def body(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def note(self) -> str:
        """One plain sentence under the title, saying what the view shows."""
        return ""

    @property
    def html(self) -> str:
        note = self.note()
        note = f'<p style="margin:2px 0 8px;color:#495057;font-size:13px">{esc(note)}</p>' if note else ""
        return (f'<div class="cnn101-view" data-view="{esc(type(self).__name__)}" '
                f'style="{FONT};color:#212529;background:#ffffff;padding:8px;overflow-x:auto">'
                f'<div style="font-weight:600;font-size:15px;margin-bottom:2px">{esc(self.title)}</div>'
                f"{note}{self.body()}</div>")

    def _repr_html_(self) -> str:
        return self.html

    def save(self, path) -> None:
        """Write the view as a standalone HTML file."""
        from pathlib import Path

        Path(path).write_text(f'<!doctype html><meta charset="utf-8"><title>{esc(self.title)}</title>{self.html}',
                              encoding="utf-8")

    def __repr__(self) -> str:
        note = self.note()
        return f"<{type(self).__name__}: {self.title}{' — ' + note if note else ''}>"


def row(*parts: str) -> str:
    """Blocks side by side, wrapping on narrow screens."""
    return ('<div class="row" style="display:flex;flex-wrap:wrap;align-items:center;gap:2px;margin:4px 0">'
            + "".join(parts) + "</div>")


def text(s: str, size: int = 13, colour: str = "#212529", weight: int = 400) -> str:
    return f'<span style="font-size:{size}px;color:{colour};font-weight:{weight}">{esc(s)}</span>'


def table(header: list[str], rows: list[list[str]], align: str | None = None, name: str = "") -> str:
    """A plain table; cells are already-escaped HTML. `align` is one char per column: l, r or c."""
    align = align or "l" * len(header)
    side = {"l": "left", "r": "right", "c": "center"}
    th = "".join(f'<th style="text-align:{side[a]};padding:3px 8px;border-bottom:2px solid #dee2e6">{h}</th>'
                 for h, a in zip(header, align))
    body = "".join("<tr>" + "".join(f'<td style="text-align:{side[a]};padding:2px 8px;border-bottom:1px solid '
                                    f'#f1f3f5;font-variant-numeric:tabular-nums">{c}</td>' for c, a in zip(r, align))
                   + "</tr>" for r in rows)
    return (f'<table class="table" data-name="{esc(name)}" style="border-collapse:collapse;font-size:13px">'
            f"<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>")
