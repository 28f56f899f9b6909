// The catalog browser of the image-set editor: enter or pick an index image, the engine reads its
// file-based catalog (cached per digest for the session), the packages are listed with their
// icons, descriptions, default channel and channels; picking a package, a channel and a version
// range writes `mirror.operators[].packages[]` into the YAML. The preview runs the plan's own
// filter on the loaded catalog: bundles kept, images, and why each dependency came along.
import { useMemo, useState } from "react";
import {
  ActionGroup,
  Alert,
  Button,
  Card,
  CardBody,
  CardTitle,
  Form,
  FormGroup,
  FormSelect,
  FormSelectOption,
  Label,
  List,
  ListItem,
  SearchInput,
  Spinner,
  TextInput,
} from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { FerryError, toFerryError } from "../../lib/ipc";
import { plural } from "../../lib/plural";
import { catalogApi } from "../../lib/catalog";
import { formatBytes } from "../../lib/format";
import { ErrorAlert } from "../../components";
import { operatorIndex, operatorLine, writePick } from "./catalogYaml";
import type { CatalogView } from "../../bindings/CatalogView";
import type { CatalogPackageView } from "../../bindings/CatalogPackageView";
import type { CatalogPreview } from "../../bindings/CatalogPreview";
import type { CatalogIcon } from "../../bindings/CatalogIcon";

/** OpenShift minor versions offered for the Red Hat index names (oc-mirror's list command). */
const VERSIONS = ["4.19", "4.18", "4.17", "4.16", "4.15", "4.14", "4.13", "4.12"];
/** Rows shown at once; the filter narrows a large catalog (the Red Hat index has hundreds). */
const MAX_ROWS = 150;
const MAX_IMAGES = 60;

function Icon({ icon, name }: { icon: CatalogIcon | null; name: string }) {
  if (!icon) return <span className="ferry-catalog-noicon" aria-hidden style={{ display: "inline-block", width: 32, height: 32 }} />;
  // The catalog's own base64 as a data: URL (the CSP allows img data:; nothing is fetched).
  return (
    <img
      data-testid="catalog-icon"
      src={`data:${icon.mediaType};base64,${icon.base64Data}`}
      alt={`${name} icon`}
      width={32}
      height={32}
      style={{ objectFit: "contain" }}
    />
  );
}

