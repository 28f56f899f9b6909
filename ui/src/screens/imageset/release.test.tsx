import { describe, expect, it } from "vitest";
import { useState } from "react";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { ReleaseSection } from "./ReleaseSection";
import { ReleasePlan } from "../release/ReleasePlan";
import { ReleaseSignatures } from "../release/ReleaseSignatures";
import { parse } from "../../lib/imageset";
import { installMocks } from "../../lib/mock";
import { mockPlanReleases } from "../../lib/mock_release";

const YAML = `kind: ImageSetConfiguration
apiVersion: mirror.openshift.io/v1alpha2
mirror:
  platform:
    channels:
      - name: stable-4.13
`;

let current = "";
function Harness({ initial }: { initial: string }) {
  const [text, setText] = useState(initial);
  current = text;
  const { doc } = parse(text);
  return <ReleaseSection doc={doc} text={text} setText={setText} />;
}

const options = (id: string) =>
  Array.from((document.getElementById(id) as HTMLSelectElement).options)
    .map((o) => o.value)
    .filter((v) => v);

describe("release pickers over the (mocked) engine graph", () => {
  it("offers only channel versions with min <= max and writes mirror.platform", async () => {
    installMocks();
    const { container } = render(<Harness initial={YAML} />);
    fireEvent.click(screen.getByTestId("rel-load-graph"));
    // Heads-only: the engine's selection is the head alone.
    await waitFor(() => expect(screen.getByTestId("rel-selected-versions").textContent).toBe("4.13.3"));
    expect(container.querySelectorAll(".graph-node")).toHaveLength(5);
    expect(container.querySelector('.graph-node[data-version="4.13.3"]')).toHaveAttribute("data-selected", "true");

    fireEvent.change(document.getElementById("rel-min")!, { target: { value: "4.13.0" } });
    await waitFor(() => expect(current).toContain("minVersion: 4.13.0"));
    // Max never below min.
    await waitFor(() => expect(options("rel-max")).toEqual(["4.13.0", "4.13.1", "4.13.2", "4.13.3"]));

    fireEvent.change(document.getElementById("rel-max")!, { target: { value: "4.13.2" } });
    await waitFor(() => expect(current).toContain("maxVersion: 4.13.2"));
    await waitFor(() => expect(options("rel-min")).toEqual(["4.12.9", "4.13.0", "4.13.1", "4.13.2"]));
    await waitFor(() => expect(screen.getByTestId("rel-selected-versions").textContent).toBe("4.13.0 → 4.13.1 → 4.13.2"));

    fireEvent.change(document.getElementById("rel-max")!, { target: { value: "4.13.3" } });
    fireEvent.click(screen.getByLabelText("Shortest upgrade path only"));
    await waitFor(() => expect(current).toContain("shortestPath: true"));
    await waitFor(() => expect(container.querySelectorAll(".path-edge")).toHaveLength(2));
    const path = Array.from(container.querySelectorAll(".path-edge")).map((p) => `${p.getAttribute("data-from")}>${p.getAttribute("data-to")}`);
    expect(path).toEqual(["4.13.0>4.13.2", "4.13.2>4.13.3"]);
    // The conditional edge is dashed and carries its risk name.
    expect(container.querySelector(".risk-edge")).toHaveAttribute("stroke-dasharray", "5 4");
    expect(within(screen.getByTestId("release-graph")).getAllByText("MockRisk").length).toBeGreaterThan(0);
  });

  it("writes architectures from the checkboxes and channels from the channel list", async () => {
    installMocks();
    render(<Harness initial={YAML} />);
    expect(screen.getByLabelText("amd64")).toBeChecked();
    fireEvent.click(screen.getByLabelText("s390x"));
    await waitFor(() => expect(current).toMatch(/architectures:\n\s+- amd64\n\s+- s390x/));
    fireEvent.click(screen.getByTestId("rel-list-channels"));
    const list = await screen.findByLabelText("Channels from the update service");
    fireEvent.change(list, { target: { value: "fast-4.13" } });
    await waitFor(() => expect(current).toContain("name: fast-4.13"));
  });

  it("shows the engine's refusal next to the graph", async () => {
    installMocks();
    render(<Harness initial={YAML.replace("stable-4.13", "stable-4.99")} />);
    fireEvent.click(screen.getByTestId("rel-load-graph"));
    expect((await screen.findByTestId("error-alert")).textContent).toContain("stable-4.99");
  });
});

describe("release plan and signatures", () => {
  it("lists planned releases with size and the verifying key", () => {
    render(<ReleasePlan releases={mockPlanReleases([{ name: "stable-4.13" }])} />);
    expect(screen.getByTestId("plan-release-size").textContent).toBe("13.0 GiB");
    expect(screen.getByTestId("signature-status")).toHaveAttribute("data-state", "verified");
    expect(screen.getByText(/key 567E347AD0044ADE/)).toBeInTheDocument();
  });

  it("shows each release of a results folder with its signature status", async () => {
    installMocks();
    render(<ReleaseSignatures dir="/r" />);
    expect(await screen.findByTestId("results-releases")).toBeInTheDocument();
    expect(screen.getByText(/signature-sha256-4444444444444444.json/)).toBeInTheDocument();
  });
});
