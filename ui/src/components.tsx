// Pieces shared by the screens: the error alert that offers a fix, the folder picker (native
// dialog plus a typed path, so keyboard users and WebDriver tests can use it), job progress, and
// the look helpers (truncated digests with copy, empty states with a next action, skeletons,
// toasts).
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import {
  ActionGroup,
  Alert,
  AlertActionCloseButton,
  AlertActionLink,
  AlertGroup,
  Button,
  ClipboardCopy,
  ClipboardCopyVariant,
  Content,
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  EmptyState,
  EmptyStateActions,
  EmptyStateBody,
  EmptyStateFooter,
  ExpandableSection,
  FormGroup,
  InputGroup,
  InputGroupItem,
  Progress,
  ProgressMeasureLocation,
  Skeleton,
  TextInput,
} from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import type { PartInfo } from "./bindings/PartInfo";
import { api, Channel, FerryError, toFerryError } from "./lib/ipc";
import { formatBytes, formatDuration } from "./lib/format";
import type { JobEvent } from "./bindings/JobEvent";
import type { JobProgress } from "./bindings/JobProgress";
import type { JobSummary } from "./bindings/JobSummary";

/** What each error code tells the user to do next (the engine message says the details). */
export function adviceFor(code: string): string {
  switch (code) {
    case "invalid-config":
      return "Fix the marked lines in the image set; what you typed is kept.";
    case "unauthorized":
      return "Check the user name and password on the Credentials screen, then test the login again.";
    case "denied":
      return "The account lacks permission there; use an account with push rights or another namespace.";
    case "tls":
      return "Add the registry's CA in the trust settings, or allow an insecure connection for a test registry.";
    case "unreachable":
      return "Check the host name, the port and the network path, then try again.";
    case "no-space":
      return "Pick another folder or drive with enough room, or lower archiveSize and use several media.";
    case "archive":
    case "sequence":
      return "Pick the folder that holds every part of the export, or copy the missing part there.";
    case "digest-mismatch":
      return "The data is damaged; copy the part again from the source media and verify it.";
    case "cancelled":
      return "Start again to resume: finished parts and blobs are kept.";
    case "unavailable":
      return "This action comes with a later engine build; the rest of the app works.";
    default:
      return "Try again; if it keeps failing, the message above names the file, registry or image involved.";
  }
}

export function ErrorAlert({
  error,
  actions,
  onClose,
}: {
  error: FerryError | null;
  actions?: { label: string; onClick: () => void }[];
  onClose?: () => void;
}) {
  if (!error) return null;
  return (
    <Alert
      variant={error.code === "cancelled" ? "info" : "danger"}
      isInline
      title={error.message}
      data-testid="error-alert"
      data-code={error.code}
      actionLinks={actions?.map((a) => (
        <AlertActionLink key={a.label} onClick={a.onClick}>
          {a.label}
        </AlertActionLink>
      ))}
      actionClose={onClose ? <Button variant="plain" aria-label="Dismiss" onClick={onClose}>×</Button> : undefined}
    >
      {adviceFor(error.code)}
    </Alert>
  );
}

export async function pickFolder(title: string): Promise<string | null> {
  try {
    const { open } = await import("@tauri-apps/plugin-dialog");
    const r = await open({ directory: true, multiple: false, title });
    return typeof r === "string" ? r : null;
  } catch (e) {
    throw toFerryError(e);
  }
}

export function FolderPicker({
  id,
  label,
  value,
  onChange,
  helper,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  helper?: ReactNode;
}) {
  const [err, setErr] = useState<FerryError | null>(null);
  return (
    <FormGroup label={label} fieldId={id}>
      <InputGroup>
        <InputGroupItem isFill>
          <TextInput id={id} value={value} onChange={(_e, v) => onChange(v)} placeholder="/media/usb" />
        </InputGroupItem>
        <InputGroupItem>
          <Button
            variant="control"
            onClick={() =>
              pickFolder(label)
                .then((p) => p && onChange(p))
                .catch(setErr)
            }
          >
            Browse…
          </Button>
        </InputGroupItem>
      </InputGroup>
      {helper}
      <ErrorAlert error={err} onClose={() => setErr(null)} />
    </FormGroup>
  );
}

export type JobState = {
  jobId: string | null;
  progress: JobProgress | null;
  summary: JobSummary | null;
  error: FerryError | null;
  running: boolean;
};

