"""Sections "browser" and "memory": a real `streamlit run app.py` server and headless Chromium.

browser: the time from starting the server process to the first maps on screen; then a new session's
first maps once that server is warm (TensorFlow imported by the first session); then, on the
playground at 1024², the time from a key press on a kernel slider to the updated maps being painted,
and the bytes the browser receives for each change.

memory: the server's peak resident memory (with its children) while 1 and then 5 visitors each
upload their own 2048² photo and compute at full size.
"""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from tests.e2e.harness import ROOT, Server, browser_missing, chromium, tree_rss, wait_idle
from ui.common.map_view import IMG_CLASS, ROOT_CLASS
from ui.playground.keys import MAPS as LIVE_MAPS

from .stats import Figure, Target, unavailable

VIEWPORT = {"width": 1500, "height": 1100}

# Installed before any page script: key presses and WebSocket traffic, on the page's own clock.
INSTRUMENT_JS = """
window.__bench = {keydown: [], sent: [], recv: []};
document.addEventListener('keydown', () => window.__bench.keydown.push(performance.now()), true);
(() => {
  const Native = window.WebSocket;
  const size = d => (d && (d.byteLength ?? d.size ?? d.length)) || 0;
  class Counted extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', ev => window.__bench.recv.push([performance.now(), size(ev.data)]));
    }
    send(data) {
      window.__bench.sent.push([performance.now(), size(data)]);
      return super.send(data);
    }
  }
  window.WebSocket = Counted;
})();
"""

# The pictures a key press must change, each as [the picture the page holds, the one on screen (null until
# it is)]: on the Playground the maps after the input (convolution, activation, pooling), map_view pictures
# (ui/common/map_view.py), on screen once loaded and decoded.
MAPS = f"document.querySelectorAll('.{ROOT_CLASS} img.{IMG_CLASS}')"
PLAYGROUND_PICS = f"""() => Array.from({MAPS}).slice(1, 4).map(img => {{
  const src = img.getAttribute('src') || null;
  return [src, src && img.complete && img.naturalWidth > 0 ? src : null];
}})"""
# On the Layer stack, the first map (channel 0, whose filter the key press edits) of the bands after the input
# (conv, ReLU, pool): a band view's tile (ui/stack/band_view.py), on screen once loaded and decoded. (Trees before
# round 11 drew each tile as an st.image in a keyed container: step_ab finds those too.)
STACK_PICS = """() => [1, 2, 3].map(i => {
  const img = document.querySelector(`.ls-tile[data-tile="${i}_0"] img, .st-key-ls_cell_${i}_0 img`);
  const src = (img && img.getAttribute('src')) || null;
  return [src, src && img.complete && img.naturalWidth > 0 ? src : null];
})"""

# Every frame, look whether all the pictures differ from `prev` and are on screen; the frame after that has
# been painted, so its requestAnimationFrame time is the paint time. Also note when the app reports its
# script run finished (running → notRunning).
WATCH_JS = """([pics, prev]) => {
  const current = eval('(' + pics + ')');
  window.__paint = null;
  const t0 = performance.now();
  const done = () => {
    const now = current();
    return now.length === prev.length && now.length > 0 && now.every(([src, shown], i) => src && src !== prev[i] && shown === src);
  };
  window.__idle = null;
  const app = document.querySelector('[data-testid=stApp]');
  let ran = false;
  const watcher = new MutationObserver(() => {
    const state = app.getAttribute('data-test-script-state');
    if (state === 'running') ran = true;
    else if (ran && state === 'notRunning' && window.__idle === null) {
      window.__idle = performance.now();
      watcher.disconnect();
    }
  });
  watcher.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  const frame = () => {
    if (done()) requestAnimationFrame(t => { window.__paint = performance.now(); });
    else if (performance.now() - t0 < 120000) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}"""

