// One release signature's status, as the engine reported it (Plan and Results share it).
import { Label } from "@patternfly/react-core";
import type { SignatureView } from "../../bindings/SignatureView";

const TEXT = {
  verified: "verified",
  skipped: "NOT verified (--skip-verification)",
  pending: "not checked yet",
  notVerified: "does not verify",
  missing: "no signature shipped",
} as const;

export function SignatureLabel({ s }: { s: SignatureView }) {
  const color = s.state === "verified" ? "green" : s.state === "pending" ? "grey" : "red";
  return (
    <span data-testid="signature-status" data-state={s.state}>
      <Label color={color} isCompact>
        {TEXT[s.state]}
      </Label>
      {s.key && (
        <div className="ferry-mono" style={{ fontSize: "small" }} title={s.identity ?? undefined}>
          key {s.key}
        </div>
      )}
      {s.detail && <div style={{ fontSize: "small" }}>{s.detail}</div>}
    </span>
  );
}
