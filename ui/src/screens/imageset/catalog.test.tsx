// Component tests of the catalog browser over a scripted shell (mockIPC). They check the UI's
// side of the contract only: what it sends, what it renders, what it writes into the YAML. The
// evidence that browsing works against a real registry is tests/tests/e2e_catalog_browse.rs and
// the real-window steps in ui/e2e/steps/50-catalog.mjs.
import { describe, expect, it } from "vitest";
import { useState } from "react";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import { CatalogBrowser } from "./CatalogBrowser";
import { operatorIndex, operatorLine, writePick } from "./catalogYaml";
import { parse } from "../../lib/imageset";
import type { CatalogView } from "../../bindings/CatalogView";
import type { CatalogPackageView } from "../../bindings/CatalogPackageView";
import type { CatalogPreview } from "../../bindings/CatalogPreview";

const BASE = `# keep me
kind: ImageSetConfiguration
apiVersion: mirror.openshift.io/v1alpha2
mirror:
  additionalImages:
    - name: quay.io/a/b:1
`;
const CAT = "reg.example:5000/cat/index:v1";
const PINNED = `reg.example:5000/cat/index@sha256:${"ab".repeat(32)}`;
const SVG = btoa('<svg xmlns="http://www.w3.org/2000/svg"/>');

const view: CatalogView = {
  catalog: CAT,
  pinned: PINNED,
  digest: `sha256:${"ab".repeat(32)}`,
  configsDir: "configs",
  bundleCount: 7,
  loadMillis: 42,
  cached: false,
  packages: [
    { name: "bar", displayName: null, summary: "Bar things.", icon: null, defaultChannel: "stable", channels: ["alpha", "stable"], headVersion: "1.0.0", bundleCount: 3 },
    { name: "foo", displayName: "Foo Operator", summary: "The Foo operator reacts to Foos objects.", icon: { mediaType: "image/svg+xml", base64Data: SVG }, defaultChannel: "beta", channels: ["beta"], headVersion: "0.3.1", bundleCount: 4 },
  ],
};
const foo: CatalogPackageView = {
  name: "foo",
  displayName: "Foo Operator",
  description: "The Foo operator reacts to Foos objects.",
  icon: { mediaType: "image/svg+xml", base64Data: SVG },
  defaultChannel: "beta",
  channels: [{ name: "beta", isDefault: true, head: "foo.v0.3.1", headVersion: "0.3.1", versions: ["0.1.0", "0.2.0", "0.3.0", "0.3.1"] }],
};
const preview: CatalogPreview = {
  catalog: CAT,
  pinned: PINNED,
  operatorIndex: 0,
  bundles: [
    { package: "bar", bundle: "bar.v0.1.0", version: "0.1.0", channels: ["alpha"], image: "quay.io/x/bar-bundle:v0.1.0", relatedImages: 1, dependency: true },
    { package: "foo", bundle: "foo.v0.2.0", version: "0.2.0", channels: ["beta"], image: "quay.io/x/foo-bundle:v0.2.0", relatedImages: 1, dependency: false },
  ],
  images: [
    { image: "quay.io/x/bar-bundle:v0.1.0", kind: "bundle", package: "bar", bundle: "bar.v0.1.0" },
    { image: "quay.io/x/foo-bundle:v0.2.0", kind: "bundle", package: "foo", bundle: "foo.v0.2.0" },
    { image: "quay.io/x/foo@sha256:1", kind: "related", package: "foo", bundle: "foo.v0.2.0" },
  ],
  dependencies: [
    { package: "bar", channel: "alpha", bundle: "bar.v0.1.0", requirement: "olm.package.required bar <0.2.0", requiredBy: ["foo/foo.v0.2.0"], addedBundles: ["bar.v0.1.0"] },
  ],
  unresolved: [{ requirement: "olm.gvk.required x/v1 Y", requiredBy: ["foo/foo.v0.2.0"] }],
  defaultChannelChanges: [],
  totalBytes: 3 * 1048576,
  sizedImages: 2,
  sizeNote: "2 of 3 images sized (config and layer blobs); not sized: quay.io/x/foo@sha256:1: not found",
};

function Harness({ initial }: { initial: string }) {
  const [yaml, setYaml] = useState(initial);
  return (
    <>
      <CatalogBrowser yaml={yaml} setYaml={setYaml} />
      <pre data-testid="yaml">{yaml}</pre>
    </>
  );
}

