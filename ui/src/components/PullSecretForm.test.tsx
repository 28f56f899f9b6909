import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { PullSecretForm } from "./PullSecretForm";

const secret = '{"auths":{"quay.io":{"auth":"dTpw"}}}';

describe("PullSecretForm", () => {
  it("imports the pasted secret and clears it only when the import says so", async () => {
    const onImport = vi.fn().mockResolvedValueOnce(undefined).mockResolvedValueOnce(true);
    render(<PullSecretForm id="ps" buttonTestId="ps-import" buttonVariant="primary" onImport={onImport} />);
    const button = screen.getByTestId("ps-import");
    expect(button).toBeDisabled();
    const box = document.querySelector("#ps") as HTMLTextAreaElement;
    fireEvent.change(box, { target: { value: secret } });
    expect(button).toBeEnabled();

    // The Credentials screen's import keeps the text (resolves nothing).
    fireEvent.click(button);
    await waitFor(() => expect(onImport).toHaveBeenCalledTimes(1));
    expect(onImport).toHaveBeenLastCalledWith(secret);
    await new Promise((r) => setTimeout(r, 0)); // let the import's answer arrive
    expect(box.value).toBe(secret);

    // The guided step's import resolves true: the form lets go of the secret.
    fireEvent.click(button);
    await waitFor(() => expect(box.value).toBe(""));
    expect(onImport).toHaveBeenCalledTimes(2);
    expect(button).toBeDisabled();
  });
});
