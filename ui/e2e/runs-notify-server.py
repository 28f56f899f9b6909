#!/usr/bin/python3
"""A tiny org.freedesktop.Notifications server for the desktop end-to-end suite (steps/70-runs.mjs).

It owns the name on the test's session bus (dbus-run-session), answers like a notification daemon
and appends one JSON line per Notify call (app name, summary, body) to LOG, so the test reads the
end-of-run notification the app really sent. Uses Debian's python3-dbus and python3-gi.
Usage: runs-notify-server.py LOG   (prints "ready" once the name is owned)"""
import json
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

LOG = sys.argv[1]
IFACE = "org.freedesktop.Notifications"


class Server(dbus.service.Object):
    def __init__(self, bus):
        super().__init__(bus, "/org/freedesktop/Notifications")
        self.next_id = 0

    @dbus.service.method(IFACE, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app_name, replaces_id, icon, summary, body, actions, hints, timeout):
        self.next_id += 1
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps({"app": str(app_name), "summary": str(summary), "body": str(body)}) + "\n")
        return self.next_id

    @dbus.service.method(IFACE, in_signature="", out_signature="as")
    def GetCapabilities(self):
        return ["body"]

    @dbus.service.method(IFACE, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ["ferry-e2e", "ferry", "1.0", "1.2"]

    @dbus.service.method(IFACE, in_signature="u", out_signature="")
    def CloseNotification(self, nid):
        pass


DBusGMainLoop(set_as_default=True)
bus = dbus.SessionBus()
name = dbus.service.BusName(IFACE, bus, do_not_queue=True)
server = Server(bus)
print("ready", flush=True)
GLib.MainLoop().run()