describe("catalog YAML writing", () => {
  it("adds the catalog, the package and the channel range, keeping the rest", () => {
    const { text, index } = writePick(BASE, { catalog: CAT, pkg: "foo", channel: "beta", minVersion: "0.2.0", maxVersion: "" });
    expect(index).toBe(0);
    expect(text).toContain("# keep me");
    const js = parse(text).doc.toJS();
    expect(js.mirror.additionalImages).toEqual([{ name: "quay.io/a/b:1" }]);
    expect(js.mirror.operators).toEqual([{ catalog: CAT, packages: [{ name: "foo", channels: [{ name: "beta", minVersion: "0.2.0" }] }] }]);
    expect(operatorIndex(text, CAT)).toBe(0);
    expect(operatorIndex(text, "other:1")).toBe(-1);
    // The entry starts after the 6 lines of BASE plus "  operators:".
    expect(text.split("\n")[operatorLine(text, 0)! - 1]).toContain(`catalog: ${CAT}`);
    expect(operatorLine(text, 1)).toBeNull();
  });

  it("replaces the same channel, keeps other channels and packages of that catalog", () => {
    let t = writePick(BASE, { catalog: CAT, pkg: "foo", channel: "beta", minVersion: "0.2.0", maxVersion: "" }).text;
    t = writePick(t, { catalog: CAT, pkg: "foo", channel: "stable", minVersion: "", maxVersion: "" }).text;
    t = writePick(t, { catalog: CAT, pkg: "foo", channel: "beta", minVersion: "0.1.0", maxVersion: "0.3.0" }).text;
    t = writePick(t, { catalog: CAT, pkg: "bar", channel: "alpha", minVersion: "", maxVersion: "" }).text;
    const r = writePick(t, { catalog: "other.example/idx:v2", pkg: "baz", channel: "stable", minVersion: "", maxVersion: "" });
    expect(r.index).toBe(1);
    const ops = parse(r.text).doc.toJS().mirror.operators;
    expect(ops[0].packages).toEqual([
      { name: "foo", channels: [{ name: "beta", minVersion: "0.1.0", maxVersion: "0.3.0" }, { name: "stable" }] },
      { name: "bar", channels: [{ name: "alpha" }] },
    ]);
    expect(ops[1]).toEqual({ catalog: "other.example/idx:v2", packages: [{ name: "baz", channels: [{ name: "stable" }] }] });
  });
});

