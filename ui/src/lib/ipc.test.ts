import { describe, expect, it } from "vitest";
import { mockIPC } from "@tauri-apps/api/mocks";
import { api, FerryError, toFerryError } from "./ipc";

describe("IPC errors", () => {
  it("turns the wire error into a FerryError with its code", async () => {
    mockIPC(() => {
      throw { code: "unauthorized", message: "mirror:5000: authentication required" };
    });
    const err = await api.testLogin("mirror:5000").catch((e) => e);
    expect(err).toBeInstanceOf(FerryError);
    expect(err.code).toBe("unauthorized");
    expect(err.message).toContain("mirror:5000");
  });

  it("marks commands the shell does not have as unavailable", () => {
    const e = toFerryError("command plan_dry_run not found");
    expect(e.code).toBe("unavailable");
  });

  it("passes arguments in camelCase to the shell", async () => {
    let seen: unknown = null;
    mockIPC((cmd, args) => {
      seen = { cmd, args };
      return { path: "/m", exists: true, writable: true, freeBytes: 1, totalBytes: 2 };
    });
    const info = await api.folderInfo("/m");
    expect(seen).toEqual({ cmd: "folder_info", args: { path: "/m" } });
    expect(info.freeBytes).toBe(1);
  });
});
