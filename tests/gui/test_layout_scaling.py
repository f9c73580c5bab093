"""Issue 16, item 6: the app is usable on small screens with large scaling.

At 1280x720 with 150 % scaling (853x480 device-independent pixels) and at 1920x1080
with 200 % (960x540), every window's frame fits the available screen and every visible
control of every tab and dialog lies inside it once scrolled to. The scale must be set
before the QApplication exists, so each case runs ``tests/gui/layout_probe.py`` in a
subprocess on the offscreen platform with a screen of that size (its ``configfile``)
and ``QT_SCALE_FACTOR``. The probe walks the widget tree, not a list of names, so
controls added to the pages later are checked too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from secure_send.org import ops
from tests.client.conftest import Enrol
from tests.directory_kit import HANAKO, JIRO, ROLE, TARO
from tests.server.conftest import Server

REPO = Path(__file__).resolve().parents[2]


def _probe(
    tmp_path: Path,
    home: Path,
    org: dict[str, object],
    size: tuple[int, int],
    scale: float,
    lang: str,
) -> list[str]:
    config = tmp_path / "screen.json"
    screen = {"name": "laptop", "x": 0, "y": 0, "width": size[0], "height": size[1]}
    screen |= {"logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
    options = {"synchronousWindowSystemEvents": True, "windowFrameMargins": True}
    config.write_text(json.dumps({**options, "screens": [screen]}), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
    env |= {"QT_QPA_PLATFORM": f"offscreen:configfile={config}", "QT_SCALE_FACTOR": str(scale)}
    command = [sys.executable, "-m", "tests.gui.layout_probe", str(home), json.dumps(org), lang]
    command.append(",".join([TARO, JIRO, ROLE]))
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    problems: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return problems


@pytest.mark.parametrize(
    ("size", "scale", "lang"),
    [((1280, 720), 1.5, "ja"), ((1920, 1080), 2.0, "ja"), ((1280, 720), 1.5, "en")],
    ids=["1280x720@150%-ja", "1920x1080@200%-ja", "1280x720@150%-en"],
)
def test_every_control_fits_the_screen_once_scrolled_to(
    tmp_path: Path,
    enrol: Enrol,
    org_server: Server,
    size: tuple[int, int],
    scale: float,
    lang: str,
) -> None:
    hanako = enrol(HANAKO, "laptop")
    enrol(JIRO, "pc")
    # a file request Hanako's desk tracks (the probe opens its tracking view)
    title = "年末調整書類の提出（令和8年分）"
    hanako.ok("request", "create", "--into", ROLE, "--to", JIRO, "--title", title)
    org = ops.client_config(org_server.home, org_server.url)
    problems = _probe(tmp_path, hanako.home, org, size, scale, lang)
    assert problems == [], "\n".join(problems)