# The first maps are painted when four map pictures are on screen (loaded and decoded): the stored first
# screen's (ui/playground/first_screen.py, while a fresh server imports TensorFlow) or the live page's.
FIRST_MAPS_JS = f"""() => Array.from({MAPS}).filter(i => i.complete && i.naturalWidth > 0).length >= 4"""
# ...and interactive once the live page's four maps are on screen: they hover, zoom and open a value's worked sum
# on a click from their first paint (no Plotly to load first).
INTERACTIVE_MAPS_JS = f"""() => Array.from(document.querySelectorAll('.st-key-{LIVE_MAPS} img.{IMG_CLASS}'))
  .filter(i => i.complete && i.naturalWidth > 0).length >= 4"""
FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def _wait_maps(page, script: str, t0: float) -> float:
    """Seconds from ``t0`` until ``script`` holds and the frame after has been painted."""
    page.wait_for_function(script, timeout=120_000, polling="raf")
    page.evaluate(FRAMES)
    return time.perf_counter() - t0


class BrowserUnavailable(RuntimeError):
    pass


def check_browser() -> None:
    why = browser_missing()
    if why:
        raise BrowserUnavailable(why)


def new_page(browser):
    ctx = browser.new_context(viewport=VIEWPORT)
    ctx.add_init_script(INSTRUMENT_JS)
    return ctx.new_page()


class Bytes:
    """What the browser receives, counted by the DevTools protocol: WebSocket frames and HTTP bodies."""

    def __init__(self, page) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.urls: dict[str, str] = {}
        self.cdp.on("Network.webSocketFrameReceived", self._frame)
        self.cdp.on("Network.requestWillBeSent", self._request)
        self.cdp.on("Network.loadingFinished", self._loaded)
        self.reset()

    def reset(self) -> None:
        self.ws_bytes = self.ws_frames = self.http_bytes = self.http_requests = self.media_bytes = 0

    def _frame(self, p: dict) -> None:
        r = p.get("response", {})
        data = r.get("payloadData", "")
        self.ws_bytes += len(base64.b64decode(data)) if r.get("opcode") == 2 else len(data.encode())
        self.ws_frames += 1

    def _request(self, p: dict) -> None:
        self.urls[p.get("requestId", "")] = p.get("request", {}).get("url", "")

    def _loaded(self, p: dict) -> None:
        url = self.urls.get(p.get("requestId", ""), "")
        if url.startswith("data:"):
            return  # a data URI already came inside a WebSocket frame
        n = int(p.get("encodedDataLength", 0))
        self.http_bytes += n
        self.http_requests += 1
        if "/media/" in url:
            self.media_bytes += n

    @property
    def total(self) -> int:
        return self.ws_bytes + self.http_bytes


def playground_link(side: int) -> str:
    """Query parameters that open the playground with the cameraman photo resized to side²."""
    from cnn_core import share
    from cnn_core.spec import default_spec, parse_spec

    spec = default_spec().to_dict()
    spec["input"]["size"] = [side, side]
    return urlencode(share.encode_state(share.LinkState(page="playground", sample="camera", spec=parse_spec(spec))))


def stack_link(side: int) -> str:
    """Query parameters that open the Layer stack on the server section's stack (conv with 8 filters → ReLU →
    2×2 max pool, the first filter's weights as sliders) and the chelsea photo, RGB, resized to side²."""
    from cnn_core import share
    from cnn_core.spec import parse_spec

    from .server import stack_spec

    state = share.LinkState(page="stack", sample="chelsea", spec=parse_spec(stack_spec(side)))
    return urlencode(share.encode_state(state))


IMPORTS = (
    "import time; t = time.perf_counter(); import cnn_core, plotly.graph_objects, streamlit, ui.common.figures; "
    "print(time.perf_counter() - t)"
)


