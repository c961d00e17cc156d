"""The page's state: one object that round-trips through the URL's query string.

    ?image=koala-2&scope=module&detail=1&neuron=conv_1_1.3&level=3&part=0&at=4.7&speed=2

Levels: 1 the Overview, 2 the clicked neuron's view (convolutional / flatten view, or a ReLU / pool detail
view), 3 a view opened from inside level 2 (`part` says which: an input channel, 'softmax'). `at` is the
window position of the open detail view (output row, col; or a class index), `speed` the animation speed.

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
    level: int = 1  # 1 = the Overview; 2 = the selected neuron's next view; 3 = a view opened inside it
    part: str = ""  # what the level-3 view shows of the level-2 view (e.g. an input channel, 'softmax')
    at: tuple = ()  # window position of the open detail view (ints), () = its start
    speed: float = 1.0  # animation speed (1 = the default step time)

    @property
    def selected(self) -> tuple[str, int] | None:
        return (self.column, self.neuron) if self.column and self.neuron >= 0 else None

    def with_(self, **changes) -> "State":
        return replace(self, **changes)

    def open(self, column: str, neuron: int) -> "State":
        """Select a neuron and go one level down."""
        return replace(self, column=column, neuron=int(neuron), level=2, part="", at=())

    def deeper(self, part: str) -> "State":
        """From a level-2 view one level further down, to its `part` (e.g. an input channel, 'softmax')."""
        return replace(self, level=3, part=str(part), at=())

    def back(self) -> "State":
        """One level up (Esc, or a click on empty space)."""
        if self.level > 1:
            return replace(self, level=self.level - 1, column="" if self.level == 2 else self.column,
                           neuron=-1 if self.level == 2 else self.neuron, part="", at=())
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
            if self.level == 3 and self.part:
                q["part"] = self.part
            if self.level >= 2 and self.at:
                q["at"] = ".".join(str(int(v)) for v in self.at)
        if self.speed != 1.0:
            q["speed"] = f"{self.speed:g}"
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
            level = {"2": 2, "3": 3}.get(q.get("level", "1"), 1)
            part = q.get("part", "")
            if level == 3 and not (part and len(part) <= 40 and part.replace("_", "").isalnum()):
                level = 2  # a level-3 view needs to know which part it shows
            s = replace(s, column=column, neuron=int(neuron), level=level, part=part if level == 3 else "")
            at = q.get("at", "").split(".")
            if s.level >= 2 and 0 < len(at) <= 4 and all(v.isdigit() and len(v) <= 6 for v in at):
                s = replace(s, at=tuple(int(v) for v in at))
        try:
            speed = float(q.get("speed", "1"))
        except ValueError:
            speed = 1.0
        if 1 / 64 <= speed <= 64:
            s = replace(s, speed=speed)
        return s
