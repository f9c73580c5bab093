"""Entry point of the frozen ``secure-send`` (PyInstaller): the same ``main`` as the
console script, so ``--version``, ``self-test``, the CLI commands and the desktop
app all work from the bundle.

The bundle leaves out the drop server (FastAPI/uvicorn, see ``secure_send.spec``),
so ``secure-send demo`` — which runs an embedded server — is refused here with a
clear message instead of an ImportError traceback.
"""

from __future__ import annotations

import sys

DEMO_MESSAGE = (
    "secure-send: error: the demo runs an embedded drop server, which the installed"
    " desktop app does not include; run `make demo` from the source tree instead"
)


def run() -> int:
    """Refuse ``demo``, else hand over to ``secure_send.cli.main.main``."""
    if sys.argv[1:2] == ["demo"]:
        print(DEMO_MESSAGE, file=sys.stderr)
        return 2
    from secure_send.cli.main import main

    return main()


if __name__ == "__main__":
    sys.exit(run())
