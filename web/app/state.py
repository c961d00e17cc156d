"""The page's state: one object that round-trips through the URL's query string.

    ?image=koala-2&scope=module&detail=1&neuron=conv_1_1.3&level=2

Plain Python (no browser imports), so it is tested on CPython too. Values that are not valid fall back to
the defaults, so a hand-edited or stale URL never breaks the page.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import parse_qs, urlencode

SCOPES = ("unit", "module", "global")


@dataclass(frozen=True)
class State:
    image: str = ""  # example id; "" = the default example (uploads and URLs are not kept)
    scope: str = "unit"  # colour scope: unit / module / global
    detail: bool = False  # full names, shapes and legends
    column: str = ""  # selected neuron's column name ("" = none)
    neuron: int = -1  # selected neuron's index in its column
    level: int = 1  # 1 = the Overview; 2 = the selected neuron's next view

    @property
    def selected(self) -> tuple[str, int] | None:
        return (self.column, self.neuron) if self.column and self.neuron >= 0 else None

    def with_(self, **changes) -> "State":
        return replace(self, **changes)

    def open(self, column: str, neuron: int) -> "State":
        """Select a neuron and go one level down."""
        return replace(self, column=column, neuron=int(neuron), level=2)

    def back(self) -> "State":
        """One level up (Esc, or a click on empty space)."""
        if self.level > 1:
            return replace(self, level=self.level - 1, column="" if self.level == 2 else self.column,
                           neuron=-1 if self.level == 2 else self.neuron)
        return self

    def to_query(self) -> str:
        """'?…' with only what differs from the defaults ('' if nothing does)."""
        q = {}
        if self.image:
            q["image"] = self.image
        if self.scope != "unit":
            q["scope"] = self.scope
        if self.detail:
            q["detail"] = "1"
        if self.selected:
            q["neuron"] = f"{self.column}.{self.neuron}"
            if self.level != 1:
                q["level"] = str(self.level)
        return "?" + urlencode(q) if q else ""

    @classmethod
    def from_query(cls, query: str) -> "State":
        q = {k: v[-1] for k, v in parse_qs(query.lstrip("?"), keep_blank_values=True).items()}
        s = cls()
        image = q.get("image", "")
        if image and len(image) <= 200 and image.replace("-", "").replace("_", "").isalnum():
            s = replace(s, image=image)
        if q.get("scope") in SCOPES:
            s = replace(s, scope=q["scope"])
        if q.get("detail") in ("1", "true", "yes"):
            s = replace(s, detail=True)
        column, _, neuron = q.get("neuron", "").rpartition(".")
        if column and neuron.isdigit():
            level = q.get("level", "1")
            s = replace(s, column=column, neuron=int(neuron), level=2 if level == "2" else 1)
        return s
