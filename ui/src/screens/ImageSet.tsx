// Image set editor: a form for every v1alpha2 parameter and the YAML beside it, in sync both
// ways (the YAML text is the source of truth), validated live by the engine.
import { createContext, useContext, useEffect, useMemo, useState } from "react";
import {
  Alert,
  Button,
  Card,
  CardBody,
  CardTitle,
  Checkbox,
  Form,
  FormGroup,
  FormSelect,
  FormSelectOption,
  PageSection,
  TextInput,
  Title,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
  List,
  ListItem,
} from "@patternfly/react-core";
import type { Document } from "yaml";
import { YamlEditor } from "../YamlEditor";
import { api, FerryError, toFerryError } from "../lib/ipc";
import { ErrorAlert, Section } from "../components";
import { appendItem, getBool, getList, getString, parse, removeItem, seqLength, setIn, setList, type Path } from "../lib/imageset";
import { recentFiles, rememberFile, useAppState } from "../state";
import type { Diagnostic } from "../bindings/Diagnostic";
import { ReleaseSection } from "./imageset/ReleaseSection";
import { CatalogBrowser } from "./imageset/CatalogBrowser";
import { HelmSection } from "./imageset/HelmSection";

type Field =
  | { key: string; label: string; kind: "text" | "number" | "bool" | "csv"; help?: string }
  | { key: string; label: string; kind: "list"; item: string; fields: Field[]; help?: string };

const CHANNEL_RANGE: Field[] = [
  { key: "name", label: "Channel", kind: "text" },
  { key: "minVersion", label: "Min version", kind: "text" },
  { key: "maxVersion", label: "Max version", kind: "text" },
  { key: "minBundle", label: "Min bundle", kind: "text" },
];

/** Every v1alpha2 ImageSetConfiguration parameter, as a form. */
export const SPEC: { title: string; fields: Field[] }[] = [
  {
    title: "General",
    fields: [
      { key: "archiveSize", label: "Archive size (GiB per part)", kind: "number" },
      {
        key: "storageConfig.local.path",
        label: "Metadata in a local folder",
        kind: "text",
        help: "A relative path is taken relative to the folder of this image-set file (save the file first), never to where the app was started.",
      },
      { key: "storageConfig.registry.imageURL", label: "Metadata in a registry image", kind: "text" },
      { key: "storageConfig.registry.skipTLS", label: "Skip TLS verification for the metadata registry", kind: "bool" },
    ],
  },
  {
    title: "OpenShift releases",
    fields: [
      { key: "mirror.platform.architectures", label: "Architectures (comma-separated)", kind: "csv" },
      { key: "mirror.platform.graph", label: "Include the update graph image", kind: "bool" },
      {
        key: "mirror.platform.channels",
        label: "Channels",
        kind: "list",
        item: "channel",
        fields: [
          { key: "name", label: "Name", kind: "text" },
          { key: "type", label: "Type (ocp or okd)", kind: "text" },
          { key: "minVersion", label: "Min version", kind: "text" },
          { key: "maxVersion", label: "Max version", kind: "text" },
          { key: "shortestPath", label: "Shortest upgrade path only", kind: "bool" },
          { key: "full", label: "Full channel", kind: "bool" },
        ],
      },
    ],
  },
  {
    title: "Operators",
    fields: [
      {
        key: "mirror.operators",
        label: "Catalogs",
        kind: "list",
        item: "catalog",
        fields: [
          { key: "catalog", label: "Catalog image", kind: "text" },
          { key: "full", label: "Full catalog", kind: "bool" },
          { key: "skipDependencies", label: "Skip dependencies", kind: "bool" },
          { key: "targetName", label: "Target name", kind: "text" },
          { key: "targetTag", label: "Target tag", kind: "text" },
          { key: "targetCatalog", label: "Target catalog", kind: "text" },
          {
            key: "packages",
            label: "Packages",
            kind: "list",
            item: "package",
            fields: [
              { key: "name", label: "Package", kind: "text" },
              { key: "minVersion", label: "Min version", kind: "text" },
              { key: "maxVersion", label: "Max version", kind: "text" },
              { key: "minBundle", label: "Min bundle", kind: "text" },
              { key: "channels", label: "Channels", kind: "list", item: "channel", fields: CHANNEL_RANGE },
            ],
          },
        ],
      },
    ],
  },
  {
    title: "Additional and blocked images",
    fields: [
      {
        key: "mirror.additionalImages",
        label: "Additional images",
        kind: "list",
        item: "image",
        fields: [{ key: "name", label: "Image", kind: "text" }],
      },
      {
        key: "mirror.blockedImages",
        label: "Blocked images (regular expressions)",
        kind: "list",
        item: "pattern",
        fields: [{ key: "name", label: "Pattern", kind: "text" }],
      },
    ],
  },
  {
    title: "Helm charts",
    fields: [
      {
        key: "mirror.helm.repositories",
        label: "Repositories",
        kind: "list",
        item: "repository",
        fields: [
          { key: "name", label: "Name", kind: "text" },
          { key: "url", label: "URL", kind: "text" },
          {
            key: "charts",
            label: "Charts",
            kind: "list",
            item: "chart",
            fields: [
              { key: "name", label: "Chart", kind: "text" },
              { key: "version", label: "Version", kind: "text" },
              { key: "imagePaths", label: "Image paths (comma-separated)", kind: "csv" },
            ],
          },
        ],
      },
      {
        key: "mirror.helm.local",
        label: "Local charts",
        kind: "list",
        item: "chart",
        fields: [
          { key: "name", label: "Name", kind: "text" },
          { key: "path", label: "Path", kind: "text" },
          { key: "imagePaths", label: "Image paths (comma-separated)", kind: "csv" },
        ],
      },
    ],
  },
];

