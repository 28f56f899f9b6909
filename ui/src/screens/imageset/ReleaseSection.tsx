// OpenShift releases from the live update graph: channel (with the channel list of a minor),
// type, architectures, min/max offered from the channel's versions (only pairs with
// min <= max), full / shortestPath, and the upgrade path the engine selects drawn on the graph.
// Everything is written into `mirror.platform` of the YAML (the source of truth); the graph,
// the version order and the selection come from the engine (ferry-release), never from here.
import { useEffect, useMemo, useState } from "react";
import {
  Alert,
  Button,
  Checkbox,
  FormGroup,
  FormSelect,
  FormSelectOption,
  List,
  ListItem,
  Spinner,
  TextInput,
} from "@patternfly/react-core";
import type { Document } from "yaml";
import { appendItem, getBool, getList, getString, seqLength, setIn, setList, type Path } from "../../lib/imageset";
import { FerryError, toFerryError } from "../../lib/ipc";
import { ARCHITECTURES, releaseApi } from "../../lib/ipc_release";
import { ErrorAlert } from "../../components";
import { ReleaseGraph } from "./ReleaseGraph";
import type { ReleaseGraphView } from "../../bindings/ReleaseGraphView";

const PLATFORM: Path = ["mirror", "platform"];
const CHANNELS: Path = [...PLATFORM, "channels"];
const ARCHS: Path = [...PLATFORM, "architectures"];

/** The architectures the image set asks for; `amd64` when none is written (oc-mirror's default). */
export function architecturesOf(doc: Document): string[] {
  const arr = getList(doc, ARCHS)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return arr.length > 0 ? arr : ["amd64"];
}

/** `stable-4.13` → `4.13` (the minor whose channel list is offered). */
function minorOf(channel: string): string {
  return /-(\d+\.\d+)$/.exec(channel.trim())?.[1] ?? "";
}

type Props = { doc: Document; text: string; setText: (t: string) => void };

