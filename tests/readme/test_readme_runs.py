"""The README runs as written: its shell and Python blocks, in order, against a fresh
`hyperoru serve --demo` on a free loopback port, so the README can never drift again.

Rules:

* Blocks fenced as ``bash``/``sh``/``shell`` or ``python`` run; other fences (``text``,
  ``console``, ``json``) are shown output or examples, not code.
* A block is left out only when the line just above its fence is
  ``<!-- readme-test: skip (reason) -->``, and only the two in ``SKIPPED`` are: the
  README's install-and-serve command and its test-suite command, since this test starts
  the server itself and runs inside the suite. Everything else runs, the WebSocket
  example too (it stops at its first price update).
* Shell blocks share state as in one terminal session: the variables the README assigns
  and the functions it defines carry over to the next block. Python blocks see those
  variables in their environment.
* Every ``curl`` without ``-w`` must get a 2xx answer (the test wraps it with
  ``--fail-with-body``); the ones that print the status code with ``-w`` are checked by
  their expected output.
* The README reads the server's address from ``HYPERORU_URL`` and the demo password from
  ``DEMO_PASSWORD`` (it says so); the test sets both. Nothing needs the network beyond
  loopback.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.e2e.server import serve
from tests.helpers import child_env

README = Path(__file__).resolve().parents[2] / "README.md"
SKIP_MARKER = re.compile(r"^<!-- readme-test: skip \(.+\) -->$")
FENCE = re.compile(r"^```(\w*)\s*$")
SHELL = {"bash", "sh", "shell"}
ASSIGNMENT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)=", re.MULTILINE)
FUNCTION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\(\)\s*\{", re.MULTILINE)
BLOCK_TIMEOUT_SECONDS = 300
CURL_MUST_SUCCEED = (
    'curl() { case " $* " in *" -w "*) command curl "$@" ;; '
    '*) command curl --fail-with-body "$@" ;; esac; }'
)

# What the README says some blocks answer, keyed by a line that identifies the block.
EXPECTED: dict[str, tuple[str, ...]] = {
    "curl -s $BASE/api/health": ('"status":"healthy"', '"username":"your-handle"'),
    "DEMO_TOKEN=$(": ('"model":"builtin-demo-fast-v1"', '"status":"ok"'),
    "PROGRAM=$(": ('"status":"completed"', '"fingerprint"'),
    "/api/users/logout": ("204\n401",),
    # The raw WebSocket example: greeted, subscribed, then stops at its first price push.
    "additional_headers=": ("connected\n", "'type': 'subscribed'", "\nprice_update None {"),
}
# Every block the test leaves out, exactly: a newly skipped block fails here until it is
# named (and justified) in this list.
SKIPPED = [
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/hyperoru serve --demo\n",
    "bash scripts/test.sh\n",
]


@dataclass(frozen=True)
class Block:
    language: str
    code: str
    line: int  # of the opening fence, for failure messages


def readme_blocks(text: str) -> tuple[list[Block], list[Block]]:
    """(blocks to run, blocks skipped by marker), in README order."""
    lines = text.splitlines()
    run: list[Block] = []
    skipped: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        end = index + 1
        while not lines[end].startswith("```"):
            end += 1
        block = Block(opening.group(1), "\n".join(lines[index + 1 : end]) + "\n", index + 1)
        if block.language in SHELL or block.language == "python":
            marked = index > 0 and SKIP_MARKER.match(lines[index - 1].strip())
            (skipped if marked else run).append(block)
        index = end + 1
    return run, skipped


def _shell_script(block: Block, names: list[str], functions: list[str], state: Path) -> str:
    save = []
    if names:
        save.append(f"declare -p {' '.join(names)} > {state}")
    if functions:
        save.append(f"declare -f {' '.join(functions)} >> {state}")
    save.append(
        f'for name in {" ".join(names)}; do printf \'%s=%s\\0\' "$name" "${{!name}}"; '
        f"done > {state}.env"
    )
    prelude = f"{CURL_MUST_SUCCEED}\n[ -f {state} ] && source {state}\n"
    return "set -euo pipefail\n" + prelude + block.code + "\n".join(save) + "\n"


def _shell_variables(state: Path) -> dict[str, str]:
    path = Path(f"{state}.env")
    if not path.exists():
        return {}
    pairs = [item.split("=", 1) for item in path.read_text().split("\0") if item]
    return dict((name, value) for name, value in pairs)


def _wait_for_demo_decisions(base_url: str, password: str) -> None:
    """The demo block reads a decision; the first scheduled cycle comes within a minute."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        login = client.post("/api/users/login", json={"username": "demo", "password": password})
        headers = {"Authorization": f"Bearer {login.json()['session_token']}"}
        [first, *_] = client.get("/api/account/list", headers=headers).json()
        deadline = time.monotonic() + 90
        while not client.get(f"/api/account/{first['id']}/decisions", headers=headers).json():
            assert time.monotonic() < deadline, "no demo decision within 90 s"
            time.sleep(1)
        client.post("/api/users/logout", headers=headers)


def test_readme_blocks_are_found_and_only_the_marked_ones_skipped() -> None:
    run, skipped = readme_blocks(README.read_text())
    assert [b.code for b in skipped] == SKIPPED
    runnable = "".join(b.code for b in run)
    for anchor in EXPECTED:
        assert anchor in runnable, anchor
    # The walkthrough logs out last: no block after the logout uses the token.
    [logout] = [i for i, b in enumerate(run) if "/api/users/logout" in b.code]
    assert not any("$TOKEN" in b.code for b in run[logout + 1 :])


def test_readme_runs_against_a_fresh_demo_server(tmp_path: Path) -> None:
    run, _ = readme_blocks(README.read_text())
    data = tmp_path / "data"
    work = tmp_path / "work"
    work.mkdir()
    state = tmp_path / "shell-state.sh"
    with serve(data, args=("--demo",)) as server:
        [password] = re.findall(r"^  password: (\S+)$", server.output(), re.MULTILINE)
        env = {
            **child_env(),
            "HYPERORU_URL": server.base_url,
            "DEMO_PASSWORD": password,
        }
        names: list[str] = []
        functions: list[str] = []
        seen: dict[str, str] = {}
        for block in run:
            if "DEMO_TOKEN=$(" in block.code:
                _wait_for_demo_decisions(server.base_url, password)
            if block.language == "python":
                command = [sys.executable, "-c", block.code]
                block_env = {**env, **_shell_variables(state)}
            else:
                names += [n for n in ASSIGNMENT.findall(block.code) if n not in names]
                functions += [f for f in FUNCTION.findall(block.code) if f not in functions]
                command = ["bash", "-c", _shell_script(block, names, functions, state)]
                block_env = env
            done = subprocess.run(
                command,
                cwd=work,
                env=block_env,
                capture_output=True,
                text=True,
                timeout=BLOCK_TIMEOUT_SECONDS,
                check=False,
            )
            where = f"README.md line {block.line}"
            assert done.returncode == 0, (
                f"{where} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            )
            for anchor, answers in EXPECTED.items():
                if anchor in block.code:
                    seen[anchor] = done.stdout
                    for answer in answers:
                        assert answer in done.stdout, f"{where}: {answer!r} not in\n{done.stdout}"
        assert set(seen) == set(EXPECTED)
        # The walkthrough's own trader really exists under the id the README captured.
        variables = _shell_variables(state)
        assert variables["TRADER"].isdigit() and variables["PROGRAM"].isdigit()
        assert json.loads(seen["DEMO_TOKEN=$("])[0]["status"] == "ok"
    assert password not in server.logs()
