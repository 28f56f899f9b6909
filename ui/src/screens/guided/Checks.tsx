// The checks run before a run starts, each with the fix it offers. Applying a fix never clears
// what the user entered: the archiveSize fix writes one key into the image set text.
import { Alert, AlertActionLink } from "@patternfly/react-core";
import type { PreflightReport } from "../../bindings/PreflightReport";
import type { PreflightCheck } from "../../bindings/PreflightCheck";

export type FixHandlers = {
  editImageSet: () => void;
  openCredentials: () => void;
  pickDestination: () => void;
  setArchiveSize: (gib: number) => void;
};

function fixLink(c: PreflightCheck, h: FixHandlers) {
  switch (c.fix) {
    case "editImageSet":
      return <AlertActionLink onClick={h.editImageSet}>Fix the image set</AlertActionLink>;
    case "openCredentials":
      return <AlertActionLink onClick={h.openCredentials}>Open credentials</AlertActionLink>;
    case "pickDestination":
      return <AlertActionLink onClick={h.pickDestination}>Pick another folder</AlertActionLink>;
    case "setArchiveSize":
      return c.suggestedArchiveSize ? (
        <AlertActionLink data-testid="fix-archive-size" onClick={() => h.setArchiveSize(c.suggestedArchiveSize!)}>
          Set archiveSize to {c.suggestedArchiveSize} GiB
        </AlertActionLink>
      ) : null;
    default:
      return null;
  }
}

export function Checks({ report, fixes }: { report: PreflightReport; fixes: FixHandlers }) {
  return (
    <div className="ferry-checks" data-testid="preflight" data-ready={report.ready ? "yes" : "no"}>
      {report.checks.map((c) => (
        <Alert
          key={c.id + c.title}
          isInline
          isPlain={c.state === "ok"}
          variant={c.state === "ok" ? "success" : c.state === "warning" ? "warning" : "danger"}
          title={c.title}
          data-testid={`check-${c.id}`}
          data-state={c.state}
          actionLinks={c.state !== "ok" ? fixLink(c, fixes) : undefined}
        >
          {c.detail}
        </Alert>
      ))}
    </div>
  );
}
