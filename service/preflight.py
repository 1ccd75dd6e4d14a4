"""``python -m service.preflight``: refuse to start with unsafe settings, in one clear message.

The container's entrypoint runs this before migrations and the server, so a production
misconfiguration ends the container with exit status 2 and a message naming each bad
setting, instead of a traceback from deep inside an import.
"""

from __future__ import annotations

import sys

from .config import ConfigError, load_config


def main() -> int:
    try:
        load_config()
    except ConfigError as exc:
        print(f"comments: refusing to start: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