function pathOf(base: Path, key: string): Path {
  return [...base, ...key.split(".")];
}

function idOf(path: Path): string {
  return `f-${path.join("-")}`;
}

// The engine's findings by field path, so a field can show what is said about it (e.g. a
// relative metadata path in an unsaved image set).
const FindingsContext = createContext<Diagnostic[]>([]);

function FieldView({ field, base, doc, text, setText }: { field: Field; base: Path; doc: Document; text: string; setText: (t: string) => void }) {
  const path = pathOf(base, field.key);
  const id = idOf(path);
  const findings = useContext(FindingsContext).filter((d) => d.path === path.join("."));
  switch (field.kind) {
    case "text":
      return (
        <FormGroup label={field.label} fieldId={id}>
          <TextInput id={id} value={getString(doc, path)} onChange={(_e, v) => setText(setIn(text, path, v))} />
          {field.help && <div className="pf-v6-c-helper-text">{field.help}</div>}
          {findings.map((d, i) => (
            <div key={i} className="pf-v6-c-helper-text pf-m-warning" data-testid={`finding-${id}`}>
              {d.message}
            </div>
          ))}
        </FormGroup>
      );
    case "number":
      return (
        <FormGroup label={field.label} fieldId={id}>
          <TextInput
            id={id}
            inputMode="numeric"
            value={getString(doc, path)}
            onChange={(_e, v) => setText(setIn(text, path, /^-?\d+$/.test(v) ? Number(v) : v))}
          />
        </FormGroup>
      );
    case "bool":
      return (
        <Checkbox id={id} label={field.label} isChecked={getBool(doc, path)} onChange={(_e, v) => setText(setIn(text, path, v))} />
      );
    case "csv":
      return (
        <FormGroup label={field.label} fieldId={id}>
          <CsvInput id={id} value={getList(doc, path)} onCommit={(v) => setText(setList(text, path, v))} />
        </FormGroup>
      );
    case "list": {
      const n = seqLength(doc, path);
      return (
        <FormGroup label={field.label} fieldId={id} role="group">
          {Array.from({ length: n }, (_, i) => (
            <Card key={i} isCompact style={{ marginBottom: ".5rem" }} data-testid={`${id}-${i}`}>
              <CardBody>
                {field.fields.map((f) => (
                  <FieldView key={f.key} field={f} base={[...path, i]} doc={doc} text={text} setText={setText} />
                ))}
                <Button variant="link" isDanger onClick={() => setText(removeItem(text, path, i))}>
                  Remove {field.item}
                </Button>
              </CardBody>
            </Card>
          ))}
          <Button
            id={`${id}-add`}
            variant="secondary"
            onClick={() => setText(appendItem(text, path, { [field.fields[0].key]: "" }))}
          >
            Add {field.item}
          </Button>
        </FormGroup>
      );
    }
  }
}

