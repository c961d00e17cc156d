"""Issue 12: no file or argument can hurt cnn101. Every hostile case of tests/hostile_cases.py runs in a
subprocess with its address space capped at 1.5 GiB and a timeout; each must end in a Cnn101Error (with
the words its case asks for) or a correct result — never another exception, a crash, a hang or a memory
blow-up. Cases that would allocate gigabytes if a guard failed run alone; the rest share a few processes.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from hostile_cases import CASES  # noqa: E402

MEMORY_CAP = int(1.5 * 2**30)
TIMEOUT_S = 60
BATCHES = 3


def _cap():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def _groups() -> list[tuple[str, list[str]]]:
    alone = [n for n, c in CASES.items() if c.alone]
    shared = [n for n, c in CASES.items() if not c.alone]
    groups = [(n, [n]) for n in alone]
    size = -(-len(shared) // BATCHES)
    groups += [(f"batch{i}", shared[i * size:(i + 1) * size]) for i in range(BATCHES)]
    return groups


def judge(name: str, rec: dict | None) -> str | None:
    """Why the case failed, or None."""
    c = CASES[name]
    if rec is None:
        return "no outcome (the process crashed, ran out of memory or hung before this case ended)"
    if rec["outcome"] in ("generic", "wrong"):
        return f"{rec['outcome']}: {rec['type']}: {rec['message']}\n{rec.get('where', '')}"
    if rec["outcome"] != c.expect:
        return f"expected {c.expect}, got {rec['outcome']} {rec.get('message', '')}"
    msg = rec.get("message", "")
    missing = [w for w in c.words if w not in msg]
    banned = [w for w in c.banned if w.lower() in msg.lower()]
    if missing or banned:
        return f"message {msg!r} lacks {missing} or holds {banned}"
    return None


@pytest.mark.parametrize("group, names", _groups(), ids=[g for g, _ in _groups()])
def test_hostile_cases(group, names, tmp_path):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0",
           "PYTHONPATH": os.pathsep.join([str(HERE.parent / "src"), os.environ.get("PYTHONPATH", "")])}
    try:
        proc = subprocess.run([sys.executable, str(HERE / "hostile_cases.py"), str(tmp_path), *names],
                              capture_output=True, text=True, timeout=TIMEOUT_S, preexec_fn=_cap, env=env)
        out, err, code = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as e:
        out, err, code = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), "", "timeout"
    records = {}
    for line in out.splitlines():
        if line.startswith("{"):
            rec = json.loads(line)
            records[rec["case"]] = rec
    problems = {n: why for n in names if (why := judge(n, records.get(n)))}
    assert not problems, (f"exit {code}; stderr tail: {err[-1500:]}\n" +
                          "\n".join(f"- {n}: {why}" for n, why in problems.items()))


def test_every_case_is_run_once():
    ran = [n for _, names in _groups() for n in names]
    assert sorted(ran) == sorted(CASES) and len(CASES) > 150
