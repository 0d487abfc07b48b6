"""A write described without sending it: the exact request a promote or rollback would make.

Sources build a :class:`WriteRequest` for every write they can perform; the actions layer
prints it for a dry run and the audit log records it, and the engine counts it. Bodies
never carry a token (tokens travel in headers, which are not part of the description).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cockpit.model import SourceName


@dataclass(frozen=True)
class WriteRequest:
    source: SourceName
    method: str
    #: Path on the API server, e.g. ``/api/v4/projects/shop%2Fcheckout/jobs/42/play``.
    path: str
    body: Any = None
    content_type: str | None = None

    def __str__(self) -> str:
        text = f"{self.method} {self.path}"
        if self.content_type:
            text += f"\nContent-Type: {self.content_type}"
        if self.body is not None:
            text += "\n" + json.dumps(self.body, indent=2, sort_keys=True)
        return text