export function CatalogBrowser({ yaml, setYaml }: { yaml: string; setYaml: (t: string) => void }) {
  const [ref, setRef] = useState("");
  const [version, setVersion] = useState("");
  const [redhat, setRedhat] = useState<string[]>([]);
  const [view, setView] = useState<CatalogView | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FerryError | null>(null);
  const [filter, setFilter] = useState("");
  const [pkg, setPkg] = useState<CatalogPackageView | null>(null);
  const [channel, setChannel] = useState("");
  const [minV, setMinV] = useState("");
  const [maxV, setMaxV] = useState("");
  const [added, setAdded] = useState<string | null>(null);
  const [preview, setPreview] = useState<CatalogPreview | null>(null);
  const [previewBusy, setPreviewBusy] = useState(false);

  const guard = async (f: () => Promise<void>) => {
    setError(null);
    try {
      await f();
    } catch (e) {
      setError(toFerryError(e));
    }
  };

  const pickVersion = (v: string) => {
    setVersion(v);
    setRedhat([]);
    if (v) void guard(async () => setRedhat(await catalogApi.redhatCatalogs(v)));
  };

  const load = () =>
    guard(async () => {
      setBusy(true);
      setPkg(null);
      setPreview(null);
      setAdded(null);
      try {
        setView(await catalogApi.browse(ref));
      } finally {
        setBusy(false);
      }
    });

  const openPackage = (name: string) =>
    guard(async () => {
      if (!view) return;
      // By digest: the catalog that was listed, from the session cache.
      const p = await catalogApi.package(view.pinned, name);
      setPkg(p);
      const ch = p.channels.find((c) => c.isDefault) ?? p.channels[0];
      setChannel(ch?.name ?? "");
      setMinV("");
      setMaxV("");
      setAdded(null);
    });

  const ch = pkg?.channels.find((c) => c.name === channel) ?? null;
  const maxChoices = useMemo(() => {
    if (!ch) return [];
    const i = minV ? ch.versions.indexOf(minV) : 0;
    return ch.versions.slice(Math.max(0, i));
  }, [ch, minV]);

  const meaning = !ch
    ? ""
    : minV && maxV
      ? `Versions ${minV} to ${maxV} of channel ${ch.name}.`
      : minV
        ? `Version ${minV} and every version on the upgrade graph up to the head ${ch.headVersion}.`
        : maxV
          ? `Every version of channel ${ch.name} up to ${maxV}.`
          : `The channel head only (${ch.head}), as oc-mirror mirrors a channel named without versions.`;

  const catalogForYaml = view?.catalog ?? ref;
  const index = operatorIndex(yaml, catalogForYaml);

  const add = () => {
    if (!pkg || !ch) return;
    const r = writePick(yaml, { catalog: catalogForYaml, pkg: pkg.name, channel: ch.name, minVersion: minV, maxVersion: maxV });
    setYaml(r.text);
    setAdded(`${pkg.name} (channel ${ch.name}) written to mirror.operators[${r.index}]`);
    setPreview(null);
  };

  const runPreview = async () => {
    setError(null);
    setPreviewBusy(true);
    try {
      setPreview(await catalogApi.preview(yaml, index));
    } catch (e) {
      // A filter error concerns one catalog entry of the image set: say at which line it is.
      const err = toFerryError(e);
      const line = operatorLine(yaml, index);
      setError(line ? new FerryError(err.code, `Line ${line} (mirror.operators[${index}]): ${err.message}`) : err);
    } finally {
      setPreviewBusy(false);
    }
  };

  const shown = (view?.packages ?? []).filter((p) => {
    const q = filter.trim().toLowerCase();
    return !q || p.name.toLowerCase().includes(q) || (p.displayName ?? "").toLowerCase().includes(q) || p.summary.toLowerCase().includes(q);
  });

  return (
    <Card data-testid="catalog-browser" style={{ marginTop: "1rem" }}>
      <CardTitle>Operator catalog browser</CardTitle>
      <CardBody>
        <Form onSubmit={(e) => e.preventDefault()} aria-label="Catalog browser" style={{ maxWidth: 900 }}>
          <FormGroup label="Red Hat catalogs for OpenShift" fieldId="catalog-version">
            <FormSelect id="catalog-version" value={version} onChange={(_e, v) => pickVersion(v)}>
              <FormSelectOption value="" label="Pick a version…" />
              {VERSIONS.map((v) => (
                <FormSelectOption key={v} value={v} label={v} />
              ))}
            </FormSelect>
          </FormGroup>
          {redhat.length > 0 && (
            <FormGroup label="Red Hat index image" fieldId="catalog-redhat">
              <FormSelect id="catalog-redhat" value={redhat.includes(ref) ? ref : ""} onChange={(_e, v) => v && setRef(v)}>
                <FormSelectOption value="" label="Pick an index image…" />
                {redhat.map((r) => (
                  <FormSelectOption key={r} value={r} label={r} />
                ))}
              </FormSelect>
            </FormGroup>
          )}
          <FormGroup label="Index image" fieldId="catalog-ref">
            <TextInput id="catalog-ref" value={ref} onChange={(_e, v) => setRef(v)} placeholder="registry.redhat.io/redhat/redhat-operator-index:v4.16" />
          </FormGroup>
          <ActionGroup>
            <Button variant="secondary" onClick={load} isDisabled={busy || !ref.trim()} data-testid="catalog-load">
              Load catalog
            </Button>
            {busy && <Spinner size="md" aria-label="Reading the catalog" />}
          </ActionGroup>
        </Form>
        <ErrorAlert error={error} onClose={() => setError(null)} />
        {view && (
          <>
            <p data-testid="catalog-status" style={{ margin: ".5rem 0" }}>
              {plural(view.packages.length, "package")}, {plural(view.bundleCount, "bundle")} in <span className="ferry-mono-inline">{view.pinned}</span>{" "}
              ({view.cached ? "from this session's cache" : `read in ${view.loadMillis} ms`})
            </p>
            <div className="ferry-grid-2">
              <div>
                <SearchInput id="catalog-filter" aria-label="Filter packages" placeholder="Filter packages" value={filter} onChange={(_e, v) => setFilter(v)} onClear={() => setFilter("")} />
                <List isPlain data-testid="catalog-packages" style={{ maxHeight: 480, overflowY: "auto", marginTop: ".5rem" }}>
                  {shown.slice(0, MAX_ROWS).map((p) => (
                    <ListItem key={p.name}>
                      <Button
                        variant={pkg?.name === p.name ? "secondary" : "plain"}
                        onClick={() => openPackage(p.name)}
                        data-testid={`catalog-pkg-${p.name}`}
                        style={{ display: "flex", gap: ".75rem", textAlign: "left", width: "100%", alignItems: "flex-start" }}
                      >
                        <Icon icon={p.icon} name={p.name} />
                        <span>
                          {p.displayName ? (
                            <>
                              <strong>{p.displayName}</strong> <span className="ferry-mono-inline">{p.name}</span>
                            </>
                          ) : (
                            <strong>{p.name}</strong>
                          )}
                          <br />
                          <small>
                            Default channel {p.defaultChannel}
                            {p.headVersion ? `, head ${p.headVersion}` : ""} · {p.bundleCount} bundle{p.bundleCount === 1 ? "" : "s"}
                          </small>
                          <br />
                          <small>{p.summary || "No description in the catalog."}</small>
                          <br />
                          <small>Channels: {p.channels.join(", ")}</small>
                        </span>
                      </Button>
                    </ListItem>
                  ))}
                </List>
                {shown.length > MAX_ROWS && <small>Showing {MAX_ROWS} of {shown.length}: narrow the filter.</small>}
                {shown.length === 0 && <small>No package matches “{filter}”.</small>}
              </div>
              <div>
                {pkg ? (
                  <div data-testid="catalog-package">
                    <div style={{ display: "flex", gap: ".75rem", alignItems: "center" }}>
                      <Icon icon={pkg.icon} name={pkg.name} />
                      <strong>{pkg.displayName ?? pkg.name}</strong>
                    </div>
                    <div style={{ whiteSpace: "pre-wrap", maxHeight: 160, overflowY: "auto", margin: ".5rem 0" }}>{pkg.description || "No description in the catalog."}</div>
                    <Form onSubmit={(e) => e.preventDefault()} aria-label="Package selection">
                      <FormGroup label="Channel" fieldId="catalog-channel">
                        <FormSelect
                          id="catalog-channel"
                          value={channel}
                          onChange={(_e, v) => {
                            setChannel(v);
                            setMinV("");
                            setMaxV("");
                          }}
                        >
                          {pkg.channels.map((c) => (
                            <FormSelectOption key={c.name} value={c.name} label={`${c.name}${c.isDefault ? " (default)" : ""} · head ${c.headVersion} · ${plural(c.versions.length, "version")}`} />
                          ))}
                        </FormSelect>
                      </FormGroup>
                      {ch && (
                        <>
                          <FormGroup label="From version (minVersion)" fieldId="catalog-min">
                            <FormSelect
                              id="catalog-min"
                              value={minV}
                              onChange={(_e, v) => {
                                setMinV(v);
                                if (maxV && v && ch.versions.indexOf(maxV) < ch.versions.indexOf(v)) setMaxV("");
                              }}
                            >
                              <FormSelectOption value="" label="(not set)" />
                              {ch.versions.map((v) => (
                                <FormSelectOption key={v} value={v} label={v} />
                              ))}
                            </FormSelect>
                          </FormGroup>
                          <FormGroup label="To version (maxVersion)" fieldId="catalog-max">
                            <FormSelect id="catalog-max" value={maxV} onChange={(_e, v) => setMaxV(v)}>
                              <FormSelectOption value="" label="(not set)" />
                              {maxChoices.map((v) => (
                                <FormSelectOption key={v} value={v} label={v} />
                              ))}
                            </FormSelect>
                          </FormGroup>
                          <p data-testid="catalog-meaning">
                            <small>{meaning}</small>
                          </p>
                        </>
                      )}
                      <ActionGroup>
                        <Button variant="primary" onClick={add} isDisabled={!ch} data-testid="catalog-add">
                          Add to image set
                        </Button>
                        <Button variant="secondary" onClick={runPreview} isDisabled={index < 0 || previewBusy} data-testid="catalog-preview">
                          Preview filtered result
                        </Button>
                        {previewBusy && <Spinner size="md" aria-label="Filtering" />}
                      </ActionGroup>
                      {added && <Alert variant="success" isInline isPlain title={added} data-testid="catalog-added" />}
                    </Form>
                  </div>
                ) : (
                  <p>Pick a package to see its channels and versions.</p>
                )}
              </div>
            </div>
          </>
        )}
        {preview && <PreviewView preview={preview} />}
      </CardBody>
    </Card>
  );
}