def import_seconds() -> float:
    """What the first visit waits for before any page work: the imports, timed in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", IMPORTS], cwd=ROOT, capture_output=True, text=True, timeout=120)
    return float(out.stdout.strip().splitlines()[-1])


def _first_maps(browser) -> tuple[float, float, float, Server, object]:
    """Start a server, open the app and wait for the first maps; (seconds to maps painted, to maps interactive,
    to health, server, page)."""
    page = new_page(browser)
    server = Server()
    try:
        page.goto(server.url)
        painted = _wait_maps(page, FIRST_MAPS_JS, server.started)
        interactive = _wait_maps(page, INTERACTIVE_MAPS_JS, server.started)
        return painted, interactive, server.healthy_after, server, page
    except Exception:
        server.stop()
        raise


LIVE_PAGE = "text=Computed by TensorFlow"  # the live Playground's timing caption (not on the stored first screen)


def _new_sessions(browser, server: Server, page, n: int) -> list[dict]:
    """Once the first session's live page is up (TensorFlow imported), open ``n`` new sessions one at a time
    and time each from navigation to its first maps painted; also when the server's last message arrived
    and what the browser received."""
    page.wait_for_selector(LIVE_PAGE, state="attached", timeout=180_000)
    wait_idle(page, timeout=180_000)
    out = []
    for _ in range(n):
        fresh = new_page(browser)
        counter = Bytes(fresh)
        t0 = time.perf_counter()
        fresh.goto(server.url)
        seconds = _wait_maps(fresh, FIRST_MAPS_JS, t0)
        interactive = _wait_maps(fresh, INTERACTIVE_MAPS_JS, t0)
        wait_idle(fresh)
        recv = fresh.evaluate("window.__bench.recv")
        first_paint = [t for t, _ in recv if t <= seconds * 1000]
        out.append(
            {
                "first_maps_s": seconds,
                "interactive_s": interactive,
                "last_message_before_maps_s": max(first_paint, default=0) / 1000,
                "last_message_s": max((t for t, _ in recv), default=0) / 1000,
                "ws_bytes": counter.ws_bytes,
                "http_bytes": counter.http_bytes,
                "http_requests": counter.http_requests,
            }
        )
        fresh.context.close()
    return out


def _one_change(page, counter: Bytes, pics: str = PLAYGROUND_PICS) -> dict:
    """Press ArrowLeft on the (first) w[1,1] slider until the pictures ``pics`` names are painted anew; times on
    the page's clock and bytes received."""
    page.get_by_role("slider", name="w[1,1]").first.focus()
    prev = [src for src, _ in page.evaluate(pics)]
    page.evaluate(WATCH_JS, [pics, prev])
    n_keys = page.evaluate("window.__bench.keydown.length")
    counter.reset()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("window.__paint !== null && window.__idle !== null", timeout=120_000)
    wait_idle(page)
    b = page.evaluate("window.__bench")
    caption = page.get_by_text("Computed by TensorFlow").first.inner_text(timeout=5_000)
    key = b["keydown"][n_keys]
    paint, idle = page.evaluate("[window.__paint, window.__idle]")
    sent = next((t for t, _ in b["sent"] if t >= key), None)
    # The last message before the paint carried the last of the new maps.
    last = max((t for t, _ in b["recv"] if sent is not None and sent <= t <= paint), default=None)
    return {
        "key_to_paint_ms": paint - key,
        "key_to_idle_ms": idle - key,
        "key_to_request_ms": None if sent is None else sent - key,
        "request_to_last_reply_ms": None if sent is None or last is None else last - sent,
        "last_reply_to_paint_ms": None if last is None else paint - last,
        "compute_ms": sum(float(v) for v in re.findall(r"(\d+(?:\.\d+)?) ms", caption)),
        "ws_bytes": counter.ws_bytes,
        "ws_frames": counter.ws_frames,
        "http_bytes": counter.http_bytes,
        "http_requests": counter.http_requests,
        "media_bytes": counter.media_bytes,
        "bytes": counter.total,
    }


def _open_playground(browser, server: Server, side: int, page=None):
    page = page or new_page(browser)
    page.goto(f"{server.url}/?{playground_link(side)}")
    page.wait_for_selector(f"text={side}×{side}×1", timeout=120_000)
    page.wait_for_function(INTERACTIVE_MAPS_JS, timeout=180_000, polling="raf")
    wait_idle(page)
    counter = Bytes(page)
    _one_change(page, counter)  # the first change at this size is not timed
    return page, counter


