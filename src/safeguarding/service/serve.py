"""What ``safeguarding serve`` does (the CLI command only parses flags and calls :func:`serve`).

One worker: build the context (fails closed on bad settings, policy or model), seed the demo when
asked, and run uvicorn on it. Several workers (PostgreSQL only): seed first in this process, then let
uvicorn start N processes that each build their own context from the same ``SAFEGUARDING_*``
environment. Shutdown is graceful: uvicorn stops accepting, lets in-flight requests finish (their
batches commit or are never started), then the webhook relay stops.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from safeguarding.errors import ConfigError, ModelError
from safeguarding.settings import Settings, load_settings

log = logging.getLogger(__name__)


def _env_for_workers(settings: Settings) -> dict[str, str]:
    """The flags that must reach worker processes, as ``SAFEGUARDING_*`` variables."""
    env = {
        "SAFEGUARDING_DATABASE_URL": settings.database_url,
        "SAFEGUARDING_TEXT_SCORING": "true" if settings.text_scoring else "false",
        "SAFEGUARDING_WORKERS": str(settings.workers),
    }
    if settings.policy is not None:
        env["SAFEGUARDING_POLICY"] = str(settings.policy)
    if settings.model is not None:
        env["SAFEGUARDING_MODEL"] = str(settings.model)
    if settings.franking_key is not None:
        env["SAFEGUARDING_FRANKING_KEY"] = settings.franking_key.get_secret_value()
    return env


def _exit_cleanly(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def serve(
    *,
    url: str | None,
    host: str | None,
    port: int | None,
    workers: int | None,
    demo: bool,
    demo_credentials: Path | None,
    text: bool | None,
    policy: Path | None,
    model: Path | None,
    echo: Callable[[str], None] = print,
    e2ee: bool = False,
) -> None:
    import uvicorn

    if demo_credentials is not None and not demo:
        raise ConfigError("--demo-credentials needs --demo")
    franking_key = None
    if e2ee and not os.environ.get("SAFEGUARDING_FRANKING_KEY"):
        if not demo:
            raise ConfigError(
                "--e2ee needs SAFEGUARDING_FRANKING_KEY (base64 of 32 random bytes, kept secret and stable)"
            )
        from safeguarding.service.e2ee import new_franking_key

        franking_key = new_franking_key()  # the demo's own, forgotten when it stops
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal with the handler it found:
    # make that handler a clean exit, so `finally` blocks run and the exit status is 0
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_cleanly)
    tmp: str | None = None
    if demo and url is None:
        tmp = tempfile.mkdtemp(prefix="safeguarding-demo-")
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
    try:
        settings = load_settings(
            database_url=url, host=host, port=port, workers=workers, policy=policy, model=model,
            text_scoring=text, franking_key=franking_key,
        )  # fmt: skip
        if settings.franking_key is not None:  # a broken franking key stops start-up, not the first upload
            from safeguarding.service.e2ee import keyring_from_settings

            keyring_from_settings(settings)
        from safeguarding.service.context import build_context

        try:
            ctx = build_context(settings)
        except ModelError as exc:
            raise ModelError(f"{exc} (use --no-text to serve with policy and metadata signals only)") from exc
        base = f"http://{settings.host}:{settings.port}"
        if demo:
            from safeguarding.service.demo import seed_demo, write_credentials

            if e2ee:
                from safeguarding.service.e2ee_demo import seed_e2ee_demo

                info, gains = seed_e2ee_demo(ctx, base)
            else:
                info, gains = seed_demo(ctx, base), None
            if demo_credentials is not None:
                write_credentials(info, demo_credentials)
            echo(info.banner())
            if gains is not None:
                echo(gains)
            if demo_credentials is not None:
                echo(f"\n  Credentials written to {demo_credentials}")
            if tmp is not None:
                echo(f"  Demo database: {url} (deleted when the service stops; --db URL keeps it)")
        else:
            echo(f"Safeguarding on {base}  (docs {base}/docs, health {base}/health)")
            if not ctx.tenancy.users(None):
                echo(
                    "  no deployment admin yet: set SAFEGUARDING_ADMIN_EMAIL and SAFEGUARDING_ADMIN_PASSWORD "
                    "and restart to create one"
                )
        sys.stdout.flush()
        common: dict[str, Any] = {
            "host": settings.host,
            "port": settings.port,
            "log_level": "warning",
            "access_log": False,
            "timeout_graceful_shutdown": 30,
        }
        if settings.workers == 1:
            from safeguarding.service.app import create_app
            from safeguarding.service.runtime import tune_process

            app = create_app(context=ctx)
            tune_process()
            uvicorn.run(app, **common)
            return
        ctx.close()
        os.environ.update(_env_for_workers(settings))
        uvicorn.run(
            "safeguarding.service.app:app_from_environment", factory=True, workers=settings.workers, **common
        )
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
