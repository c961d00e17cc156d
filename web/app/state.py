"""The page's state: one object that round-trips through the URL's query string.

    ?image=koala-2&scope=module&detail=1&neuron=conv_1_1.3&level=3&part=0&at=4.7&speed=2
     &edits=conv_1_1:0:blur:,conv_1_2:5::0.25

Levels: 1 the Overview, 2 the clicked neuron's view (convolutional / flatten view, or a ReLU / pool detail
view), 3 a view opened from inside level 2 (`part` says which: an input channel, 'whole', 'softmax'). `at`
is the window position of the open detail view (output row, col; or a class index), `speed` the animation
speed (a factor of the one speed ladder, cnn101.render.clock.SPEEDS), `edits` the conv neurons whose
kernel (a preset, single weights typed by hand) or bias the learner changed, so that a shared link reproduces an edited network; `steps`
the changes made to the input image (`cnn101.perturb.apply` steps: channels, patch, blur, …; deflated JSON).
`why=1` shows the gradients of `class` (default: the prediction) with the attribution `method` over the
input at `opacity` (why_mode.py).

Table-driven, in the spirit of TF Playground's state.ts: FIELDS declares every query key once, with how
it is written, how it is read back (a validator that raises ValueError), and when it applies (e.g. `part`
only at level 3). `to_query` and `from_query` both walk the table, so they cannot disagree; a value that
is not valid falls back to the default, so a hand-edited or stale URL never breaks the page.

A state too big for a link (over MAX_QUERY characters of query) is still kept whole in a small file:
`state_file(state)` writes every field's query value as JSON, `read_state_file(data)` reads it back
through the same table (so a field added to FIELDS comes along by itself) and treats the file as
hostile: size first, then nesting depth, then the shape, each refusal an InputError in plain words.
`link_query(state)` is what goes in the URL then: the query with the longest fields left out until it
fits, and which keys it left out (the page says so and offers the file).

Plain Python (no browser imports), so it is tested on CPython too.
"""
from __future__ import annotations

import base64
import json
import math
import re
import zlib
from dataclasses import dataclass, fields, replace
from typing import Callable
from urllib.parse import parse_qs, urlencode

from cnn101.errors import InputError
from cnn101.explain.overview import SCOPES
from cnn101.formats.json_reader import nesting_depth
from cnn101.kernels import PRESETS

WORD = re.compile(r"[A-Za-z0-9_]{1,40}")  # a level-3 part: a channel index, 'whole', 'softmax'
IMAGE = re.compile(r"[A-Za-z0-9_-]{1,200}")
LAYER = re.compile(r"[A-Za-z0-9_.\-/]{1,100}")  # a layer name in an edit (Keras names)
SLUGS = {p: re.sub(r"[^a-z]+", "-", p).strip("-") for p in PRESETS}  # 'edges (vertical)' → 'edges-vertical'
PRESET_OF = {v: k for k, v in SLUGS.items()}
MAX_EDITS = 64
MAX_WEIGHTS = 4096  # single weights typed by hand, over all edits in a URL
MAX_STEPS = 256  # perturbation / drawing steps in a URL
MAX_STEPS_JSON = 64 * 1024  # bytes of their JSON once inflated (a URL cannot smuggle in a large one)
MAX_QUERY = 8000  # characters of '?…' a link may hold; a bigger state goes in a file (state_file)
MAX_STATE_FILE = 1 << 20  # bytes of a state file the page reads (checked before reading it)
STATE_FORMAT = "cnn101-state"