/** Comma-separated lists are committed on blur/Enter so "amd64, " can be typed without the comma vanishing. */
function CsvInput({ id, value, onCommit }: { id: string; value: string; onCommit: (v: string) => void }) {
  const [draft, setDraft] = useState(value);
  useEffect(() => setDraft(value), [value]);
  return (
    <TextInput
      id={id}
      value={draft}
      onChange={(_e, v) => setDraft(v)}
      onBlur={() => onCommit(draft)}
      onKeyDown={(e) => e.key === "Enter" && onCommit(draft)}
    />
  );
}

export function useDiagnostics(yaml: string, filePath: string | null = null): { diagnostics: Diagnostic[]; engineError: FerryError | null } {
  const [diagnostics, setDiagnostics] = useState<Diagnostic[]>([]);
  const [engineError, setEngineError] = useState<FerryError | null>(null);
  useEffect(() => {
    // Debounced so typing stays smooth; the engine check runs off the UI thread in Rust.
    const t = setTimeout(() => {
      api
        .validateImageSet(yaml, filePath)
        .then((d) => {
          setDiagnostics(d);
          setEngineError(null);
        })
        .catch((e) => {
          const err = toFerryError(e);
          // Without the engine's validator, syntax errors are still marked from the local parser.
          setDiagnostics(
            parse(yaml).problems.map((p) => ({ path: "", line: p.line, column: p.column, message: p.message, severity: "error" })),
          );
          setEngineError(err);
        });
    }, 300);
    return () => clearTimeout(t);
  }, [yaml, filePath]);
  return { diagnostics, engineError };
}