def _open_stack(browser, server: Server, side: int):
    page = new_page(browser)
    page.goto(f"{server.url}/layer_stack?{stack_link(side)}")
    # The input's band, once it shows the photo's shape (the shapes table's hidden cells say it too).
    page.locator("[class*='st-key-ls_band_']", has_text=f"{side}×{side}×3").first.wait_for(timeout=120_000)
    wait_idle(page)
    if not page.get_by_role("slider", name="w[1,1]").count():  # open the first layer's settings
        page.locator("[class*='st-key-ls_L'][class*='_open'] button").first.click()
        page.get_by_role("slider", name="w[1,1]").first.wait_for(timeout=120_000)
        wait_idle(page)
    counter = Bytes(page)
    _one_change(page, counter, STACK_PICS)  # the first change at this size is not timed
    return page, counter


def profile_server(
    server: Server, page, counter: Bytes, changes: int, out: Path, pics: str = PLAYGROUND_PICS, name: str = "server"
) -> dict:
    """py-spy on the server process while the page makes ``changes`` more slider changes (``pics``: what they
    repaint); the raw stacks go to ``out``/profile_``name``_py-spy.txt."""
    from . import profiling

    if not profiling.py_spy_available():
        return {"error": "py-spy is not installed (pip install -r requirements-bench.txt)"}
    out.mkdir(parents=True, exist_ok=True)
    raw = out / f"profile_{name}_py-spy.txt"
    spy = profiling.py_spy_start(server.proc.pid, raw)
    time.sleep(2)  # let it attach
    if spy.poll() is not None:
        return {"error": f"py-spy could not attach: {profiling.py_spy_stop(spy)}"}
    for _ in range(changes):
        _one_change(page, counter, pics)
    messages = profiling.py_spy_stop(spy)
    if not raw.exists():
        return {"error": f"py-spy wrote nothing: {messages}"}
    return {"changes": changes, "raw": str(raw), **profiling.script_thread_summary(raw)}