@dataclass(frozen=True)
class Edit:
    """One edited conv neuron: the preset its kernel holds ('' = trained kernel), its bias (None = trained) and
    the single weights typed by hand over that kernel: ((channel, row, col, value), …) in kernel order."""

    layer: str
    neuron: int
    preset: str = ""
    bias: float | None = None
    weights: tuple = ()


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
    edits: tuple = ()  # Edit(…) of every edited conv neuron, in the order they were made
    why: bool = False  # "Why this class?": the Overview shows d loss / d activation (why_mode.py)
    target: int = -1  # the class the gradients are of (-1 = the prediction)
    method: str = "gradient"  # the attribution shown over the input (why_mode.METHODS)
    opacity: float = 0.6  # of the attribution over the input image
    steps: str = ""  # the input's changes: a compact JSON list of cnn101.perturb.apply steps ("" = none)

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
        return replace(self, level=3, part=_part(str(part)), at=())

    def back(self) -> "State":
        """One level up (Esc, or a click on empty space)."""
        if self.level > 1:
            return replace(self, level=self.level - 1, column="" if self.level == 2 else self.column,
                           neuron=-1 if self.level == 2 else self.neuron, part="", at=())
        return self

    def to_fields(self) -> dict[str, str]:
        """{query key: written value} of what differs from the defaults (the URL's and the file's content)."""
        q = {}
        for f in FIELDS:
            if f.applies(self) and f.get(self) != f.get(DEFAULT):
                q[f.key] = f.write(f.get(self))
        return q

    def to_query(self) -> str:
        """'?…' with only what differs from the defaults ('' if nothing does)."""
        q = self.to_fields()
        return "?" + urlencode(q) if q else ""

    @classmethod
    def from_query(cls, query: str) -> "State":
        return cls.from_fields({k: v[-1] for k, v in parse_qs(query.lstrip("?"), keep_blank_values=True).items()})

    @classmethod
    def from_fields(cls, q: dict) -> "State":
        """The state of {query key: value}; a value that is not valid (or a key no field has) is left out."""
        s = DEFAULT
        for f in FIELDS:  # in order: a field's `applies` only looks at the fields before it
            if f.key in q and f.applies(s):
                try:
                    s = f.set(s, f.read(q[f.key]))
                except ValueError:
                    pass  # not valid: the default stays
        if s.level == 3 and not s.part:
            s = replace(s, level=2)  # a level-3 view needs to know which part it shows
        return s


def link_query(state: State, limit: int = MAX_QUERY) -> tuple[str, tuple]:
    """(query for the URL, keys left out): the whole query when it fits in `limit` characters, else the
    query without its longest fields (longest first) until it fits."""
    q = state.to_fields()
    left_out = []
    while q and len("?" + urlencode(q)) > limit:
        key = max(q, key=lambda k: len(urlencode({k: q[k]})))
        left_out.append(key)
        del q[key]
    return ("?" + urlencode(q) if q else ""), tuple(left_out)


def state_file(state: State) -> bytes:
    """The whole state as a small JSON file (every field as its query value; see read_state_file)."""
    return json.dumps({"format": STATE_FORMAT, "version": 1, "fields": state.to_fields()},
                      indent=1, ensure_ascii=True).encode("ascii")


def read_state_file(data, name: str = "the state file") -> State:
    """The State in a file written by state_file. The file may be anything: it is checked for size, then
    nesting, then shape before any value is used; each value then goes through its field's validator
    (a value that is not valid falls back to the default, as in a URL). InputError for a file that is not
    a state file at all."""
    what = f"{name!r} is not a cnn101 state file"
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InputError(f"{what}: give its bytes.")
    data = bytes(data)
    if len(data) > MAX_STATE_FILE:
        raise InputError(f"{name!r} is {len(data) / 2**20:.1f} MB; a cnn101 state file is at most "
                         f"{MAX_STATE_FILE // 1024} KB. Choose the file 'Download this state' saved.")
    if nesting_depth(data) > 4:
        raise InputError(f"{what} (it nests too deeply). Choose the file 'Download this state' saved.")
    try:
        doc = json.loads(data.decode("utf-8-sig"), parse_constant=lambda c: None)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InputError(f"{what} (it is not JSON text). Choose the file 'Download this state' saved.") from None
    if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT or not isinstance(doc.get("fields"), dict):
        raise InputError(f"{what} (it does not say format \"{STATE_FORMAT}\" with its fields). "
                         "Choose the file 'Download this state' saved.")
    if doc.get("version") != 1:
        raise InputError(f"{name!r} is a state file of another version of cnn101 ({doc.get('version')!r}); "
                         "this page reads version 1.")
    fields_ = doc["fields"]
    known = {f.key for f in FIELDS}
    if len(fields_) > 4 * len(known) or not all(isinstance(k, str) and isinstance(v, str) for k, v in fields_.items()):
        raise InputError(f"{what} (its fields must be names with text values). "
                         "Choose the file 'Download this state' saved.")
    return State.from_fields({k: v for k, v in fields_.items() if k in known})