export function ReleaseSection({ doc, text, setText }: Props) {
  const n = seqLength(doc, CHANNELS);
  const [index, setIndex] = useState(0);
  const i = Math.min(index, Math.max(0, n - 1));
  const at = (k: string): Path => [...CHANNELS, i, k];
  const name = getString(doc, at("name"));
  const okd = getString(doc, at("type")) === "okd";
  const min = getString(doc, at("minVersion"));
  const max = getString(doc, at("maxVersion"));
  const shortest = getBool(doc, at("shortestPath"));
  const full = getBool(doc, at("full"));
  const archs = architecturesOf(doc);

  const [graphArch, setGraphArch] = useState(archs[0]);
  const arch = archs.includes(graphArch) ? graphArch : archs[0];
  const [minor, setMinor] = useState(minorOf(name));
  const [channelList, setChannelList] = useState<string[] | null>(null);
  const [view, setView] = useState<ReleaseGraphView | null>(null);
  // The graph is fetched once the user asks for it; afterwards every change of the entry asks
  // the engine again (debounced), so the drawn path is always the engine's current selection.
  const [live, setLive] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FerryError | null>(null);

  useEffect(() => {
    if (!minor) setMinor(minorOf(name));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [name]);

  const request = useMemo(
    () => ({ channel: name, okd, arch, minVersion: min || null, maxVersion: max || null, shortestPath: shortest, full }),
    [name, okd, arch, min, max, shortest, full],
  );
  useEffect(() => {
    if (!live || !name.trim()) return;
    let stale = false;
    const t = setTimeout(async () => {
      setBusy(true);
      try {
        const v = await releaseApi.graph(i, request);
        if (!stale) {
          setView(v);
          setError(null);
        }
      } catch (e) {
        if (!stale) {
          setView(null);
          setError(toFerryError(e));
        }
      } finally {
        if (!stale) setBusy(false);
      }
    }, 250);
    return () => {
      stale = true;
      clearTimeout(t);
    };
  }, [live, i, request, name]);

  const listChannels = async () => {
    setError(null);
    try {
      setChannelList(await releaseApi.channels(okd, minor.trim(), arch));
    } catch (e) {
      setChannelList(null);
      setError(toFerryError(e));
    }
  };

  const set = (k: string, v: string | boolean) => setText(setIn(text, at(k), v));
  const toggleArch = (a: string, on: boolean) => {
    const next = on ? [...archs.filter((x) => x !== a), a] : archs.filter((x) => x !== a);
    // Kept in the order of the checkboxes so the YAML does not reshuffle on every click.
    const ordered = ARCHITECTURES.filter((x) => next.includes(x));
    setText(setList(text, ARCHS, ordered.join(",")));
  };

  if (n === 0) {
    return (
      <div data-testid="release-section">
        <p>No release channel in this image set yet.</p>
        <Button
          variant="secondary"
          data-testid="rel-add-channel"
          onClick={() => setText(appendItem(text, CHANNELS, { name: "" }))}
        >
          Add a release channel
        </Button>
      </div>
    );
  }

  // Only versions of the channel, in the engine's (semver) order; min never above max.
  const versions = view?.nodes.map((v) => v.version) ?? [];
  const minIdx = versions.indexOf(min);
  const maxIdx = versions.indexOf(max);
  const minChoices = versions.filter((_, k) => maxIdx < 0 || k <= maxIdx);
  const maxChoices = versions.filter((_, k) => minIdx < 0 || k >= minIdx);

  return (
    <div data-testid="release-section">
      {n > 1 && (
        <FormGroup label="Channel entry" fieldId="rel-entry">
          <FormSelect id="rel-entry" value={String(i)} onChange={(_e, v) => setIndex(Number(v))}>
            {Array.from({ length: n }, (_, k) => (
              <FormSelectOption key={k} value={String(k)} label={`${k + 1}: ${getString(doc, [...CHANNELS, k, "name"]) || "(no name)"}`} />
            ))}
          </FormSelect>
        </FormGroup>
      )}
      <FormGroup label="Type" fieldId="rel-type">
        <FormSelect id="rel-type" value={okd ? "okd" : "ocp"} onChange={(_e, v) => set("type", v)}>
          <FormSelectOption value="ocp" label="OpenShift (ocp)" />
          <FormSelectOption value="okd" label="OKD (okd)" />
        </FormSelect>
      </FormGroup>
      <FormGroup label="Channel" fieldId="rel-channel-name">
        <TextInput id="rel-channel-name" value={name} onChange={(_e, v) => set("name", v)} placeholder="stable-4.14" />
      </FormGroup>
      <FormGroup label="Channels of minor version" fieldId="rel-minor">
        <div style={{ display: "flex", gap: ".5rem" }}>
          <div style={{ width: "8rem", flex: "none" }}>
            <TextInput id="rel-minor" value={minor} onChange={(_e, v) => setMinor(v)} placeholder="4.14" />
          </div>
          <Button variant="secondary" data-testid="rel-list-channels" onClick={listChannels} isDisabled={!minor.trim()}>
            List channels
          </Button>
          {channelList && (
            <FormSelect
              style={{ minWidth: 0 }}
              id="rel-channel-list"
              aria-label="Channels from the update service"
              value=""
              onChange={(_e, v) => v && set("name", v)}
            >
              <FormSelectOption value="" label={`${channelList.length} channel${channelList.length === 1 ? "" : "s"}…`} />
              {channelList.map((c) => (
                <FormSelectOption key={c} value={c} label={c} />
              ))}
            </FormSelect>
          )}
        </div>
      </FormGroup>
      <FormGroup label="Architectures" fieldId="rel-archs" role="group">
        <div style={{ display: "flex", gap: "1rem", flexWrap: "wrap" }}>
          {ARCHITECTURES.map((a) => (
            <Checkbox key={a} id={`rel-arch-${a}`} label={a} isChecked={archs.includes(a)} onChange={(_e, on) => toggleArch(a, on)} />
          ))}
        </div>
        <div className="pf-v6-c-helper-text">Each architecture is selected on its own; amd64 when none is written.</div>
      </FormGroup>
      <div style={{ display: "flex", gap: "1rem", flexWrap: "wrap", margin: ".5rem 0" }}>
        <Checkbox id="rel-shortest" label="Shortest upgrade path only" isChecked={shortest} onChange={(_e, v) => set("shortestPath", v)} />
        <Checkbox id="rel-full" label="Full channel" isChecked={full} onChange={(_e, v) => set("full", v)} />
      </div>
      <div style={{ display: "flex", gap: ".5rem", alignItems: "center" }}>
        <Button variant="primary" data-testid="rel-load-graph" onClick={() => setLive(true)} isDisabled={!name.trim() || live}>
          {live ? "Graph follows the form" : "Show the update graph"}
        </Button>
        {archs.length > 1 && (
          <div style={{ width: "10rem", flex: "none" }}>
            <FormSelect id="rel-graph-arch" aria-label="Architecture to draw" value={arch} onChange={(_e, v) => setGraphArch(v)}>
              {archs.map((a) => (
                <FormSelectOption key={a} value={a} label={a} />
              ))}
            </FormSelect>
          </div>
        )}
        {busy && <Spinner size="md" aria-label="Reading the update graph" />}
      </div>
      <ErrorAlert error={error} onClose={() => setError(null)} />
      {view && (
        <>
          <div style={{ display: "flex", gap: "1rem", flexWrap: "wrap", marginTop: ".5rem" }}>
            <FormGroup label="Min version" fieldId="rel-min">
              <FormSelect id="rel-min" value={min} onChange={(_e, v) => set("minVersion", v)}>
                <FormSelectOption value="" label={full ? "lowest in the channel" : "none (heads-only unless max or full)"} />
                {min && minIdx < 0 && <FormSelectOption value={min} label={`${min} (not in this channel)`} />}
                {minChoices.map((v) => (
                  <FormSelectOption key={v} value={v} label={v} />
                ))}
              </FormSelect>
            </FormGroup>
            <FormGroup label="Max version" fieldId="rel-max">
              <FormSelect id="rel-max" value={max} onChange={(_e, v) => set("maxVersion", v)}>
                <FormSelectOption value="" label="the channel head" />
                {max && maxIdx < 0 && <FormSelectOption value={max} label={`${max} (not in this channel)`} />}
                {maxChoices.map((v) => (
                  <FormSelectOption key={v} value={v} label={v} />
                ))}
              </FormSelect>
            </FormGroup>
          </div>
          <SelectionSummary view={view} />
          <ReleaseGraph view={view} />
        </>
      )}
    </div>
  );
}

function SelectionSummary({ view }: { view: ReleaseGraphView }) {
  const s = view.selection;
  if (!s) {
    return (
      <Alert variant="danger" isInline data-testid="rel-selection" title="The engine cannot select releases for this entry">
        {view.selectionError}
      </Alert>
    );
  }
  const versions = s.releases.map((k) => view.nodes[k].version);
  const how = s.shortestPath ? "shortest upgrade path" : s.headsOnly ? "heads-only" : "every release in the range";
  return (
    <Alert
      variant="info"
      isInline
      isPlain
      data-testid="rel-selection"
      title={`${versions.length} release${versions.length === 1 ? "" : "s"} for ${view.arch}: ${how} ${s.min} → ${s.max}`}
    >
      <div className="ferry-mono" data-testid="rel-selected-versions">
        {versions.join(" → ")}
      </div>
      {s.notes.length > 0 && (
        <List>
          {s.notes.map((t) => (
            <ListItem key={t}>{t}</ListItem>
          ))}
        </List>
      )}
      <div>Graph from {view.upstream}</div>
    </Alert>
  );
}