/** The total as the engine read it from the registries: "12.0 MiB (14 of 14 images sized)". */
function sizeText(p: CatalogPreview): string {
  const distinct = new Set(p.images.map((i) => i.image)).size;
  const counted = `${p.sizedImages} of ${distinct} image${distinct === 1 ? "" : "s"} sized`;
  return p.totalBytes !== null ? `${formatBytes(p.totalBytes)} (${counted})` : `unknown (${counted})`;
}

function PreviewView({ preview }: { preview: CatalogPreview }) {
  const relatedCount = preview.images.filter((i) => i.kind === "related").length;
  return (
    <div data-testid="catalog-preview-result" style={{ marginTop: "1rem" }}>
      <p data-testid="catalog-preview-summary">
        <strong>mirror.operators[{preview.operatorIndex}]</strong> keeps {preview.bundles.length} bundle{preview.bundles.length === 1 ? "" : "s"} and{" "}
        {preview.images.length} image{preview.images.length === 1 ? "" : "s"} ({preview.images.length - relatedCount} bundle, {relatedCount} related). Size:{" "}
        <span data-testid="catalog-preview-size" title={preview.sizeNote}>
          {sizeText(preview)}
        </span>
        . Nothing has been downloaded.
      </p>
      <Table aria-label="Bundles kept" variant="compact" data-testid="catalog-preview-bundles">
        <Thead>
          <Tr>
            <Th>Package</Th>
            <Th>Bundle</Th>
            <Th>Version</Th>
            <Th>Channels</Th>
            <Th>Why</Th>
          </Tr>
        </Thead>
        <Tbody>
          {preview.bundles.map((b) => (
            <Tr key={`${b.package}/${b.bundle}`}>
              <Td>{b.package}</Td>
              <Td className="ferry-mono-inline">{b.bundle}</Td>
              <Td>{b.version}</Td>
              <Td>{b.channels.join(", ")}</Td>
              <Td>{b.dependency ? <Label color="orange" isCompact>dependency</Label> : <Label color="blue" isCompact>selected</Label>}</Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
      {preview.dependencies.length > 0 && (
        <>
          <h4 style={{ marginTop: "1rem" }}>Dependencies pulled in</h4>
          <List data-testid="catalog-preview-deps">
            {preview.dependencies.map((d, i) => (
              <ListItem key={i}>
                <strong>{d.bundle}</strong> ({d.package}, channel {d.channel}): <span className="ferry-mono-inline">{d.requirement}</span> of {d.requiredBy.join(", ")}
                {d.addedBundles.length > 1 ? `; with the upgrade graph to the head: ${d.addedBundles.join(", ")}` : ""}
              </ListItem>
            ))}
          </List>
        </>
      )}
      {preview.unresolved.length > 0 && (
        <Alert variant="warning" isInline title="Requirements this catalog does not provide" data-testid="catalog-preview-unresolved" style={{ marginTop: ".5rem" }}>
          <List>
            {preview.unresolved.map((u, i) => (
              <ListItem key={i}>
                {u.requirement} (required by {u.requiredBy.join(", ")}): OLM must find it in another catalog on the cluster.
              </ListItem>
            ))}
          </List>
        </Alert>
      )}
      {preview.defaultChannelChanges.length > 0 && (
        <Alert variant="info" isInline title="Default channel changed" style={{ marginTop: ".5rem" }}>
          <List>
            {preview.defaultChannelChanges.map((c, i) => (
              <ListItem key={i}>{c}</ListItem>
            ))}
          </List>
        </Alert>
      )}
      <h4 style={{ marginTop: "1rem" }}>Images</h4>
      <List isPlain data-testid="catalog-preview-images">
        {preview.images.slice(0, MAX_IMAGES).map((i) => (
          <ListItem key={i.image}>
            <Label isCompact>{i.kind}</Label> <span className="ferry-mono-inline">{i.image}</span> <small>({i.bundle})</small>
          </ListItem>
        ))}
      </List>
      {preview.images.length > MAX_IMAGES && <small>and {preview.images.length - MAX_IMAGES} more (the Plan screen lists every image).</small>}
    </div>
  );
}
