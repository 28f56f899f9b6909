import { describe, expect, it } from "vitest";
import { formatBytes, formatDuration, partsFor } from "./format";

describe("formatting", () => {
  it("formats bytes in binary units", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(4 * 1024 ** 3)).toBe("4.0 GiB");
  });
  it("formats durations", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(42)).toBe("42s");
    expect(formatDuration(125)).toBe("2m 5s");
    expect(formatDuration(3700)).toBe("1h 1m");
  });
  it("counts archive parts", () => {
    expect(partsFor(0, null)).toBe(0);
    expect(partsFor(10, null)).toBe(1);
    expect(partsFor(9 * 1024 ** 3, 4 * 1024 ** 3)).toBe(3);
  });
});
