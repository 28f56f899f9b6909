// Component tests of the helm chart section, the per-chart plan and the prune confirmation over
// a mocked shell (the real-window evidence is ui/e2e/steps/40-helm.mjs).
import { describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import { useState } from "react";
import { HelmSection } from "../imageset/HelmSection";
import { HelmPlan } from "./HelmPlan";
import { PruneConfirm } from "./PruneConfirm";
import { addLocalChart, addRepoChart, blockImage, blockedPatterns, unblockImage } from "../../lib/helm";
import { parse } from "../../lib/imageset";
import { AppStateProvider, useAppState } from "../../state";
import type { ChartPlanView } from "../../bindings/ChartPlanView";
import type { PrunePreview } from "../../bindings/PrunePreview";

const BASE = "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nmirror:\n  additionalImages:\n    - name: quay.io/a/b:1 # kept comment\n";

function js(text: string) {
  return parse(text).doc.toJS();
}

describe("image-set edits of the chart section", () => {
  it("adds a repository chart, then a second chart and a version change to the same repository", () => {
    let y = addRepoChart(BASE, "http://127.0.0.1:8080/charts", "podinfo", "6.0.0");
    y = addRepoChart(y, "http://127.0.0.1:8080/charts/", "other", "");
    y = addRepoChart(y, "http://127.0.0.1:8080/charts", "podinfo", "6.1.0");
    expect(js(y).mirror.helm.repositories).toEqual([
      {
        name: "127-0-0-1-8080-charts",
        url: "http://127.0.0.1:8080/charts",
        charts: [{ name: "podinfo", version: "6.1.0" }, { name: "other" }],
      },
    ]);
    expect(y).toContain("# kept comment");
  });

  it("adds local charts and blocks/unblocks one image exactly", () => {
    let y = addLocalChart(BASE, "mychart", "/charts/mychart-1.0.0.tgz");
    y = addLocalChart(y, "mychart", "/charts/mychart-1.1.0.tgz");
    expect(js(y).mirror.helm.local).toEqual([{ name: "mychart", path: "/charts/mychart-1.1.0.tgz" }]);
    const p = "^quay\\.io/x/y:1\\.0$";
    y = blockImage(y, p);
    y = blockImage(y, p);
    expect(blockedPatterns(y)).toEqual([p]);
    y = unblockImage(y, p);
    expect(js(y).mirror.blockedImages).toBeUndefined();
  });
});

function Editor() {
  const [yaml, setYaml] = useState(BASE);
  return (
    <>
      <HelmSection yaml={yaml} setYaml={setYaml} />
      <pre data-testid="yaml">{yaml}</pre>
    </>
  );
}

describe("HelmSection", () => {
  it("lists the index's charts and writes the picked version into the YAML", async () => {
    const calls: string[] = [];
    mockIPC((cmd, args) => {
      calls.push(cmd);
      if (cmd === "helm_repository_index") {
        expect((args as { url: string }).url).toBe("http://repo.test/charts");
        return {
          url: "http://repo.test/charts",
          charts: [
            {
              name: "podinfo",
              versions: [
                { version: "6.1.0", appVersion: "6.1.0", deprecated: false, hasDigest: true },
                { version: "6.0.0", appVersion: "6.0.0", deprecated: false, hasDigest: false },
              ],
            },
          ],
        };
      }
      throw { code: "internal", message: `unexpected ${cmd}` };
    });
    render(<Editor />);
    fireEvent.change(screen.getByLabelText("Chart repository URL"), { target: { value: "http://repo.test/charts" } });
    fireEvent.click(screen.getByTestId("helm-list-charts"));
    const row = await screen.findByTestId("helm-chart-podinfo");
    fireEvent.change(within(row).getByLabelText("Version of podinfo"), { target: { value: "6.0.0" } });
    expect(within(row).getByText(/no digest in the index/)).toBeInTheDocument();
    fireEvent.click(within(row).getByText("Add"));
    const y = js(screen.getByTestId("yaml").textContent!);
    expect(y.mirror.helm.repositories[0].charts).toEqual([{ name: "podinfo", version: "6.0.0" }]);
    expect(calls).toEqual(["helm_repository_index"]);
  });

  it("shows the engine's error naming the repository and keeps the URL", async () => {
    mockIPC(() => {
      throw { code: "unreachable", message: "helm repository http://down.test: connection refused" };
    });
    render(<Editor />);
    fireEvent.change(screen.getByLabelText("Chart repository URL"), { target: { value: "http://down.test" } });
    fireEvent.click(screen.getByTestId("helm-list-charts"));
    expect(await screen.findByText(/helm repository http:\/\/down.test: connection refused/)).toBeInTheDocument();
    expect(screen.getByLabelText("Chart repository URL")).toHaveValue("http://down.test");
  });

  it("adds a typed local chart with the name from its Chart.yaml", async () => {
    mockIPC((cmd, args) => {
      if (cmd === "helm_local_chart") return { path: (args as { path: string }).path, name: "ign", version: "0.1.0" };
      throw { code: "internal", message: cmd };
    });
    render(<Editor />);
    fireEvent.change(screen.getByLabelText("Local chart (.tgz or folder)"), { target: { value: "/c/ign" } });
    fireEvent.click(screen.getByTestId("helm-add-local"));
    await waitFor(() => expect(js(screen.getByTestId("yaml").textContent!).mirror.helm.local).toEqual([{ name: "ign", path: "/c/ign" }]));
  });
});

const CHARTS: ChartPlanView[] = [
  {
    repository: "podinfo",
    name: "ingress-nginx",
    version: "4.12.1",
    mode: "static scan",
    images: [
      { image: "registry.k8s.io/ingress-nginx/controller:v1.12.1", written: "controller", provenance: ["ingress-nginx: values controller.image"], hook: false, test: false, blockedBy: null, blockPattern: "^registry\\.k8s\\.io/ingress-nginx/controller:v1\\.12\\.1$" },
      { image: "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.5.2", written: "certgen", provenance: ["ingress-nginx: values controller.admissionWebhooks.patch.image"], hook: true, test: false, blockedBy: null, blockPattern: "^registry\\.k8s\\.io/ingress-nginx/kube-webhook-certgen:v1\\.5\\.2$" },
      { image: "docker.io/library/busybox:1", written: "busybox:1", provenance: ["ingress-nginx: templates/tests/t.yaml:9"], hook: true, test: true, blockedBy: null, blockPattern: "^docker\\.io/library/busybox:1$" },
    ],
    unresolved: ["ingress-nginx: values x.image: no tag"],
    notes: [],
  },
];

function PlanHarness() {
  const { yaml } = useAppState();
  return (
    <>
      <HelmPlan run={1} />
      <pre data-testid="yaml">{yaml}</pre>
    </>
  );
}

describe("HelmPlan", () => {
  it("shows images per chart with provenance and flags, and Remove writes blockedImages", async () => {
    mockIPC((cmd) => {
      if (cmd === "helm_chart_plan") return CHARTS;
      throw { code: "internal", message: cmd };
    });
    localStorage.setItem("ferry.draft", addRepoChart(BASE, "http://repo.test/charts", "ingress-nginx", "4.12.1"));
    render(
      <AppStateProvider initial="plan">
        <PlanHarness />
      </AppStateProvider>,
    );
    const table = await screen.findByTestId("helm-plan-ingress-nginx");
    expect(screen.getByText("Chart ingress-nginx 4.12.1 (2 images)")).toBeInTheDocument();
    expect(within(table).getByText("ingress-nginx: values controller.admissionWebhooks.patch.image")).toBeInTheDocument();
    expect(within(table).getByText(/hook \(mirrored/)).toBeInTheDocument();
    expect(within(table).getByText("test (not mirrored)")).toBeInTheDocument();
    expect(screen.getByText(/values x.image: no tag/)).toBeInTheDocument();
    // A test image has nothing to remove.
    expect(screen.queryByTestId("helm-remove-docker.io/library/busybox:1")).toBeNull();
    const certgen = "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.5.2";
    fireEvent.click(screen.getByTestId(`helm-remove-${certgen}`));
    await waitFor(() => expect(screen.getByTestId(`helm-image-${certgen}`)).toHaveAttribute("data-removed", "yes"));
    expect(js(screen.getByTestId("yaml").textContent!).mirror.blockedImages).toEqual([{ name: CHARTS[0].images[1].blockPattern }]);
    fireEvent.click(screen.getByTestId(`helm-remove-${certgen}`));
    await waitFor(() => expect(screen.getByTestId(`helm-image-${certgen}`)).toHaveAttribute("data-removed", "no"));
  });
});

const PREVIEW: PrunePreview = {
  registry: "127.0.0.1:5000",
  images: [
    { repository: "mirror/old", digest: `sha256:${"a".repeat(64)}`, bytes: 3 * 1024 * 1024 },
    { repository: "mirror/gone", digest: `sha256:${"b".repeat(64)}`, bytes: null },
  ],
  children: [],
  knownBytes: 3 * 1024 * 1024,
  note: null,
  planFile: "/ws/pruning-plan.json",
};

describe("PruneConfirm", () => {
  it("lists what would go and deletes only after the dialog's confirmation", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "prune_preview") return PREVIEW;
      if (cmd === "start_mirror_to_mirror_pruning") return { jobId: "job-1" };
      throw { code: "internal", message: cmd };
    });
    const started: string[] = [];
    const job = {
      jobId: null,
      progress: null,
      summary: null,
      error: null,
      running: false,
      start: async (launch: (ch: never) => Promise<{ jobId: string }>) => {
        started.push((await launch({} as never)).jobId);
      },
    };
    render(<PruneConfirm yaml={BASE} registry="127.0.0.1:5000/mirror" filePath="/isc.yaml" job={job} />);
    fireEvent.click(screen.getByTestId("prune-check"));
    expect(await screen.findByText(/2 images in 127.0.0.1:5000 are no longer in the image set \(3.0 MiB, 1 of unknown size\)/)).toBeInTheDocument();
    expect(screen.getByText("unknown")).toBeInTheDocument();
    // The dialog's default keeps them.
    fireEvent.click(screen.getByTestId("prune-delete"));
    fireEvent.click(await screen.findByTestId("prune-keep"));
    expect(calls).toEqual(["prune_preview"]);
    fireEvent.click(screen.getByTestId("prune-delete"));
    fireEvent.click(await screen.findByTestId("prune-confirm-delete"));
    await waitFor(() => expect(started).toEqual(["job-1"]));
    expect(calls).toEqual(["prune_preview", "start_mirror_to_mirror_pruning"]);
  });
});
