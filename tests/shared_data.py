"""Where the offline data lives for tests: $RAE_DATA_DIR, else ../shared/data beside the repo.

Read at import, before any test runs: some fixtures unset RAE_DATA_DIR.
"""

import os
from pathlib import Path

SHARED_DATA = Path(os.environ.get("RAE_DATA_DIR") or Path(__file__).resolve().parents[1].parent / "shared" / "data")
