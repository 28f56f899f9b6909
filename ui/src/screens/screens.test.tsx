import { describe, expect, it } from "vitest";
import { render, screen, waitFor, fireEvent } from "@testing-library/react";
import { App } from "../App";
import { installMocks, FULL_FOLDER, BROKEN_MEDIA } from "../lib/mock";

function type(label: string | RegExp, value: string) {
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
}

describe("screens against the mocked shell", () => {
  it("shows the engine version in the masthead", async () => {
    installMocks();
    render(<App />);
    expect(await screen.findByText("Ferry engine 0.1.0-mock")).toBeInTheDocument();
  });

  it("keeps the form and the YAML in sync and marks invalid YAML", async () => {
    installMocks();
    const { container } = render(<App initial="imageset" />);
    type("Metadata in a local folder", "/srv/meta");
    await waitFor(() => expect(container.querySelector(".cm-content")!.textContent).toContain("path: /srv/meta"));
    type("Archive size (GiB per part)", "-3");
    expect(await screen.findByText(/archiveSize must be a positive number/)).toBeInTheDocument();
    expect(screen.getByText(/Line 3, column 14/)).toBeInTheDocument();
  });

  it("offers another folder when the destination has no room", async () => {
    installMocks();
    render(<App initial="export" />);
    type("Folder or mounted drive", FULL_FOLDER);
    fireEvent.click(screen.getByTestId("check-space"));
    expect(await screen.findByText(/Not enough room/)).toBeInTheDocument();
    expect(screen.getByText("Pick another folder")).toBeInTheDocument();
    // The start button stays off until a folder with room is chosen; the typed path is kept.
    expect(screen.getByTestId("start-export")).toBeDisabled();
    expect(screen.getByLabelText("Folder or mounted drive")).toHaveValue(FULL_FOLDER);
  });

  it("runs an export to the end and lists the parts with checksums", async () => {
    installMocks();
    render(<App initial="export" />);
    type("Folder or mounted drive", "/media/usb");
    fireEvent.click(screen.getByTestId("start-export"));
    expect(await screen.findByTestId("export-summary", {}, { timeout: 4000 })).toBeInTheDocument();
    expect(screen.getAllByText("mirror_seq1_000000.tar").length).toBeGreaterThan(0);
    expect(screen.getAllByText(/3f3f3f/).length).toBeGreaterThan(0);
    // Finished: the form is usable again for the next export.
    await waitFor(() => expect(screen.getByTestId("start-export")).toBeEnabled());
  });

  it("explains a missing part on the media and blocks the push", async () => {
    installMocks();
    render(<App initial="import" />);
    type("Folder with the archive parts", BROKEN_MEDIA);
    fireEvent.click(screen.getByTestId("verify-media"));
    expect(await screen.findByText(/mirror_seq1_000001.tar is missing/)).toBeInTheDocument();
    expect(screen.queryByTestId("start-import")).toBeNull();
  });

  it("says what to do when a registry rejects the login", async () => {
    installMocks();
    render(<App initial="credentials" />);
    type("Registry", "bad.example:5000");
    fireEvent.click(screen.getByTestId("test-login"));
    const alert = await screen.findByTestId("error-alert");
    expect(alert).toHaveAttribute("data-code", "unauthorized");
    expect(alert.textContent).toContain("Check the user name and password");
    expect(screen.getByLabelText("Registry")).toHaveValue("bad.example:5000");
  });
});
