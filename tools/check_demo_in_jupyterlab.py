"""Check the live demo (notebooks/08_live_demo.ipynb) in a real browser, as a speaker would.

    taskset -c 0 python tools/check_demo_in_jupyterlab.py [--out DIR] [--port N] [--timeout S]

A fresh copy of the notebook (outputs and saved widget state cleared) goes into a temporary
folder; ``jupyter lab`` serves it on 127.0.0.1 and headless Chromium, driven by Playwright,
opens it, runs Run > Run All Cells, waits for every cell to finish, checks that the widgets
rendered (Run button, sliders, dropdowns), moves the Strength slider, picks another painting,
clicks Run and waits for the result picture beside the photo.  It prints what it found (one
line each) and saves screenshots in ``--out`` (default /tmp/demo_check) with the server's log.
Exit 0 when all of that worked, 1 with one sentence when something did not.

Everything runs on CPU core 0 with one thread per pool (another job may own core 1).

Setup (PyPI and Debian only; the system Chromium is used, never a browser download):
    apt-get install -y chromium chromium-driver     # /usr/bin/chromium
    pip install playwright                          # do NOT run `playwright install`
    pip install jupyterlab ipywidgets               # only if `pip list` lacks them
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "08_live_demo.ipynb"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
THREADS = {"OMP_NUM_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
           "TF_NUM_INTRAOP_THREADS": "1"}
PAINTING = "great_wave"  # picked in the widget before Run (else the second painting)
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'


class CheckFailed(Exception):
    """An expected failure, told as one sentence."""


def report(what: str, value) -> None:
    print(f"{what}: {value}", flush=True)


def fresh_copy(folder: Path) -> Path:
    """The notebook in ``folder`` with no outputs, counts or saved widget state."""
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    nb["metadata"].pop("widgets", None)
    for cell in nb["cells"]:
        cell["metadata"].pop("execution", None)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    path = folder / NOTEBOOK.name
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


def start_lab(root: Path, lab_home: Path, port: int, token: str, log) -> subprocess.Popen:
    settings = lab_home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)  # no news or update pop-ups over the notebook
    (settings / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}')
    env = dict(os.environ, **THREADS, JUPYTERLAB_SETTINGS_DIR=str(lab_home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(lab_home / "workspaces"))
    cmd = ["taskset", "-c", "0", sys.executable, "-m", "jupyterlab", "--no-browser",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")  # a container's root: jupyter lab refuses it otherwise
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def api(base: str, token: str, path: str, method: str = "GET"):
    req = urllib.request.Request(f"{base}{path}", method=method,
                                 headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.loads(response.read() or b"null")


def wait_for_lab(proc, base: str, token: str, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            last = [line for line in log.read_text().splitlines() if line[:2] in ("[C", "[E")]
            raise CheckFailed(f"jupyter lab exited at start (code {proc.returncode}): "
                              f"{last[-1].rstrip('.') if last else 'see ' + str(log)}.")
        try:
            api(base, token, "/api/status")
            return
        except OSError:
            time.sleep(0.5)
    raise CheckFailed(f"jupyter lab did not answer on {base} within {timeout:.0f} s.")


def stop_lab(proc, base: str, token: str) -> None:
    try:
        api(base, token, "/api/shutdown", method="POST")  # shuts its kernels down too
        proc.wait(timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def output_errors(page) -> list[str]:
    """Stderr and traceback text of the cell outputs, one short line each."""
    texts = page.locator(f'{STDERR}, .jp-OutputArea-output:has-text("Error displaying widget")')
    return [" | ".join(line.strip() for line in text.splitlines() if line.strip())[:300]
            for text in texts.all_inner_texts()]


def wait_until_idle(page, base: str, token: str, ms: int) -> None:
    """Every code cell numbered (none queued or running) and the kernel idle."""
    page.wait_for_function("""() => {
        const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
        return p.length > 0 && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }""",
                           timeout=ms, polling=250)
    deadline = time.monotonic() + ms / 1000
    while any(k["execution_state"] != "idle" for k in api(base, token, "/api/kernels")):
        if time.monotonic() > deadline:
            raise CheckFailed("the kernel stayed busy after every cell had run.")
        time.sleep(0.5)


def drive(page, base: str, token: str, out: Path, ms: int) -> list[str]:
    """Open, Run All, check the widgets, change two settings, click Run; the errors seen."""
    from playwright.sync_api import Error as PlaywrightError

    page.goto(f"{base}/lab/tree/{NOTEBOOK.name}?token={token}", timeout=ms)
    report("JupyterLab", page.evaluate("JSON.parse(document.getElementById("
                                       "'jupyter-config-data').textContent).appVersion"))
    page.wait_for_function("""() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]
        .some(e => /\\| Idle/.test(e.textContent))""", timeout=ms, polling=250)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.locator('.lm-Menu .lm-Menu-itemLabel:text-is("Run All Cells")').click()
    t0 = time.perf_counter()
    wait_until_idle(page, base, token, ms)
    report("Run All", f"every cell ran, kernel idle after {time.perf_counter() - t0:.1f} s")
    box = page.locator(".jp-OutputArea-output .widget-vbox").first
    shot1 = out / "after_run_all.png"
    try:
        box.wait_for(timeout=min(ms, 30_000))  # views render just after the cell ran
    except PlaywrightError:
        page.screenshot(path=str(shot1))
        text = " ".join(page.locator(".jp-OutputArea-output").all_inner_texts())
        raise CheckFailed("the demo's widgets did not render after Run All" + (
            " (the kernel lacks ipywidgets: pip install ipywidgets)."
            if "needs ipywidgets" in text else f"; see {shot1}.")) from None
    box.scroll_into_view_if_needed()
    counts = {name: box.locator(sel).count() for name, sel in (
        ("Run button", 'button.jupyter-button:has-text("Run")'),
        ("sliders", ".widget-slider"), ("dropdowns", ".widget-dropdown select"),
        ("upload buttons", ".widget-upload"), ("images", "img.widget-image"))}
    rendered = all(counts[k] for k in ("Run button", "sliders", "dropdowns"))
    report("widgets rendered", ("yes (" if rendered else "NO (") + ", ".join(
        f"{n} {name}" for name, n in counts.items()) + ")")
    page.screenshot(path=str(shot1))
    errors = output_errors(page)
    report("errors in cell outputs after Run All", " || ".join(errors) or "none")
    if not rendered:
        raise CheckFailed("the widget box rendered without its Run button, sliders or "
                          "dropdowns.")

    status = box.locator(".widget-html").first
    result = box.locator("img.widget-image").last
    if result.evaluate("img => img.offsetParent !== null && img.naturalWidth === 0"):
        raise CheckFailed("before Run, the empty result slot shows a broken-image icon.")
    report("before Run", "no result picture is shown yet (the slot is hidden)")
    # What a speaker does: a lower strength, another painting, then Run.
    strength = box.locator('.widget-hslider:has(label:text-is("Strength"))')
    strength.locator(".noUi-handle").click()
    for _ in range(4):
        strength.locator(".noUi-handle").press("ArrowLeft")
    painting = box.locator('.widget-dropdown:has(label:text-is("Painting")) select')
    labels = [o.strip() for o in painting.locator("option").all_inner_texts()]
    pick = PAINTING if PAINTING in labels else labels[min(1, len(labels) - 1)]
    painting.select_option(label=pick)
    status.filter(has_text="Ready").wait_for(timeout=ms)
    report("set", f"strength {strength.locator('.widget-readout').inner_text().strip()}, "
                  f"painting {pick}")
    old_src = result.get_attribute("src")
    button = box.locator('button.jupyter-button:has-text("Run")')
    t0 = time.perf_counter()
    button.click()
    try:
        page.wait_for_function("""([img, old]) => img.src !== old && img.complete
            && img.naturalWidth > 0""", arg=[result.element_handle(), old_src],
                               timeout=ms, polling=100)
    except PlaywrightError:
        page.screenshot(path=str(out / "after_click.png"))
        raise CheckFailed(f"no result picture within {ms // 1000} s of clicking Run; the "
                          f"status line says {status.inner_text().strip()!r}.") from None
    report("click to result", f"{time.perf_counter() - t0:.2f} s")
    w, h, shown_w, shown_h, dy, dx = result.evaluate("""img => {
        const r = img.getBoundingClientRect();
        const p = img.previousElementSibling.getBoundingClientRect();
        return [img.naturalWidth, img.naturalHeight, r.width, r.height, r.top - p.top,
                r.left - p.right]; }""")
    beside = abs(dy) < 5 and dx >= -1
    report("result image", f"{w}x{h} px, shown at {shown_w:.0f}x{shown_h:.0f} px, "
                           f"{'beside' if beside else 'NOT beside'} the photo")
    report("status line", status.inner_text().strip())
    report("Run button after the result", "disabled" if button.is_disabled() else "enabled")
    page.wait_for_timeout(500)  # let the picture paint before the screenshot
    box.scroll_into_view_if_needed()
    shot2, shot3 = out / "after_click.png", out / "after_click_widget.png"
    page.screenshot(path=str(shot2)), box.screenshot(path=str(shot3))
    new = output_errors(page)[len(errors):]
    report("new errors in cell outputs after the click", " || ".join(new) or "none")
    report("screenshots", f"{shot1} {shot2} {shot3}")
    if not beside:
        raise CheckFailed("the result picture is not shown beside the photo.")
    return errors + new


def in_browser(profile: Path, base: str, token: str, out: Path, ms: int) -> list[str]:
    """Run :func:`drive` in a fresh headless Chromium; report its version and console errors."""
    from playwright.sync_api import Error as PlaywrightError, sync_playwright

    console: list[str] = []
    with sync_playwright() as pw:
        try:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 1000})
        except PlaywrightError as exc:
            raise CheckFailed(f"Chromium at {CHROMIUM} did not start ({first_line(exc)}); "
                              "reinstall it: apt-get install -y chromium.") from None
        page = context.pages[0] if context.pages else context.new_page()
        page.on("console", lambda m: m.type == "error" and console.append(m.text))
        page.on("pageerror", lambda e: console.append(str(e)))
        try:
            report("Chromium", context.new_cdp_session(page).send("Browser.getVersion")["product"])
            return drive(page, base, token, out, ms)
        except PlaywrightError as exc:
            try:
                page.screenshot(path=str(out / "failure.png"))
            except PlaywrightError:
                pass
            raise CheckFailed(f"a browser step failed ({first_line(exc)}); see "
                              f"{out / 'failure.png'}.") from None
        finally:
            report("browser console errors", len(console))
            for text in console[:5]:
                print("   ", text[:200])
            context.close()


def first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/demo_check"))
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per wait")
    args = parser.parse_args()
    os.sched_setaffinity(0, {0})  # the browser and the server inherit it
    missing = [hint for name, hint in (("playwright", "pip install playwright"), (
        "jupyterlab", "pip install jupyterlab"), ("jupyterlab_widgets", "pip install ipywidgets"))
        if not importlib.util.find_spec(name)]
    if not os.access(CHROMIUM, os.X_OK):
        missing.append("apt-get install -y chromium chromium-driver")
    if missing:
        print(f"FAILED: this check needs what is missing here; run: {'; '.join(missing)}.")
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    port = args.port
    if not port:  # a free one
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    base, token, ms = f"http://127.0.0.1:{port}", secrets.token_hex(16), int(args.timeout * 1000)
    with tempfile.TemporaryDirectory(prefix="demo_check_") as tmp, \
            open(args.out / "jupyterlab.log", "w") as log:
        root = Path(tmp, "notebooks")
        root.mkdir()
        fresh_copy(root)
        lab = start_lab(root, Path(tmp, "lab"), port, token, log)
        try:
            wait_for_lab(lab, base, token, args.timeout, args.out / "jupyterlab.log")
            errors = in_browser(Path(tmp, "chromium-profile"), base, token, args.out, ms)
        except CheckFailed as exc:
            print(f"FAILED: {exc}")
            return 1
        finally:
            stop_lab(lab, base, token)
    tracebacks = [e for e in errors if re.search(r"Traceback|Error\b|Error:", e)]
    if tracebacks:
        print(f"FAILED: a cell output shows an error: {tracebacks[0][:200]}")
        return 1
    print("OK: in Chromium, the demo ran in JupyterLab and showed its result beside the photo.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
