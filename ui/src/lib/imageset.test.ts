import { describe, expect, it } from "vitest";
import { appendItem, getList, getString, parse, removeItem, seqLength, setIn, setList } from "./imageset";

const BASE = `# my comment stays
kind: ImageSetConfiguration
apiVersion: mirror.openshift.io/v1alpha2
mirror:
  additionalImages:
    - name: quay.io/a/b:1
`;

describe("image set YAML model", () => {
  it("sets a nested field and keeps comments and other keys", () => {
    const out = setIn(BASE, ["storageConfig", "local", "path"], "/data/meta");
    expect(out).toContain("# my comment stays");
    expect(out).toContain("path: /data/meta");
    const { doc } = parse(out);
    expect(getString(doc, ["mirror", "additionalImages", 0, "name"])).toBe("quay.io/a/b:1");
  });

  it("removes an emptied optional key and its empty parents", () => {
    const withPath = setIn(BASE, ["storageConfig", "local", "path"], "/x");
    const out = setIn(withPath, ["storageConfig", "local", "path"], "");
    expect(out).not.toContain("storageConfig");
  });

  it("keeps a list item whose only field was cleared", () => {
    const out = setIn(BASE, ["mirror", "additionalImages", 0, "name"], "");
    expect(seqLength(parse(out).doc, ["mirror", "additionalImages"])).toBe(1);
    const again = setIn(out, ["mirror", "additionalImages", 0, "name"], "quay.io/x/y:2");
    expect(parse(again).doc.toJS().mirror.additionalImages).toEqual([{ name: "quay.io/x/y:2" }]);
  });

  it("appends and removes list items", () => {
    let out = appendItem(BASE, ["mirror", "additionalImages"], { name: "quay.io/c/d:2" });
    expect(seqLength(parse(out).doc, ["mirror", "additionalImages"])).toBe(2);
    out = removeItem(out, ["mirror", "additionalImages"], 0);
    const { doc } = parse(out);
    expect(seqLength(doc, ["mirror", "additionalImages"])).toBe(1);
    expect(getString(doc, ["mirror", "additionalImages", 0, "name"])).toBe("quay.io/c/d:2");
  });

  it("creates a list where none existed", () => {
    const out = appendItem(BASE, ["mirror", "operators"], { catalog: "registry.redhat.io/redhat/redhat-operator-index:v4.14" });
    expect(parse(out).doc.toJS().mirror.operators[0].catalog).toBe("registry.redhat.io/redhat/redhat-operator-index:v4.14");
  });

  it("stores comma-separated lists as sequences", () => {
    const out = setList(BASE, ["mirror", "platform", "architectures"], "amd64, arm64,");
    expect(parse(out).doc.toJS().mirror.platform.architectures).toEqual(["amd64", "arm64"]);
    expect(getList(parse(out).doc, ["mirror", "platform", "architectures"])).toBe("amd64, arm64");
  });

  it("reports syntax errors with line and column", () => {
    const { problems } = parse("mirror:\n  additionalImages:\n    - name: [unclosed\n");
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0].line).toBeGreaterThanOrEqual(3);
    expect(problems[0].column).toBeGreaterThan(0);
  });
});