# --- validators: str → value, or ValueError ------------------------------------------------------------
def _image(v: str) -> str:
    if not IMAGE.fullmatch(v):
        raise ValueError(v)
    return v


def _scope(v: str) -> str:
    if v not in SCOPES:
        raise ValueError(v)
    return v


def _flag(v: str) -> bool:
    if v not in ("1", "true", "yes"):
        raise ValueError(v)
    return True


def _neuron(v: str) -> tuple[str, int]:
    column, _, neuron = v.rpartition(".")
    if not column or not neuron.isdigit() or len(neuron) > 7:
        raise ValueError(v)
    return column, int(neuron)


def _level(v: str) -> int:
    if v not in ("2", "3"):
        raise ValueError(v)
    return int(v)


def _part(v: str) -> str:
    if not WORD.fullmatch(v):
        raise ValueError(f"A level-3 part is 1 to 40 letters, digits or '_', not {v!r}.")
    return v


def _at(v: str) -> tuple:
    parts = v.split(".")
    if not 0 < len(parts) <= 4 or not all(p.isdigit() and len(p) <= 6 for p in parts):
        raise ValueError(v)
    return tuple(int(p) for p in parts)


def _speed(v: str) -> float:
    speed = float(v)  # ValueError for text
    if not 1 / 64 <= speed <= 64:  # also refuses nan
        raise ValueError(v)
    return speed


def _float(v: str) -> float:
    x = float(v)
    if not math.isfinite(x) or abs(x) > 1e6:
        raise ValueError(v)
    return x


def _weights(v: str) -> tuple:
    """'c.i.j=value;…' → ((c, i, j, value), …): distinct positions, in kernel order."""
    out = {}
    for item in v.split(";") if v else ():
        where, value = item.split("=")  # ValueError unless one '='
        idx = where.split(".")
        if len(idx) != 3 or not all(k.isdigit() and len(k) <= 4 for k in idx):
            raise ValueError(item)
        key = tuple(int(k) for k in idx)
        if key in out:
            raise ValueError("a weight appears twice")
        out[key] = _float(value)
    return tuple((*k, out[k]) for k in sorted(out))


def _edits(v: str) -> tuple:
    out = []
    for item in v.split(",")[:MAX_EDITS] if v else ():
        parts = item.split(":")
        if len(parts) not in (4, 5):
            raise ValueError(item)
        layer, neuron, preset, bias = parts[:4]
        weights = _weights(parts[4]) if len(parts) == 5 else ()
        if not LAYER.fullmatch(layer) or not neuron.isdigit() or len(neuron) > 7:
            raise ValueError(item)
        if preset and preset not in PRESET_OF:
            raise ValueError(preset)
        if not preset and not bias and not weights:
            raise ValueError(item)
        out.append(Edit(layer, int(neuron), PRESET_OF.get(preset, ""), _float(bias) if bias else None, weights))
    if len({(e.layer, e.neuron) for e in out}) != len(out):
        raise ValueError("an edited neuron appears twice")
    if sum(len(e.weights) for e in out) > MAX_WEIGHTS:
        raise ValueError("too many weights")
    return tuple(out)


def _class(v: str) -> int:
    if not v.isdigit() or len(v) > 6:
        raise ValueError(v)
    return int(v)


ATTRIBUTIONS = ("gradient", "gradient_x_input", "smoothgrad", "gradcam", "occlusion")


def _method(v: str) -> str:
    if v not in ATTRIBUTIONS:
        raise ValueError(v)
    return v


