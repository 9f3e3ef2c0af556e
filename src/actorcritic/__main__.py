"""``python -m actorcritic``: the command line, as the ``actorcritic`` script runs it."""

import sys

from actorcritic.cli import main

sys.exit(main())
