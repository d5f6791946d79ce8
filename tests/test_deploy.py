"""The deployment files name commands this version has: every main.py command line in the systemd units, the
Dockerfile and the compose file parses, and the entrypoint they run exists."""
from __future__ import annotations

import json
import os
import re
import shlex

from main import parse_args
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"


def test_every_command_line_in_the_deployment_files_is_one_main_py_accepts() -> None:
    lines = []
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        for line in unit.read_text().splitlines():
            if line.startswith(("ExecStart=", "ExecStartPre=")):
                words = shlex.split(line.split("=", 1)[1])
                lines.append(words[words.index("main.py") + 1:])
    for command in re.findall(r"^\s*command: (\[.*\])$", (DEPLOY / "compose.yaml").read_text(), re.MULTILINE):
        lines.append(["--home", "/srv/influencer", *json.loads(command)])
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    lines.append(["--home", "/srv/influencer", *json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1))])
    commands = {parse_args(words).command for words in lines}  # a command it lacks exits (SystemExit) here
    assert {"run", "worker", "config"} <= commands
    entrypoint = re.search(r'^ENTRYPOINT \["/app/(.+?)"\]$', dockerfile, re.M).group(1)
    assert os.access(ROOT / entrypoint, os.X_OK)
    assert all(f"COPY {name}" in dockerfile for name in ("requirements.txt", ". ."))
