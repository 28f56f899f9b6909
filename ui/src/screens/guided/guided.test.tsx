import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/react";
import { App } from "../../App";
import { installMocks } from "../../lib/mock";
import { Checks } from "./Checks";
import type { PreflightReport } from "../../bindings/PreflightReport";

const report: PreflightReport = {
  ready: false,
  checks: [
    { id: "image-set", state: "ok", title: "The image set is valid", detail: "no problems found", fix: null, suggestedArchiveSize: null },
    {
      id: "filesystem",
      state: "error",
      title: "Parts over 4 GiB cannot be written to this vfat drive",
      detail: "archiveSize 8 makes parts of up to 8.0 GiB",
      fix: "setArchiveSize",
      suggestedArchiveSize: 3,
    },
    { id: "space", state: "error", title: "Not enough room on /media/usb", detail: "needs 9 GiB", fix: "pickDestination", suggestedArchiveSize: null },
  ],
  plan: null,
  registries: [],
  destination: null,
};

describe("guided flow", () => {
  it("offers each failed check's fix and passes the suggested archiveSize", () => {
    const fixes = { editImageSet: vi.fn(), openCredentials: vi.fn(), pickDestination: vi.fn(), setArchiveSize: vi.fn() };
    render(<Checks report={report} fixes={fixes} />);
    expect(screen.getByTestId("preflight")).toHaveAttribute("data-ready", "no");
    fireEvent.click(screen.getByText("Set archiveSize to 3 GiB"));
    expect(fixes.setArchiveSize).toHaveBeenCalledWith(3);
    fireEvent.click(screen.getByText("Pick another folder"));
    expect(fixes.pickDestination).toHaveBeenCalled();
    // A passed check offers nothing.
    expect(screen.getByTestId("check-image-set").textContent).not.toContain("Fix");
  });

  it("opens on the start screen and walks to the first step with the stepper", async () => {
    localStorage.removeItem("ferry.guided");
    installMocks();
    render(<App />);
    expect(await screen.findByTestId("start")).toBeInTheDocument();
    fireEvent.click(screen.getByTestId("mode-m2d"));
    expect(await screen.findByTestId("guided-credentials")).toBeInTheDocument();
    expect(screen.getByTestId("step-credentials")).toHaveAttribute("data-state", "current");
    expect(screen.getByTestId("step-imageset")).toHaveAttribute("data-state", "next");
    fireEvent.click(screen.getByTestId("guided-next"));
    expect(await screen.findByTestId("guided-imageset")).toBeInTheDocument();
    expect(screen.getByTestId("step-credentials")).toHaveAttribute("data-state", "done");
  });
});
