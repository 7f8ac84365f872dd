"""``python -m devkit.template <file>``: the expanded template as JSON, for linters and scanners."""

import sys
from pathlib import Path

from devkit.template import write_expanded

write_expanded(Path(sys.argv[1]))
