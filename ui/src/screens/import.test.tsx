import { describe, expect, it } from "vitest";
import { render, screen, fireEvent, waitFor } from "@testing-library/react";
import { App } from "../App";
import { installMocks } from "../lib/mock";

// The Import screen's check reads no part data: the mocked shell answers check_media with
// "not checked" checksums, and the screen says the import verifies them while pushing. The
// full verify is its own button and is never run before the push.
describe("import screen", () => {
  it("checks the media without verifying it and leaves the checksums to the import", async () => {
    installMocks();
    render(<App initial="import" />);
    fireEvent.change(screen.getByLabelText("Folder with the archive parts"), { target: { value: "/media/usb" } });
    fireEvent.click(screen.getByTestId("verify-media"));
    expect(await screen.findByText(/Media complete: sequence 1/)).toBeInTheDocument();
    expect(screen.getByText(/checksums are verified while pushing/)).toBeInTheDocument();
    expect(screen.getAllByText("checked while importing").length).toBe(2);
    expect(screen.getByTestId("start-import")).toBeInTheDocument();
    // The full verify stays available on its own.
    fireEvent.click(screen.getByTestId("verify-media-full"));
    expect(await screen.findByText(/Media verified: sequence 1/)).toBeInTheDocument();
    await waitFor(() => expect(screen.getAllByText("ok").length).toBe(2));
  });
});
