# Drives an installed Ferry through tauri-driver (already listening on PORT): opens a session on
# APP (the packaged binary or the AppImage), checks the window title is "Ferry" and that the
# masthead shows "Ferry engine VERSION", then closes the session. Used by test-package.sh (.deb)
# and test-appimage.sh. Usage: python3 wd-installed-app.py PORT APP VERSION [SCREENSHOT.png]
import base64
import json, sys, time, urllib.request
port, app, version = sys.argv[1], sys.argv[2], sys.argv[3]
shot = sys.argv[4] if len(sys.argv) > 4 else None
base = f"http://127.0.0.1:{port}"
def wd(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + url, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r).get("value")
for _ in range(100):
    try:
        wd("GET", "/status"); break
    except Exception:
        time.sleep(0.2)
sid = wd("POST", "/session", {"capabilities": {"alwaysMatch": {"browserName": "wry", "tauri:options": {"application": app}}}})["sessionId"]
try:
    title = wd("GET", f"/session/{sid}/title")
    assert title == "Ferry", f"window title {title!r}"
    deadline = time.time() + 30
    shown = ""
    while time.time() < deadline:
        try:
            el = wd("POST", f"/session/{sid}/element", {"using": "css selector", "value": '[data-testid="engine-version"]'})
            shown = wd("GET", f"/session/{sid}/element/{list(el.values())[0]}/text")
            if version in shown:
                break
        except Exception:
            pass
        time.sleep(0.3)
    assert f"Ferry engine {version}" in shown, f"the installed app shows {shown!r}, expected engine {version}"
    print(f"installed app: window '{title}', masthead '{shown}'")
    if shot:
        # The text is in the DOM before the web fonts and the first paint are: wait for both.
        for _ in range(50):
            if wd("POST", f"/session/{sid}/execute/sync", {"script": "return document.fonts.status", "args": []}) == "loaded":
                break
            time.sleep(0.1)
        time.sleep(1)
        png = base64.b64decode(wd("GET", f"/session/{sid}/screenshot"))
        assert png[:8] == b"\x89PNG\r\n\x1a\n", "the screenshot is not a PNG"
        open(shot, "wb").write(png)
        print(f"screenshot: {shot} ({len(png)} bytes)")
finally:
    try:
        wd("DELETE", f"/session/{sid}")
    except Exception:
        pass
