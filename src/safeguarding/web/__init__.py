"""Server-rendered moderator console (Jinja2 templates and one stylesheet; no build step).

:mod:`.cases` assembles the queue and a case from the stores, :mod:`.actions` carries out moderator
actions (each sealed in the evidence log in the same transaction), :mod:`.stats` computes the
transparency statistics. The routes are ``safeguarding.service.routes.console`` and ``.stats``.
Templates never receive more than a page needs; message text is shown only inside ``<details>``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    """The console's templates (autoescaped), built on first use rather than at import."""
    from fastapi.templating import Jinja2Templates

    return Jinja2Templates(directory=str(TEMPLATES_DIR))
