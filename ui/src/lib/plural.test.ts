import { describe, expect, it } from "vitest";
import { plural } from "./plural";

describe("plural", () => {
  it("uses the singular for exactly one", () => {
    expect(plural(1, "image")).toBe("1 image");
    expect(plural(1, "registry")).toBe("1 registry");
  });
  it("uses the plural for zero and many", () => {
    expect(plural(0, "image")).toBe("0 images");
    expect(plural(2, "part")).toBe("2 parts");
    expect(plural(3, "registry")).toBe("3 registries");
    expect(plural(2, "child", "children")).toBe("2 children");
  });
  it("groups thousands", () => {
    expect(plural(1234, "blob")).toBe("1,234 blobs");
  });
});