/** Runs one job: owns its channel, keeps the latest throttled snapshot, and exposes cancel. */
export function useJob(onFinished?: (s: JobSummary) => void) {
  const [state, setState] = useState<JobState>({ jobId: null, progress: null, summary: null, error: null, running: false });
  const finished = useRef(onFinished);
  finished.current = onFinished;
  const start = useCallback(async (launch: (ch: Channel<JobEvent>) => Promise<{ jobId: string }>) => {
    setState({ jobId: null, progress: null, summary: null, error: null, running: true });
    const ch = new Channel<JobEvent>();
    ch.onmessage = (ev) => {
      if (ev.event === "progress") setState((s) => ({ ...s, progress: ev.data }));
      else if (ev.event === "finished") {
        setState((s) => ({ ...s, summary: ev.data, running: false }));
        finished.current?.(ev.data);
      } else setState((s) => ({ ...s, error: new FerryError(ev.data.code, ev.data.message), running: false }));
    };
    try {
      const { jobId } = await launch(ch);
      setState((s) => ({ ...s, jobId }));
    } catch (e) {
      setState((s) => ({ ...s, error: toFerryError(e), running: false }));
    }
  }, []);
  const cancel = useCallback(async () => {
    if (state.jobId) await api.cancelJob(state.jobId).catch(() => undefined);
  }, [state.jobId]);
  return { ...state, start, cancel };
}

export function JobProgressView({ job, onCancel }: { job: JobState; onCancel: () => void }) {
  const p = job.progress;
  if (!job.running && !p) return null;
  const pct = p && p.bytesTotal > 0 ? Math.round((p.bytesDone / p.bytesTotal) * 100) : 0;
  return (
    <div data-testid="job-progress">
      <Progress
        value={pct}
        title="Overall"
        measureLocation={ProgressMeasureLocation.outside}
        aria-label="Overall progress"
      />
      {p && (
        <DescriptionList isHorizontal isCompact columnModifier={{ default: "3Col" }} style={{ marginTop: ".5rem" }}>
          <DescriptionListGroup>
            <DescriptionListTerm>Bytes</DescriptionListTerm>
            <DescriptionListDescription>
              {formatBytes(p.bytesDone)} of {formatBytes(p.bytesTotal)}
            </DescriptionListDescription>
          </DescriptionListGroup>
          <DescriptionListGroup>
            <DescriptionListTerm>Rate</DescriptionListTerm>
            <DescriptionListDescription>{formatBytes(p.bytesPerSec)}/s</DescriptionListDescription>
          </DescriptionListGroup>
          <DescriptionListGroup>
            <DescriptionListTerm>Time left</DescriptionListTerm>
            <DescriptionListDescription>{formatDuration(p.etaSecs)}</DescriptionListDescription>
          </DescriptionListGroup>
        </DescriptionList>
      )}
      {p && p.images.length > 0 && (
        <Table aria-label="Images" variant="compact">
          <Thead>
            <Tr>
              <Th>Image</Th>
              <Th>State</Th>
              <Th>Progress</Th>
            </Tr>
          </Thead>
          <Tbody>
            {p.images.map((i) => (
              <Tr key={i.image}>
                <Td className="ferry-mono">{i.image}</Td>
                <Td>{i.state}</Td>
                <Td>
                  {formatBytes(i.bytesDone)} / {formatBytes(i.bytesTotal)}
                </Td>
              </Tr>
            ))}
          </Tbody>
        </Table>
      )}
      {p && p.parts.length > 0 && (
        <Table aria-label="Parts" variant="compact">
          <Thead>
            <Tr>
              <Th>Part</Th>
              <Th>Bytes</Th>
              <Th>Done</Th>
            </Tr>
          </Thead>
          <Tbody>
            {p.parts.map((x) => (
              <Tr key={x.name}>
                <Td className="ferry-mono">{x.name}</Td>
                <Td>{x.bytesTotal !== null ? `${formatBytes(x.bytesDone)} of ${formatBytes(x.bytesTotal)}` : formatBytes(x.bytesDone)}</Td>
                <Td>{x.done ? "yes" : "…"}</Td>
              </Tr>
            ))}
          </Tbody>
        </Table>
      )}
      {job.running && (
        <ActionGroup>
          <Button variant="secondary" onClick={onCancel} data-testid="cancel-job">
            Cancel
          </Button>
        </ActionGroup>
      )}
    </div>
  );
}

// No end-of-run notification from the page: the shell sends exactly one per run (success,
// failure or cancel), also when the window is closed to the tray (src-tauri/src/runs.rs).