describe("catalog browser", () => {
  it("lists packages with icons, writes the pick and shows the preview with why", async () => {
    const calls: { cmd: string; args: Record<string, unknown> }[] = [];
    mockIPC((cmd, args) => {
      const a = (args ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args: a });
      if (cmd === "redhat_catalogs") return ["registry.redhat.io/redhat/redhat-operator-index:v4.16"];
      if (cmd === "browse_catalog") return view;
      if (cmd === "catalog_package") return foo;
      if (cmd === "preview_catalog") return preview;
      throw { code: "internal", message: `unexpected ${cmd}` };
    });
    render(<Harness initial={BASE} />);
    fireEvent.change(screen.getByLabelText("Red Hat catalogs for OpenShift"), { target: { value: "4.16" } });
    const rh = await screen.findByLabelText("Red Hat index image");
    fireEvent.change(rh, { target: { value: "registry.redhat.io/redhat/redhat-operator-index:v4.16" } });
    expect(screen.getByLabelText("Index image")).toHaveValue("registry.redhat.io/redhat/redhat-operator-index:v4.16");
    fireEvent.change(screen.getByLabelText("Index image"), { target: { value: CAT } });
    fireEvent.click(screen.getByTestId("catalog-load"));
    expect(await screen.findByTestId("catalog-pkg-foo")).toBeInTheDocument();
    expect(screen.getByTestId("catalog-status").textContent).toMatch(/2 packages, 7 bundles .*read in 42 ms/);
    const img = screen.getByAltText("foo icon") as HTMLImageElement;
    expect(img.src).toBe(`data:image/svg+xml;base64,${SVG}`);
    expect(screen.getByText("The Foo operator reacts to Foos objects.")).toBeInTheDocument();

    // The filter narrows the list.
    fireEvent.change(screen.getByLabelText("Filter packages"), { target: { value: "bar" } });
    expect(screen.queryByTestId("catalog-pkg-foo")).toBeNull();
    fireEvent.change(screen.getByLabelText("Filter packages"), { target: { value: "" } });

    fireEvent.click(screen.getByTestId("catalog-pkg-foo"));
    await screen.findByTestId("catalog-package");
    // The package is read from the pinned digest (the cached catalog that was listed).
    expect(calls.find((c) => c.cmd === "catalog_package")?.args).toEqual({ catalog: PINNED, package: "foo" });
    expect(screen.getByTestId("catalog-meaning").textContent).toContain("channel head only (foo.v0.3.1)");
    expect(screen.getByTestId("catalog-preview")).toBeDisabled();
    fireEvent.change(screen.getByLabelText("From version (minVersion)"), { target: { value: "0.2.0" } });
    expect(screen.getByTestId("catalog-meaning").textContent).toContain("0.2.0 and every version on the upgrade graph up to the head 0.3.1");
    // Max choices start at the min version.
    const maxOpts = Array.from((screen.getByLabelText("To version (maxVersion)") as HTMLSelectElement).options).map((o) => o.value);
    expect(maxOpts).toEqual(["", "0.2.0", "0.3.0", "0.3.1"]);
    fireEvent.click(screen.getByTestId("catalog-add"));
    await waitFor(() => expect(screen.getByTestId("yaml").textContent).toContain("minVersion: 0.2.0"));
    expect(screen.getByTestId("yaml").textContent).toContain(`catalog: ${CAT}`);
    expect(screen.getByTestId("catalog-added").textContent).toContain("mirror.operators[0]");

    fireEvent.click(screen.getByTestId("catalog-preview"));
    const res = await screen.findByTestId("catalog-preview-result");
    const sent = calls.find((c) => c.cmd === "preview_catalog")!.args;
    expect(sent.index).toBe(0);
    expect(String(sent.yaml)).toContain("name: foo");
    expect(res.textContent).toContain("keeps 2 bundles and 3 images (2 bundle, 1 related)");
    expect(screen.getByTestId("catalog-preview-size").textContent).toBe("3.0 MiB (2 of 3 images sized)");
    expect(screen.getByTestId("catalog-preview-size").getAttribute("title")).toContain("not sized: quay.io/x/foo@sha256:1");
    expect(screen.getByTestId("catalog-preview-deps").textContent).toContain("olm.package.required bar <0.2.0 of foo/foo.v0.2.0");
    expect(screen.getByTestId("catalog-preview-unresolved").textContent).toContain("olm.gvk.required x/v1 Y");
    expect(screen.getByTestId("catalog-preview-bundles").textContent).toContain("dependency");
  });

  it("shows a preview error at the line of the catalog entry", async () => {
    mockIPC((cmd) => {
      if (cmd === "browse_catalog") return view;
      if (cmd === "catalog_package") return foo;
      if (cmd === "preview_catalog") throw { code: "invalid-config", message: 'catalog reg.example:5000/cat/index:v1: package "nosuch" not found' };
      throw { code: "internal", message: `unexpected ${cmd}` };
    });
    const initial = `kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nmirror:\n  operators:\n    - catalog: ${CAT}\n      packages:\n        - name: nosuch\n`;
    render(<Harness initial={initial} />);
    fireEvent.change(screen.getByLabelText("Index image"), { target: { value: CAT } });
    fireEvent.click(screen.getByTestId("catalog-load"));
    fireEvent.click(await screen.findByTestId("catalog-pkg-foo"));
    await screen.findByTestId("catalog-package");
    await waitFor(() => expect(screen.getByTestId("catalog-preview")).toBeEnabled());
    fireEvent.click(screen.getByTestId("catalog-preview"));
    const alert = await screen.findByTestId("error-alert");
    expect(alert).toHaveAttribute("data-code", "invalid-config");
    expect(alert.textContent).toContain('Line 5 (mirror.operators[0]): catalog reg.example:5000/cat/index:v1: package "nosuch" not found');
  });

  it("shows the engine's error and keeps what was typed", async () => {
    mockIPC((cmd) => {
      if (cmd === "browse_catalog") throw { code: "not-found", message: "catalog image reg.example:5000/cat/index:v9 not found" };
      throw { code: "internal", message: `unexpected ${cmd}` };
    });
    render(<Harness initial={BASE} />);
    fireEvent.change(screen.getByLabelText("Index image"), { target: { value: "reg.example:5000/cat/index:v9" } });
    fireEvent.click(screen.getByTestId("catalog-load"));
    const alert = await screen.findByTestId("error-alert");
    expect(alert).toHaveAttribute("data-code", "not-found");
    expect(alert.textContent).toContain("cat/index:v9");
    expect(screen.getByLabelText("Index image")).toHaveValue("reg.example:5000/cat/index:v9");
    expect(screen.queryByTestId("catalog-packages")).toBeNull();
  });
});
