"""Drive Debian's headless Chromium over the DevTools protocol (a websocket, websocket-client).

Opens a file:// page, records every console error, uncaught exception, log error and network
request, waits until the report says it is drawn (``data-glacier-ready`` on <html>), runs
JavaScript in the page and takes screenshots. Used by the browser tests and by
``bench/report_render.py``.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--hide-scrollbars",
    "--window-size=1400,1000",
    "--remote-debugging-port=0",
)


class ChromiumError(RuntimeError):
    pass


class Chromium:
    """One headless Chromium process with one page, as a context manager."""

    def __init__(self, profile: Path | None = None, executable: Path = CHROMIUM) -> None:
        if not executable.exists():
            raise ChromiumError(f"{executable} is missing: install it with `make chromium`.")
        self.executable = executable
        self._own_profile = profile is None
        self.profile = profile or Path(tempfile.mkdtemp(prefix="glacier-chromium-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.ws: Any = None
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    # -- process and connection --------------------------------------------------------------
    def __enter__(self) -> Chromium:
        import websocket

        self.process = subprocess.Popen(
            [str(self.executable), *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port = self._port()
        page = self._page_target(port)
        self.ws = websocket.create_connection(page, timeout=60, suppress_origin=True)
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.ws is not None:
            self.ws.close()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._own_profile:
            shutil.rmtree(self.profile, ignore_errors=True)

    def _port(self) -> int:
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise ChromiumError(f"chromium exited with code {self.process.returncode} at start")
            if marker.exists():
                lines = marker.read_text().split()
                if lines:
                    return int(lines[0])
            time.sleep(0.05)
        raise ChromiumError("chromium did not open its DevTools port within 60 s")

    def _page_target(self, port: int) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
                targets = json.loads(response.read())
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                return str(pages[0]["webSocketDebuggerUrl"])
            time.sleep(0.05)
        raise ChromiumError("chromium opened no page target")

    # -- protocol ------------------------------------------------------------------------------
    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        wanted = self._next_id
        self.ws.send(json.dumps({"id": wanted, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == wanted:
                if "error" in message:
                    raise ChromiumError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            if "method" in message:
                self.events.append(message)

    def _drain(self, seconds: float) -> None:
        """Read events for ``seconds`` (a no-op call keeps the loop simple)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.call("Runtime.evaluate", expression="0")
            time.sleep(0.02)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise ChromiumError(f"evaluating {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    # -- pages -----------------------------------------------------------------------------
    def open(self, path: Path, timeout: float = 60) -> float:
        """Load a file and wait until the report is drawn and painted; returns the seconds
        from navigation to the painted mark as measured here (wall clock)."""
        self.events.clear()
        started = time.perf_counter()
        self.call("Page.navigate", url=path.resolve().as_uri())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.evaluate(
                "(() => { const h = document.documentElement; return h ? [h.getAttribute("
                "'data-glacier-ready'), h.getAttribute('data-painted-ms')] : [null, null]; })()"
            )
            if state and state[0] == "error":
                break
            if state and state[0] == "1" and state[1] is not None:
                elapsed = time.perf_counter() - started
                self._drain(0.2)  # late console messages
                return elapsed
            time.sleep(0.02)
        raise ChromiumError(f"{path} was not drawn within {timeout:g} s; problems: {self.problems()}")

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions, log errors, and any request that
        left the page (a self-contained report makes none)."""
        found: list[str] = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append(f"exception: {details.get('exception', {}).get('description') or details}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in (
                "error",
                "warning",
                "assert",
            ):
                args = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                found.append(f"console.{params['type']}: {args}")
            elif method == "Log.entryAdded" and params["entry"].get("level") in ("error", "warning"):
                found.append(f"log {params['entry']['level']}: {params['entry'].get('text')}")
            elif method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                if not url.startswith(("file://", "data:", "about:")):
                    found.append(f"network request: {url}")
        return found

    def screenshot(self, path: Path, max_height: int = 6000) -> Path:
        """A PNG of the whole page (up to ``max_height`` CSS pixels tall)."""
        width = int(self.evaluate("document.documentElement.scrollWidth"))
        height = min(max_height, int(self.evaluate("document.documentElement.scrollHeight")))
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=max(width, 1400),
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        self.call("Emulation.clearDeviceMetricsOverride")
        path.write_bytes(base64.b64decode(shot["data"]))
        return path
