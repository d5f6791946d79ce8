"""How the code is built holds: what the CLI and the provider contract load before they need it (the import
contracts and the type checker run in .ci/run)."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

LOADED = "import json, sys; print(json.dumps(sorted(sys.modules)))"


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running `code` in the project's root."""
    result = subprocess.run([sys.executable, "-c", f"{code}\n{LOADED}"], cwd=ROOT, capture_output=True, text=True,
                            check=True)
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_help_loads_the_parser_only() -> None:
    loaded = modules_after("import contextlib, main\nwith contextlib.redirect_stdout(None), "
                           "contextlib.suppress(SystemExit):\n    main.parse_args(['--help'])")
    heavy = {name for name in loaded if name.split(".")[0] in {"sqlalchemy", "aiohttp", "numpy", "pydantic", "core",
                                                                  "trends", "analytics"}}
    assert heavy == set(), "main.py --help pays for more than its parser"


def test_the_provider_contract_loads_no_adapter() -> None:
    loaded = modules_after("import content.providers")
    assert {name for name in loaded if name.startswith("content.providers.")} == {
        "content.providers.contract", "content.providers.registry"}
    loaded = modules_after("from content.providers import VideoProviderRegistry\nVideoProviderRegistry.get('runway')")
    assert "content.providers.runway" in loaded and "content.providers.kling" not in loaded


def test_plugins_written_against_the_earlier_package_name_still_load() -> None:
    old = "from content.video_providers.http import HttpProvider\nfrom content.video_providers.base import VideoProvider"
    loaded = modules_after(f"import warnings\nwarnings.simplefilter('ignore')\n{old}")
    assert {"content.providers.http", "content.providers.contract"} <= loaded
    warned = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c",
                             "import content.video_providers"], cwd=ROOT, capture_output=True, text=True)
    assert warned.returncode == 1 and "content.video_providers is content.providers now" in warned.stderr
