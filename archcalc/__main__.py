import os
import signal

# Ctrl-C while the CLI is still importing: exit 130 quietly (the CLI installs its own handler once loaded)
signal.signal(signal.SIGINT, lambda signum, frame: os._exit(130))

from .cli import entry  # noqa: E402

entry()