export function useAsync<T>(fn: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<FerryError | null>(null);
  const [loading, setLoading] = useState(true);
  const reload = useCallback(() => {
    setLoading(true);
    fn()
      .then((d) => {
        setData(d);
        setError(null);
      })
      .catch((e) => setError(toFerryError(e)))
      .finally(() => setLoading(false));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(reload, [reload]);
  return { data, error, loading, reload };
}

/** An expandable section that starts open or closed (PatternFly 6 sections are controlled). */
export function Section({ title, open = true, children }: { title: string; open?: boolean; children: ReactNode }) {
  const [expanded, setExpanded] = useState(open);
  return (
    <ExpandableSection toggleText={title} isExpanded={expanded} onToggle={(_e, v) => setExpanded(v)} isIndented>
      {children}
    </ExpandableSection>
  );
}

/** A long digest shown as its algorithm and first 12 hex digits, with a copy button for the whole. */
export function Digest({ value }: { value: string }) {
  const [copied, setCopied] = useState(false);
  const [alg, hex] = value.includes(":") ? value.split(":", 2) : ["", value];
  const short = hex.length > 16 ? `${alg ? `${alg}:` : ""}${hex.slice(0, 12)}…` : value;
  return (
    <span className="ferry-digest" data-testid="digest" title={value}>
      <span className="ferry-mono-inline">{short}</span>
      <Button
        variant="plain"
        size="sm"
        aria-label={`Copy ${value}`}
        onClick={() => {
          void navigator.clipboard?.writeText(value).catch(() => undefined);
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        }}
      >
        {copied ? "Copied" : "Copy"}
      </Button>
    </span>
  );
}

/** The parts an export wrote (name, size, digest) and their checksum list in `sha256sum` form, so
 * the copy can be checked on the other side of the gap (`sha256sum -c`). */
export function PartsWritten({ parts, testId }: { parts: PartInfo[]; testId?: string }) {
  const checksums = parts.map((p) => `${p.sha256.replace(/^sha256:/, "")}  ${p.name}`).join("\n");
  return (
    <>
      <Table aria-label="Parts written" variant="compact" data-testid={testId}>
        <Thead>
          <Tr>
            <Th>Part</Th>
            <Th>Size</Th>
            <Th>SHA-256</Th>
          </Tr>
        </Thead>
        <Tbody>
          {parts.map((p) => (
            <Tr key={p.name}>
              <Td className="ferry-mono">{p.name}</Td>
              <Td>{formatBytes(p.bytes)}</Td>
              <Td>
                <Digest value={p.sha256} />
              </Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
      <Content component="p" style={{ marginTop: "1rem" }}>
        Checksum list (sha256sum format, to check the copy on the other side):
      </Content>
      <ClipboardCopy isReadOnly isCode variant={ClipboardCopyVariant.expansion} hoverTip="Copy" clickTip="Copied">
        {checksums}
      </ClipboardCopy>
    </>
  );
}

/** An empty state that always says what to do next (PatternFly EmptyState with one action). */
export function EmptyNext({
  title,
  body,
  action,
  onAction,
  testId,
}: {
  title: string;
  body: ReactNode;
  action?: string;
  onAction?: () => void;
  testId?: string;
}) {
  return (
    <EmptyState titleText={title} headingLevel="h3" variant="sm" data-testid={testId}>
      <EmptyStateBody>{body}</EmptyStateBody>
      {action && onAction && (
        <EmptyStateFooter>
          <EmptyStateActions>
            <Button variant="primary" onClick={onAction}>
              {action}
            </Button>
          </EmptyStateActions>
        </EmptyStateFooter>
      )}
    </EmptyState>
  );
}

/** Placeholder rows while a slow engine call (a plan, a registry probe) runs. */
export function LoadingRows({ rows = 3, label }: { rows?: number; label: string }) {
  return (
    <div data-testid="loading" aria-busy="true" aria-label={label} style={{ display: "grid", gap: ".5rem", margin: "1rem 0" }}>
      {Array.from({ length: rows }, (_, i) => (
        <Skeleton key={i} width={`${90 - i * 15}%`} screenreaderText={i === 0 ? label : undefined} />
      ))}
    </div>
  );
}

// Toasts for results that arrive in the background (a run ending while another screen is open).
type Toast = { id: number; title: string; variant: "success" | "danger" | "info" | "warning" };
let toastSeq = 0;
const toastListeners = new Set<(t: Toast) => void>();
export function toast(title: string, variant: Toast["variant"] = "info") {
  const t = { id: ++toastSeq, title, variant };
  toastListeners.forEach((l) => l(t));
}
export function Toasts() {
  const [list, setList] = useState<Toast[]>([]);
  useEffect(() => {
    const add = (t: Toast) => setList((l) => [...l, t].slice(-4));
    toastListeners.add(add);
    return () => {
      toastListeners.delete(add);
    };
  }, []);
  const close = (id: number) => setList((l) => l.filter((t) => t.id !== id));
  return (
    <AlertGroup isToast isLiveRegion data-testid="toasts">
      {list.map((t) => (
        <Alert
          key={t.id}
          variant={t.variant}
          title={t.title}
          timeout={8000}
          onTimeout={() => close(t.id)}
          actionClose={<AlertActionCloseButton onClose={() => close(t.id)} />}
        />
      ))}
    </AlertGroup>
  );
}