def run_browser(quick: bool, repeats: int, profile_dir: Path | None = None) -> tuple[list[Figure], dict]:
    section = "browser"
    t_first, t_paint, t_bytes = Target("<=", 5, "s"), Target("<=", 120, "ms"), Target("<=", 1, "MB")  # issue 22
    t_stack = Target("<=", 200, "ms")  # issue 22
    t_session = Target("<=", 2, "s")  # issue 22: a new session on a warm server
    side = 128 if quick else 1024
    names = (
        "server start → first maps painted (default page)",
        f"slider key press → updated maps painted, playground {side}²",
        f"bytes received per slider change, playground {side}² (1 MB = 10⁶ B)",
        "a new session's first maps painted, warm server (default page)",
        f"slider key press → updated maps painted, Layer stack (conv 8 filters → ReLU → pool) RGB {side}²",
    )
    try:
        check_browser()
    except BrowserUnavailable as e:
        return [
            unavailable(section, n, u, str(e), t)
            for n, u, t in zip(names, ("s", "ms", "MB", "s", "ms"), (t_first, t_paint, t_bytes, t_session, t_stack))
        ], {}
    starts = 1 if quick else 3
    changes = 2 if quick else max(2, repeats)
    firsts: list[float] = []
    interactives: list[float] = []
    health: list[float] = []
    imports: list[float] = []
    detail: dict = {"side": side, "changes": [], "stack_changes": []}
    with chromium() as browser:
        for i in range(starts):
            imports.append(import_seconds())
            seconds, interactive, healthy_after, server, page = _first_maps(browser)
            firsts.append(seconds)
            interactives.append(interactive)
            health.append(healthy_after)
            if i < starts - 1:
                page.context.close()
                server.stop()
                continue
            try:
                detail["new_sessions"] = _new_sessions(browser, server, page, 2 if quick else max(3, repeats))
                page, counter = _open_playground(browser, server, side, page)
                for _ in range(changes):
                    detail["changes"].append(_one_change(page, counter))
                if page.locator("[data-testid=stException]").count():
                    raise RuntimeError("the page shows an exception")
                if profile_dir is not None:
                    detail["server_profile"] = profile_server(server, page, counter, 2 if quick else 8, profile_dir)
                page.context.close()
                page, counter = _open_stack(browser, server, side)
                for _ in range(changes):
                    detail["stack_changes"].append(_one_change(page, counter, STACK_PICS))
                if page.locator("[data-testid=stException]").count():
                    raise RuntimeError("the Layer stack shows an exception")
                if profile_dir is not None:
                    detail["stack_server_profile"] = profile_server(
                        server, page, counter, 2 if quick else 8, profile_dir, STACK_PICS, "stack"
                    )
            finally:
                server.stop()
    ch, sk = detail["changes"], detail["stack_changes"]
    fresh = detail.get("new_sessions", [])

    def fig(name: str, unit: str, values: list, target: Target | None = None) -> Figure:
        return Figure(section, name, unit, [v for v in values if v is not None], target, quick=quick)

    return [
        fig(names[0], "s", firsts, t_first),
        fig(
            "  then: server start → the live page's maps (hover, zoom and click work)",
            "s",
            interactives,
        ),
        fig("  of which: server start → health check answers", "s", health),
        fig("  for scale: importing cnn_core, ui and the page's modules in a fresh Python", "s", imports),
        fig(names[3], "s", [v["first_maps_s"] for v in fresh], t_session),
        fig(
            "  of which: navigation → the last message before the maps painted",
            "s",
            [v["last_message_before_maps_s"] for v in fresh],
        ),
        fig("  then: navigation → the live page's maps", "s", [v["interactive_s"] for v in fresh]),
        fig(
            "  navigation → the server's last message (the upgrade to figures included)",
            "s",
            [v["last_message_s"] for v in fresh],
        ),
        fig(
            "  bytes a new session receives (WebSocket and HTTP)",
            "MB",
            [(v["ws_bytes"] + v["http_bytes"]) / 1e6 for v in fresh],
        ),
        fig(names[1], "ms", [c["key_to_paint_ms"] for c in ch], t_paint),
        fig("  of which: key press → rerun request sent", "ms", [c["key_to_request_ms"] for c in ch]),
        fig(
            "  of which: request → last message before the paint (server)",
            "ms",
            [c["request_to_last_reply_ms"] for c in ch],
        ),
        fig("  of which: that message → maps painted (browser)", "ms", [c["last_reply_to_paint_ms"] for c in ch]),
        fig("  for scale: computing the stages (the page's own caption)", "ms", [c["compute_ms"] for c in ch]),
        fig("slider key press → script run finished (app idle again)", "ms", [c["key_to_idle_ms"] for c in ch]),
        fig(names[2], "MB", [c["bytes"] / 1e6 for c in ch], t_bytes),
        fig("  of which over HTTP (media files and other requests)", "MB", [c["http_bytes"] / 1e6 for c in ch]),
        fig(names[4], "ms", [c["key_to_paint_ms"] for c in sk], t_stack),
        fig(
            "  of which: request → last message before the paint (server)",
            "ms",
            [c["request_to_last_reply_ms"] for c in sk],
        ),
        fig("  of which: that message → maps painted (browser)", "ms", [c["last_reply_to_paint_ms"] for c in sk]),
        fig("  for scale: computing the stages (the page's own caption)", "ms", [c["compute_ms"] for c in sk]),
        fig("  bytes received per change (MB)", "MB", [c["bytes"] / 1e6 for c in sk]),
        fig("  WebSocket messages per change", "", [c["ws_frames"] for c in sk]),
    ], detail


# --------------------------------------------------------------------------- memory


def _rss(proc) -> int:
    return tree_rss(proc)