def _opacity(v: str) -> float:
    x = float(v)
    if not 0.0 <= x <= 1.0:  # also refuses nan
        raise ValueError(v)
    return x


def _write_edits(edits: tuple) -> str:
    def weights(e) -> str:
        return ":" + ";".join(f"{c}.{i}.{j}={float(v)!r}" for c, i, j, v in e.weights) if e.weights else ""

    return ",".join(f"{e.layer}:{e.neuron}:{SLUGS.get(e.preset, '')}:{'' if e.bias is None else repr(float(e.bias))}"
                    + weights(e) for e in edits)


def steps_json(steps) -> str:
    """The one (compact, canonical) JSON form of a list of perturb steps, checked: dicts naming a known op."""
    from cnn101.perturb import operations

    if not isinstance(steps, list) or len(steps) > MAX_STEPS:
        raise ValueError("steps must be a list of at most %d" % MAX_STEPS)
    ops = operations()
    for step in steps:
        if not isinstance(step, dict) or step.get("op") not in ops:
            raise ValueError(f"not a step: {step!r}")
    return json.dumps(steps, separators=(",", ":"), sort_keys=True) if steps else ""


def _write_steps(v: str) -> str:
    """Deflated and base64url (no padding): a drawing's points compress well."""
    return base64.urlsafe_b64encode(zlib.compress(v.encode("utf-8"), 9)).decode("ascii").rstrip("=")


def _steps(v: str) -> str:
    if len(v) > MAX_STEPS_JSON:
        raise ValueError("too long")
    try:
        raw = base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))
        d = zlib.decompressobj()
        text = d.decompress(raw, MAX_STEPS_JSON + 1)
        if len(text) > MAX_STEPS_JSON or d.unconsumed_tail:
            raise ValueError("too long")
        return steps_json(json.loads(text.decode("utf-8")))
    except (zlib.error, UnicodeDecodeError, json.JSONDecodeError, RecursionError, TypeError) as exc:
        raise ValueError(str(exc)) from None


# --- the table -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    """One query key: the state attributes it stands for, how to write and read it, when it applies."""

    key: str
    attrs: tuple  # State attribute names (a single one, or e.g. ('column', 'neuron'))
    write: Callable  # value → str
    read: Callable  # str → value (raises ValueError when not valid)
    applies: Callable = lambda s: True  # whether the field is part of state `s` at all

    def get(self, s: State):
        values = tuple(getattr(s, a) for a in self.attrs)
        return values[0] if len(values) == 1 else values

    def set(self, s: State, value) -> State:
        values = (value,) if len(self.attrs) == 1 else tuple(value)
        return replace(s, **dict(zip(self.attrs, values)))


FIELDS = (
    Field("image", ("image",), str, _image),
    Field("scope", ("scope",), str, _scope),
    Field("detail", ("detail",), lambda v: "1", _flag),
    Field("neuron", ("column", "neuron"), lambda v: f"{v[0]}.{v[1]}", _neuron),
    Field("level", ("level",), str, _level, lambda s: s.selected is not None),
    Field("part", ("part",), str, _part, lambda s: s.selected is not None and s.level == 3),
    Field("at", ("at",), lambda v: ".".join(str(int(x)) for x in v), _at,
          lambda s: s.selected is not None and s.level >= 2),
    Field("speed", ("speed",), lambda v: f"{v:g}" if float(f"{v:g}") == v else repr(float(v)), _speed),
    Field("edits", ("edits",), _write_edits, _edits),
    Field("why", ("why",), lambda v: "1", _flag),
    Field("class", ("target",), str, _class, lambda s: s.why),
    Field("method", ("method",), str, _method, lambda s: s.why),
    Field("opacity", ("opacity",), lambda v: f"{v:g}", _opacity, lambda s: s.why),
    Field("steps", ("steps",), _write_steps, _steps),
)
DEFAULT = State()


def _check_table() -> None:
    """Every State attribute is written by exactly one field."""
    covered = [a for f in FIELDS for a in f.attrs]
    assert sorted(covered) == sorted(f.name for f in fields(State)), covered


_check_table()
