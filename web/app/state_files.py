"""A state too big for a link (issue 13): say so, "Download this state", "Open a state file".

The URL holds the state (state.py) as long as its query fits in state.MAX_QUERY characters; beyond that
the URL keeps what fits (`link_query`) and the line under the controls says which part a link would lose
and offers the whole state as a small file. "Open a state file" reads one back: the size is checked
before a byte is read, then `state.read_state_file` checks nesting and shape; a refusal is a plain
message and the page carries on. A good file is kept in sessionStorage and the page starts again from
it, through the same start-up path as a URL (so every field of State comes along, whatever it holds).
"""
from __future__ import annotations

import asyncio

import cnn101
from pyscript import window

from . import dom
from .state import MAX_QUERY, MAX_STATE_FILE, State, read_state_file, state_file

PENDING = "cnn101:opened-state"  # sessionStorage key of a state file waiting for the next start
FILE_NAME = "cnn101-state.json"


def take_pending() -> State | None:
    """The state of a file opened just before this start (read once, then forgotten), or None."""
    try:
        text = window.sessionStorage.getItem(PENDING)
        if text is None:
            return None
        window.sessionStorage.removeItem(PENDING)
        return read_state_file(str(text).encode("utf-8"), "the opened state file")
    except cnn101.Cnn101Error:
        return None
    except Exception:  # storage not available (private mode): start from the URL
        return None


class StateFiles:
    def __init__(self, app):
        self.app = app
        self.limit = MAX_QUERY  # tests may lower it (cnn101_url_limit) to reach a too-big state
        self.left_out = ()
        self.opened = 0  # files read successfully (tests)

    def mount(self) -> None:
        dom.on(dom.el("state-download"), "click", lambda e: self.download())
        dom.on(dom.el("state-file"), "change", self._chosen)
        dom.el("state-download").disabled = False
        dom.el("state-file").disabled = False

    # --- the link ------------------------------------------------------------------------------------
    def linked(self, full_query: str, left_out: tuple) -> None:
        """After the URL was written: say whether it holds the whole state."""
        self.left_out = left_out
        notice = dom.el("state-notice")
        if not left_out:
            notice.hidden = True
            notice.textContent = ""
            return
        notice.hidden = False
        notice.textContent = (f"This state is too big for a link ({len(full_query):,} characters; a link holds at most "
                              f"{self.limit:,}), so the address leaves out: {', '.join(left_out)}. "
                              "Use 'Download this state' to keep all of it, and 'Open a state file' to come back to it.")

    def download(self) -> None:
        window.cnn101Export.saveText(state_file(self.app.state).decode("ascii"), FILE_NAME, "application/json")

    # --- opening a file ------------------------------------------------------------------------------
    def _chosen(self, event) -> None:
        files = event.target.files
        if files is not None and int(files.length) > 0:
            asyncio.ensure_future(self.open(files.item(0)))
        event.target.value = ""  # the same file can be chosen again

    def error(self, message: str) -> None:
        box = dom.el("state-error")
        box.textContent = message
        box.hidden = not message

    async def open(self, file) -> None:
        name = str(file.name)
        self.error("")
        size = int(file.size)
        if size > MAX_STATE_FILE:  # before reading a byte of it
            self.error(f"'{name}' is {size / 2**20:.1f} MB; a cnn101 state file is at most {MAX_STATE_FILE // 1024} KB. "
                       "Choose the file 'Download this state' saved.")
            return
        try:
            data = (await file.arrayBuffer()).to_bytes()
            read_state_file(data, name)  # checked here; the next start reads it again (take_pending)
        except cnn101.Cnn101Error as exc:
            self.error(str(exc))
            return
        except Exception:
            self.error(f"Could not read '{name}'. Choose the file 'Download this state' saved.")
            return
        self.opened += 1
        try:
            window.sessionStorage.setItem(PENDING, data.decode("utf-8-sig"))
        except Exception:
            self.error("This browser does not let the page keep the state while it starts again "
                       "(storage is off); allow site data and try again.")
            return
        dom.el("state-notice").hidden = False
        dom.el("state-notice").textContent = f"Opening the state in '{name}'…"
        window.location.replace(str(window.location.pathname))  # start again from it (state.from_fields)
