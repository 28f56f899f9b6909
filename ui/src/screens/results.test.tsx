import { describe, expect, it } from "vitest";
import { render, screen, fireEvent } from "@testing-library/react";
import { App } from "../App";
import { installMocks } from "../lib/mock";

describe("Results screen", () => {
  it("gives one oc apply command per cluster version, never both kinds in one", async () => {
    installMocks();
    render(<App initial="results" />);
    fireEvent.change(screen.getByLabelText("Results folder"), {
      target: { value: "/home/user/oc-mirror-workspace/results-1700000000" },
    });
    fireEvent.click(screen.getByTestId("load-results"));
    expect(await screen.findByText("OpenShift 4.13 and later")).toBeInTheDocument();
    expect(screen.getByText("OpenShift before 4.13")).toBeInTheDocument();
    const newer = screen.getByTestId("apply-command").querySelector("input")!.value;
    const older = screen.getByTestId("apply-command-before-4-13").querySelector("input")!.value;
    expect(newer).toContain("imageDigestMirrorSet.yaml");
    expect(newer).not.toContain("imageContentSourcePolicy");
    expect(older).toContain("imageContentSourcePolicy.yaml");
    expect(older).not.toContain("MirrorSet");
  });
});
