#!/usr/bin/python3
"""Window-manager stand-in for the desktop end-to-end suite (steps/70-runs.mjs).

Xvfb runs no window manager, so nothing turns a click on a title bar's close button into the
request the app sees. This sends that request itself: the ICCCM WM_DELETE_WINDOW client message
a window manager sends to a top-level window when the user closes it (GTK turns it into
"delete-event", tao into Tauri's WindowEvent::CloseRequested). It also lists the viewable
top-level windows with their titles, so a test can see a native dialog the app opened.
(The WebDriver "close window" command is no substitute: wry maps it to destroying the webview,
which bypasses CloseRequested.)

Usage: runs-x11.py list                -> one JSON line per viewable top-level: {"id", "name"}
       runs-x11.py close WINDOW_ID     -> sends WM_DELETE_WINDOW to it
Uses libX11 through ctypes (no extra packages)."""
import ctypes
import ctypes.util
import json
import sys

x11 = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11") or "libX11.so.6")
x11.XOpenDisplay.restype = ctypes.c_void_p
x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
x11.XDefaultRootWindow.restype = ctypes.c_ulong
x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
x11.XInternAtom.restype = ctypes.c_ulong
x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
x11.XQueryTree.argtypes = [
    ctypes.c_void_p,
    ctypes.c_ulong,
    ctypes.POINTER(ctypes.c_ulong),
    ctypes.POINTER(ctypes.c_ulong),
    ctypes.POINTER(ctypes.POINTER(ctypes.c_ulong)),
    ctypes.POINTER(ctypes.c_uint),
]
x11.XFetchName.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_char_p)]
x11.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
x11.XFlush.argtypes = [ctypes.c_void_p]
x11.XFree.argtypes = [ctypes.c_void_p]


class XClientMessageEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", ctypes.c_long * 5),
    ]


class XWindowAttributes(ctypes.Structure):
    # Only the fields up to map_state matter here; the padding keeps the struct large enough.
    _fields_ = [
        ("x", ctypes.c_int), ("y", ctypes.c_int), ("width", ctypes.c_int), ("height", ctypes.c_int),
        ("border_width", ctypes.c_int), ("depth", ctypes.c_int), ("visual", ctypes.c_void_p),
        ("root", ctypes.c_ulong), ("class_", ctypes.c_int), ("bit_gravity", ctypes.c_int),
        ("win_gravity", ctypes.c_int), ("backing_store", ctypes.c_int), ("backing_planes", ctypes.c_ulong),
        ("backing_pixel", ctypes.c_ulong), ("save_under", ctypes.c_int), ("colormap", ctypes.c_ulong),
        ("map_installed", ctypes.c_int), ("map_state", ctypes.c_int), ("pad", ctypes.c_char * 128),
    ]


x11.XGetWindowAttributes.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(XWindowAttributes)]
CLIENT_MESSAGE = 33
IS_VIEWABLE = 2

dpy = x11.XOpenDisplay(None)
if not dpy:
    sys.exit("runs-x11.py: cannot open the X display (is DISPLAY set?)")
root = x11.XDefaultRootWindow(dpy)

x11.XGetWindowProperty.argtypes = [
    ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_long, ctypes.c_long, ctypes.c_int, ctypes.c_ulong,
    ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_ulong),
    ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_void_p),
]


def net_wm_name(w):
    """The UTF-8 title GTK sets (_NET_WM_NAME); WM_NAME is compound text for a non-Latin-1 title."""
    t, f, n, after, prop = ctypes.c_ulong(), ctypes.c_int(), ctypes.c_ulong(), ctypes.c_ulong(), ctypes.c_void_p()
    utf8 = x11.XInternAtom(dpy, b"UTF8_STRING", 0)
    ok = x11.XGetWindowProperty(dpy, w, x11.XInternAtom(dpy, b"_NET_WM_NAME", 0), 0, 4096, 0, utf8,
                                ctypes.byref(t), ctypes.byref(f), ctypes.byref(n), ctypes.byref(after), ctypes.byref(prop))
    if ok != 0 or not prop.value or t.value != utf8:
        return None
    value = ctypes.string_at(prop.value, n.value).decode("utf-8", "replace")
    x11.XFree(prop)
    return value


if sys.argv[1:] == ["list"]:
    r, p, n = ctypes.c_ulong(), ctypes.c_ulong(), ctypes.c_uint()
    kids = ctypes.POINTER(ctypes.c_ulong)()
    x11.XQueryTree(dpy, root, ctypes.byref(r), ctypes.byref(p), ctypes.byref(kids), ctypes.byref(n))
    for i in range(n.value):
        w = kids[i]
        attrs = XWindowAttributes()
        if not x11.XGetWindowAttributes(dpy, w, ctypes.byref(attrs)) or attrs.map_state != IS_VIEWABLE:
            continue
        title = net_wm_name(w)
        if title is None:
            name = ctypes.c_char_p()
            x11.XFetchName(dpy, w, ctypes.byref(name))
            title = name.value.decode("latin-1") if name.value else ""
        print(json.dumps({"id": w, "name": title}))
elif len(sys.argv) == 3 and sys.argv[1] == "close":
    win = int(sys.argv[2], 0)
    ev = XClientMessageEvent()
    ev.type = CLIENT_MESSAGE
    ev.send_event = 1
    ev.display = dpy
    ev.window = win
    ev.message_type = x11.XInternAtom(dpy, b"WM_PROTOCOLS", 0)
    ev.format = 32
    ev.data[0] = x11.XInternAtom(dpy, b"WM_DELETE_WINDOW", 0)
    ev.data[1] = 0  # CurrentTime
    buf = (ctypes.c_char * 192)()  # sizeof(XEvent)
    ctypes.memmove(buf, ctypes.byref(ev), ctypes.sizeof(ev))
    if not x11.XSendEvent(dpy, win, 0, 0, buf):
        sys.exit(f"runs-x11.py: XSendEvent to {win:#x} failed")
    x11.XFlush(dpy)
else:
    sys.exit(__doc__)