class PeakWatcher:
    """Samples a process tree's RSS every 50 ms in a thread; ``peak`` since the last ``reset``."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss(self.proc))
            self._stop.wait(0.05)

    def now(self) -> int:
        return _rss(self.proc)

    def reset(self) -> None:
        self.peak = self.now()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def _photos(folder: Path, n: int, side: int) -> list[Path]:
    """n distinct photo-like RGB JPEGs of side² pixels."""
    from PIL import Image

    from .core import photo

    paths = []
    for i in range(n):
        p = folder / f"visitor{i}_{side}.jpg"
        Image.fromarray(photo(side, 3, seed=100 + i)).save(p, quality=90)
        paths.append(p)
    return paths


def _visit(browser, url: str, photo: Path, side: int, changes: int):
    """A visitor who uploads a photo, keeps the photo's own size and moves a kernel slider."""
    page = new_page(browser)
    page.goto(url)
    wait_idle(page)
    sidebar = page.get_by_test_id("stSidebarUserContent")
    sidebar.get_by_role("radiogroup", name="Source").get_by_text("Upload", exact=True).click()
    wait_idle(page)
    sidebar.locator("input[type=file]").set_input_files(str(photo))
    page.wait_for_selector(f"text={photo.name}", timeout=120_000)
    wait_idle(page)
    page.get_by_text("The photo's own size").click()
    page.wait_for_selector(f"text={side}×{side}×1", timeout=180_000)
    wait_idle(page)
    for _ in range(changes):
        _step(page)
    if page.locator("[data-testid=stException]").count():
        raise RuntimeError("the page shows an exception")
    return page


SLIDER_VALUE_JS = "() => { const s = document.querySelector('input[aria-label=\"w[1,1]\"]'); return s && s.value; }"


def _step(page) -> None:
    """One ArrowLeft on the w[1,1] slider; returns once the server has run with the new value."""
    before = page.evaluate(SLIDER_VALUE_JS)
    page.get_by_role("slider", name="w[1,1]").focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"v => ({SLIDER_VALUE_JS})() !== v", arg=before, timeout=120_000)
    wait_idle(page, timeout=300_000)


_BOUND_PATTERNS = (
    r"^[A-Z_]*CACHE[A-Z_]*\s*=\s*[\w_]+",  # e.g. STAGE_CACHE_BYTES = 768_000_000
    r"max_entries=[\w()]+",  # st.cache_resource / st.cache_data entry limits
    r"max_items: int = \d+",  # hand-written LRUs' default size
    r"^_[A-Z]+ = _\w+\(\d+\)",  # e.g. _THUMBS = _Lru(1024)
)


def cache_bounds() -> dict[str, list[str]]:
    """Every cache limit the UI declares, per file (read from the source, so nothing Streamlit runs here)."""
    import re

    out: dict[str, list[str]] = {}
    for path in sorted((ROOT / "ui").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        found = [m.group(0).strip() for pat in _BOUND_PATTERNS for m in re.finditer(pat, text, re.MULTILINE)]
        if found:
            out[path.relative_to(ROOT).as_posix()] = found
    return out


def run_memory(quick: bool, repeats: int) -> tuple[list[Figure], dict]:
    section = "memory"
    side = 256 if quick else 2048
    counts = (1, 2) if quick else (1, 5)
    names = [f"server peak RSS (with children), {n} session{'s' if n > 1 else ''} on {side}² photos" for n in counts]
    detail: dict = {"side": side, "cache_bounds": cache_bounds()}
    try:
        check_browser()
        import psutil  # noqa: F401
    except (BrowserUnavailable, ImportError) as e:
        return [unavailable(section, n, "MiB", str(e)) for n in names], detail
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp, chromium() as browser:
        photos = _photos(Path(tmp), counts[-1], side)
        server = Server()
        watcher = PeakWatcher(server.proc.pid)
        try:
            time.sleep(1)
            idle = watcher.now()
            figures.append(
                Figure(section, "server RSS, started and idle (no session yet)", "MiB", [idle / 2**20], quick=quick)
            )
            watcher.reset()
            pages = []
            for n, name in zip(counts, names):
                try:
                    while len(pages) < n:
                        pages.append(_visit(browser, server.url, photos[len(pages)], side, changes=2))
                except Exception as e:  # keep what was measured; say why the rest is missing
                    why = f"visitor {len(pages) + 1} could not finish: {type(e).__name__}: {str(e)[:200]}"
                    figures += [unavailable(section, m, "MiB", why) for m in names[names.index(name) :]]
                    break
                time.sleep(0.5)
                figures.append(Figure(section, name, "MiB", [watcher.peak / 2**20], quick=quick))
                detail[f"rss_after_{n}_sessions_MiB"] = watcher.now() / 2**20
            for p in pages:
                p.context.close()
        finally:
            watcher.stop()
            server.stop()
    return figures, detail