export function ImageSetScreen() {
  const { yaml, setYaml, filePath, setFilePath } = useAppState();
  const { doc, problems } = useMemo(() => parse(yaml), [yaml]);
  const { diagnostics, engineError } = useDiagnostics(yaml, filePath);
  const [error, setError] = useState<FerryError | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [recent, setRecent] = useState<string[]>(recentFiles);

  const openPath = async (p: string) => {
    try {
      const text = await api.readTextFile(p);
      setYaml(text);
      setFilePath(p);
      rememberFile(p);
      setRecent(recentFiles());
      setError(null);
    } catch (e) {
      setError(toFerryError(e));
    }
  };
  const open = async () => {
    try {
      const { open } = await import("@tauri-apps/plugin-dialog");
      const p = await open({ multiple: false, filters: [{ name: "Image set", extensions: ["yaml", "yml"] }] });
      if (typeof p === "string") await openPath(p);
    } catch (e) {
      setError(toFerryError(e));
    }
  };
  const saveTo = async (p: string) => {
    try {
      await api.writeTextFile(p, yaml);
      setFilePath(p);
      rememberFile(p);
      setRecent(recentFiles());
      setSaved(p);
      setError(null);
    } catch (e) {
      setError(toFerryError(e));
    }
  };
  const saveAs = async () => {
    try {
      const { save } = await import("@tauri-apps/plugin-dialog");
      const p = await save({ defaultPath: filePath ?? "imageset-config.yaml", filters: [{ name: "Image set", extensions: ["yaml"] }] });
      if (p) await saveTo(p);
    } catch (e) {
      setError(toFerryError(e));
    }
  };
  const fromTemplate = async () => {
    try {
      setYaml(await api.imageSetTemplate());
      setFilePath(null);
    } catch (e) {
      setError(toFerryError(e));
    }
  };

  const errors = diagnostics.filter((d) => d.severity === "error");
  const warnings = diagnostics.filter((d) => d.severity === "warning");
  return (
    <PageSection>
      <Title headingLevel="h2">Image set</Title>
      <Toolbar>
        <ToolbarContent>
          <ToolbarItem>
            <Button variant="secondary" onClick={fromTemplate}>
              New from template
            </Button>
          </ToolbarItem>
          <ToolbarItem>
            <Button variant="secondary" onClick={open}>
              Open…
            </Button>
          </ToolbarItem>
          <ToolbarItem>
            <Button variant="primary" onClick={() => (filePath ? saveTo(filePath) : saveAs())}>
              Save
            </Button>
          </ToolbarItem>
          <ToolbarItem>
            <Button variant="secondary" onClick={saveAs}>
              Save as…
            </Button>
          </ToolbarItem>
          <ToolbarItem>
            <FormSelect
              aria-label="Recent files"
              value=""
              onChange={(_e, v) => v && openPath(v)}
              isDisabled={recent.length === 0}
              id="recent-files"
            >
              <FormSelectOption value="" label={recent.length ? "Recent files…" : "No recent files"} />
              {recent.map((r) => (
                <FormSelectOption key={r} value={r} label={r} />
              ))}
            </FormSelect>
          </ToolbarItem>
          <ToolbarItem>
            <span className="ferry-mono">{filePath ?? "unsaved draft"}</span>
          </ToolbarItem>
        </ToolbarContent>
      </Toolbar>
      <ErrorAlert error={error} onClose={() => setError(null)} />
      {saved && <Alert variant="success" isInline isPlain title={`Saved ${saved}`} />}
      <div className="ferry-grid-2">
        <Form onSubmit={(e) => e.preventDefault()} aria-label="Image set form">
          {problems.length > 0 && (
            <Alert variant="warning" isInline title="The YAML has a syntax error">
              The form is read-only until the YAML parses again; your text is kept. Fix line {problems[0].line}, column{" "}
              {problems[0].column}:
              {" "}
              {problems[0].message}
            </Alert>
          )}
          <fieldset disabled={problems.length > 0} style={{ border: 0, padding: 0, margin: 0 }}>
          <FindingsContext.Provider value={diagnostics}>
          {SPEC.map((s, i) => (
            <Section key={s.title} title={s.title} open={i < 2 || s.title.startsWith("Additional")}>
              {s.title === "Helm charts" && <HelmSection yaml={yaml} setYaml={setYaml} />}
              {s.title === "OpenShift releases" && <ReleaseSection doc={doc} text={yaml} setText={setYaml} />}
              {s.fields.map((f) => (
                <FieldView key={f.key} field={f} base={[]} doc={doc} text={yaml} setText={setYaml} />
              ))}
            </Section>
          ))}
          </FindingsContext.Provider>
          </fieldset>
        </Form>
        <Card>
          <CardTitle>YAML</CardTitle>
          <CardBody>
            <YamlEditor value={yaml} onChange={setYaml} diagnostics={diagnostics} />
            <div data-testid="diagnostics" style={{ marginTop: ".5rem" }}>
              {errors.length === 0 && warnings.length > 0 ? (
                <Alert variant="warning" isInline title={`${warnings.length} warning${warnings.length > 1 ? "s" : ""}`} data-testid="diagnostics-warnings">
                  <List>
                    {warnings.map((d, i) => (
                      <ListItem key={i}>
                        Line {d.line}, column {d.column}
                        {d.path ? ` (${d.path})` : ""}: {d.message}
                      </ListItem>
                    ))}
                  </List>
                </Alert>
              ) : errors.length === 0 ? (
                <Alert variant="success" isInline isPlain title="No problems found" />
              ) : (
                <Alert variant="danger" isInline title={`${errors.length} problem${errors.length > 1 ? "s" : ""} in the image set`}>
                  <List>
                    {diagnostics.map((d, i) => (
                      <ListItem key={i}>
                        Line {d.line}, column {d.column}
                        {d.path ? ` (${d.path})` : ""}: {d.message}
                      </ListItem>
                    ))}
                  </List>
                </Alert>
              )}
              {engineError && engineError.code === "unavailable" && (
                <Alert variant="info" isInline isPlain title="Only YAML syntax is checked: the engine validator is not in this build." />
              )}
            </div>
          </CardBody>
        </Card>
      </div>
      <CatalogBrowser yaml={yaml} setYaml={setYaml} />
    </PageSection>
  );
}
