// Where the run writes: the export folder or drive (native dialog; free space and the file
// system from the engine, FAT32's 4 GiB file limit flagged with an archiveSize that fits), or
// the media folder and the mirror registry. "Check" runs the same checks as the run step.
import { useEffect, useState } from "react";
import { ActionGroup, Alert, Button, Form, FormGroup, TextInput, Title } from "@patternfly/react-core";
import { api, FerryError, toFerryError } from "../../lib/ipc";
import { formatBytes } from "../../lib/format";
import { setIn } from "../../lib/imageset";
import { ErrorAlert, FolderPicker, LoadingRows, pickFolder } from "../../components";
import { useAppState } from "../../state";
import { Checks, type FixHandlers } from "./Checks";
import type { GuidedApi, Mode } from "./model";
import type { DestinationInfo } from "../../bindings/DestinationInfo";
import type { PreflightReport } from "../../bindings/PreflightReport";
import type { PreflightRequest } from "../../bindings/PreflightRequest";

export function requestOf(mode: Mode, yaml: string, folder: string, registry: string): PreflightRequest {
  const kind = mode === "m2d" ? "mirrorToDisk" : mode === "d2m" ? "diskToMirror" : "mirrorToMirror";
  return {
    kind,
    yaml: mode === "d2m" ? null : yaml,
    folder: mode === "m2m" ? null : folder,
    registry: mode === "m2d" ? null : registry,
  };
}

/** The fixes a failed check offers, wired to the guided steps and the image set text. */
export function useFixes(guided: GuidedApi, recheck: (text: string) => void): FixHandlers {
  const { yaml, setYaml, go } = useAppState();
  return {
    editImageSet: () => go("imageset"),
    openCredentials: () => guided.update({ step: "credentials" }),
    pickDestination: () =>
      pickFolder("Destination folder")
        .then((p) => {
          if (p) guided.update({ folder: p, step: "destination" });
          else guided.update({ step: "destination" });
        })
        .catch(() => guided.update({ step: "destination" })),
    setArchiveSize: (gib) => {
      // One key changes; the rest of the text (comments, order) stays as the user wrote it.
      const text = setIn(yaml, ["archiveSize"], gib);
      setYaml(text);
      recheck(text);
    },
  };
}

function FolderFacts({ info }: { info: DestinationInfo }) {
  const f = info.folder;
  return (
    <Alert
      isInline
      isPlain
      variant={f.writable ? "info" : "danger"}
      data-testid="guided-folder-info"
      title={`${formatBytes(f.freeBytes)} free of ${formatBytes(f.totalBytes)} on ${f.path} (${info.fsType})${f.writable ? "" : "; not writable"}`}
    >
      {info.maxFileBytes !== null &&
        `This drive is ${info.fsType}: it holds no file of 4 GiB or more, so every archive part must stay under ${formatBytes(info.maxFileBytes)}. The check below says whether the parts fit and offers an archiveSize that does.`}
    </Alert>
  );
}

export function StepDestination({ api: guided }: { api: GuidedApi }) {
  const { g, update, next } = guided;
  const { yaml } = useAppState();
  const mode = g.mode!;
  const [info, setInfo] = useState<DestinationInfo | null>(null);
  const [infoError, setInfoError] = useState<FerryError | null>(null);
  const [report, setReport] = useState<PreflightReport | null>(null);
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<FerryError | null>(null);

  useEffect(() => {
    setInfo(null);
    setInfoError(null);
    if (mode !== "m2d" || !g.folder.trim()) return;
    let live = true;
    const t = setTimeout(() => {
      api
        .destinationInfo(g.folder)
        .then((i) => live && setInfo(i))
        .catch((e) => live && setInfoError(toFerryError(e)));
    }, 300);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [mode, g.folder]);

  const check = async (text: string = yaml) => {
    setChecking(true);
    setError(null);
    try {
      setReport(await api.preflight(requestOf(mode, text, g.folder, g.registry)));
    } catch (e) {
      setError(toFerryError(e));
    } finally {
      setChecking(false);
    }
  };
  const fixes = useFixes(guided, check);
  // A changed entry invalidates the last check.
  useEffect(() => setReport(null), [g.folder, g.registry]);

  return (
    <>
      <Title headingLevel="h3">{mode === "m2d" ? "Where to write the archive" : mode === "d2m" ? "The media and the mirror registry" : "The mirror registry"}</Title>
      <Form onSubmit={(e) => e.preventDefault()} style={{ maxWidth: 760 }}>
        {mode !== "m2m" && (
          <FolderPicker
            id="guided-folder"
            label={mode === "m2d" ? "Folder or mounted drive" : "Folder with the archive parts"}
            value={g.folder}
            onChange={(v) => update({ folder: v })}
          />
        )}
        {mode !== "m2d" && (
          <FormGroup label="Mirror registry (host[:port][/namespace])" fieldId="guided-registry">
            <TextInput
              id="guided-registry"
              value={g.registry}
              onChange={(_e, v) => update({ registry: v })}
              placeholder="mirror.example.com:5000/ocp4"
            />
          </FormGroup>
        )}
        <ActionGroup>
          <Button variant="secondary" onClick={() => check()} isLoading={checking} isDisabled={checking} data-testid="guided-check">
            Check
          </Button>
          <Button variant="primary" onClick={next} isDisabled={!report?.ready} data-testid="guided-next">
            Continue to the run
          </Button>
        </ActionGroup>
      </Form>
      {info && <FolderFacts info={info} />}
      <ErrorAlert error={infoError} />
      <ErrorAlert error={error} onClose={() => setError(null)} />
      {checking && <LoadingRows label="Checking the image set, the logins and the destination" rows={3} />}
      {report && !checking && <Checks report={report} fixes={fixes} />}
    </>
  );
}
